"""Reliable messaging: the four rows of the duplicate table (shared/medcom/README.md), and
identical deliveries at the same moment on PostgreSQL."""

from __future__ import annotations

import json
import threading

import pytest
from django.db import connection, connections

from tests.inbox.helpers import ack_header, ack_of, bundle_of, header_of, outcome_texts, sample
from tovholder.inbox.models import Arrival, InboxItem, ReceivedMessage, Segment, Thread


def _with_ids(body: bytes, *, bundle_id: str | None = None, header_id: str | None = None) -> bytes:
    bundle = json.loads(body)
    if bundle_id:
        bundle["id"] = bundle_id
    if header_id:
        old = header_of(bundle)["id"]
        header_of(bundle)["id"] = header_id
        for entry in bundle["entry"]:
            resource = entry["resource"]
            if resource["resourceType"] == "MessageHeader":
                entry["fullUrl"] = entry["fullUrl"].replace(old, header_id)
            for target in resource.get("target", []):
                target["reference"] = target["reference"].replace(old, header_id)
    return json.dumps(bundle).encode()


@pytest.mark.django_db
def test_row_1_new_bundle_new_header_is_processed(world, gp_message, post):
    body, ctype = gp_message()
    response = post(body, ctype)
    assert ack_header(ack_of(response))["response"]["code"] == "ok"
    assert ReceivedMessage.objects.count() == 1 and InboxItem.objects.count() == 1


@pytest.mark.django_db
def test_row_2_a_replay_gets_the_identical_acknowledgement_and_is_never_shown_twice(world, gp_message, post):
    body, ctype = gp_message()
    first = post(body, ctype)
    again = post(body, ctype)
    third = post(body, ctype)

    assert again.content == first.content == third.content, "the same acknowledgement, byte for byte"
    assert ReceivedMessage.objects.count() == 1
    assert InboxItem.objects.count() == 1
    assert Segment.objects.count() == 1
    states = list(Arrival.objects.order_by("pk").values_list("state", flat=True))
    assert states == ["accepted", "duplicate", "duplicate"], "every arrival is logged"
    message = ReceivedMessage.objects.get()
    assert set(Arrival.objects.values_list("message_id", flat=True)) == {message.pk}


@pytest.mark.django_db
def test_row_2_a_replay_in_xml_gets_the_same_acknowledgement_rendered_as_xml(world, gp_message, post):
    body, ctype = gp_message(fmt="xml")
    first = post(body, ctype)
    again = post(body, ctype)
    assert first["Content-Type"].startswith("application/fhir+xml")
    assert again.content == first.content


@pytest.mark.django_db
def test_row_3_a_resend_with_a_new_bundle_id_is_not_shown_again(world, gp_message, post):
    body, ctype = gp_message()
    first = post(body, ctype)
    resend = post(_with_ids(body, bundle_id="resend-1"), ctype)

    assert ack_header(ack_of(resend))["response"]["code"] == "ok"
    assert ack_header(ack_of(resend))["response"]["identifier"] == header_of(json.loads(body))["id"]
    assert resend.content == first.content
    assert ReceivedMessage.objects.count() == 1 and InboxItem.objects.count() == 1
    resent = Arrival.objects.order_by("pk").last()
    assert resent.state == Arrival.State.DUPLICATE and resent.bundle_id == "resend-1"


@pytest.mark.django_db
def test_row_4_a_reused_bundle_id_with_a_new_header_is_refused(world, gp_message, post, login):
    body, ctype = gp_message()
    post(body, ctype)
    reused = _with_ids(body, header_id="6b2a4f43-5d0a-4d61-9f0f-0d7c2f1e9a11")
    response = post(reused, ctype)

    assert ack_header(ack_of(response))["response"]["code"] == "fatal-error"
    assert ack_header(ack_of(response))["response"]["identifier"] == "6b2a4f43-5d0a-4d61-9f0f-0d7c2f1e9a11"
    assert any("aldrig genbruges" in t for t in outcome_texts(response))
    assert ReceivedMessage.objects.count() == 1 and InboxItem.objects.count() == 1
    quarantined = Arrival.objects.get(state=Arrival.State.QUARANTINED)
    assert quarantined.municipality.code == "706"
    page = login("ida").get("/indgang/karantaene/")
    assert "aldrig genbruges" in page.content.decode()


@pytest.mark.django_db
def test_it_shows_a_broken_message_delivered_twice_once_in_quarantine(world, post):
    first = post(b"{not json", "application/fhir+json")
    again = post(b"{not json", "application/fhir+json")
    assert again.content == first.content
    assert Arrival.objects.filter(state=Arrival.State.QUARANTINED).count() == 1
    assert Arrival.objects.filter(state=Arrival.State.DUPLICATE).count() == 1


@pytest.mark.django_db
def test_a_processed_message_id_is_unique_in_the_database(world, gp_message, post):
    """The guarantee is the constraint, not a look-up before the insert."""
    from django.db import IntegrityError, transaction

    body, ctype = gp_message()
    post(body, ctype)
    first = ReceivedMessage.objects.get()
    arrival = Arrival.objects.create(channel="http", size=1, sha256="x", body=b"x")
    with pytest.raises(IntegrityError), transaction.atomic():
        ReceivedMessage.objects.create(arrival=arrival, bundle_id="other", header_id=first.header_id,
                                       thread=first.thread, activity="new-message", sent_at=first.sent_at,
                                       received_at=first.received_at, sender_sor="1", sender_gln="1",
                                       source_endpoint="x", receiver_sor="1", receiver_gln="1",
                                       destination_endpoint="x", ack_json=b"{}")


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("without_lookup", [False, True], ids=["as-is", "look-up-disabled"])
def test_identical_messages_delivered_at_the_same_moment_make_one_item(world, gp_message, monkeypatch,
                                                                       without_lookup):
    """Eight deliveries of one message race on eight connections: one message, one thread,
    one item, eight logged arrivals, eight identical acknowledgements. With the look-up of
    seen ids disabled every delivery reaches the insert: the unique constraint alone decides."""
    from tovholder.inbox.services import intake, medcom_receive

    if without_lookup:
        monkeypatch.setattr(intake, "_duplicate_table", lambda *args: None)

    body, ctype = gp_message(attachments=(("Bilag", "application/pdf", b"%PDF-1.4 test"),))
    n = 8
    barrier = threading.Barrier(n)
    answers: list[bytes] = []
    errors: list[BaseException] = []

    def deliver():
        try:
            barrier.wait()
            answers.append(medcom_receive(body=body, content_type=ctype, channel="http").body)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=deliver) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert not errors, errors
    assert connection.vendor == "postgresql"
    assert len(answers) == n and len(set(answers)) == 1, "every delivery got the same acknowledgement"
    assert ack_header(bundle_of(answers[0]))["response"]["code"] == "ok"
    assert ReceivedMessage.objects.count() == 1
    assert Thread.objects.count() == 1
    assert InboxItem.objects.count() == 1
    assert Segment.objects.count() == 2
    assert Arrival.objects.count() == n
    assert Arrival.objects.filter(state="accepted").count() == 1
    if without_lookup:
        raced = [a.problems[0]["text"] for a in Arrival.objects.filter(state="duplicate")]
        assert raced and all("samtidig levering" in t for t in raced), raced


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_message_and_its_reply_arriving_together_share_one_thread(world, aliases):
    """Different messages of one new thread in parallel: one thread, both messages."""
    from tovholder.inbox.services import medcom_receive

    original = sample("S-A-new").read_bytes()
    reply = json.loads(original)
    reply["id"] = "S-A-reply-in-parallel"
    header_of(reply)["id"] = "0f0c6c36-1c55-4a55-8a3e-7d0f1b2c3d4f"
    for entry in reply["entry"]:
        for target in entry["resource"].get("target", []):
            target["reference"] = "MessageHeader/0f0c6c36-1c55-4a55-8a3e-7d0f1b2c3d4f"
    bodies = [original, json.dumps(reply).encode()]
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def deliver(body):
        try:
            barrier.wait()
            medcom_receive(body=body, content_type="application/fhir+json", channel="http")
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=deliver, args=(b,)) for b in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert ReceivedMessage.objects.count() == 2
    assert Thread.objects.count() == 1
    assert InboxItem.objects.count() == 1
