"""Every MedCom sample — what systems receive and what other municipalities' systems send —
is accepted by the single entry with an `ok` acknowledgement for its MessageHeader."""

from __future__ import annotations

import pytest

from tests.inbox.helpers import SAMPLES, ack_header, ack_of, bundle_of, content_type_of, header_of
from tovholder.inbox.models import Arrival, InboxItem, ReceivedMessage, Segment

pytestmark = pytest.mark.django_db


def test_it_has_the_samples_to_test_with():
    assert len(SAMPLES) == 16, f"MedCom samples missing beside the repository: {SAMPLES}"


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: f"{p.parent.name}/{p.name[7:30]}")
def test_it_accepts_every_sample_with_an_ok_acknowledgement(path, aliases, post):
    body = path.read_bytes()
    response = post(body, content_type_of(path))

    assert response.status_code == 200
    assert response["Content-Type"].startswith(content_type_of(path)), "answered in the sender's format"
    ack = ack_of(response)
    header = ack_header(ack)
    assert header["eventCoding"]["code"] == "acknowledgement-message"
    assert header["response"]["code"] == "ok"
    assert header["response"]["identifier"] == header_of(bundle_of(body, content_type_of(path)))["id"]
    assert not [e for e in ack["entry"] if e["resource"]["resourceType"] == "OperationOutcome"]

    arrival = Arrival.objects.get()
    assert arrival.state == Arrival.State.ACCEPTED and bytes(arrival.body) == body
    message = ReceivedMessage.objects.get()
    assert message.thread.municipality.code == "706"
    assert InboxItem.objects.filter(message=message).count() == 1
    assert Segment.objects.filter(thread=message.thread).exists()


def test_it_accepts_all_samples_one_after_the_other(aliases, post):
    for path in SAMPLES:
        response = post(path.read_bytes(), content_type_of(path))
        assert ack_header(ack_of(response))["response"]["code"] == "ok", path.name
    assert ReceivedMessage.objects.count() == len(SAMPLES)
    # Each sample starts its own thread (none shares a Communication.identifier): one item each.
    assert InboxItem.objects.count() == len(SAMPLES)


def test_it_keeps_the_sample_attachments_in_the_database(aliases, post_sample):
    post_sample("R-Tek-A")
    kinds = dict(Segment.objects.filter(kind="attachment").values_list("title", "content_type"))
    assert kinds["PDF-application-testOfTitle"] == "application/pdf"
    assert {"image/gif", "image/tiff", "image/png", "image/jpeg", "image/bmp"} <= set(kinds.values())
    pdf = Segment.objects.get(title="PDF-application-testOfTitle")
    assert bytes(pdf.data.data).startswith(b"%PDF")
    link = Segment.objects.get(title="Link til MedComs hjemmeside")
    assert link.url and link.size == 0
