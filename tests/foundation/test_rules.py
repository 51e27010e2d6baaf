"""Rules of the foundation at their edges: working days, ages, CPR, GLN."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from tovholder.children.cpr import CPR_PATTERN, mask_cpr, validate_cpr
from tovholder.children.models import age_on
from tovholder.deadlines.clocks import Rules, Status, milestone_status
from tovholder.deadlines.workdays import DEFAULT_CALENDAR, WorkingCalendar, local_date
from tovholder.organisations.identifiers import is_valid_gln, make_gln

D = dt.date


class TestWorkingDays:
    def test_it_skips_weekends(self):
        assert DEFAULT_CALENDAR.next_working_day(D(2026, 11, 20)) == D(2026, 11, 23)  # Fri → Mon

    def test_it_counts_the_8th_working_day_over_easter_2026(self):
        # Consent complete Wednesday 1 April 2026; Maundy Thursday 2/4, Good Friday 3/4,
        # Easter Monday 6/4 are holidays → working days 7,8,9,10,13,14,15,16 April.
        assert DEFAULT_CALENDAR.add_working_days(D(2026, 4, 1), 8) == D(2026, 4, 16)

    def test_it_knows_store_bededag_is_gone_from_2024(self):
        assert DEFAULT_CALENDAR.is_working_day(D(2024, 4, 26))  # would have been Store bededag
        assert not DEFAULT_CALENDAR.is_working_day(D(2023, 5, 5))  # the last one

    def test_it_closes_christmas_eve_and_new_years_eve_by_default(self):
        assert DEFAULT_CALENDAR.add_working_days(D(2026, 12, 23), 1) == D(2026, 12, 28)
        assert DEFAULT_CALENDAR.add_working_days(D(2026, 12, 30), 1) == D(2027, 1, 4)

    def test_a_municipality_may_keep_its_offices_open_on_the_days_that_are_not_holidays_by_law(self):
        open_cal = WorkingCalendar(closed_constitution_day=False, closed_christmas_eve=False,
                                   closed_new_years_eve=False)
        assert open_cal.is_working_day(D(2026, 6, 5)) and not DEFAULT_CALENDAR.is_working_day(D(2026, 6, 5))
        assert open_cal.add_working_days(D(2026, 12, 23), 1) == D(2026, 12, 24)

    def test_it_counts_working_days_between(self):
        assert DEFAULT_CALENDAR.working_days_between(D(2026, 11, 20), D(2026, 11, 24)) == 2
        assert DEFAULT_CALENDAR.working_days_between(D(2026, 11, 24), D(2026, 11, 20)) == 0

    def test_it_takes_the_copenhagen_date_of_a_utc_moment(self):
        # 22:30 UTC on 31 Oct is 23:30 in Copenhagen (winter time): still 31 Oct.
        assert local_date(dt.datetime(2026, 10, 31, 22, 30, tzinfo=dt.UTC)) == D(2026, 10, 31)
        # 22:30 UTC on 31 July is 00:30 on 1 August in Copenhagen (summer time).
        assert local_date(dt.datetime(2026, 7, 31, 22, 30, tzinfo=dt.UTC)) == D(2026, 8, 1)

    def test_the_committee_clock_starts_on_the_copenhagen_date_on_a_dst_sunday(self):
        rules = Rules(calendar=DEFAULT_CALENDAR)
        # Sunday 29 March 2026, the night clocks go forward: 23:30 UTC Saturday is Sunday 00:30 local.
        consent = dt.datetime(2026, 3, 28, 23, 30, tzinfo=dt.UTC)
        assert local_date(consent) == D(2026, 3, 29)
        # Working days from Sunday: 30,31 March, 1 April, then Easter: 7,8,9,10,13 April.
        assert rules.committee_due(consent) == D(2026, 4, 13)


class TestMilestoneStatus:
    @pytest.mark.parametrize(
        ("due", "met", "today", "expected"),
        [
            (D(2026, 5, 1), None, D(2026, 4, 1), Status.ON_TIME),
            (D(2026, 5, 1), None, D(2026, 4, 24), Status.DUE_SOON),
            (D(2026, 5, 1), None, D(2026, 5, 1), Status.DUE_SOON),
            (D(2026, 5, 1), None, D(2026, 5, 2), Status.OVERDUE),
            (D(2026, 5, 1), D(2026, 5, 1), D(2026, 6, 1), Status.MET),
            (D(2026, 5, 1), D(2026, 5, 2), D(2026, 6, 1), Status.MET_LATE),
        ],
    )
    def test_it_grades_a_milestone(self, due, met, today, expected):
        assert milestone_status(due=due, met_on=met, today=today) == expected

    def test_an_exemption_wins(self):
        assert milestone_status(due=D(2026, 1, 1), met_on=None, today=D(2026, 6, 1), exempt=True) == Status.EXEMPT


class TestAge:
    def test_a_child_turns_15_on_the_birthday(self):
        born = D(2011, 11, 23)
        assert age_on(born, D(2026, 11, 22)) == 14
        assert age_on(born, D(2026, 11, 23)) == 15

    def test_a_leap_day_child_turns_a_year_older_on_1_march(self):
        born = D(2012, 2, 29)
        assert age_on(born, D(2027, 2, 28)) == 14
        assert age_on(born, D(2027, 3, 1)) == 15
        assert age_on(born, D(2028, 2, 29)) == 16

    @time_machine.travel(dt.datetime(2026, 11, 22, 23, 30, tzinfo=dt.UTC))
    def test_today_is_the_copenhagen_date(self):
        assert timezone.localdate() == D(2026, 11, 23)


class TestCPR:
    def test_it_accepts_a_number_failing_modulus_11(self):
        validate_cpr("0101901235")  # 7th digit 1 → 1990; modulus 11 not applied

    def test_it_accepts_a_replacement_number_with_letters(self):
        validate_cpr("010190A123")

    @pytest.mark.parametrize("bad", ["3213901234", "3002901234", "12345", "abcdefghij"])
    def test_it_rejects_impossible_dates_and_shapes(self, bad):
        with pytest.raises(ValidationError):
            validate_cpr(bad)

    def test_it_masks_and_finds_cpr_numbers(self):
        assert mask_cpr("0101901235") == "010190-xxxx"
        assert CPR_PATTERN.search("child 010190-1235 arrived")
        assert not CPR_PATTERN.search("case 12 of 2026-11-23")


class TestGLN:
    def test_it_checks_the_gs1_digit(self):
        gln = make_gln("579000000001")
        assert is_valid_gln(gln)
        assert not is_valid_gln(gln[:-1] + str((int(gln[-1]) + 1) % 10))
        assert not is_valid_gln("57900000000")
