"""Relational coordination: the results per question and partner group, and their change
between rounds (seed 001: baseline April 2022, midway September, final November)."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

from django.db.models import Count
from django.utils.safestring import SafeString
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from tovholder.insight import charts
from tovholder.insight.models import Agreement, Dimension, PartnerGroup, SurveyAnswer, SurveyRound
from tovholder.insight.services import question_text
from tovholder.insight.tables import Column, Table, percent
from tovholder.organisations.models import Municipality

# A bar with fewer answers is not drawn: a respondent's answer must not be recognisable.
MIN_ANSWERS = 3


@dataclass
class Question:
    dimension: str
    text: str
    chart: SafeString
    table: Table


def survey_counts(*, municipality: Municipality) -> dict[tuple[int, int, str], Counter]:
    """(round id, partner group id, dimension) → Counter of answers 1–5, in one query."""
    rows = (SurveyAnswer.objects.filter(response__round__municipality=municipality)
            .values_list("response__round_id", "response__partner_group_id", "dimension", "value")
            .annotate(n=Count("pk")).order_by())
    out: dict[tuple[int, int, str], Counter] = defaultdict(Counter)
    for round_id, group_id, dimension, value, n in rows:
        out[(round_id, group_id, dimension)][value] += n
    return out


def _mean(counter: Counter) -> float | None:
    total = sum(counter.values())
    return round(sum(v * n for v, n in counter.items()) / total, 2) if total else None


def group_results(*, municipality: Municipality, group: PartnerGroup, rounds: list[SurveyRound],
                  counts: dict) -> list[Question]:
    """For one partner group: per dimension a stacked 100 % bar per round, like the trial
    report's charts, and the table beneath it."""
    scale = [str(label) for _v, label in Agreement.choices]
    out = []
    for dimension, label in Dimension.choices:
        template = (rounds[-1].questions.get(dimension) if rounds else None) or ""
        text = question_text(template, group.name) if template else str(label)
        bars, rows = [], []
        for r in rounds:
            c = counts.get((r.pk, group.pk, dimension), Counter())
            n = sum(c.values())
            shown = n >= MIN_ANSWERS
            bars.append((str(r.title), [c[v] for v in Agreement.values] if shown else [0] * 5))
            rows.append([str(r.title), *([c[v] for v in Agreement.values] if shown else [None] * 5), n,
                         _mean(c) if shown else None])
        table = Table(
            key=f"rk_{group.key}_{dimension}",
            title=f"{label}: {capfirst(group.name)}",
            description=text,
            columns=[Column("round", _("Måling"), "label"), *[Column(f"v{v}", lbl) for v, lbl in Agreement.choices],
                     Column("n", _("Svar")), Column("mean", _("Gennemsnit (1–5)"), "number")],
            rows=rows,
            note=_("Målinger med færre end %(n)s svar vises ikke.") % {"n": MIN_ANSWERS},
        )
        chart = charts.stacked_percent_chart(
            chart_id=f"chart-rk-{group.key}-{dimension}", title=f"{label} — {capfirst(group.name)}",
            desc=_("Fordelingen af svarene på udsagnet »%(q)s« ved hver måling, i procent af svarene.") % {"q": text},
            rows=bars, series=scale, colours=charts.SCALE,
            suffix=[f"n={row[6]}" if row[6] >= MIN_ANSWERS else _("for få svar") for row in rows])
        out.append(Question(dimension, text, chart, table))
    return out


def change_table(*, municipality: Municipality, groups: list[PartnerGroup], rounds: list[SurveyRound],
                 counts: dict) -> Table:
    """Mean answer per partner group and dimension in each round, and the change from the
    first round to the last."""
    rows = []
    for group in groups:
        for dimension, label in Dimension.choices:
            means = []
            for r in rounds:
                c = counts.get((r.pk, group.pk, dimension), Counter())
                means.append(_mean(c) if sum(c.values()) >= MIN_ANSWERS else None)
            known = [m for m in means if m is not None]
            change = round(known[-1] - known[0], 2) if len(known) >= 2 else None
            agree = None
            if rounds:
                last = counts.get((rounds[-1].pk, group.pk, dimension), Counter())
                if sum(last.values()) >= MIN_ANSWERS:
                    agree = percent(last[4] + last[5], sum(last.values()))
            rows.append([f"{capfirst(group.name)}: {label}", *means, change, agree])
    return Table(
        key="rk_udvikling",
        title=_("Udviklingen mellem målingerne"),
        description=_("Gennemsnitligt svar (1 = helt uenig, 5 = helt enig) for hver samarbejdspartner og dimension "
                      "ved hver måling, ændringen fra første til seneste måling og andelen, der er delvis eller "
                      "helt enige ved seneste måling."),
        columns=[Column("what", _("Samarbejdspartner og dimension"), "label"),
                 *[Column(f"r{r.pk}", str(r.title), "number") for r in rounds],
                 Column("change", _("Ændring"), "number"), Column("agree", _("Enige ved seneste"), "percent")],
        rows=rows,
    )


def survey_tables(*, municipality: Municipality) -> list[Table]:
    """Every survey table (the exports)."""
    rounds = list(SurveyRound.objects.filter(municipality=municipality).order_by("opens_on", "pk"))
    groups = list(PartnerGroup.objects.filter(municipality=municipality, active=True))
    counts = survey_counts(municipality=municipality)
    tables = [change_table(municipality=municipality, groups=groups, rounds=rounds, counts=counts)]
    for group in groups:
        tables += [q.table for q in group_results(municipality=municipality, group=group, rounds=rounds,
                                                  counts=counts)]
    return tables
