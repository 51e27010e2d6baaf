"""Threads by Communication.identifier: replies join, forwards start anew, out-of-order and
unknown-thread messages are handled, segments follow their own timestamps, attachments
are stored and shown only to those allowed."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest

from tests.inbox.helpers import (
    ack_header,
    ack_of,
    bundle_of,
    content_type_of,
    outcome_texts,
    sample,
)
from tests.support.world import SYSTEM
from tovholder.inbox.models import InboxItem, OutboundMessage, ReceivedMessage, Segment, Thread
from tovholder.inbox.selectors import thread_segments
from tovholder.medcom import TextSegment, build_care_communication, interpret, serialize
from tovholder.medcom.codes import SOR_ENDPOINT_PREFIX

pytestmark = pytest.mark.django_db


def _interpreted(part: str):
    path = sample(part)
    return interpret(bundle_of(path.read_bytes(), content_type_of(path)))


def _answer(msg, *, activity: str, text: str, at: dt.datetime, sender=None, receiver=None, thread_id=None):
    """A reply (same thread) or forward (new thread) to an interpreted message, carrying the
    thread so far, as MedCom requires. Sent by the original receiver unless told."""
    sender = sender or msg.receiver
    receiver = receiver or msg.sender
    header_id = str(uuid.uuid4())
    bundle = build_care_communication(
        activity=activity, sender=sender, receiver=receiver, sender_endpoint=SOR_ENDPOINT_PREFIX + sender.sor,
        receiver_endpoint=SOR_ENDPOINT_PREFIX + receiver.sor, patient=msg.patient,
        thread_id=thread_id or (msg.thread_id if activity == "reply-message" else f"urn:uuid:{uuid.uuid4()}"),
        category=msg.category, topic=msg.topic, priority=msg.priority,
        new_segments=[TextSegment(identifier=f"urn:uuid:{uuid.uuid4()}", timestamp=at, author_name="Bo Svar",
                                  author_role="Læge", author_phone="12345678", text=text)],
        earlier_segments=msg.segments, earlier_provenances=msg.provenances, previous_header_id=msg.header_id,
        bundle_id=str(uuid.uuid4()), header_id=header_id, now=at,
    )
    return serialize(bundle, "json")


def test_a_reply_lands_in_the_same_thread_and_case(world, gp_message, post, sent):
    from tovholder.inbox.services import inbox_item_open_case, outbox_deliver

    body, ctype = gp_message(given="Ada", family="Holm")
    post(body, ctype)
    item = InboxItem.objects.get()
    case = inbox_item_open_case(actor=SYSTEM, item=item, cpr=item.thread.patient_cpr, given_name="Ada",
                                family_name="Holm")
    outbox_deliver()
    receipt = interpret(bundle_of(sent[0].body))  # what the GP received from us
    at = receipt.bundle_timestamp + dt.timedelta(minutes=5)
    reply = _answer(receipt, activity="reply-message", text="Tak. Mor ringer til jer i morgen.", at=at)

    response = post(reply)
    assert ack_header(ack_of(response))["response"]["code"] == "ok"
    assert Thread.objects.count() == 1
    thread = Thread.objects.get()
    assert thread.case == case
    assert ReceivedMessage.objects.filter(thread=thread).count() == 2
    texts = [s.text for s in thread_segments(thread=thread)]
    assert texts == ["Ada har det svært i skolen.", texts[1], "Tak. Mor ringer til jer i morgen."]
    assert texts[1].startswith("Kære Anne Mortensen")
    assert Segment.objects.filter(thread=thread).count() == 3, "carried segments are not stored twice"
    # The reply is new information on a handled referral: one new item, already on the case.
    new = InboxItem.objects.get(status=InboxItem.Status.NEW)
    assert new.case == case and new.thread == thread


def test_the_sample_reply_to_an_unknown_thread_starts_a_thread_with_its_beginning_missing(aliases, post_sample):
    post_sample("R-A-new")
    response = post_sample("R-B-reply")
    assert ack_header(ack_of(response))["response"]["code"] == "ok"

    reply = _interpreted("R-B-reply")
    thread = Thread.objects.get(identifier=reply.thread_id)
    assert thread.beginning_missing
    first = _interpreted("R-A-new")
    assert thread.identifier != first.thread_id, "R-B answers a thread we never saw, not R-A's"
    assert thread.patient_cpr == first.patient.cpr, "…about the same patient"
    carried = Segment.objects.get(thread=thread, identifier="urn:uuid:24d01288-ad36-4af2-96a8-fd1432dadee1")
    assert carried.carried_over and carried.message is None
    own = Segment.objects.filter(thread=thread, carried_over=False)
    assert set(own.values_list("identifier", flat=True)) == set(reply.new_segment_ids)
    assert InboxItem.objects.filter(thread=thread).count() == 1


def test_the_sample_forward_starts_a_new_thread(aliases, post_sample):
    post_sample("R-A-new")
    post_sample("R-C-forward")
    forward = _interpreted("R-C-forward")
    first = _interpreted("R-A-new")
    assert Thread.objects.count() == 2
    thread = Thread.objects.get(identifier=forward.thread_id)
    assert thread.forwarded_from_header_id == "42fa2844-5020-45dd-bd5f-77137ba5ca1f"
    assert thread.beginning_missing
    assert Segment.objects.filter(thread__identifier=first.thread_id).count() == 2, "R-A's thread untouched"


def test_a_forward_of_a_known_message_starts_a_new_thread(aliases, post_sample, post):
    post_sample("R-A-new")
    first = _interpreted("R-A-new")
    at = first.bundle_timestamp + dt.timedelta(hours=2)
    post(_answer(first, activity="forward-message", text="Videresendes til jer.", at=at,
                 sender=first.sender, receiver=first.receiver))
    assert Thread.objects.count() == 2
    original = Thread.objects.get(identifier=first.thread_id)
    forwarded = Thread.objects.exclude(pk=original.pk).get()
    assert forwarded.forwarded_from_header_id == first.header_id
    assert ReceivedMessage.objects.filter(thread=original).count() == 1
    # The forward carries the original's texts and its attachment with the data.
    pdf = Segment.objects.get(thread=forwarded, kind="attachment")
    assert pdf.carried_over and bytes(pdf.data.data).startswith(b"%PDF")


def test_a_reply_that_arrives_before_its_original_is_joined_when_the_original_comes(aliases, post_sample, post):
    first = _interpreted("R-A-new")
    at = first.bundle_timestamp + dt.timedelta(hours=1)
    # A follow-up from the same sender in the same thread, delivered before the original.
    post(_answer(first, activity="reply-message", text="Svar før originalen.", at=at,
                 sender=first.sender, receiver=first.receiver))
    thread = Thread.objects.get()
    assert thread.beginning_missing
    pdf = Segment.objects.get(thread=thread, kind="attachment")
    assert pdf.carried_over and pdf.size == 0, "a reply carries an earlier attachment by reference only"

    post_sample("R-A-new")
    thread.refresh_from_db()
    assert Thread.objects.count() == 1 and not thread.beginning_missing
    assert ReceivedMessage.objects.filter(thread=thread).count() == 2
    assert InboxItem.objects.count() == 1, "one thread, one unhandled item"
    pdf.refresh_from_db()
    assert not pdf.carried_over and pdf.size > 0 and bytes(pdf.data.data).startswith(b"%PDF")
    # Shown in the order of their own timestamps, not of arrival.
    texts = [s.text or s.title for s in thread_segments(thread=thread)]
    assert texts[-1] == "Svar før originalen."
    assert [s.timestamp for s in thread_segments(thread=thread)] == sorted(
        s.timestamp for s in Segment.objects.filter(thread=thread))


def test_it_refuses_a_message_in_a_known_thread_about_another_patient(aliases, post_sample, post):
    post_sample("R-A-new")
    first = _interpreted("R-A-new")
    other = json.loads(_answer(first, activity="reply-message", text="Forkert patient",
                               at=first.bundle_timestamp + dt.timedelta(hours=1), sender=first.sender,
                               receiver=first.receiver))
    for entry in other["entry"]:
        if entry["resource"]["resourceType"] == "Patient":
            entry["resource"]["identifier"][0]["value"] = "0101804321"
    response = post(json.dumps(other).encode())
    assert ack_header(ack_of(response))["response"]["code"] == "fatal-error"
    assert any("anden patient" in t for t in outcome_texts(response))
    assert ReceivedMessage.objects.count() == 1


def test_attachments_are_shown_only_to_those_allowed(world, aliases, post_sample, gp_message, post, login):
    post_sample("R-Tek-A")
    pdf = Segment.objects.get(title="PDF-application-testOfTitle")
    url = f"/indgang/bilag/{pdf.pk}/"
    response = login("ida").get(url)
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert response["Content-Type"] == "application/pdf"
    assert "sandbox" in response["Content-Security-Policy"]
    for persona in ("nora", "anne", "lars", "stranger"):
        assert login(persona).get(url).status_code == 404, persona
    assert login(None).get(url).status_code == 302

    body, ctype = gp_message(attachments=(("Skoleudtalelse", "image/png", b"\x89PNG\r\n\x1a\nfake"),))
    post(body, ctype)
    png = Segment.objects.get(title="Skoleudtalelse")
    own = f"/indgang/bilag/{png.pk}/"
    assert login("anne").get(own).status_code == 200, "the referrer sees what they sent"
    assert login("peter").get(own).status_code == 404
    assert login("ida").get(own).status_code == 200


def test_our_replies_join_the_thread_and_carry_it(world, gp_message, post, sent):
    """Our receipt, as the GP gets it, is a reply in their thread carrying their text."""
    from tovholder.inbox.services import inbox_item_open_case, outbox_deliver

    body, ctype = gp_message(given="Bent", family="Ravn")
    post(body, ctype)
    item = InboxItem.objects.get()
    inbox_item_open_case(actor=SYSTEM, item=item, cpr=item.thread.patient_cpr, given_name="Bent",
                         family_name="Ravn")
    outbox_deliver()
    ours = interpret(bundle_of(sent[0].body))
    theirs = interpret(bundle_of(body))
    assert ours.activity == "reply-message"
    assert ours.thread_id == theirs.thread_id
    assert ours.previous_header_id == theirs.header_id
    assert {s.identifier for s in theirs.segments} <= {s.identifier for s in ours.segments}
    assert theirs.header_id in {p.header_id for p in ours.provenances}
    assert OutboundMessage.objects.get().thread == item.thread
