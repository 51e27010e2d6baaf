"""Referral onwards: prepared from the case, refused while incomplete (each missing item
named), sent as a MedCom CareCommunication that passes our own validator; the answer
closes the loop — a rejection reaches the whole team and the family and gives the lead a
task due in 5 working days."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError

from tests.consultation.helpers import actor, consented_case
from tovholder import medcom
from tovholder.cases.models import Notice
from tovholder.consultation import referrals as ref
from tovholder.consultation.models import Referral, ReferralAnswer, RejectionFollowUp
from tovholder.deadlines.milestones import case_milestones
from tovholder.deadlines.workdays import COPENHAGEN


def lead(world):
    return actor(world, "lars", "706:school:0")


def prepared(world, case=None, receiver="bua"):
    case = case or consented_case(world)
    return ref.referral_prepare(actor=lead(world), basis="lead", case=case, receiver_unit=world.unit(receiver))


def complete(world, referral):
    return ref.referral_update(
        actor=lead(world), basis="lead", referral=referral, expected_version=referral.version,
        question="Mistanke om ADHD; vi beder om udredning.",
        tried="- Struktur og pauser i klassen (fra august): lidt bedre i timerne.\n- Forældrekursus: ingen effekt.",
        ppr_assessment="PPV 3. oktober: normal begavelse, markante vanskeligheder med opmærksomhed.")


def sent(world, case=None):
    r = complete(world, prepared(world, case))
    return ref.referral_send(actor=lead(world), basis="lead", referral=r)


@pytest.mark.django_db
def test_it_refuses_to_send_an_incomplete_referral_and_names_what_is_missing(world):
    r = prepared(world)
    r.formal_referrer_unit = None
    r.save(update_fields=["formal_referrer_unit"])
    with pytest.raises(ref.IncompleteReferral) as exc:
        ref.referral_send(actor=lead(world), basis="lead", referral=r)
    assert exc.value.missing == [
        "Henvisningsårsag og spørgsmål til modtageren",
        "Hvad kommunen har afprøvet (indsatserne) og med hvilken effekt",
        "PPR's vurdering – eller en begrundelse for, at der ikke er en",
        "Egen læge som formel henviser",
    ]
    r.refresh_from_db()
    assert r.status == Referral.Status.DRAFT and not r.messages.exists()


@pytest.mark.django_db
def test_it_names_missing_consent_for_the_receiver(world, monkeypatch):
    r = complete(world, prepared(world))
    monkeypatch.setattr(ref, "processing_allowed", lambda case, party=None: party != "bua")
    assert ref.referral_missing(r) == ["Gyldigt samtykke fra familien, der dækker Børne- og Ungdomspsykiatrien"]


@pytest.mark.django_db
def test_it_accepts_a_reason_why_there_is_no_ppr_assessment(world):
    r = complete(world, prepared(world))
    r = ref.referral_update(actor=lead(world), basis="lead", referral=r, expected_version=r.version,
                            ppr_assessment="", ppr_missing_reason="Akut forværring; PPR er på vej ind.")
    assert ref.referral_missing(r, actor=lead(world)) == []


@pytest.mark.django_db
def test_it_prefills_the_gp_as_formal_referrer_from_the_case(world):
    r = prepared(world)
    assert r.formal_referrer_unit == world.unit("gp:0")


@pytest.mark.django_db
def test_it_sends_a_regarding_referral_message_that_passes_our_own_validator(world):
    r = sent(world)
    assert r.status == Referral.Status.SENT and r.sent_at is not None
    message = r.messages.get()
    body = medcom.serialize(message.bundle, "json")
    msg = medcom.interpret(medcom.parse_bundle(body, medcom.content_type_for("json")))
    assert msg.category == "regarding-referral" and msg.priority == "routine"
    assert msg.receiver.sor == world.unit("bua").sor_id
    assert msg.sender.sor == world.unit("706:single_entry").sor_id
    assert msg.patient.cpr == r.case.child.cpr
    text = msg.segments[0].text
    for part in ("Forældrekursus: ingen effekt", "PPV 3. oktober", "Lægehuset Ebeltoft", "Lars Nielsen"):
        assert part in text
    assert message.thread_id == msg.thread_id
    # The same in XML, as the inbox may be configured to send.
    xml = medcom.serialize(message.bundle, "xml")
    assert medcom.interpret(medcom.parse_bundle(xml, medcom.content_type_for("xml"))).header_id == msg.header_id


@pytest.mark.django_db
def test_it_refuses_a_message_our_validator_would_reject(world, monkeypatch):
    r = complete(world, prepared(world))

    def broken(**kwargs):
        bundle = real(**kwargs)
        bundle["entry"][0]["resource"]["eventCoding"]["code"] = "nonsense"
        return bundle

    real = medcom.build_care_communication
    monkeypatch.setattr(medcom, "build_care_communication", broken)
    with pytest.raises(ValidationError, match="bestod ikke vores egen validering"):
        ref.referral_send(actor=lead(world), basis="lead", referral=r)
    r.refresh_from_db()
    assert r.status == Referral.Status.DRAFT


@pytest.mark.django_db
def test_it_refuses_a_change_made_on_a_stale_copy(world):
    r = prepared(world)
    ref.referral_update(actor=lead(world), basis="lead", referral=r, expected_version=r.version, question="A")
    with pytest.raises(ref.StaleReferral, match="ændret af en anden"):
        ref.referral_update(actor=actor(world, "maria"), basis="team", referral=r, expected_version=r.version,
                            question="B")
    r.refresh_from_db()
    assert r.question == "A"


@pytest.mark.django_db
def test_it_prepares_one_referral_per_receiver_on_a_double_click(world):
    r = prepared(world)
    assert prepared(world, r.case).pk == r.pk


@pytest.mark.django_db
def test_it_sends_a_rejection_to_the_whole_team_and_the_family_and_gives_the_lead_a_task(world, family_letters):
    # Registered on Wednesday 24 March 2027: Maundy Thursday, Good Friday and Easter Monday
    # are holidays, so 5 working days end on Monday 5 April.
    with time_machine.travel(dt.datetime(2027, 3, 23, 10, tzinfo=COPENHAGEN), tick=False):
        case = consented_case(world, participants=("maria", "ida"))
        r = sent(world, case)
    with time_machine.travel(dt.datetime(2027, 3, 24, 10, tzinfo=COPENHAGEN), tick=False):
        answer = ref.referral_answer_record(actor=actor(world, "maria"), basis="team", referral=r,
                                            outcome="rejected", reason="municipal_efforts",
                                            text="Der mangler beskrivelse af skolens indsats.")
        follow_up = answer.follow_up
        assert follow_up.assigned_to == world.user("lars")
        assert follow_up.due_on == dt.date(2027, 4, 5)
        for user in ("lars", "maria", "ida"):
            notice = Notice.objects.get(user=world.user(user), case=case, text__contains="afvist")
            assert "Lars Nielsen aftaler de næste skridt med familien senest 05.04.2027" in notice.text
        letter = family_letters[-1]
        assert letter["reason"] == "referral_rejected"
        assert "ikke taget imod" in letter["subject"]
        assert "senest 5. april 2027" in letter["body"] and "I står ikke alene" in letter["body"]
        assert "CPR" not in letter["body"] and case.child.cpr not in letter["body"]
        milestone = next(m for m in case_milestones(case, dt.date(2027, 3, 24)) if m.clock == ref.REJECTION_CLOCK)
        assert milestone.due == dt.date(2027, 4, 5) and milestone.label.startswith("Næste skridt")
        case.refresh_from_db()
        assert case.next_deadline <= dt.date(2027, 4, 5)
    with time_machine.travel(dt.datetime(2027, 4, 1, 10, tzinfo=COPENHAGEN), tick=False):
        ref.rejection_follow_up_complete(actor=lead(world), basis="lead", follow_up=follow_up,
                                         next_steps="Familien og skolen: skolens indsats beskrives; ny henvisning "
                                                    "via egen læge efter opfølgningsmødet.")
        follow_up.refresh_from_db()
        assert follow_up.done_on == dt.date(2027, 4, 1)
        milestone = next(m for m in case_milestones(case, dt.date(2027, 4, 1)) if m.clock == ref.REJECTION_CLOCK)
        assert milestone.status(dt.date(2027, 4, 1)) == "met"


@pytest.mark.django_db
def test_it_records_a_rejection_once_on_a_double_click(world):
    r = sent(world)
    ref.referral_answer_record(actor=lead(world), basis="lead", referral=r, outcome="rejected",
                               reason="outside_target_group")
    with pytest.raises(ValidationError) as exc:
        ref.referral_answer_record(actor=lead(world), basis="lead", referral=r, outcome="rejected",
                                   reason="outside_target_group")
    assert exc.value.code == "answered"
    assert RejectionFollowUp.objects.count() == 1


@pytest.mark.django_db
def test_it_needs_a_reason_for_a_rejection_and_a_waiting_time_for_an_acceptance(world):
    r = sent(world)
    with pytest.raises(ValidationError):
        ref.referral_answer_record(actor=lead(world), basis="lead", referral=r, outcome="rejected")
    with pytest.raises(ValidationError):
        ref.referral_answer_record(actor=lead(world), basis="lead", referral=r, outcome="accepted")
    assert not ReferralAnswer.objects.exists()


@pytest.mark.django_db
def test_it_tells_team_and_family_the_expected_wait_when_accepted(world, family_letters):
    r = sent(world)
    ref.referral_answer_record(actor=lead(world), basis="lead", referral=r, outcome="accepted", expected_wait_weeks=12)
    assert "forventet ventetid 12 uger" in Notice.objects.get(user=world.user("maria"), text__contains="accepteret").text
    assert "cirka 12 uger" in family_letters[-1]["body"]
    assert not RejectionFollowUp.objects.exists()


@pytest.mark.django_db
def test_it_reopens_the_referral_for_more_information_and_sends_it_again(world):
    r = sent(world)
    ref.referral_answer_record(actor=lead(world), basis="lead", referral=r, outcome="more_info",
                               text="Send skolens seneste trivselsmåling.")
    r.refresh_from_db()
    assert r.is_editable
    r = ref.referral_update(actor=lead(world), basis="lead", referral=r, expected_version=r.version,
                            tried=r.tried + "\n- Trivselsmåling oktober: lav trivsel i frikvarterer.")
    r = ref.referral_send(actor=lead(world), basis="lead", referral=r)
    assert r.status == Referral.Status.SENT and r.messages.filter(direction="out").count() == 2


@pytest.mark.django_db
def test_it_keeps_a_medcom_reply_in_the_referral_and_asks_the_lead_to_register_it(world):
    r = sent(world)
    thread_id = r.messages.get().thread_id
    assert ref.referral_reply_received(thread_id="urn:uuid:00000000-0000-4000-8000-000000000000",
                                       header_id="h0", text="?") is None
    got = ref.referral_reply_received(thread_id=thread_id, header_id="h1", text="Henvisningen afvises.")
    assert got.pk == r.pk
    assert ref.referral_reply_received(thread_id=thread_id, header_id="h1", text="Henvisningen afvises.").pk == r.pk
    assert r.messages.filter(direction="in").count() == 1
    assert Notice.objects.filter(user=world.user("lars"), text__contains="Registrér udfaldet").count() == 1


@pytest.mark.django_db
def test_it_records_admissions_once(world):
    case = consented_case(world)
    a = ref.admission_record(actor=lead(world), basis="lead", case=case, unit=world.unit("paediatric"),
                             admitted_on=dt.date.today())
    assert ref.admission_record(actor=lead(world), basis="lead", case=case, unit=world.unit("paediatric"),
                                admitted_on=dt.date.today()).pk == a.pk
    with pytest.raises(ValidationError):
        ref.admission_record(actor=lead(world), basis="lead", case=case, unit=world.unit("706:ppr"),
                             admitted_on=dt.date.today())


@pytest.mark.django_db
def test_it_tells_the_inbox_keepers_of_a_rejection_when_nobody_is_left_on_the_team(world):
    from tovholder.cases.models import CaseTeamMember
    from tovholder.cases.services import case_team_end

    r = sent(world)
    for member in CaseTeamMember.objects.filter(case=r.case, role="participant"):
        case_team_end(actor=lead(world), basis="lead", member=member)
    CaseTeamMember.objects.filter(case=r.case).update(ended_at=dt.datetime(2026, 1, 1, tzinfo=COPENHAGEN))
    ref.referral_answer_record(actor=actor(world, "ida", "706:single_entry"), basis="inbox", referral=r,
                               outcome="rejected", reason="outside_target_group")
    assert Notice.objects.filter(user=world.user("ida"), case=r.case, text__contains="afvist").exists()


@pytest.mark.django_db
def test_it_reminds_the_lead_the_day_before_and_tells_the_chair_when_the_follow_up_is_overdue(world):
    with time_machine.travel(dt.datetime(2027, 3, 23, 10, tzinfo=COPENHAGEN), tick=False):
        r = sent(world)
    with time_machine.travel(dt.datetime(2027, 3, 24, 10, tzinfo=COPENHAGEN), tick=False):
        ref.referral_answer_record(actor=lead(world), basis="lead", referral=r, outcome="rejected",
                                   reason="ppr_not_involved")
        assert ref.rejection_follow_up_sweep() == 0  # due 5 April
    with time_machine.travel(dt.datetime(2027, 4, 4, 7, tzinfo=COPENHAGEN), tick=False):
        assert ref.rejection_follow_up_sweep() == 1
        assert ref.rejection_follow_up_sweep() == 0  # once
        assert Notice.objects.filter(user=world.user("lars"), text__startswith="Husk").count() == 1
    with time_machine.travel(dt.datetime(2027, 4, 6, 7, tzinfo=COPENHAGEN), tick=False):
        assert ref.rejection_follow_up_sweep() == 1
        assert ref.rejection_follow_up_sweep() == 0
        chair = Notice.objects.get(user=world.user("karen"), case=r.case)
        assert "overskredet" in chair.text and "05.04.2027" in chair.text


@pytest.mark.django_db
def test_it_sends_once_when_the_send_button_is_clicked_twice(world, login):
    r = complete(world, prepared(world))
    url = f"/sparring/forloeb/{r.case_id}/henvisning/{r.pk}/send/"
    first = login("lars").post(url, {"version": r.version})
    second = login("lars").post(url, {"version": r.version})
    assert first.status_code == second.status_code == 302
    assert r.messages.count() == 1
