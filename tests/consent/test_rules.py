"""Who must consent, what they consent to, and the answers — at the edges."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError

from tests.consent.helpers import INBOX, deliver, local, open_case, people, requests_of
from tests.support.world import SYSTEM, make_child
from tovholder.cases.models import Case, Stage
from tovholder.children.models import Child, age_on
from tovholder.children.services import custody_holder_add
from tovholder.consent.models import ConsentRequest, ConsentRound, How
from tovholder.consent.services import (
    ConsentClosed,
    consent_answer,
    consent_lapses_on,
    consent_register_paper,
    consent_request_start,
    consent_sweep,
    consent_text_current,
    consent_text_publish,
    declaration_for,
    family_actor,
)
from tovholder.consent.texts import DEFAULT_TEMPLATE
from tovholder.letters.models import Letter

pytestmark = pytest.mark.django_db


def give(request: ConsentRequest) -> ConsentRequest:
    return consent_answer(actor=family_actor(request), request=request.pk, give=True, how=How.DIGITAL)


def refuse(request: ConsentRequest) -> ConsentRequest:
    return consent_answer(actor=family_actor(request), request=request.pk, give=False, how=How.DIGITAL)


def stage(case: Case) -> str:
    return Case.objects.get(pk=case.pk).stage


# --- One or two custody holders ---------------------------------------------------------------

def test_it_asks_each_of_two_custody_holders_with_their_own_letter(world):
    case = open_case(world, parents=2)
    assert people(case) == [("holder", "pending"), ("holder", "pending")]
    letters = Letter.objects.filter(case=case, reason="consent_request")
    assert sorted(x.custody_holder_id for x in letters) == sorted(
        case.child.custody_holders.values_list("pk", flat=True))
    assert {x.channel for x in letters} == {"digital"}
    assert stage(case) == Stage.AWAITING_CONSENT


def test_it_needs_both_custody_holders_before_the_case_goes_to_the_committee(world):
    case = open_case(world, parents=2)
    first, second = requests_of(case)
    give(first)
    assert stage(case) == Stage.AWAITING_CONSENT
    assert Case.objects.get(pk=case.pk).consent_completed_at is None
    give(second)
    case.refresh_from_db()
    assert case.stage == Stage.AWAITING_COMMITTEE
    assert case.consent_completed_at is not None


def test_it_needs_only_the_one_custody_holder_when_there_is_one(world):
    case = open_case(world, parents=1)
    (only,) = requests_of(case)
    give(only)
    assert stage(case) == Stage.AWAITING_COMMITTEE


def test_starting_twice_sends_nothing_twice(world):
    case = open_case(world, parents=2)
    consent_request_start(actor=INBOX, case=case)
    assert len(requests_of(case)) == 2
    assert Letter.objects.filter(case=case).count() == 2


def test_a_custody_holder_added_while_waiting_is_asked_too(world):
    case = open_case(world, parents=1)
    custody_holder_add(actor=SYSTEM, basis="system", child=case.child, name="Ny Forælder", relation="father")
    consent_request_start(actor=INBOX, case=case)
    assert people(case) == [("holder", "pending"), ("holder", "pending")]
    give(requests_of(case)[0])
    assert stage(case) == Stage.AWAITING_CONSENT


def test_double_click_on_yes_records_one_answer_and_one_receipt(world):
    case = open_case(world, parents=2)
    first = requests_of(case)[0]
    give(first)
    give(first)
    assert Letter.objects.filter(case=case, reason="consent_receipt").count() == 1


# --- The child from 15 ------------------------------------------------------------------------

def test_a_child_who_turns_15_tomorrow_is_not_asked(world):
    with time_machine.travel(local(2025, 6, 9), tick=False):
        case = open_case(world, birth=dt.date(2010, 6, 10))
        assert people(case) == [("holder", "pending"), ("holder", "pending")]
        for r in requests_of(case):
            give(r)
        assert stage(case) == Stage.AWAITING_COMMITTEE


def test_a_child_who_is_15_today_is_asked_with_their_own_letter(world):
    with time_machine.travel(local(2025, 6, 10), tick=False):
        case = open_case(world, birth=dt.date(2010, 6, 10))
    assert people(case) == [("holder", "pending"), ("holder", "pending"), ("child", "pending")]
    letter = Letter.objects.get(case=case, reason="consent_request", recipient_kind="child")
    assert letter.child_id == case.child_id
    assert letter.recipient_name == case.child.full_name
    assert "Fordi du er fyldt 15 år" in letter.body


def test_a_child_who_turns_15_during_the_wait_is_asked_on_the_birthday(world):
    with time_machine.travel(local(2025, 6, 1), tick=False):
        case = open_case(world, birth=dt.date(2010, 6, 10))
        first, second = requests_of(case)
        give(first)
    with time_machine.travel(local(2025, 6, 9, 23, 59), tick=False):
        consent_sweep()
        assert len(requests_of(case)) == 2
    with time_machine.travel(local(2025, 6, 10, 0, 5), tick=False):
        consent_sweep()
        consent_sweep()
        assert people(case) == [("holder", "given"), ("holder", "pending"), ("child", "pending")]
        assert Letter.objects.filter(case=case, reason="consent_request", recipient_kind="child").count() == 1
        give(second)
        assert stage(case) == Stage.AWAITING_CONSENT  # the child has not answered yet
        give(requests_of(case)[2])
        assert stage(case) == Stage.AWAITING_COMMITTEE


def test_the_last_parent_answering_on_the_birthday_brings_in_the_child(world):
    """Before the sweep has run that day: completing is re-evaluated with today's age."""
    with time_machine.travel(local(2025, 6, 1), tick=False):
        case = open_case(world, birth=dt.date(2010, 6, 10))
        first, second = requests_of(case)
        give(first)
    with time_machine.travel(local(2025, 6, 10, 7, 0), tick=False):
        give(second)
        assert stage(case) == Stage.AWAITING_CONSENT
        assert people(case)[-1] == ("child", "pending")


def test_a_child_born_29_february_turns_15_on_1_march_in_other_years():
    assert age_on(dt.date(2008, 2, 29), dt.date(2023, 2, 28)) == 14
    assert age_on(dt.date(2008, 2, 29), dt.date(2023, 3, 1)) == 15
    assert age_on(dt.date(2008, 2, 29), dt.date(2024, 2, 29)) == 16
    child = Child(birth_date=dt.date(2008, 2, 29))
    assert child.age_on(dt.date(2023, 2, 28)) == 14 and child.age_on(dt.date(2023, 3, 1)) == 15


def test_the_sweep_asks_a_leap_day_child_on_1_march(world):
    with time_machine.travel(local(2023, 2, 20), tick=False):
        case = open_case(world, birth=dt.date(2008, 2, 29))
    with time_machine.travel(local(2023, 2, 28, 22, 0), tick=False):
        consent_sweep()
        assert len(requests_of(case)) == 2
    with time_machine.travel(local(2023, 3, 1, 0, 30), tick=False):
        consent_sweep()
        assert people(case)[-1] == ("child", "pending")


# --- Refusal, and answers that come too late -------------------------------------------------

def test_a_refusal_by_one_parent_closes_the_case_and_tells_the_referrer(world, told):
    case = open_case(world, parents=2)
    first, second = requests_of(case)
    give(first)
    refuse(second)
    case.refresh_from_db()
    assert (case.stage, case.closed_reason) == (Stage.CLOSED, "consent_refused")
    assert [t["reason"] for t in told.referrer] == ["no_consent"]
    assert "ikke modtaget samtykke" in told.referrer[0]["text"]
    # The referrer is not told who said no.
    assert second.person_name not in told.referrer[0]["text"]
    assert ConsentRound.objects.get(case=case).status == ConsentRound.Status.REFUSED
    closing = Letter.objects.filter(case=case, reason="consent_closed_consent_refused")
    assert closing.count() == 2


def test_an_answer_arriving_after_the_case_closed_is_not_recorded(world, told):
    case = open_case(world, parents=2)
    first, second = requests_of(case)
    refuse(first)
    with pytest.raises(ConsentClosed):
        give(second)
    second.refresh_from_db()
    assert second.status == ConsentRequest.Status.CANCELLED
    assert stage(case) == Stage.CLOSED
    assert len(told.referrer) == 1


def test_a_refusal_twice_tells_the_referrer_once(world, told):
    case = open_case(world, parents=1)
    (only,) = requests_of(case)
    refuse(only)
    refuse(only)
    assert len(told.referrer) == 1


# --- The paper route --------------------------------------------------------------------------

def test_a_custody_holder_without_digital_post_gets_a_paper_letter_with_the_form(world):
    case = open_case(world, parents=1, digital_post=False)
    (request,) = requests_of(case)
    assert request.channel == "paper"
    letter = Letter.objects.get(case=case, reason="consent_request")
    assert letter.channel == "paper"
    assert "[[LINK]]" not in letter.body and "vedlagte samtykkeerklæring" in letter.body
    (pdf,) = letter.attachments.all()
    assert pdf.content_type == "application/pdf" and bytes(pdf.content).startswith(b"%PDF")
    deliver()
    letter.refresh_from_db()
    assert letter.status == "sent" and letter.read_token_hash is None


def test_staff_register_a_paper_answer_with_the_scan_and_themselves(world):
    case = open_case(world, parents=1, digital_post=False)
    (request,) = requests_of(case)
    ida = world.user("ida")
    from tovholder.audit.actor import Actor

    actor = Actor(user=ida, unit=world.unit("706:single_entry"))
    with pytest.raises(ValidationError):
        consent_register_paper(actor=actor, basis="inbox", request=request, give=True,
                               signed_on=dt.date.today(), scan=("scan.pdf", "application/pdf", b""))
    done = consent_register_paper(actor=actor, basis="inbox", request=request, give=True,
                                  signed_on=dt.date.today(), scan=("scan.pdf", "application/pdf", b"%PDF-1.4 x"))
    done = ConsentRequest.objects.get(pk=done.pk)
    assert (done.status, done.answered_how, done.registered_by) == ("given", How.PAPER, ida)
    assert bytes(done.scan) == b"%PDF-1.4 x" and done.scan_name == "scan.pdf"
    assert stage(case) == Stage.AWAITING_COMMITTEE


# --- What they consent to ---------------------------------------------------------------------

def test_the_text_names_the_child_the_parties_the_data_validity_and_withdrawal(world):
    case = open_case(world, parents=1)
    (request,) = requests_of(case)
    text = declaration_for(request)
    child = case.child.full_name
    assert child in text
    for words in ["Koordinationsudvalget", "Børne- og Ungdomspsykiatrisk Afdeling", "Børn og Unge, Regionshospitalet Randers",
                  "Egen læge", "CPR-nummer", "helbredsoplysninger", "højst 1 år", "trække dit samtykke tilbage",
                  "databeskyttelsesforordningen", "Formål", "Syddjurs Kommune"]:
        assert words.lower() in text.lower(), words
    assert "{" not in text


def test_each_consent_records_the_text_version_it_was_given_on(world):
    first_case = open_case(world, parents=1)
    (old,) = requests_of(first_case)
    v1 = consent_text_current(municipality=world.syddjurs)
    v2 = consent_text_publish(actor=SYSTEM, municipality=world.syddjurs, body_template=DEFAULT_TEMPLATE + "\nNy.",
                              parties=v1.parties[:2], contact="PPR", valid_from=dt.date(2000, 1, 2))
    give(old)
    assert ConsentRequest.objects.get(pk=old.pk).text == v1
    new_case = open_case(world, parents=1)
    (new,) = requests_of(new_case)
    assert new.text == v2 and v2.version == v1.version + 1


def test_a_text_without_the_child_or_with_unknown_parties_is_refused(world):
    with pytest.raises(ValidationError):
        consent_text_publish(actor=SYSTEM, municipality=world.syddjurs, body_template="Ingen navn",
                             parties=[{"kind": "committee", "label": "x"}], contact="x", valid_from=dt.date.today())
    with pytest.raises(ValidationError):
        consent_text_publish(actor=SYSTEM, municipality=world.syddjurs, body_template="{barn}",
                             parties=[{"kind": "police", "label": "x"}], contact="x", valid_from=dt.date.today())


def test_consent_is_valid_at_most_one_year_whatever_the_setting(world):
    m = world.syddjurs
    assert consent_lapses_on(m, dt.date(2025, 3, 1)) == dt.date(2026, 3, 1)
    m.consent_validity_days = 400
    assert consent_lapses_on(m, dt.date(2025, 3, 1)) == dt.date(2026, 3, 1)
    assert consent_lapses_on(m, dt.date(2028, 2, 29)) == dt.date(2029, 3, 1)
    m.consent_validity_days = 180
    assert consent_lapses_on(m, dt.date(2025, 3, 1)) == dt.date(2025, 8, 28)


def test_a_child_without_custody_holders_under_15_has_nobody_to_ask_yet(world):
    child = make_child(world.demo, parents=0)
    from tests.support.world import make_case

    case = make_case(world.demo, stage=Stage.AWAITING_CONSENT, child=child, lead=None)
    consent_request_start(actor=INBOX, case=case)
    assert requests_of(case) == []
    assert stage(case) == Stage.AWAITING_CONSENT
