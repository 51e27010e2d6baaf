"""Danish working days: Monday–Friday except public holidays and the days a municipality closes.

Public holidays come from the `holidays` package (Store bededag is gone from 2024 there).
Grundlovsdag, Christmas Eve and New Year's Eve are not public holidays by law; each
municipality chooses whether its offices close (DOMAIN.md), closed by default.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import holidays

if TYPE_CHECKING:
    from tovholder.organisations.models import Municipality

COPENHAGEN = ZoneInfo("Europe/Copenhagen")


@lru_cache(maxsize=256)
def public_holidays(year: int) -> frozenset[dt.date]:
    return frozenset(holidays.Denmark(years=year).keys())


@dataclass(frozen=True)
class WorkingCalendar:
    closed_constitution_day: bool = True
    closed_christmas_eve: bool = True
    closed_new_years_eve: bool = True

    def closed_days(self, year: int) -> frozenset[dt.date]:
        return _closed_days(self, year)

    def is_working_day(self, day: dt.date) -> bool:
        return day.weekday() < 5 and day not in self.closed_days(day.year)

    def next_working_day(self, day: dt.date) -> dt.date:
        """The first working day strictly after `day`."""
        return self.add_working_days(day, 1)

    def add_working_days(self, day: dt.date, count: int) -> dt.date:
        """The `count`th working day after `day` (`day` itself is never counted)."""
        if count < 0:
            raise ValueError("count must not be negative")
        current = day
        while count:
            current += dt.timedelta(days=1)
            if self.is_working_day(current):
                count -= 1
        return current

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days after `start` up to and including `end` (0 when end <= start)."""
        count = 0
        current = start
        while current < end:
            current += dt.timedelta(days=1)
            if self.is_working_day(current):
                count += 1
        return count


@lru_cache(maxsize=1024)
def _closed_days(calendar: WorkingCalendar, year: int) -> frozenset[dt.date]:
    days = set(public_holidays(year))
    if calendar.closed_constitution_day:
        days.add(dt.date(year, 6, 5))
    if calendar.closed_christmas_eve:
        days.add(dt.date(year, 12, 24))
    if calendar.closed_new_years_eve:
        days.add(dt.date(year, 12, 31))
    return frozenset(days)


DEFAULT_CALENDAR = WorkingCalendar()


def calendar_for(municipality: Municipality | None) -> WorkingCalendar:
    if municipality is None:
        return DEFAULT_CALENDAR
    return WorkingCalendar(
        closed_constitution_day=municipality.closed_constitution_day,
        closed_christmas_eve=municipality.closed_christmas_eve,
        closed_new_years_eve=municipality.closed_new_years_eve,
    )


def local_date(moment: dt.datetime) -> dt.date:
    """The calendar date in Copenhagen of an aware moment (stored in UTC)."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: times are stored in UTC and must be aware")
    return moment.astimezone(COPENHAGEN).date()
