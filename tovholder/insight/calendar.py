"""The working-day calendar as a table (`CalendarDay`), so SQL can count working days.

`deadlines.workdays.WorkingCalendar` is the rule; this module only writes it down for the
years the figures need, one calendar per combination of the closures a municipality
chooses (Grundlovsdag, Christmas Eve, New Year's Eve).
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Case, IntegerField, Max, Min, Value, When
from django.db.models.functions import Cast

from tovholder.deadlines.workdays import WorkingCalendar
from tovholder.insight.models import CalendarDay

CONSTITUTION_DAY, CHRISTMAS_EVE, NEW_YEARS_EVE = 1, 2, 4


def calendar_key(*, closed_constitution_day: bool, closed_christmas_eve: bool, closed_new_years_eve: bool) -> int:
    return (CONSTITUTION_DAY * closed_constitution_day + CHRISTMAS_EVE * closed_christmas_eve
            + NEW_YEARS_EVE * closed_new_years_eve)


def calendar_for_key(key: int) -> WorkingCalendar:
    return WorkingCalendar(closed_constitution_day=bool(key & CONSTITUTION_DAY),
                           closed_christmas_eve=bool(key & CHRISTMAS_EVE),
                           closed_new_years_eve=bool(key & NEW_YEARS_EVE))


def calendar_key_expr(prefix: str = "municipality__"):
    """The same key in SQL, from a municipality's three closure flags."""
    def flag(name: str, bit: int):
        return Case(When(**{f"{prefix}{name}": True}, then=Value(bit)), default=Value(0),
                    output_field=IntegerField())

    return Cast(flag("closed_constitution_day", CONSTITUTION_DAY) + flag("closed_christmas_eve", CHRISTMAS_EVE)
                + flag("closed_new_years_eve", NEW_YEARS_EVE), IntegerField())


@transaction.atomic
def calendar_ensure(keys: set[int], first: dt.date, last: dt.date) -> int:
    """Make sure each calendar covers whole years from `first` to `last`. A calendar that
    must grow is rewritten whole (ordinals count from its first day). Returns rows written."""
    first, last = dt.date(first.year, 1, 1), dt.date(last.year, 12, 31)
    have = {r["calendar"]: (r["lo"], r["hi"]) for r in
            CalendarDay.objects.filter(calendar__in=keys).values("calendar").annotate(lo=Min("day"), hi=Max("day"))}
    written = 0
    for key in sorted(keys):
        lo, hi = have.get(key, (None, None))
        if lo is not None and lo <= first and hi >= last:
            continue
        start = min(first, lo) if lo else first
        end = max(last, hi) if hi else last
        CalendarDay.objects.filter(calendar=key).delete()
        cal = calendar_for_key(key)
        rows, ordinal, day = [], 0, start
        while day <= end:
            working = cal.is_working_day(day)
            ordinal += working
            rows.append(CalendarDay(calendar=key, day=day, ordinal=ordinal, is_working=working))
            day += dt.timedelta(days=1)
        CalendarDay.objects.bulk_create(rows, batch_size=2000)
        written += len(rows)
    return written
