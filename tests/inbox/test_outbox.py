"""The outbox: valid bundles with fresh ids, a pluggable transport, acknowledgements matched
(and never acknowledged), resends after 30 minutes at most twice, then a person."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import time_machine
from django.utils import timezone

from tests.inbox.helpers import bundle_of, header_of
from tests.support.world import SYSTEM
from tovholder.inbox.models import Arrival, InboxItem, OutboundMessage, ReceivedMessage
from tovholder.inbox.services import inbox_item_open_case, outbox_deliver, outbox_resend_due
from tovholder.inbox.transport import FileTransport, TransportError
from tovholder.medcom import Org, build_acknowledgement, interpret, serialize

pytestmark = pytest.mark.django_db


@pytest.fixture
def receipt(world, gp_message, post):
    body, ctype = gp_message(given="Ada", family="Holm")
    post(body, ctype)
    item = InboxItem.objects.get()
    inbox_item_open_case(actor=SYSTEM, item=item, cpr=item.thread.patient_cpr, given_name="Ada", family_name="Holm")
    return OutboundMessage.objects.get()


def _ack_for(delivery, code="ok", problems=None):
    """What the GP's system answers to something we sent."""
    msg = interpret(bundle_of(delivery.body, delivery.content_type))
    ack = build_acknowledgement(msg, code=code, problems=problems, our_org=msg.receiver,
                                ack_id=str(uuid.uuid4()), ack_bundle_id=str(uuid.uuid4()), now=timezone.now())
    return serialize(ack, "json")


def test_it_delivers_a_valid_bundle_with_fresh_ids_through_the_transport(world, receipt, sent):
    assert outbox_deliver() == 1
    assert len(sent) == 1 and sent[0].kind == "message"
    bundle = bundle_of(sent[0].body, sent[0].content_type)
    msg = interpret(bundle)  # our own inbound validator accepts what we send
    inbound = ReceivedMessage.objects.get()
    assert bundle["id"] == sent[0].name == receipt.bundle_id
    assert msg.header_id == receipt.header_id
    assert {bundle["id"], msg.header_id}.isdisjoint({inbound.bundle_id, inbound.header_id})
    assert msg.sender.sor == world.unit("706:single_entry").sor_id
    receipt.refresh_from_db()
    assert receipt.status == OutboundMessage.Status.SENT and receipt.attempts == 1


def test_it_can_send_xml(world, receipt, sent, settings):
    settings.MEDCOM_OUTBOUND_FORMAT = "xml"
    outbox_deliver()
    assert sent[0].content_type.startswith("application/fhir+xml")
    interpret(bundle_of(sent[0].body, sent[0].content_type))


def test_the_file_transport_writes_whole_files_to_the_outbox_folder(world, receipt, settings, tmp_path):
    settings.MEDCOM_TRANSPORT = "tovholder.inbox.transport.FileTransport"
    settings.OUTBOX_DIR = tmp_path
    outbox_deliver()
    files = list((tmp_path / "medcom").iterdir())
    assert len(files) == 1 and files[0].name.endswith(f"-message-{receipt.bundle_id}.json")
    interpret(bundle_of(files[0].read_bytes()))


def test_a_row_is_claimed_by_one_worker_only(world, receipt):
    claim = timezone.now()
    first = OutboundMessage.objects.filter(pk=receipt.pk, claimed_at__isnull=True).update(claimed_at=claim)
    second = OutboundMessage.objects.filter(pk=receipt.pk, claimed_at__isnull=True).update(claimed_at=claim)
    assert (first, second) == (1, 0)
    assert outbox_deliver() == 0, "a claimed row is not sent by another worker"


def test_a_transport_failure_is_retried_later(world, receipt, monkeypatch, sent):
    def fail(self, delivery):
        raise TransportError("VANS nede")

    monkeypatch.setattr(FileTransport, "send", fail)
    monkeypatch.setattr("tovholder.inbox.transport.MemoryTransport.send", fail)
    assert outbox_deliver() == 0
    receipt.refresh_from_db()
    assert receipt.status == OutboundMessage.Status.PENDING and receipt.attempts == 0
    assert "VANS nede" in receipt.last_error and receipt.due_at > timezone.now()


def test_an_acknowledgement_is_matched_and_never_acknowledged(world, receipt, sent, post):
    outbox_deliver()
    response = post(_ack_for(sent[0]))
    assert response.status_code == 204 and response.content == b""
    receipt.refresh_from_db()
    assert receipt.status == OutboundMessage.Status.ACKED and receipt.ack_code == "ok"
    arrival = Arrival.objects.order_by("pk").last()
    assert arrival.state == Arrival.State.ACKNOWLEDGEMENT and not arrival.ack_json
    assert OutboundMessage.objects.count() == 1, "nothing was sent back for the acknowledgement"
    assert outbox_deliver() == 0 and len(sent) == 1


def test_a_fatal_error_acknowledgement_flags_the_message_for_a_person(world, receipt, sent, post, login):
    from tovholder.medcom import Problem

    outbox_deliver()
    post(_ack_for(sent[0], code="fatal-error", problems=[Problem("invalid", "Ukendt patient hos modtageren.")]))
    receipt.refresh_from_db()
    assert receipt.status == OutboundMessage.Status.REJECTED and receipt.flagged_at
    page = login("ida").get("/indgang/").content.decode()
    assert "Ukendt patient hos modtageren." in page
    assert "Ukendt patient" not in login("nora").get("/indgang/").content.decode()
    response = login("ida").post(f"/indgang/udgaaende/{receipt.pk}/", {"action": "resolve"})
    assert response.status_code == 302
    receipt.refresh_from_db()
    assert receipt.flag_resolved_by == world.user("ida")


def test_an_acknowledgement_of_something_we_never_sent_is_kept_for_a_person(world, post, gp_message):
    body, _ = gp_message()
    msg = interpret(bundle_of(body))
    ack = build_acknowledgement(msg, code="ok", our_org=Org(name="X", sor="12345678901", ean=world.unit("gp:1").gln),
                                ack_id=str(uuid.uuid4()), ack_bundle_id=str(uuid.uuid4()), now=timezone.now())
    response = post(serialize(ack, "xml"), "application/fhir+xml")
    assert response.status_code == 204
    arrival = Arrival.objects.get()
    assert arrival.state == Arrival.State.QUARANTINED and arrival.municipality is None
    assert "ikke er sendt herfra" in arrival.problems[0]["text"]


def test_without_an_acknowledgement_it_resends_twice_with_new_bundle_ids_then_asks_a_person(world, receipt, sent,
                                                                                          login):
    start = timezone.now()
    outbox_deliver()
    with time_machine.travel(start + dt.timedelta(minutes=29)):
        assert outbox_resend_due() == 0
    for n in (1, 2):
        with time_machine.travel(start + dt.timedelta(minutes=31 * n)):
            assert outbox_resend_due() == 1
            assert outbox_deliver() == 1
    assert len(sent) == 3
    bundles = [bundle_of(d.body) for d in sent]
    assert len({b["id"] for b in bundles}) == 3, "each send has a new Bundle.id"
    assert len({b["timestamp"] for b in bundles}) == 3
    assert {header_of(b)["id"] for b in bundles} == {receipt.header_id}, "…and the same MessageHeader.id"
    with time_machine.travel(start + dt.timedelta(minutes=31 * 3)):
        assert outbox_resend_due() == 1
        assert outbox_deliver() == 0
    receipt.refresh_from_db()
    assert receipt.status == OutboundMessage.Status.UNANSWERED and receipt.attempts == 3 and receipt.flagged_at
    assert "Ingen kvittering efter genforsendelser" in login("ida").get("/indgang/").content.decode()
    # A person sends it again: a fresh round.
    login("ida").post(f"/indgang/udgaaende/{receipt.pk}/", {"action": "resend"})
    assert outbox_deliver() == 1 and len(sent) == 4


def test_a_late_acknowledgement_of_a_resent_message_is_matched(world, receipt, sent, post):
    start = timezone.now()
    outbox_deliver()
    with time_machine.travel(start + dt.timedelta(minutes=31)):
        outbox_resend_due()
        outbox_deliver()
    post(_ack_for(sent[0]))  # the answer to the first send arrives after the resend
    receipt.refresh_from_db()
    assert receipt.status == OutboundMessage.Status.ACKED


def test_our_replies_pass_our_own_inbound_validator_in_every_thread(world, aliases, post, sent):
    """A reply in each kind of sample thread (replacement CPR, episode of care, attachments)."""
    from tests.inbox.helpers import SAMPLES, content_type_of
    from tovholder.inbox.services import thread_reply

    for path in SAMPLES:
        post(path.read_bytes(), content_type_of(path))
    for item in InboxItem.objects.select_related("thread"):
        thread_reply(actor=SYSTEM, thread=item.thread, text="Tak for beskeden.", reason="reply")
    assert outbox_deliver(limit=50) == len(SAMPLES)
    for delivery in sent:
        msg = interpret(bundle_of(delivery.body))
        assert msg.activity == "reply-message" and msg.new_segments[0].text == "Tak for beskeden."


def test_a_message_written_elsewhere_goes_out_and_its_answer_reaches_the_listeners(world, sent, post, monkeypatch):
    """tovholder.consultation sends a referral onwards from the entry; BUA's answer arrives in
    the same thread, on the case, and the thread's listeners hear of it."""
    from tests.inbox.test_threads import _answer
    from tovholder.inbox import hooks
    from tovholder.inbox.demo import gp_referral
    from tovholder.inbox.services import outbound_referral_send

    heard = []
    monkeypatch.setattr(hooks, "_listeners", [lambda **kw: heard.append(kw)])
    entry, bua, case = world.unit("706:single_entry"), world.unit("bua"), world.case
    body, _ = gp_referral(sender=entry, entry=bua, cpr=case.child.cpr, given=case.child.given_name,
                          family=case.child.family_name, text="Henvisning til udredning.", author="Ida Bach")
    outbound = outbound_referral_send(actor=SYSTEM, case=case, entry=entry, receiver=bua, bundle=bundle_of(body))
    assert outbound.thread.case == case and outbound.thread.counterpart_sor == bua.sor_id
    outbox_deliver()
    ours = interpret(bundle_of(sent[0].body))
    assert ours.header_id == outbound.header_id

    answer = _answer(ours, activity="reply-message", text="Barnet er visiteret til udredning.",
                     at=ours.bundle_timestamp + dt.timedelta(days=2))
    response = post(answer)
    assert response.status_code == 200
    assert ReceivedMessage.objects.get().thread == outbound.thread
    item = InboxItem.objects.get()
    assert item.case == case, "the answer is on the case"
    assert [h["texts"] for h in heard] == [["Barnet er visiteret til udredning."]]
    assert heard[0]["thread"] == outbound.thread


def test_a_failing_listener_never_costs_the_message(world, sent, post, monkeypatch):
    from tests.inbox.test_threads import _answer
    from tovholder.inbox import hooks
    from tovholder.inbox.demo import gp_referral
    from tovholder.inbox.services import outbound_referral_send

    def broken(**kwargs):
        raise RuntimeError("listener bug")

    monkeypatch.setattr(hooks, "_listeners", [broken])
    entry, bua, case = world.unit("706:single_entry"), world.unit("bua"), world.case
    body, _ = gp_referral(sender=entry, entry=bua, cpr=case.child.cpr, given="A", family="B", text="Henvisning.",
                          author="Ida Bach")
    outbound_referral_send(actor=SYSTEM, case=case, entry=entry, receiver=bua, bundle=bundle_of(body))
    outbox_deliver()
    ours = interpret(bundle_of(sent[0].body))
    response = post(_answer(ours, activity="reply-message", text="Svar.", at=ours.bundle_timestamp))
    from tests.inbox.helpers import ack_code

    assert ack_code(response) == "ok" and ReceivedMessage.objects.count() == 1
