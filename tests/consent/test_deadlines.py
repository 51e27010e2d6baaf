"""14 days to answer, one reminder with 7 more days, then "no consent" — by the background
loop, idempotent: running it twice sends nothing twice."""

from __future__ import annotations

import pytest
import time_machine

from tests.consent.helpers import family_actor_give, local, open_case, requests_of
from tovholder.cases.models import Case, Stage
from tovholder.consent.models import ConsentRound
from tovholder.consent.services import consent_sweep
from tovholder.deadlines.clocks import Clock
from tovholder.letters.models import Letter
from tovholder.worker.jobs import run_all_once

pytestmark = pytest.mark.django_db

OPENED = local(2025, 3, 3, 10, 0)  # a Monday; 14 days → 17 March, reminder 18 March, +7 → 25 March


def reasons(case) -> list[str]:
    return sorted(Letter.objects.filter(case=case).values_list("reason", flat=True))


def test_it_reminds_once_after_14_days_and_closes_once_after_7_more(world, told):
    with time_machine.travel(OPENED, tick=False) as clock:
        case = open_case(world, parents=2)
        first, second = requests_of(case)
        assert (first.answer_due.isoformat(), Case.objects.get(pk=case.pk).next_deadline.isoformat()) == (
            "2025-03-17", "2025-03-17")
        assert Case.objects.get(pk=case.pk).next_deadline_kind == Clock.CONSENT_ANSWER
        family_actor_give(first)

        clock.move_to(local(2025, 3, 17, 23, 0))
        assert consent_sweep() == 0  # the last day to answer is not over

        clock.move_to(local(2025, 3, 18, 6, 0))
        assert consent_sweep() == 1  # only the parent who has not answered
        assert consent_sweep() == 0
        run_all_once()  # the real loop, letters delivered too
        assert reasons(case).count("consent_reminder") == 1
        reminder = Letter.objects.get(case=case, reason="consent_reminder")
        assert reminder.custody_holder_id == second.custody_holder_id and reminder.status == "sent"
        second.refresh_from_db()
        assert second.final_due.isoformat() == "2025-03-25"
        assert Case.objects.get(pk=case.pk).next_deadline.isoformat() == "2025-03-25"

        clock.move_to(local(2025, 3, 25, 23, 30))
        assert consent_sweep() == 0
        assert Case.objects.get(pk=case.pk).stage == Stage.AWAITING_CONSENT

        clock.move_to(local(2025, 3, 26, 6, 0))
        assert consent_sweep() == 1
        assert consent_sweep() == 0
        run_all_once()
        run_all_once()
    case.refresh_from_db()
    assert (case.stage, case.closed_reason) == (Stage.CLOSED, "no_consent")
    assert case.next_deadline is None
    assert [t["reason"] for t in told.referrer] == ["no_consent"]
    assert reasons(case).count("consent_closed_no_consent") == 2
    assert reasons(case).count("consent_reminder") == 1
    assert ConsentRound.objects.get(case=case).status == ConsentRound.Status.LAPSED
    assert [r.status for r in requests_of(case)] == ["given", "lapsed"]


def test_no_reminder_when_everyone_answered_in_time(world, told):
    with time_machine.travel(OPENED, tick=False) as clock:
        case = open_case(world, parents=2)
        for r in requests_of(case):
            family_actor_give(r)
        clock.move_to(local(2025, 3, 30))
        assert consent_sweep() == 0
    assert "consent_reminder" not in reasons(case)
    assert Case.objects.get(pk=case.pk).stage == Stage.AWAITING_COMMITTEE
    assert told.referrer == []


def test_the_municipalitys_own_deadlines_are_used(world):
    m = world.syddjurs
    m.consent_answer_days, m.consent_reminder_days = 10, 5
    m.save()
    with time_machine.travel(OPENED, tick=False) as clock:
        case = open_case(world, parents=1)
        assert requests_of(case)[0].answer_due.isoformat() == "2025-03-13"
        clock.move_to(local(2025, 3, 14))
        consent_sweep()
        assert requests_of(case)[0].final_due.isoformat() == "2025-03-19"
        clock.move_to(local(2025, 3, 20))
        consent_sweep()
    assert Case.objects.get(pk=case.pk).stage == Stage.CLOSED


def test_a_late_sweep_after_a_long_pause_still_reminds_before_closing(world, told):
    """The worker was down for a month: the person still gets their reminder and 7 days."""
    with time_machine.travel(OPENED, tick=False) as clock:
        case = open_case(world, parents=1)
        clock.move_to(local(2025, 4, 20))
        consent_sweep()
        assert Case.objects.get(pk=case.pk).stage == Stage.AWAITING_CONSENT
        assert requests_of(case)[0].final_due.isoformat() == "2025-04-27"
        clock.move_to(local(2025, 4, 28))
        consent_sweep()
    assert Case.objects.get(pk=case.pk).stage == Stage.CLOSED
