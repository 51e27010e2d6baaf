"""The referral leaves through the inbox's MedCom outbox, and BUA's reply in the same
thread comes back through the single entry to the referral (tovholder.inbox hooks)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from tests.consultation.helpers import actor, consented_case
from tovholder import medcom
from tovholder.cases.models import Notice
from tovholder.consultation import referrals as ref
from tovholder.consultation.models import Referral

inbox_services = pytest.importorskip("tovholder.inbox.services")
pytestmark = pytest.mark.skipif(not hasattr(inbox_services, "outbound_referral_send"),
                                reason="the inbox offers no outbox for referrals onwards")


def _sent(world) -> Referral:
    lead = actor(world, "lars", "706:school:0")
    case = consented_case(world)
    r = ref.referral_prepare(actor=lead, basis="lead", case=case, receiver_unit=world.unit("bua"))
    r = ref.referral_update(actor=lead, basis="lead", referral=r, expected_version=r.version, priority="asap",
                            question="Udredning for angst?", tried="- Samtaler med sundhedsplejen: ingen effekt.",
                            ppr_missing_reason="Barnet går ikke i skole; PPR er ikke inddraget endnu.")
    return ref.referral_send(actor=lead, basis="lead", referral=r)


@pytest.mark.django_db(transaction=True)
def test_it_queues_the_referral_in_the_outbox_and_catches_bua_s_reply(world):
    from tovholder.inbox.models import OutboundMessage, Thread

    referral = _sent(world)
    out = referral.messages.get()
    assert out.outbox_ref
    outbound = OutboundMessage.objects.get(pk=int(out.outbox_ref))
    assert outbound.header_id == out.header_id and outbound.case_id == referral.case_id
    assert outbound.receiver_sor == world.unit("bua").sor_id
    ours = medcom.interpret(out.bundle)
    assert ours.priority == "asap"

    # BUA answers in the same thread, as a reply carrying our message.
    bua, entry = world.unit("bua"), world.unit("706:single_entry")
    now = timezone.now() + dt.timedelta(minutes=5)
    header = str(uuid.uuid4())
    reply = medcom.build_care_communication(
        activity="reply-message", sender=medcom.Org(name=bua.name, sor=bua.sor_id, ean=bua.gln),
        receiver=medcom.Org(name=entry.name, sor=entry.sor_id, ean=entry.gln),
        sender_endpoint=ours.destination_endpoint, receiver_endpoint=ours.source_endpoint, patient=ours.patient,
        thread_id=ours.thread_id, category="regarding-referral", topic=ours.topic, priority="asap",
        new_segments=["Henvisningen afvises: barnet er ikke i vores målgruppe. Kontakt os gerne til sparring."],
        earlier_segments=ours.segments, earlier_provenances=ours.provenances, previous_header_id=ours.header_id,
        bundle_id=str(uuid.uuid4()), header_id=header, now=now, author_name="Jonas Berg", author_role="Overlæge",
        author_phone="78471000")
    reception = inbox_services.medcom_receive(body=medcom.serialize(reply, "json"),
                                              content_type=medcom.content_type_for("json"), channel="http")
    assert reception.ack_code == "ok", reception.body[:500]
    assert Thread.objects.filter(identifier=ours.thread_id, case_id=referral.case_id).count() == 1
    got = referral.messages.get(direction="in")
    assert got.header_id == header and "ikke i vores målgruppe" in got.bundle["text"]
    assert Notice.objects.filter(user=world.user("lars"), case=referral.case,
                                 text__contains="Registrér udfaldet").exists()
