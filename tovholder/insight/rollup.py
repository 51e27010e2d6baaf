"""The daily roll-up of the case facts (`FactRollup`): the same groupings the page asks
for, summed per municipality and month of referral, as of one day.

Built from `CaseFact` in set-based SQL (one INSERT … SELECT … GROUP BY GROUPING SETS per
municipality on PostgreSQL, one GROUP BY per grouping elsewhere); the region's rows are
the sum of its municipalities'. The background loop rebuilds it each day and, between
rebuilds, redoes the months of the cases whose facts changed.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict

from django.db import connection, transaction
from django.db.models import DateField, Q
from django.db.models.functions import TruncMonth
from django.utils import timezone

from tovholder.insight.access import Area
from tovholder.insight.metrics import ROLLUP_GROUPINGS as GROUPINGS
from tovholder.insight.metrics import (
    Figures,
    grouping_query,
    next_follow_up_sql,
    normalise,
    postgres_tuned,
)
from tovholder.insight.models import CaseFact, FactRollup, FactsRefresh

KEYS = ("k1", "k2", "k3", "k4", "k5", "k6")
NAME = "rollup"


def rollup_asof() -> dt.date | None:
    return FactsRefresh.objects.filter(name=NAME).values_list("asof", flat=True).first()


def _text(column: str) -> str:
    q = connection.ops.quote_name
    return f"CAST({q(column)} AS {'TEXT' if connection.vendor == 'sqlite' else 'text'})"


def _rebuild_municipality(municipality_id: int, region_id: int, months: list[dt.date] | None, asof: dt.date) -> None:
    """Replace the municipality's rows (all, or those of `months`) with fresh sums."""
    q = connection.ops.quote_name
    rows = FactRollup.objects.filter(municipality_id=municipality_id)
    facts = CaseFact.objects.filter(municipality_id=municipality_id)
    if months is not None:
        rows = rows.filter(month__in=months)
        cond = Q()
        for month in months:
            end = (month + dt.timedelta(days=32)).replace(day=1)
            cond |= Q(opened_on__gte=month, opened_on__lt=end)
        facts = facts.filter(cond)
    rows.delete()
    facts = facts.annotate(x_month=TruncMonth("opened_on", output_field=DateField()))
    sql, params, used = grouping_query(facts, asof, GROUPINGS, keep=("x_month",))
    table = FactRollup._meta.db_table
    head = f"INSERT INTO {table} (region_id, municipality_id, month, grouping, {', '.join(KEYS)}, n)"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            postgres_tuned(cursor)
            bit = {c: 1 << (len(used) - 1 - i) for i, c in enumerate(used)}
            grouping_of, key_of = [], [[] for _ in KEYS]
            sets = []
            for name, dims in GROUPINGS.items():
                mask = sum(b for c, b in bit.items() if c not in dims)
                grouping_of.append(f"WHEN {mask} THEN '{name}'")
                for i in range(len(KEYS)):
                    key_of[i].append(f"WHEN {mask} THEN {_text(dims[i])}" if i < len(dims) else f"WHEN {mask} THEN NULL")
                sets.append("(x_month, " + ", ".join(q(c) for c in dims) + ")")
            cols = ", ".join(q(c) for c in used)
            g = f"GROUPING({cols})"
            keys = ", ".join(f"CASE {g} {' '.join(k)} END" for k in key_of)
            cursor.execute(
                f"{head} SELECT {region_id}, {municipality_id}, x_month, CASE {g} {' '.join(grouping_of)} END, {keys}, "
                f"COUNT(*) FROM ({sql}) f GROUP BY GROUPING SETS ({', '.join(sets)})", params)
        else:
            for name, dims in GROUPINGS.items():
                keys = ", ".join(_text(dims[i]) if i < len(dims) else "NULL" for i in range(len(KEYS)))
                group = ", ".join(q(c) for c in dims)
                cursor.execute(f"{head} SELECT {region_id}, {municipality_id}, x_month, '{name}', {keys}, COUNT(*) "
                               f"FROM ({sql}) f GROUP BY x_month, {group}", params)
        # The next-follow-up clock, per agreed date, from the plan versions.
        where = f"f.municipality_id = {int(municipality_id)}"
        if months is not None:
            where += " AND (" + " OR ".join(
                f"(f.opened_on >= '{m.isoformat()}' AND f.opened_on < '{((m + dt.timedelta(days=32)).replace(day=1)).isoformat()}')"
                for m in months) + ")"
        nf_sql, nf_params = next_follow_up_sql(where, asof)
        month = ("CAST(date_trunc('month', y.opened_on) AS date)" if connection.vendor == "postgresql"
                 else "date(y.opened_on, 'start of month')")
        nulls = ", ".join(["NULL"] * (len(KEYS) - 1))
        cursor.execute(f"{head} SELECT {region_id}, {municipality_id}, {month}, 'next_follow_up', y.status, "
                       f"{nulls}, COUNT(*) FROM ({nf_sql}) y GROUP BY {month}, y.status", nf_params)


def _rebuild_region(region_id: int, months: list[dt.date] | None) -> None:
    rows = FactRollup.objects.filter(region_id=region_id, municipality__isnull=True)
    source = FactRollup.objects.filter(region_id=region_id, municipality__isnull=False)
    if months is not None:
        rows, source = rows.filter(month__in=months), source.filter(month__in=months)
    rows.delete()
    sql, params = (source.values("region_id", "month", "grouping", *KEYS).annotate(total=Sum_n()).order_by()
                   .values_list("region_id", "month", "grouping", *KEYS, "total").query.sql_with_params())
    table = FactRollup._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} (region_id, month, grouping, {', '.join(KEYS)}, n) {sql}", params)


def Sum_n():  # noqa: N802 — an expression, named like one
    from django.db.models import Sum

    return Sum("n")


def rollup_rebuild(*, asof: dt.date | None = None) -> int:
    """Everything, as of `asof` (today): one short transaction per municipality."""
    asof = asof or timezone.localdate()
    pairs = list(CaseFact.objects.values_list("municipality_id", "region_id").distinct())
    for municipality_id, region_id in pairs:
        with transaction.atomic():
            _rebuild_municipality(municipality_id, region_id, None, asof)
    with transaction.atomic():
        FactRollup.objects.exclude(municipality_id__in=[m for m, _r in pairs]).filter(
            municipality__isnull=False).delete()
        for region_id in {r for _m, r in pairs}:
            _rebuild_region(region_id, None)
        FactsRefresh.objects.update_or_create(name=NAME, defaults={"asof": asof, "finished_at": timezone.now()})
    return len(pairs)


def rollup_update(*, case_ids: list[int]) -> int:
    """Redo the months of these cases (their facts just changed), as of the roll-up's day."""
    asof = rollup_asof()
    if asof is None or not case_ids:
        return 0
    cohorts: dict[tuple[int, int], set[dt.date]] = defaultdict(set)
    for i in range(0, len(case_ids), 500):
        for mun, region, month in (CaseFact.objects.filter(case_id__in=case_ids[i:i + 500])
                                   .annotate(m=TruncMonth("opened_on", output_field=DateField()))
                                   .values_list("municipality_id", "region_id", "m").distinct()):
            cohorts[(mun, region)].add(normalise("d_consent_month", month))
    regions: dict[int, set[dt.date]] = defaultdict(set)
    with transaction.atomic():
        for (mun, region), months in cohorts.items():
            _rebuild_municipality(mun, region, sorted(months), asof)
            regions[region] |= months
        for region, months in regions.items():
            _rebuild_region(region, sorted(months))
    return sum(len(m) for m in cohorts.values())


def rollup_figures(area: Area, first_month: dt.date) -> Figures:
    """The summed groupings of the area's months from `first_month` on."""
    rows = FactRollup.objects.filter(month__gte=first_month)
    rows = (rows.filter(region_id=area.pk, municipality__isnull=True) if area.is_region
            else rows.filter(municipality_id=area.pk))
    figures = Figures()
    for grouping, *keys, n in (rows.values("grouping", *KEYS).annotate(total=Sum_n()).order_by()
                               .values_list("grouping", *KEYS, "total")):
        dims = GROUPINGS.get(grouping, ("d_status",))
        key = tuple(normalise(d, keys[i]) for i, d in enumerate(dims))
        figures.counts.setdefault(grouping, Counter())[key] += n
    if area.is_region:
        figures.add(_by_municipality(area, first_month))
    return figures


def _by_municipality(area: Area, first_month: dt.date) -> Figures:
    """The region view's per-municipality figures, from the municipalities' own rows."""
    wanted = {"positions": "by_municipality", "clock_committee": "by_municipality_committee",
              "clock_start": "by_municipality_start"}
    figures = Figures()
    rows = (FactRollup.objects.filter(region_id=area.pk, municipality__isnull=False, month__gte=first_month,
                                      grouping__in=list(wanted))
            .values("municipality_id", "grouping", *KEYS).annotate(total=Sum_n()).order_by()
            .values_list("municipality_id", "grouping", *KEYS, "total"))
    for mun, grouping, *keys, n in rows:
        dims = GROUPINGS[grouping]
        v = {d: normalise(d, keys[i]) for i, d in enumerate(dims)}
        key = (mun, v["d_first"], v["d_position"]) if grouping == "positions" else (mun, v[dims[1]])
        figures.counts.setdefault(wanted[grouping], Counter())[key] += n
    return figures
