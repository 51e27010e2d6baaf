"""The 8-working-day promise on the agenda, across Easter, Christmas, New Year, a Friday
afternoon and the nights the clocks change; and the standing meetings around holidays."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.committee.helpers import actor, consented_case, item_for, local, meeting_on, plan
from tovholder.committee import selectors as sel
from tovholder.committee.models import CommitteeMeeting
from tovholder.committee.services import (
    case_exempt_from_deadlines,
    committee_settings_update,
    meeting_add,
    meeting_cancel,
)
from tovholder.deadlines.clocks import Rules
from tovholder.deadlines.workdays import COPENHAGEN, WorkingCalendar

UTC = dt.UTC


def due(world, at: dt.datetime, municipality: str = "706") -> dt.date:
    return Rules.for_municipality(world.demo.municipalities[municipality]).committee_due(at)


def agenda(world, username: str = "karen", municipality: str = "706") -> list[sel.AgendaRow]:
    seat = sel.seat_for(world.user(username), world.demo.municipalities[municipality])
    return sel.agenda_rows(list(sel.agenda_items(seat)), municipality=seat.municipality)


def days(municipality) -> list[dt.date]:
    return list(CommitteeMeeting.objects.filter(municipality=municipality).exclude(status="cancelled")
                .order_by("scheduled_on").values_list("scheduled_on", flat=True))


@pytest.mark.parametrize("consent_at, expected", [
    # Maundy Thursday: Good Friday and Easter Monday are not counted.
    (local(2026, 4, 2, 10), dt.date(2026, 4, 16)),
    # Friday afternoon: the Friday itself is never counted; Easter falls in the eight days.
    (local(2026, 3, 27, 15, 30), dt.date(2026, 4, 13)),
    # Late Friday evening UTC is already Saturday in Copenhagen: the same deadline.
    (dt.datetime(2026, 3, 27, 23, 30, tzinfo=UTC), dt.date(2026, 4, 13)),
    # Thursday 23:30 UTC is Friday 00:30 in Copenhagen: counted from Friday, not Thursday (10 April).
    (dt.datetime(2026, 3, 26, 23, 30, tzinfo=UTC), dt.date(2026, 4, 13)),
    # The autumn change of clocks (25 October 2026): Friday 23:30 CEST and Saturday 00:30 CEST.
    (dt.datetime(2026, 10, 23, 21, 30, tzinfo=UTC), dt.date(2026, 11, 4)),
    (dt.datetime(2026, 10, 23, 22, 30, tzinfo=UTC), dt.date(2026, 11, 4)),
    (dt.datetime(2026, 10, 22, 22, 30, tzinfo=UTC), dt.date(2026, 11, 4)),
    # Christmas: 24, 25, 26 and 31 December and 1 January are not working days.
    (local(2026, 12, 23, 12), dt.date(2027, 1, 8)),
    (local(2026, 12, 17, 12), dt.date(2027, 1, 4)),
    # New Year's Eve week.
    (local(2026, 12, 30, 12), dt.date(2027, 1, 13)),
    # An ordinary Friday afternoon.
    (local(2026, 11, 20, 15, 30), dt.date(2026, 12, 2)),
])
def test_it_counts_eight_danish_working_days_from_the_copenhagen_date_of_consent(consent_at, expected):
    # The model's defaults: Christmas Eve, New Year's Eve and Grundlovsdag closed.
    assert Rules(calendar=WorkingCalendar()).committee_due(consent_at) == expected


@pytest.mark.django_db
def test_it_respects_a_municipality_that_keeps_christmas_eve_open(world):
    syddjurs = world.syddjurs
    syddjurs.closed_christmas_eve = False
    syddjurs.save(update_fields=["closed_christmas_eve"])
    assert due(world, local(2026, 12, 23, 12)) == dt.date(2027, 1, 7)
    assert due(world, local(2026, 12, 23, 12), municipality="707") == dt.date(2027, 1, 8)


@pytest.mark.django_db
def test_it_plans_wednesday_meetings_but_none_on_christmas_eve_or_new_years_eve(clock, world):
    plan(world)
    planned = days(world.syddjurs)
    assert dt.date(2025, 12, 17) in planned and dt.date(2026, 1, 7) in planned
    assert dt.date(2025, 12, 24) not in planned and dt.date(2025, 12, 31) not in planned
    assert all(d.weekday() == 2 for d in planned)
    # Idempotent: planning again adds nothing.
    assert plan(world) == []


@pytest.mark.django_db
def test_it_holds_the_christmas_eve_meeting_where_the_municipality_keeps_open(clock, world):
    syddjurs = world.syddjurs
    syddjurs.closed_christmas_eve = False
    syddjurs.save(update_fields=["closed_christmas_eve"])
    plan(world)
    assert dt.date(2025, 12, 24) in days(syddjurs)


@pytest.mark.django_db
def test_it_skips_easter_monday_and_whit_monday_for_a_monday_committee(clock, world):
    clock.move_to(local(2026, 3, 20, 9))
    committee_settings_update(actor=actor(world, "karen"), municipality=world.syddjurs, weekday=0,
                              starts_at=dt.time(13, 0), ends_at=dt.time(14, 0), weeks_ahead=10)
    planned = days(world.syddjurs)
    assert dt.date(2026, 3, 30) in planned and dt.date(2026, 4, 13) in planned
    assert dt.date(2026, 4, 6) not in planned  # Easter Monday
    assert dt.date(2026, 5, 25) not in planned  # Whit Monday
    assert all(d.weekday() == 0 for d in planned)


@pytest.mark.django_db
def test_it_keeps_the_meeting_at_0830_copenhagen_time_across_daylight_saving(clock, world):
    clock.move_to(local(2026, 3, 20, 9))
    plan(world)
    before = CommitteeMeeting.objects.get(municipality=world.syddjurs, scheduled_on=dt.date(2026, 3, 25))
    after = CommitteeMeeting.objects.get(municipality=world.syddjurs, scheduled_on=dt.date(2026, 4, 1))
    assert before.starts_at.astimezone(COPENHAGEN).time() == after.starts_at.astimezone(COPENHAGEN).time() == dt.time(8, 30)
    assert (before.starts_at.astimezone(UTC).hour, after.starts_at.astimezone(UTC).hour) == (7, 6)
    clock.move_to(local(2026, 10, 15, 9))
    plan(world)
    october = CommitteeMeeting.objects.get(municipality=world.syddjurs, scheduled_on=dt.date(2026, 10, 28))
    assert october.starts_at.astimezone(UTC).hour == 7
    assert october.starts_at.astimezone(COPENHAGEN).time() == dt.time(8, 30)


@pytest.mark.django_db
def test_it_puts_a_maundy_thursday_consent_on_the_agenda_and_flags_it_when_meetings_are_cancelled(clock, world):
    clock.move_to(local(2026, 4, 2, 10))
    case = consented_case(world, at=local(2026, 4, 2, 10))
    plan(world)
    item_for(case)
    [row] = agenda(world)
    assert row.case == case and row.due == dt.date(2026, 4, 16)
    assert not row.misses_deadline  # Wednesday 8 April sits in time
    karen = actor(world, "karen")
    for day in (dt.date(2026, 4, 8), dt.date(2026, 4, 15)):
        meeting_cancel(actor=karen, meeting=meeting_on(world, day), reason="Påskeferie og kursus")
    [row] = agenda(world)
    assert row.misses_deadline  # the next meeting, 22 April, is after the deadline
    meeting_add(actor=karen, municipality=world.syddjurs, day=dt.date(2026, 4, 16), starts_at=dt.time(8, 30),
                ends_at=dt.time(9, 0))
    [row] = agenda(world)
    assert not row.misses_deadline


@pytest.mark.django_db
def test_it_refuses_an_extra_meeting_on_a_public_holiday(clock, world):
    from django.core.exceptions import ValidationError

    clock.move_to(local(2026, 3, 30, 9))
    with pytest.raises(ValidationError, match="ikke en hverdag"):
        meeting_add(actor=actor(world, "karen"), municipality=world.syddjurs, day=dt.date(2026, 4, 3),
                    starts_at=dt.time(8, 30), ends_at=dt.time(9, 30))


@pytest.mark.django_db
def test_it_flags_a_christmas_case_when_the_holiday_meetings_are_cancelled_until_exempted(clock, world):
    clock.move_to(local(2026, 12, 17, 12))
    case = consented_case(world, at=local(2026, 12, 17, 12))
    plan(world)
    item = item_for(case)
    [row] = agenda(world)
    assert row.due == dt.date(2027, 1, 4) and not row.misses_deadline  # 23 December sits
    karen = actor(world, "karen")
    for day in (dt.date(2026, 12, 23), dt.date(2026, 12, 30)):
        meeting_cancel(actor=karen, meeting=meeting_on(world, day), reason="Juleferie")
    [row] = agenda(world)
    assert row.misses_deadline  # next meeting 6 January 2027 is after 4 January
    case_exempt_from_deadlines(actor=karen, basis="committee", item=item, ground="medical",
                               reason="Barnet er indlagt på børneafdelingen over jul.")
    [row] = agenda(world)
    assert row.status == "exempt" and not row.misses_deadline
    case.refresh_from_db()
    assert case.exempt_from_deadlines and case.exemption_reason.startswith("Lægefaglige hensyn")


@pytest.mark.django_db
def test_it_sends_a_consent_from_after_the_23_december_meeting_to_the_next_one(clock, world):
    from tovholder.committee.services import decision_record

    clock.move_to(local(2026, 12, 23, 8, 0))
    plan(world)
    clock.move_to(local(2026, 12, 23, 12, 0))  # the 08:30 meeting is over, though not closed yet
    case = consented_case(world, at=local(2026, 12, 23, 12, 0))
    item = item_for(case)
    morning = meeting_on(world, dt.date(2026, 12, 23))
    assert item not in sel.meeting_items(morning)
    [row] = agenda(world)
    assert row.due == dt.date(2027, 1, 8) and not row.misses_deadline  # Wednesday 30 December takes it
    with pytest.raises(Exception, match="ikke på dagsordenen"):
        decision_record(actor=actor(world, "karen"), basis="committee", item=item, meeting=morning,
                        kind="everyday_support", conclusion="x")
    meeting_cancel(actor=actor(world, "karen"), meeting=meeting_on(world, dt.date(2026, 12, 30)), reason="Jul")
    [row] = agenda(world)
    assert not row.misses_deadline  # 6 January is still within 8 January
    clock.move_to(local(2027, 1, 6, 8, 45))
    decision_record(actor=actor(world, "karen"), basis="committee", item=item,
                    meeting=meeting_on(world, dt.date(2027, 1, 6)), kind="everyday_support", conclusion="Råd.")
    item.refresh_from_db()
    assert (item.compliance, item.due_on) == ("met", dt.date(2027, 1, 8))


@pytest.mark.django_db
def test_it_keeps_new_years_consents_on_time_with_the_january_meetings(clock, world):
    clock.move_to(local(2026, 12, 30, 12))
    late = consented_case(world, at=local(2026, 12, 30, 12))
    clock.move_to(local(2026, 12, 30, 12, 5))
    plan(world)
    item_for(late)
    [row] = agenda(world)
    assert row.due == dt.date(2027, 1, 13) and not row.misses_deadline
    assert sel.next_meeting(world.syddjurs).scheduled_on == dt.date(2027, 1, 6)


@pytest.mark.django_db
def test_it_orders_the_agenda_by_deadline(clock, world):
    clock.move_to(local(2026, 11, 23, 9))
    friday = consented_case(world, at=local(2026, 11, 20, 15, 30))
    monday = consented_case(world, at=local(2026, 11, 23, 8))
    older = consented_case(world, at=local(2026, 11, 16, 8))
    plan(world)
    for c in (friday, monday, older):
        item_for(c)
    rows = agenda(world)
    assert [r.case for r in rows] == [older, friday, monday]
    assert [r.due for r in rows] == [dt.date(2026, 11, 26), dt.date(2026, 12, 2), dt.date(2026, 12, 3)]
    assert rows[0].status == "due_soon"
