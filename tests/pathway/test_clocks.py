"""The pathway's clocks at their edges: week boundaries, holidays, DST, Copenhagen dates."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError

from tests.pathway.helpers import hold, lead_actor, local, pathway_case, schedule
from tovholder.cases.models import Case
from tovholder.deadlines.clocks import Clock, Status
from tovholder.deadlines.milestones import case_milestones
from tovholder.deadlines.workdays import COPENHAGEN
from tovholder.pathway.clocks import unexplained
from tovholder.pathway.models import MeetingKind
from tovholder.pathway.services import deadline_explain, intervention_add

pytestmark = pytest.mark.django_db
UTC = dt.UTC


@pytest.fixture(autouse=True)
def _staff_since_2020(world):
    """The world is built today; these tests travel back to 2026's edges."""
    from tovholder.organisations.models import Membership

    Membership.objects.update(started_at=dt.datetime(2020, 1, 1, tzinfo=UTC))


def milestone(case, clock, today):
    case = Case.objects.get(pk=case.pk)
    return next(m for m in case_milestones(case, today) if m.clock == clock)


def started(world, decided_at: dt.datetime):
    with time_machine.travel(decided_at, tick=False):
        return pathway_case(world, decided_at=decided_at)


@pytest.mark.parametrize(("decided_at", "due"), [
    # Friday evening in Copenhagen is still Friday: 4 weeks to Friday.
    (dt.datetime(2026, 3, 27, 22, 30, tzinfo=UTC), dt.date(2026, 4, 24)),
    # 23:30 UTC Friday is 00:30 Saturday in Copenhagen: the clock starts on Saturday.
    (dt.datetime(2026, 3, 27, 23, 30, tzinfo=UTC), dt.date(2026, 4, 25)),
    # Across the spring DST change (29 March 2026) the date arithmetic is unaffected.
    (dt.datetime(2026, 3, 28, 23, 30, tzinfo=UTC), dt.date(2026, 4, 26)),
    # Week boundary: Sunday 23:59 and Monday 00:01 local time start different weeks.
    (dt.datetime(2026, 5, 10, 23, 59, tzinfo=COPENHAGEN), dt.date(2026, 6, 7)),
    (dt.datetime(2026, 5, 11, 0, 1, tzinfo=COPENHAGEN), dt.date(2026, 6, 8)),
    # Holidays do not stretch the weeks: a decision on Maundy Thursday is due 4 weeks later
    # even though Easter and Store Bededag's old slot fall in between.
    (dt.datetime(2026, 4, 2, 9, 0, tzinfo=COPENHAGEN), dt.date(2026, 4, 30)),
    # Over Christmas and New Year likewise.
    (dt.datetime(2026, 12, 23, 12, 0, tzinfo=COPENHAGEN), dt.date(2027, 1, 20)),
])
def test_it_sets_the_start_meeting_due_four_weeks_from_the_decision(world, decided_at, due):
    case = started(world, decided_at)
    assert milestone(case, Clock.START_MEETING, due).due == due
    assert Case.objects.get(pk=case.pk).next_deadline == due


def test_it_reads_the_municipalitys_own_clock_settings(world):
    syddjurs = world.syddjurs
    syddjurs.start_meeting_weeks = 3
    syddjurs.save(update_fields=["start_meeting_weeks"])
    case = started(world, local(2026, 9, 1, 10))
    assert milestone(case, Clock.START_MEETING, dt.date(2026, 9, 1)).due == dt.date(2026, 9, 22)


def test_it_marks_the_start_meeting_due_soon_then_overdue_by_copenhagen_date(world):
    case = started(world, local(2026, 9, 1, 10))  # due 29 Sep 2026
    assert milestone(case, Clock.START_MEETING, dt.date(2026, 9, 21)).status(dt.date(2026, 9, 21)) == Status.ON_TIME
    assert milestone(case, Clock.START_MEETING, dt.date(2026, 9, 22)).status(dt.date(2026, 9, 22)) == Status.DUE_SOON
    assert milestone(case, Clock.START_MEETING, dt.date(2026, 9, 29)).status(dt.date(2026, 9, 29)) == Status.DUE_SOON
    assert milestone(case, Clock.START_MEETING, dt.date(2026, 9, 30)).status(dt.date(2026, 9, 30)) == Status.OVERDUE


def _hold_start_on_saturday_evening_before_dst_ends(world):
    """The start meeting on the evening of Saturday 24 October 2026 in Copenhagen (summer
    time ends at 03:00 the next night)."""
    case = started(world, local(2026, 10, 1, 10))
    meeting_at = dt.datetime(2026, 10, 24, 20, 0, tzinfo=COPENHAGEN)
    with time_machine.travel(local(2026, 10, 20, 9), tick=False):
        meeting = schedule(world, case, at=meeting_at)
    with time_machine.travel(dt.datetime(2026, 10, 24, 21, 30, tzinfo=COPENHAGEN), tick=False):
        hold(world, case, meeting, held_on=dt.date(2026, 10, 24), next_meeting_on=dt.date(2026, 12, 3))
    return case, meeting


def test_it_counts_the_intervention_and_first_follow_up_from_a_saturday_evening_start_meeting_across_dst(world):
    case, meeting = _hold_start_on_saturday_evening_before_dst_ends(world)
    assert meeting.starts_at.astimezone(UTC).hour == 18  # CEST, UTC+2
    today = dt.date(2026, 10, 25)
    assert milestone(case, Clock.START_MEETING, today).status(today) == Status.MET
    assert milestone(case, Clock.INTERVENTION, today).due == dt.date(2026, 11, 21)
    assert milestone(case, Clock.FIRST_FOLLOW_UP, today).due == dt.date(2026, 12, 5)
    assert Case.objects.get(pk=case.pk).next_deadline == dt.date(2026, 11, 21)


def test_it_turns_overdue_at_copenhagen_midnight_not_utc_midnight(world):
    from tovholder.pathway.clocks import needs_explanation

    case, _ = _hold_start_on_saturday_evening_before_dst_ends(world)
    # 21 Nov 2026 23:30 in Copenhagen (CET) is 22:30 UTC: still the due date.
    with time_machine.travel(dt.datetime(2026, 11, 21, 22, 30, tzinfo=UTC), tick=False):
        from django.utils import timezone

        today = timezone.localdate()
        assert today == dt.date(2026, 11, 21)
        assert milestone(case, Clock.INTERVENTION, today).status(today) == Status.DUE_SOON
    # 00:30 in Copenhagen on 22 Nov is 23:30 UTC on the 21st: overdue now.
    with time_machine.travel(dt.datetime(2026, 11, 21, 23, 30, tzinfo=UTC), tick=False):
        today = timezone.localdate()
        assert today == dt.date(2026, 11, 22)
        m = milestone(case, Clock.INTERVENTION, today)
        assert m.status(today) == Status.OVERDUE and needs_explanation(m, today)


def test_it_meets_the_intervention_clock_by_an_assessing_intervention_that_started(world):
    case, _ = _hold_start_on_saturday_evening_before_dst_ends(world)
    with time_machine.travel(local(2026, 11, 23, 9), tick=False):
        intervention_add(actor=lead_actor(world), basis="lead", case=case, sector="ppr",
                         description="Supporting talks", kind="supporting", step=1,
                         start_on=dt.date(2026, 11, 2), status="active")
        assert milestone(case, Clock.INTERVENTION, dt.date(2026, 11, 23)).met_on is None
        intervention_add(actor=lead_actor(world), basis="lead", case=case, sector="ppr",
                         description="PPR-udredning", kind="assessing", step=2,
                         start_on=dt.date(2026, 11, 23), status="active")
        m = milestone(case, Clock.INTERVENTION, dt.date(2026, 11, 23))
        assert m.met_on == dt.date(2026, 11, 23) and m.status(dt.date(2026, 11, 23)) == Status.MET_LATE


def test_it_exempts_the_intervention_clock_when_none_is_needed(world):
    case = started(world, local(2026, 9, 1, 10))
    with time_machine.travel(local(2026, 9, 10, 15), tick=False):
        hold(world, case, schedule(world, case, at=local(2026, 9, 10, 13)), needs_assessment=False,
             next_meeting_on=dt.date(2026, 10, 15))
        assert milestone(case, Clock.INTERVENTION, dt.date(2026, 9, 10)).status(dt.date(2026, 9, 10)) == Status.EXEMPT
        assert Case.objects.get(pk=case.pk).next_deadline == dt.date(2026, 10, 22)  # first follow-up


def test_it_takes_each_later_follow_up_from_the_date_agreed_at_the_previous_meeting(world):
    case = started(world, local(2026, 9, 1, 10))
    with time_machine.travel(local(2026, 9, 10, 15), tick=False):
        v1 = hold(world, case, schedule(world, case, at=local(2026, 9, 10, 13)), next_meeting_on=dt.date(2026, 10, 15),
                  needs_assessment=False)
    goal = v1.pathway.goals.get()
    with time_machine.travel(local(2026, 10, 15, 15), tick=False):
        hold(world, case, schedule(world, case, kind=MeetingKind.FOLLOW_UP, at=local(2026, 10, 15, 13)),
             new_goals=[], ratings={goal.pk: (5, "child")}, next_meeting_on=dt.date(2026, 11, 26))
    today = dt.date(2026, 10, 15)
    assert milestone(case, Clock.FIRST_FOLLOW_UP, today).status(today) == Status.MET
    nxt = milestone(case, Clock.NEXT_FOLLOW_UP, today)
    assert nxt.due == dt.date(2026, 11, 26)
    assert Case.objects.get(pk=case.pk).next_deadline == dt.date(2026, 11, 26)
    assert nxt.status(dt.date(2026, 11, 26)) == Status.DUE_SOON
    assert nxt.status(dt.date(2026, 11, 27)) == Status.OVERDUE
    # Held a week late: met late, and it needs an explanation.
    with time_machine.travel(local(2026, 12, 3, 15), tick=False):
        hold(world, case, schedule(world, case, kind=MeetingKind.FOLLOW_UP, at=local(2026, 12, 3, 13)),
             new_goals=[], ratings={goal.pk: (7, "family")}, next_meeting_on=dt.date(2027, 1, 14))
        first = [m for m in case_milestones(Case.objects.get(pk=case.pk), dt.date(2026, 12, 3))
                 if m.clock == Clock.NEXT_FOLLOW_UP]
        assert [(m.due, m.status(dt.date(2026, 12, 3))) for m in first] == [
            (dt.date(2026, 11, 26), Status.MET_LATE), (dt.date(2027, 1, 14), Status.ON_TIME)]
        assert [m.due for m in unexplained(Case.objects.get(pk=case.pk), dt.date(2026, 12, 3))] == [dt.date(2026, 11, 26)]


def test_it_demands_and_keeps_a_written_explanation_for_an_overdue_milestone(world, login):
    case = started(world, local(2026, 9, 1, 10))  # start meeting due 29 Sep
    with time_machine.travel(local(2026, 9, 15, 10), tick=False):
        with pytest.raises(ValidationError):  # not overdue yet
            deadline_explain(actor=lead_actor(world), basis="lead", case=case, clock="start_meeting",
                             due_on=dt.date(2026, 9, 29), text="Skolens Tværfaglige Forum var fuldt booket.")
    with time_machine.travel(local(2026, 10, 2, 10), tick=False):
        page = login("lars").get(f"/forloeb/{case.pk}/")
        assert "Forklaring mangler" in page.content.decode()
        with pytest.raises(ValidationError):  # only the lead explains
            deadline_explain(actor=lead_actor(world, "maria"), basis="team", case=case, clock="start_meeting",
                             due_on=dt.date(2026, 9, 29), text="Skolens Tværfaglige Forum var fuldt booket.")
        with pytest.raises(ValidationError):  # an explanation says something
            deadline_explain(actor=lead_actor(world), basis="lead", case=case, clock="start_meeting",
                             due_on=dt.date(2026, 9, 29), text="Sent")
        deadline_explain(actor=lead_actor(world), basis="lead", case=case, clock="start_meeting",
                         due_on=dt.date(2026, 9, 29), text="Skolens Tværfaglige Forum var fuldt booket.")
        m = milestone(case, Clock.START_MEETING, dt.date(2026, 10, 2))
        assert m.status(dt.date(2026, 10, 2)) == Status.OVERDUE
        assert m.explanation.startswith("Skolens")
        assert unexplained(Case.objects.get(pk=case.pk), dt.date(2026, 10, 2)) == []
        page = login("lars").get(f"/forloeb/{case.pk}/")
        assert "Forklaring mangler" not in page.content.decode()
        with pytest.raises(ValidationError):  # once per milestone
            deadline_explain(actor=lead_actor(world), basis="lead", case=case, clock="start_meeting",
                             due_on=dt.date(2026, 9, 29), text="En anden forklaring end den første.")


def test_it_exempts_every_clock_when_the_committee_exempted_the_case(world):
    case = started(world, local(2026, 9, 1, 10))
    Case.objects.filter(pk=case.pk).update(exempt_from_deadlines=True)
    m = milestone(case, Clock.START_MEETING, dt.date(2026, 11, 1))
    assert m.status(dt.date(2026, 11, 1)) == Status.EXEMPT
