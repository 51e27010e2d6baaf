"""Handling an item: identify or create the child, link custody holders, open the case or
attach to an open one (re-referral), reject, forward; the referrer always hears back."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from tests.inbox.helpers import bundle_of
from tests.support.world import SYSTEM, make_case, make_child
from tovholder.audit.actor import Actor
from tovholder.audit.models import AuditEvent
from tovholder.cases import notify
from tovholder.cases.models import ClosedReason, ReferralChannel, Stage
from tovholder.cases.services import case_transition
from tovholder.children.models import Child
from tovholder.inbox.models import InboxItem, OutboundMessage, Segment, Thread
from tovholder.inbox.services import (
    CustodyHolderInput,
    inbox_item_attach,
    inbox_item_forward,
    inbox_item_note,
    inbox_item_open_case,
    inbox_item_reject,
    outbox_deliver,
    web_referral_submit,
)
from tovholder.medcom import interpret

pytestmark = pytest.mark.django_db

PARENTS = [CustodyHolderInput(name="Mette Holm", relation="mother", email="mette@example.dk"),
           CustodyHolderInput(name="Jonas Holm", relation="father", email="jonas@example.dk")]


@pytest.fixture
def ida(world):
    return Actor(user=world.user("ida"), unit=world.unit("706:single_entry"))


@pytest.fixture
def item(world, gp_message, post):
    body, ctype = gp_message(given="Ada", family="Holm", text="Ada på 12 år har ondt i maven og meget fravær.")
    post(body, ctype)
    return InboxItem.objects.get()


def test_opening_a_case_creates_the_child_links_parents_and_sends_the_receipt(world, item, ida, monkeypatch, sent):
    calls = []
    import tovholder.consent.services as consent

    monkeypatch.setattr(consent, "consent_request_start", lambda *, actor, case: calls.append(case))
    case = inbox_item_open_case(actor=ida, item=item, cpr=item.thread.patient_cpr, given_name="Ada",
                                family_name="Holm", custody_holders=PARENTS,
                                school=world.unit("706:school:0"))

    assert case.stage == Stage.AWAITING_CONSENT and case.municipality.code == "706"
    assert case.referral_channel == ReferralChannel.GP, "derived from the sender: a GP practice"
    assert case.referrer_unit == world.unit("gp:0") and not case.is_re_referral
    child = Child.objects.get(cpr=item.thread.patient_cpr)
    assert child.full_name == "Ada Holm" and child.school == world.unit("706:school:0")
    assert [h.name for h in child.custody_holders.all()] == ["Mette Holm", "Jonas Holm"]
    assert calls == [case], "the consent request is started for the new case"
    item.refresh_from_db()
    assert item.status == InboxItem.Status.OPENED and item.case == case and item.handled_by == world.user("ida")
    assert Thread.objects.get().case == case
    # The receipt: a MedCom reply in the same thread, worded as in seed 001, appendix 2.
    receipt = OutboundMessage.objects.get()
    assert receipt.reason == "receipt" and receipt.activity == "reply-message"
    assert receipt.thread_identifier == item.thread.identifier and receipt.case == case
    assert receipt.text == (
        "Kære Anne Mortensen\n\nTak for henvisning af Ada Holm til behandling i koordinationsudvalget i "
        "Fælles forpligtende handleplansforløb i Syddjurs Kommune. Hermed kvitteres for modtagelse af "
        "henvendelsen. Forældrene vil modtage samtykke til behandling af sagen snarest.\n\n"
        "Mvh. Koordinationsudvalget Syddjurs Kommune")
    assert outbox_deliver() == 1
    delivered = interpret(bundle_of(sent[0].body))
    assert delivered.receiver.sor == world.unit("gp:0").sor_id
    assert delivered.sender.sor == world.unit("706:single_entry").sor_id, "we write as the municipality's entry"
    assert AuditEvent.objects.filter(case=case, summary__startswith="Henvendelse behandlet").exists()


def test_it_finds_an_existing_child_and_counts_a_re_referral(world, item, ida):
    child = make_child(world.demo, parents=1)
    closed = make_case(world.demo, child=child)
    case_transition(actor=SYSTEM, basis="system", case=closed, to=Stage.CLOSED, closed_reason=ClosedReason.NO_CONSENT)
    case = inbox_item_open_case(actor=ida, item=item, cpr=child.cpr, given_name="X", family_name="Y",
                                custody_holders=[CustodyHolderInput(name=child.custody_holders.first().name,
                                                                    relation="mother")])
    assert case.child == child and case.is_re_referral
    assert child.custody_holders.count() == 1, "a parent already known is not added twice"
    item.refresh_from_db()
    assert item.is_re_referral


def test_a_child_with_an_open_case_is_attached_not_opened_twice(world, item, ida):
    child = make_child(world.demo)
    open_case = make_case(world.demo, child=child, stage=Stage.AWAITING_COMMITTEE)
    with pytest.raises(ValidationError, match="åbent forløb"):
        inbox_item_open_case(actor=ida, item=item, cpr=child.cpr, given_name="X", family_name="Y")
    inbox_item_attach(actor=ida, item=item, case=open_case)
    item.refresh_from_db()
    assert item.status == InboxItem.Status.ATTACHED and item.is_re_referral and item.case == open_case
    assert OutboundMessage.objects.get().text.startswith("Kære Anne Mortensen\n\nTak for henvendelsen om")


def test_it_will_not_attach_to_a_case_in_another_municipality(world, item, ida):
    other = make_case(world.demo, municipality="707", referrer="gp:2")
    with pytest.raises(ValidationError):
        inbox_item_attach(actor=ida, item=item, case=other)


def test_a_child_living_elsewhere_must_be_forwarded(world, item, ida):
    child = make_child(world.demo, municipality="707")
    with pytest.raises(ValidationError, match="videresend"):
        inbox_item_open_case(actor=ida, item=item, cpr=child.cpr, given_name="X", family_name="Y")


def test_rejecting_needs_a_reason_and_tells_the_referrer(world, item, ida):
    with pytest.raises(ValidationError):
        inbox_item_reject(actor=ida, item=item, reason="  ")
    inbox_item_reject(actor=ida, item=item, reason="Barnet er over 18 år.")
    item.refresh_from_db()
    assert item.status == InboxItem.Status.REJECTED and item.reject_reason == "Barnet er over 18 år."
    reply = OutboundMessage.objects.get()
    assert reply.reason == "rejection" and "Barnet er over 18 år." in reply.text


def test_an_item_is_handled_once(world, item, ida):
    inbox_item_reject(actor=ida, item=item, reason="Dublet af telefonopkald.")
    with pytest.raises(ValidationError, match="allerede behandlet"):
        inbox_item_open_case(actor=ida, item=item, cpr=item.thread.patient_cpr, given_name="A", family_name="H")


def test_forwarding_sends_a_medcom_forward_that_norddjurs_receives(world, item, ida, sent):
    inbox_item_forward(actor=ida, item=item, to=world.norddjurs, note="Familien er flyttet til Grenaa.")
    item.refresh_from_db()
    assert item.status == InboxItem.Status.FORWARDED and item.forwarded_to == world.norddjurs
    forward = OutboundMessage.objects.get(reason="forward")
    assert forward.activity == "forward-message" and forward.thread_identifier != item.thread.identifier
    notice = OutboundMessage.objects.get(reason="forward_notice")
    assert "Norddjurs" in notice.text and notice.thread == item.thread

    outbox_deliver()
    # Norddjurs' entry is one of ours: delivered in-house, through the same intake.
    theirs = InboxItem.objects.get(municipality=world.norddjurs)
    assert theirs.thread.identifier == forward.thread_identifier
    assert theirs.thread.forwarded_from_header_id == forward.previous_header_id
    assert theirs.thread.patient_cpr == item.thread.patient_cpr
    texts = list(Segment.objects.filter(thread=theirs.thread).values_list("text", flat=True))
    assert any("Ada på 12 år" in t for t in texts) and any("Grenaa" in t for t in texts)
    forward.refresh_from_db()
    assert forward.status == OutboundMessage.Status.ACKED, "Norddjurs' acknowledgement came back and matched"
    assert [d.kind for d in sent] == ["message"], "only the notice to the GP left through the transport"


def test_a_reply_on_an_open_case_is_noted(world, item, ida):
    case = inbox_item_open_case(actor=ida, item=item, cpr=item.thread.patient_cpr, given_name="Ada",
                                family_name="Holm")
    new = InboxItem.objects.create(municipality=item.municipality, thread=item.thread, kind="medcom", case=case)
    inbox_item_note(actor=ida, item=new)
    new.refresh_from_db()
    assert new.status == InboxItem.Status.NOTED
    fresh = InboxItem.objects.create(municipality=item.municipality, thread=Thread.objects.create(
        municipality=item.municipality, entry=item.thread.entry, channel="web", identifier="urn:uuid:x"), kind="web")
    with pytest.raises(ValidationError):
        inbox_item_note(actor=ida, item=fresh)


def test_tell_referrer_answers_in_the_medcom_thread_that_opened_the_case(world, item, ida):
    case = inbox_item_open_case(actor=ida, item=item, cpr=item.thread.patient_cpr, given_name="Ada",
                                family_name="Holm")
    sent_before = OutboundMessage.objects.count()
    message = notify.tell_referrer(actor=Actor.job("consent_sweep"), case=case, reason="no_consent",
                                   text="Der foreligger ikke samtykke; sagen er lukket.")
    assert isinstance(message, OutboundMessage)
    assert OutboundMessage.objects.count() == sent_before + 1
    assert message.thread == item.thread and message.reason == "no_consent"
    assert message.author_name == "Koordinationsudvalget Syddjurs Kommune"
    assert message.author_phone == world.user("ida").phone, "a job writes with an inbox keeper's phone"


def test_tell_referrer_records_the_reply_for_a_web_referral(world, ida, login):
    lars = world.user("lars")
    child = make_child(world.demo)
    web = web_referral_submit(actor=Actor(user=lars), referrer_unit=world.unit("706:school:0"),
                              municipality=world.syddjurs, cpr=child.cpr, given_name=child.given_name,
                              family_name=child.family_name, text="Kim græder hver morgen.", phone="12345678")
    case = make_case(world.demo, child=child)
    Thread.objects.filter(pk=web.thread_id).update(case=case)
    result = notify.tell_referrer(actor=ida, case=case, reason="minutes", text="Referat: forløb startes.")
    assert result is None
    reply = Segment.objects.get(thread=web.thread, outgoing=True)
    assert reply.text == "Referat: forløb startes."
    page = login("lars").get(f"/indgang/traad/{web.thread_id}/").content.decode()
    assert "Referat: forløb startes." in page


def test_the_inbox_clock_is_met_when_the_item_is_handled(world, item, ida):
    from tovholder.deadlines.clocks import Clock
    from tovholder.deadlines.milestones import case_milestones

    case = inbox_item_open_case(actor=ida, item=item, cpr=item.thread.patient_cpr, given_name="Ada",
                                family_name="Holm")
    inbox = [m for m in case_milestones(case, dt.date.today()) if m.clock == Clock.INBOX]
    assert len(inbox) == 1 and inbox[0].met_on is not None and inbox[0].met_on <= inbox[0].due


def test_after_a_forward_the_referrer_is_the_gp_and_the_answer_comes_back_as_an_answer(world, item, ida, login):
    """Norddjurs opens the forwarded referral: the case's referrer is anne's practice (who
    wrote it), its receipt goes back to Syddjurs' entry (who forwarded it), where it is an
    answer that can be marked as seen — not a new referral."""
    inbox_item_forward(actor=ida, item=item, to=world.norddjurs)
    outbox_deliver()
    theirs = InboxItem.objects.get(municipality=world.norddjurs)
    assert theirs.thread.referrer_unit == world.unit("gp:0")
    nora = Actor(user=world.user("nora"), unit=world.unit("707:single_entry"))
    case = inbox_item_open_case(actor=nora, item=theirs, cpr=theirs.thread.patient_cpr, given_name="Ada",
                                family_name="Holm")
    assert case.referral_channel == ReferralChannel.GP and case.referrer_unit == world.unit("gp:0")
    assert login("anne").get(f"/indgang/traad/{theirs.thread_id}/").status_code == 200
    outbox_deliver()  # Norddjurs' receipt, in the forward's thread, to Syddjurs' entry
    answer = InboxItem.objects.get(municipality=world.syddjurs, status=InboxItem.Status.NEW)
    inbox_item_note(actor=ida, item=answer)
    assert InboxItem.objects.get(pk=answer.pk).status == InboxItem.Status.NOTED


def test_a_web_referral_for_a_child_living_elsewhere_is_moved_to_that_entry(world, ida):
    from tovholder.inbox.services import Upload

    child = make_child(world.demo, municipality="707", parents=0)
    web = web_referral_submit(actor=Actor(user=world.user("lars")), referrer_unit=world.unit("706:school:0"),
                              municipality=world.syddjurs, cpr=child.cpr, given_name=child.given_name,
                              family_name=child.family_name, text="Eleven er flyttet til Grenaa.", phone="1",
                              uploads=[Upload(name="notat.pdf", content_type="application/pdf", data=b"%PDF x")])
    inbox_item_forward(actor=ida, item=web, to=world.norddjurs, note="Bor i Grenaa.")
    moved = InboxItem.objects.get(municipality=world.norddjurs)
    assert moved.kind == InboxItem.Kind.WEB and moved.thread.referrer_unit == world.unit("706:school:0")
    kinds = list(Segment.objects.filter(thread=moved.thread).values_list("kind", "text"))
    assert ("text", "Eleven er flyttet til Grenaa.") in kinds
    pdf = Segment.objects.get(thread=moved.thread, kind="attachment")
    assert bytes(pdf.data.data) == b"%PDF x"
    told = Segment.objects.get(thread=web.thread, outgoing=True)
    assert "videresendt henvendelsen til den fælles indgang i Norddjurs Kommune" in told.text
    assert not OutboundMessage.objects.exists()
