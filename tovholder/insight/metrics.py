"""Every figure of the trial's evaluation (DOMAIN.md, "What the trial measured"), computed
from what the system recorded, for an area (a municipality or the whole region) and a
period.

How the figures are counted (the README of this app says the same, in Danish):

- The cohort is the cases referred in the period (`CaseFact.opened_on`), followed to the
  end of the period ("as of"; today if the period has not ended). A meeting held after
  the period counts as not yet held, so a past period shows the figures as they stood.
- A clock is *met* when its milestone happened on or before the due date, *late* when
  after it, *overdue* when it is past due and has not happened, *pending* when it is not
  yet due, *stopped* when the case closed before the due date without it, *exempt* when
  the committee exempted the case. The trial's ratios ("13 of 13") are met / active.
- Active ("aktive sager"): first referrals (not re-referrals) that the committee put in a
  joint pathway — the trial's 18 referrals minus 2 without consent, 1 handled outside the
  model and 2 re-referrals.
- The trial's "no follow-up date in the plan" (7 of 13): the system no longer lets a
  meeting record be saved without the next meeting's date, so the figure the system can
  stand behind is "no follow-up meeting held by the end of the period"; in the trial the
  two were the same cases.

Each figure is one named selector returning a `Table`. The case-based selectors read one
pass of `CaseFact` (`case_figures`): on PostgreSQL a single `GROUP BY GROUPING SETS`
query, elsewhere one GROUP BY per grouping; no per-case Python anywhere.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.apps import apps
from django.db import connection, transaction
from django.db.models import (
    BooleanField,
    CharField,
    Count,
    DateField,
    ExpressionWrapper,
    F,
    IntegerField,
    Q,
    QuerySet,
    Value,
)
from django.db.models import Case as Choose
from django.db.models import When as W
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tovholder.cases.models import ClosedReason, ReferralChannel
from tovholder.insight.access import Area
from tovholder.insight.models import CaseFact, FollowUpFact
from tovholder.insight.sql import DaysBetween
from tovholder.insight.tables import Column, Table, percent

# ---- The area and the period ---------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date

    @property
    def asof(self) -> dt.date:
        return min(self.end, timezone.localdate())

    @classmethod
    def default(cls) -> Period:
        today = timezone.localdate()
        return cls(today - dt.timedelta(days=364), today)


def cohort(area: Area, period: Period) -> QuerySet[CaseFact]:
    """The cases referred in the period in the area."""
    qs = CaseFact.objects.filter(opened_on__gte=period.start, opened_on__lte=period.end)
    if area.is_region:
        return qs.filter(region_id=area.pk)
    return qs.filter(municipality_id=area.pk)


# ---- Labels ----------------------------------------------------------------------------------

CHANNELS = [(ReferralChannel.GP, _("Egen læge")), (ReferralChannel.PARENTS_VIA_GP, _("Forældre via egen læge")),
            (ReferralChannel.SCHOOL, _("Skole")), (ReferralChannel.HOSPITAL, _("Hospital")),
            (ReferralChannel.BUA, _("Børne- og Ungdomspsykiatrien (BUA)")), (ReferralChannel.OTHER, _("Andet"))]

CLOCKS = [
    ("consent", _("Samtykke komplet inden for svarfristen (inkl. påmindelse)")),
    ("committee", _("Drøftelse i koordinationsudvalget inden for 8 hverdage efter samtykke")),
    ("start", _("Igangsætningsmøde inden for 4 uger efter udvalgets afgørelse")),
    ("intervention", _("Udredende/behandlende indsats i gang inden for 4 uger efter igangsætningsmødet")),
    ("follow_up", _("Første opfølgningsmøde inden for 6 uger efter igangsætningsmødet")),
]
CLOCK_SHORT = {"consent": _("Samtykke"), "committee": _("Udvalg"), "start": _("Igangsætningsmøde"),
               "intervention": _("Indsats"), "follow_up": _("Første opfølgning")}
STATUSES = [("met", _("Overholdt")), ("late", _("Overholdt for sent")), ("overdue", _("Overskredet, ikke sket")),
            ("pending", _("Frist ikke nået endnu")), ("stopped", _("Forløbet sluttede før fristen")),
            ("not_needed", _("Ikke relevant (intet behov)")), ("exempt", _("Undtaget"))]

# Where each case is, or where it left, at the end of the period: (key, step, waiting?).
STEPS = [
    ("referred", _("Henvendelse modtaget")),
    ("consent", _("Samtykke komplet")),
    ("committee", _("Drøftet i koordinationsudvalget")),
    ("pathway", _("Fælles forløb besluttet")),
    ("start", _("Igangsætningsmøde holdt")),
    ("follow_up", _("Første opfølgningsmøde holdt")),
    ("closing", _("Afslutningsmøde holdt")),
]
# position: (step index the case reached, left?) for each position key.
POSITIONS = {
    "left_before_consent": (0, True), "waiting_consent": (0, False),
    "left_before_committee": (1, True), "waiting_committee": (1, False),
    "committee_other": (2, True),
    "left_before_start": (3, True), "waiting_start": (3, False),
    "left_before_follow_up": (4, True), "waiting_follow_up": (4, False),
    "left_in_pathway": (5, True), "in_pathway": (5, False),
    "completed": (6, False),
}
DECISIONS = {
    "pathway": _("Fælles forpligtende forløb"), "ordinary_route": _("Almindelig kommunal sagsbehandling"),
    "everyday_support": _("Råd tilbage til hverdagsindsatsen (#0)"), "referred_on": _("Anbefaling om henvisning videre"),
    "continue": _("Forløbet fortsætter"), "": _("Ikke angivet"),
}
CONSENT_REASONS = {ClosedReason.NO_CONSENT, ClosedReason.CONSENT_REFUSED, ClosedReason.CONSENT_WITHDRAWN}
UNIT_KINDS = {
    "school": _("Skole"), "ppr": _("PPR"), "health_visitors": _("Sundhedspleje"),
    "family_counselling": _("Familierådgivning"), "bua": _("BUA"), "paediatric_ward": _("Børne- og ungeafdeling"),
    "gp_practice": _("Lægepraksis"), "single_entry": _("Én indgang"), "committee": _("Koordinationsudvalg"),
    "": _("Ikke angivet"),
}
PARENTS_AGREE = {"yes": _("Ja"), "partly": _("Delvist"), "no": _("Nej"), "": _("Ingen handleplan endnu")}


def _label(choices, key) -> str:
    return str(dict(choices).get(key, key or "—"))


# ---- One pass over the cohort ----------------------------------------------------------------

def _by(name: str, asof: dt.date) -> Q:
    """The milestone `name` happened on or before the as-of date."""
    return Q(**{f"{name}__isnull": False, f"{name}__lte": asof})


def _status(asof: dt.date, *, started: Q, due: str, met: str, not_needed: Q | None = None):
    whens = [W(~started, then=Value(None)), W(exempt=True, then=Value("exempt"))]
    if not_needed is not None:
        whens.append(W(not_needed, then=Value("not_needed")))
    whens += [
        W(_by(met, asof) & Q(**{f"{met}__lte": F(due)}), then=Value("met")),
        W(_by(met, asof), then=Value("late")),
        W(_by("closed_on", asof) & Q(**{f"{due}__isnull": False, "closed_on__lte": F(due)}), then=Value("stopped")),
        W(Q(**{f"{due}__lt": asof}), then=Value("overdue")),
    ]
    return Choose(*whens, default=Value("pending"), output_field=CharField())


def _wait(asof: dt.date, start: str, end: str, unit: str):
    """Days (or whole weeks) from one milestone to the next, when both happened by the as-of date."""
    days = DaysBetween(start, end)
    value = ExpressionWrapper(days / Value(7), output_field=IntegerField()) if unit == "weeks" else days
    return Choose(W(_by(start, asof) & _by(end, asof), then=value), default=Value(None), output_field=IntegerField())


WAITS = [
    # key, from, to, unit (days|weeks|workdays), label
    ("wait_consent", "opened_on", "consent_on", "days", _("Fra henvendelse til samtykke komplet")),
    ("wait_committee", "consent_on", "committee_on", "workdays", _("Fra samtykke til udvalgets afgørelse")),
    ("wait_start", "committee_on", "start_meeting_on", "weeks", _("Fra udvalgets afgørelse til igangsætningsmøde")),
    ("wait_intervention", "start_meeting_on", "intervention_on", "weeks",
     _("Fra igangsætningsmøde til udredende/behandlende indsats")),
    ("wait_follow_up", "start_meeting_on", "first_follow_up_on", "weeks",
     _("Fra igangsætningsmøde til første opfølgningsmøde")),
]


def _derived(asof: dt.date) -> dict:
    """Per-case columns as of the date: where the case is, each clock's status, waits."""
    by = lambda name: _by(name, asof)  # noqa: E731
    in_pathway = by("pathway_on") | (Q(decision="pathway") & by("committee_on"))
    position = Choose(
        W(~by("consent_on") & by("closed_on"), then=Value("left_before_consent")),
        W(~by("consent_on"), then=Value("waiting_consent")),
        W(~by("committee_on") & by("closed_on"), then=Value("left_before_committee")),
        W(~by("committee_on"), then=Value("waiting_committee")),
        W(~in_pathway, then=Value("committee_other")),
        W(~by("start_meeting_on") & by("closed_on"), then=Value("left_before_start")),
        W(~by("start_meeting_on"), then=Value("waiting_start")),
        W(by("closing_meeting_on"), then=Value("completed")),
        W(~by("first_follow_up_on") & by("closed_on"), then=Value("left_before_follow_up")),
        W(~by("first_follow_up_on"), then=Value("waiting_follow_up")),
        W(by("closed_on"), then=Value("left_in_pathway")),
        default=Value("in_pathway"), output_field=CharField(),
    )
    d = {
        "d_first": Choose(W(is_re_referral=True, then=Value(False)), default=Value(True), output_field=BooleanField()),
        "d_active": Choose(W(Q(is_re_referral=False) & in_pathway, then=Value(True)), default=Value(False),
                           output_field=BooleanField()),
        "d_channel": Choose(W(channel="", then=Value("other")), default="channel", output_field=CharField()),
        "d_age": Choose(W(age__isnull=False, then="age"), default=Value(None), output_field=IntegerField()),
        "d_position": position,
        "d_reason": Choose(W(by("closed_on"), then="closed_reason"), default=Value(""), output_field=CharField()),
        "d_decision": Choose(W(by("committee_on"), then="decision"), default=Value(""), output_field=CharField()),
        "d_school": Choose(W(Q(school_action=True) & in_pathway, then=Value(True)), default=Value(False),
                           output_field=BooleanField()),
        "d_lead": Choose(W(in_pathway, then="lead_kind"), default=Value(None), output_field=CharField()),
        "d_parents": Choose(W(in_pathway, then="parents_agree"), default=Value(None), output_field=CharField()),
        "d_municipality": Choose(W(municipality_id__isnull=False, then="municipality_id"), default=Value(None),
                                 output_field=IntegerField()),
        "d_consent": _status(asof, started=Q(opened_on__lte=asof), due="consent_due_on", met="consent_on"),
        "d_committee": _status(asof, started=by("consent_on"), due="committee_due_on", met="committee_on"),
        "d_start": _status(asof, started=in_pathway, due="start_due_on", met="start_meeting_on"),
        "d_intervention": _status(asof, started=by("start_meeting_on"), due="intervention_due_on",
                                  met="intervention_on", not_needed=Q(needs_assessment=False)),
        "d_follow_up": _status(asof, started=by("start_meeting_on"), due="follow_up_due_on",
                               met="first_follow_up_on"),
    }
    for clock, due in [("consent", "consent_due_on"), ("committee", "committee_due_on"), ("start", "start_due_on"),
                       ("intervention", "intervention_due_on"), ("follow_up", "follow_up_due_on")]:
        d[f"d_{clock}_month"] = Choose(W(Q(**{f"{due}__lte": asof}), then=TruncMonth(due, output_field=DateField())),
                                       default=Value(None), output_field=DateField())
    for key, start, end, unit, _lbl in WAITS:
        if key == "wait_committee":
            d[f"d_{key}"] = Choose(W(by("consent_on") & by("committee_on"), then="committee_wait_wd"),
                                   default=Value(None), output_field=IntegerField())
        else:
            d[f"d_{key}"] = _wait(asof, start, end, unit)
    return d


# What one pass over the facts counts: a few wide groupings (each one hash table in the
# database, so fewer is faster), from which the figures' own views are summed in Python.
GROUPINGS: dict[str, tuple[str, ...]] = {
    "people": ("d_first", "d_position", "d_reason", "d_decision", "d_age", "d_channel"),
    "pathways": ("d_active", "d_school", "d_lead", "d_parents"),
    **{f"deadline_{c}": ("d_active", f"d_{c}_month", f"d_{c}") for c, _l in CLOCKS},
    **{key: ("d_active", f"d_{key}") for key, *_rest in WAITS},
}
REGION_GROUPINGS: dict[str, tuple[str, ...]] = {
    "municipalities": ("d_municipality", "d_first", "d_position", "d_committee", "d_start"),
}
STORED = {**GROUPINGS, **REGION_GROUPINGS}
# The daily roll-up keeps the views themselves (narrow: few rows per month), not the wide
# groupings the live query hashes.
# name → (the grouping it is summed from, its dimensions)
VIEWS: dict[str, tuple[str, tuple[str, ...]]] = {
    "channels": ("people", ("d_first", "d_channel")),
    "positions": ("people", ("d_first", "d_position", "d_reason", "d_decision")),
    "ages": ("people", ("d_first", "d_position", "d_reason", "d_age")),
    "school": ("pathways", ("d_active", "d_school")),
    "lead": ("pathways", ("d_active", "d_lead")),
    "parents": ("pathways", ("d_active", "d_parents")),
    **{f"clock_{c}": (f"deadline_{c}", ("d_active", f"d_{c}")) for c, _l in CLOCKS},
    **{f"month_{c}": (f"deadline_{c}", (f"d_{c}_month", f"d_{c}")) for c, _l in CLOCKS},
    "by_municipality": ("municipalities", ("d_municipality", "d_first", "d_position")),
    "by_municipality_committee": ("municipalities", ("d_municipality", "d_committee")),
    "by_municipality_start": ("municipalities", ("d_municipality", "d_start")),
}
ROLLUP_GROUPINGS: dict[str, tuple[str, ...]] = {
    **{name: dims for name, (_source, dims) in VIEWS.items() if not name.startswith("by_municipality")},
    **{key: ("d_active", f"d_{key}") for key, *_rest in WAITS},
}


@dataclass
class Figures:
    """The grouped counts of one pass: grouping name → Counter of value tuples. `get`
    also answers the views (VIEWS), summed from their grouping."""

    counts: dict[str, Counter] = field(default_factory=dict)
    _views: dict[str, Counter] = field(default_factory=dict, repr=False, compare=False)

    def get(self, name: str) -> Counter:
        if name in self.counts or name not in VIEWS:
            return self.counts.get(name, Counter())
        if name not in self._views:
            source, dims = VIEWS[name]
            source_dims = STORED[source]
            index = [source_dims.index(d) for d in dims]
            view: Counter = Counter()
            for key, n in self.counts.get(source, Counter()).items():
                view[tuple(key[i] for i in index)] += n
            self._views[name] = view
        return self._views[name]

    def add(self, other: Figures) -> Figures:
        for name, counter in other.counts.items():
            self.counts.setdefault(name, Counter()).update(counter)
        self._views.clear()
        return self


def case_figures(area: Area, period: Period) -> Figures:
    """Every grouping for the cohort. A period that runs to today reads its whole months
    from the daily roll-up (`insight.rollup`, kept by the background loop) and only the
    days before its first whole month from the case facts; any other period is computed
    from the facts as of its end."""
    from tovholder.insight.rollup import rollup_asof, rollup_figures

    today = timezone.localdate()
    if period.end < today or rollup_asof() != today:
        return live_figures(area, period.start, period.end, period.asof)
    first_whole = period.start if period.start.day == 1 else (period.start.replace(day=1) + dt.timedelta(days=32)
                                                               ).replace(day=1)
    figures = Figures()
    if first_whole <= today:
        figures.add(rollup_figures(area, first_whole))
    if period.start < first_whole:
        figures.add(live_figures(area, period.start, min(first_whole - dt.timedelta(days=1), period.end), today))
    return figures


def grouping_query(qs: QuerySet, asof: dt.date, groupings: dict[str, tuple[str, ...]],
                   keep: tuple[str, ...] = ()) -> tuple[str, list, list[str]]:
    """The SQL of the facts in `qs` with the derived columns the groupings use (and the
    plain columns in `keep`), and the names of those derived columns."""
    derived = _derived(asof)
    used = sorted({c for dims in groupings.values() for c in dims})
    inner = qs.annotate(**{k: v for k, v in derived.items() if k in used}).values(*keep, *used)
    sql, params = inner.query.sql_with_params()
    return sql, list(params), used


def postgres_tuned(cursor) -> None:
    """Every grouping's dimensions are bounded (ages, statuses, months of the period, days of
    a wait, municipalities), so the groups are a few thousand at most and each grouping set
    fits a small hash table. The planner cannot see that through the CASE expressions and
    would sort the rows once per set; a large work_mem lets it hash them all in one pass
    (the memory used follows the real number of groups: tens of MB for a million cases).
    JIT compilation costs more than it saves here."""
    cursor.execute("SET LOCAL work_mem = '2GB'")
    cursor.execute("SET LOCAL jit = off")


def live_figures(area: Area, start: dt.date, end: dt.date, asof: dt.date) -> Figures:
    """One pass over the facts of the cases referred from `start` to `end`, as of `asof`
    (and one over their plan versions for the next-follow-up clock)."""
    result = _live_groupings(area, start, end, asof)
    result.counts["next_follow_up"] = next_follow_ups(area, start, end, asof)
    return result


def _live_groupings(area: Area, start: dt.date, end: dt.date, asof: dt.date) -> Figures:
    groupings = dict(GROUPINGS)
    if area.is_region:
        groupings.update(REGION_GROUPINGS)
    sql, params, used = grouping_query(cohort(area, Period(start, end)), asof, groupings)
    q = connection.ops.quote_name
    result = Figures()
    if connection.vendor == "postgresql":
        sets = {}
        for name, dims in groupings.items():
            sets.setdefault(tuple(sorted(dims)), []).append(name)
        set_sql = ", ".join("(" + ", ".join(q(c) for c in dims) + ")" for dims in sets)
        cols = ", ".join(q(c) for c in used)
        with transaction.atomic(), connection.cursor() as cursor:
            postgres_tuned(cursor)
            cursor.execute(
                f"SELECT {cols}, GROUPING({cols}), COUNT(*) FROM ({sql}) f GROUP BY GROUPING SETS ({set_sql})",
                params,
            )
            rows = cursor.fetchall()
        # GROUPING() has a bit per column, 1 where the column is not part of the set.
        bit = {c: 1 << (len(used) - 1 - i) for i, c in enumerate(used)}
        by_mask = {}
        for dims, names in sets.items():
            mask = sum(b for c, b in bit.items() if c not in dims)
            by_mask[mask] = names
        for row in rows:
            values, mask, n = dict(zip(used, row[:-2], strict=True)), row[-2], row[-1]
            for name in by_mask.get(mask, []):
                key = tuple(normalise(c, values[c]) for c in groupings[name])
                result.counts.setdefault(name, Counter())[key] += n
    else:
        with connection.cursor() as cursor:
            for name, dims in groupings.items():
                cols = ", ".join(q(c) for c in dims)
                cursor.execute(f"SELECT {cols}, COUNT(*) FROM ({sql}) f GROUP BY {cols}", params)
                counter = Counter()
                for row in cursor.fetchall():
                    counter[tuple(normalise(c, v) for c, v in zip(dims, row[:-1], strict=True))] += row[-1]
                result.counts[name] = counter
    return result


BOOL_DIMS = {"d_first", "d_active", "d_school"}
INT_DIMS = {"d_age", "d_municipality", *(f"d_{w[0]}" for w in WAITS)}
DATE_DIMS = {f"d_{c}_month" for c, _l in CLOCKS}


def normalise(dim: str, value):
    """One Python type per dimension whatever the database returned (or the roll-up stored
    as text): bool, int, date or str; None stays None."""
    if value is None:
        return None
    if dim in BOOL_DIMS:
        return value in (True, 1, "1", "true", "t", "True")
    if dim in INT_DIMS:
        return int(value)
    if dim in DATE_DIMS:
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        return dt.date.fromisoformat(str(value)[:10])
    return str(value)


def _truthy(value) -> bool:
    return value in (True, 1)


# ---- Referrals that did not become a case of their own (the single entry) --------------------

def entry_items(area: Area, period: Period) -> dict[str, Counter]:
    """Referrals the entry attached to an existing case (re-referrals while a case is open)
    or rejected/forwarded without opening one, by the referrer's channel."""
    InboxItem = _model("inbox.InboxItem")
    out = {"attached": Counter(), "rejected": Counter()}
    if InboxItem is None:
        return out
    start = dt.datetime.combine(period.start, dt.time.min, tzinfo=timezone.get_current_timezone())
    end = dt.datetime.combine(period.end + dt.timedelta(days=1), dt.time.min, tzinfo=timezone.get_current_timezone())
    rows = (InboxItem.objects.filter(municipality_id__in=area.municipality_ids, received_at__gte=start,
                                     received_at__lt=end)
            .filter(Q(status="attached", is_re_referral=True) | Q(status__in=["rejected", "forwarded"], case__isnull=True))
            .values("status", "thread__referrer_unit__kind").annotate(n=Count("pk")))
    kind_channel = {"gp_practice": "gp", "school": "school", "paediatric_ward": "hospital", "bua": "bua"}
    for r in rows:
        bucket = "attached" if r["status"] == "attached" else "rejected"
        out[bucket][kind_channel.get(r["thread__referrer_unit__kind"] or "", "other")] += r["n"]
    return out


def _model(label: str):
    try:
        return apps.get_model(label)
    except LookupError:
        return None


# ---- The figures ------------------------------------------------------------------------------

def referrals_by_channel(figures: Figures, entry: dict[str, Counter]) -> Table:
    c = figures.get("channels")
    rows = []
    for key, label in CHANNELS:
        first = c[(True, key)]
        again = c[(False, key)] + entry["attached"][key]
        rejected = entry["rejected"][key]
        rows.append([str(label), first + again + rejected, first, again, rejected])
    total = [sum(r[i] for r in rows) for i in range(1, 5)]
    rows.append([str(_("I alt")), *total])
    return Table(
        key="henvendelser",
        title=_("Henvendelser efter henvisningsvej"),
        description=_("Antal henvendelser til den fælles indgang i perioden, fordelt på henvisningsvej: "
                      "første henvendelser, genhenvisninger og henvendelser afvist eller videresendt i indgangen."),
        columns=[Column("channel", _("Henvisningsvej"), "label"), Column("all", _("Henvendelser")),
                 Column("first", _("Første henvendelse")), Column("again", _("Genhenvisninger")),
                 Column("rejected", _("Afvist/videresendt i indgangen"))],
        rows=rows,
    )


def funnel(figures: Figures, entry: dict[str, Counter]) -> tuple[Table, Table]:
    """From referral to closing: how many reached each step, how many are waiting there,
    and where the others left and why."""
    pos = figures.get("positions")
    reached = [0] * len(STEPS)
    waiting = [0] * len(STEPS)
    left = [0] * len(STEPS)
    exits: Counter = Counter()
    for (_first, position, reason, decision), n in pos.items():
        step, gone = POSITIONS[position]
        for i in range(step + 1):
            reached[i] += n
        if gone:
            left[step] += n
            why = DECISIONS.get(decision, decision) if position == "committee_other" else _label(ClosedReason.choices, reason)
            exits[(step, str(why))] += n
        elif position != "completed":
            waiting[step] += n
    attached = sum(entry["attached"].values())
    rejected = sum(entry["rejected"].values())
    reached[0] += attached + rejected
    left[0] += attached + rejected
    if attached:
        exits[(0, str(_("Genhenvisning knyttet til et åbent forløb")))] += attached
    if rejected:
        exits[(0, str(_("Afvist eller videresendt i indgangen")))] += rejected
    rows = [[str(label), reached[i], percent(reached[i], reached[0]), waiting[i], left[i]]
            for i, (_key, label) in enumerate(STEPS)]
    steps = Table(
        key="tragt",
        title=_("Fra henvendelse til afslutning"),
        description=_("Hvor mange af periodens henvendelser der nåede hvert trin ved periodens slutning, hvor "
                      "mange der venter på næste trin, og hvor mange der forlod forløbet på trinnet."),
        columns=[Column("step", _("Trin"), "label"), Column("reached", _("Nået")),
                 Column("share", _("Andel af henvendelser"), "percent"), Column("waiting", _("Venter her")),
                 Column("left", _("Forlod her"))],
        rows=rows,
    )
    exit_rows = [[str(STEPS[step][1]), why, n] for (step, why), n in sorted(exits.items())]
    why = Table(
        key="frafald",
        title=_("Hvor og hvorfor forløb sluttede før afslutningsmødet"),
        description=_("Henvendelser, der forlod forløbet før afslutningsmødet, efter det sidste trin, de nåede, "
                      "og årsagen."),
        columns=[Column("step", _("Sidste trin nået"), "label"), Column("reason", _("Årsag"), "text"),
                 Column("n", _("Antal"))],
        rows=exit_rows,
    )
    return steps, why


def next_follow_up_sql(where: str, asof: dt.date) -> tuple[str, list]:
    """The "next follow-up" clock, per agreed date (`FollowUpFact`): every follow-up meeting
    agreed the date of the next, met when the next meeting (a follow-up or the closing one)
    was held by then. SQL giving (opened_on, status) for the rows matching `where` (SQL over
    the alias f, without parameters), as of `asof`."""
    sql = f"""
        SELECT f.opened_on,
               CASE WHEN f.exempt THEN 'exempt'
                    WHEN f.next_held_on IS NOT NULL AND f.next_held_on <= %s AND f.next_held_on <= f.agreed_on
                         THEN 'met'
                    WHEN f.next_held_on IS NOT NULL AND f.next_held_on <= %s THEN 'late'
                    WHEN f.agreed_on < %s THEN 'overdue'
                    WHEN f.closed_on IS NOT NULL AND f.closed_on <= %s THEN 'stopped'
                    ELSE 'pending' END AS status
        FROM {FollowUpFact._meta.db_table} f
        WHERE {where} AND f.held_on <= %s"""
    return sql, [asof, asof, asof, asof, asof]


def next_follow_ups(area: Area, start: dt.date, end: dt.date, asof: dt.date) -> Counter:
    """The next-follow-up clock's statuses for the cases referred from `start` to `end`."""
    scope = f"f.region_id = {int(area.pk)}" if area.is_region else f"f.municipality_id = {int(area.pk)}"
    sql, params = next_follow_up_sql(f"{scope} AND f.opened_on >= %s AND f.opened_on <= %s", asof)
    params = [*params[:4], start, end, params[4]]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT status, COUNT(*) FROM ({sql}) y GROUP BY status", params)
        return Counter({(status,): n for status, n in cursor.fetchall()})


def deadline_compliance(figures: Figures) -> Table:
    rows = []
    counters = []
    for clock, _label in CLOCKS:
        c = Counter()
        for (_active, status), n in figures.get(f"clock_{clock}").items():
            if status is not None:
                c[status] += n
        counters.append((_label, c))
    counters.append((_("Næste opfølgningsmøde senest på den dato, der blev aftalt på mødet før"),
                     Counter({status: n for (status,), n in figures.get("next_follow_up").items()})))
    for label, c in counters:
        decided = c["met"] + c["late"] + c["overdue"]
        rows.append([str(label), sum(c.values()), *[c[s] for s, _l in STATUSES], percent(c["met"], decided)])
    return Table(
        key="rettidighed",
        title=_("Rettidighed for hvert tidsfrist-ur"),
        description=_("For hvert af modellens ure: hvor mange forløb uret gjaldt for, og hvor mange der overholdt "
                      "fristen, nåede det for sent, overskred den uden at nå det, endnu ikke har nået fristen, "
                      "sluttede før, ikke havde behov eller var undtaget. Andelen overholdt regnes af de forløb, "
                      "hvor fristen er passeret eller nået."),
        columns=[Column("clock", _("Tidsfrist"), "label"), Column("n", _("Forløb")),
                 *[Column(s, label) for s, label in STATUSES], Column("share", _("Overholdt"), "percent")],
        rows=rows,
    )


def deadline_compliance_by_month(figures: Figures) -> Table:
    """Met / due per clock, by the month the deadline fell in (one row per month and clock)."""
    rows = []
    months: dict[tuple[dt.date, str], Counter] = defaultdict(Counter)
    for clock, _lbl in CLOCKS:
        for (month, status), n in figures.get(f"month_{clock}").items():
            if month is not None and status is not None:
                months[(normalise("d_consent_month", month), clock)][status] += n
    order = {clock: i for i, (clock, _lbl) in enumerate(CLOCKS)}
    for (month, clock) in sorted(months, key=lambda k: (k[0], order[k[1]])):
        c = months[(month, clock)]
        due = c["met"] + c["late"] + c["overdue"]
        if due:
            rows.append([month.strftime("%Y-%m"), str(CLOCK_SHORT[clock]), c["met"], due, percent(c["met"], due)])
    return Table(
        key="rettidighed_over_tid",
        title=_("Rettidighed over tid"),
        description=_("Andel af fristerne, der blev overholdt, efter den måned fristen faldt i, for hvert ur. "
                      "Frister, der endnu ikke er nået, og undtagne forløb tælles ikke med."),
        columns=[Column("month", _("Måned (frist)"), "label"), Column("clock", _("Tidsfrist"), "text"),
                 Column("met", _("Overholdt")), Column("due", _("Frister")),
                 Column("share", _("Andel overholdt"), "percent")],
        rows=rows,
    )


def waiting_times(figures: Figures) -> list[Table]:
    """The distribution of the time between milestones, with median and 90th percentile."""
    tables = []
    for key, _start, _end, unit, label in WAITS:
        values: Counter = Counter()
        for (_active, days), n in figures.get(key).items():
            if days is not None:
                values[int(days)] += n
        unit_label = {"days": _("dage"), "weeks": _("uger"), "workdays": _("hverdage")}[unit]
        total = sum(values.values())
        rows = [[str(v), n, percent(n, total)] for v, n in sorted(values.items())]
        median, p90 = _quantile(values, 0.5), _quantile(values, 0.9)
        note = (_("Median %(m)s %(u)s; 90 %% havde ventet højst %(p)s %(u)s; %(n)s forløb.")
                % {"m": median, "p": p90, "u": unit_label, "n": total}) if total else _("Ingen forløb nåede trinnet.")
        tables.append(Table(
            key=f"ventetid_{key.removeprefix('wait_')}",
            title=label,
            description=_("Fordeling af ventetiden i %(u)s for forløb, der nåede begge milepæle i perioden.")
            % {"u": unit_label},
            columns=[Column("value", f"{_('Ventetid')} ({unit_label})", "label"), Column("n", _("Forløb")),
                     Column("share", _("Andel"), "percent")],
            rows=rows,
            note=note,
        ))
    return tables


def _quantile(values: Counter, q: float):
    total = sum(values.values())
    if not total:
        return None
    seen = 0
    for v in sorted(values):
        seen += values[v]
        if seen >= q * total:
            return v
    return max(values)


def in_model(position: str, reason: str) -> bool:
    """A first referral that entered the model: not handed to another route before consent."""
    return not (position == "left_before_consent" and reason not in CONSENT_REASONS)


def age_distribution(figures: Figures) -> Table:
    ages: Counter = Counter()
    for (first, position, reason, age), n in figures.get("ages").items():
        if _truthy(first) and age is not None and in_model(position, reason):
            ages[int(age)] += n
    total = sum(ages.values())
    rows = [[f"{age} {_('år')}", n, percent(n, total)] for age, n in sorted(ages.items())]
    return Table(
        key="alder",
        title=_("Børnenes alder ved henvendelsen"),
        description=_("Alder i hele år på henvendelsesdagen for børn med en første henvendelse i perioden, der blev "
                      "henvist til modellen (genhenvisninger og henvendelser sendt til anden vej før samtykke "
                      "tælles ikke)."),
        columns=[Column("age", _("Alder"), "label"), Column("n", _("Børn")), Column("share", _("Andel"), "percent")],
        rows=rows,
    )


def _active_count(figures: Figures, name: str, value) -> int:
    return sum(n for (active, v), n in figures.get(name).items() if _truthy(active) and v == value)


def active_cases(figures: Figures) -> int:
    return sum(n for (active, _v), n in figures.get("school").items() if _truthy(active))


def school_actions(figures: Figures) -> Table:
    active = active_cases(figures)
    school = _active_count(figures, "school", True) + _active_count(figures, "school", 1)
    return Table(
        key="skoleindsatser",
        title=_("Børn med indsatser i skoleregi"),
        description=_("Aktive forløb med mindst én indsats, som skolen står for."),
        columns=[Column("what", _("Forløb"), "label"), Column("n", _("Antal")), Column("share", _("Andel"), "percent")],
        rows=[[str(_("Aktive forløb")), active, None],
              [str(_("Med indsats i skoleregi")), school, percent(school, active)]],
    )


def lead_professionals(figures: Figures) -> Table:
    c: Counter = Counter()
    for (active, kind), n in figures.get("lead").items():
        if _truthy(active) and kind is not None:
            c[kind] += n
    total = sum(c.values())
    rows = [[str(UNIT_KINDS.get(k, k)), n, percent(n, total)] for k, n in c.most_common()]
    return Table(
        key="indsatsansvarlig",
        title=_("Hvem er indsatsansvarlig?"),
        description=_("Aktive forløb efter den indsatsansvarliges enhedstype (i dag)."),
        columns=[Column("kind", _("Enhed"), "label"), Column("n", _("Forløb")), Column("share", _("Andel"), "percent")],
        rows=rows,
    )


def parents_agreement(figures: Figures) -> Table:
    c: Counter = Counter()
    for (active, agree), n in figures.get("parents").items():
        if _truthy(active) and agree is not None:
            c[agree] += n
    total = sum(c.values())
    rows = [[str(label), c[key], percent(c[key], total)] for key, label in PARENTS_AGREE.items()]
    return Table(
        key="foraeldre",
        title=_("Forældrenes oplevelse: er de enige i handleplanen?"),
        description=_("Aktive forløb efter forældrenes svar ved seneste møde på spørgsmålet »Er forældrene enige i "
                      "planen?«. Forsøget brugte interviews; systemet kan kun vise det, der registreres ved møderne."),
        columns=[Column("answer", _("Svar"), "label"), Column("n", _("Forløb")), Column("share", _("Andel"), "percent")],
        rows=rows,
    )


def key_figures(figures: Figures, entry: dict[str, Counter], ages: Table) -> Table:
    """The trial's own list of figures, counted the trial's way (see the module docstring)."""
    pos = figures.get("positions")
    first: Counter = Counter()
    for (f, position, reason, decision), n in pos.items():
        if _truthy(f):
            first[(position, reason or decision)] += n
    again = sum(n for (f, *_r), n in pos.items() if not _truthy(f)) + sum(entry["attached"].values())
    rejected = sum(entry["rejected"].values())
    referrals = sum(pos.values()) + sum(entry["attached"].values()) + rejected
    before = ("left_before_consent", "left_before_committee")
    no_consent = sum(n for (p, r), n in first.items() if p in before and r in CONSENT_REASONS)
    elsewhere = rejected + sum(n for (p, r), n in first.items()
                               if (p in before and r not in CONSENT_REASONS) or p == "committee_other")
    waiting = sum(n for (p, _r), n in first.items() if p in ("waiting_consent", "waiting_committee"))
    active = active_cases(figures)
    channels = figures.get("channels")

    def channel(*keys: str) -> int:
        return (sum(n for (_f, ch), n in channels.items() if ch in keys)
                + sum(entry["attached"][k] + entry["rejected"][k] for k in keys))

    def met(clock: str) -> int:
        return _active_count(figures, f"clock_{clock}", "met")

    def among_active(name: str, test) -> int:
        return sum(n for (active_, v), n in figures.get(name).items() if _truthy(active_) and test(v))

    no_follow_up = among_active("wait_follow_up", lambda v: v is None)
    long_wait = among_active("wait_follow_up", lambda v: v is not None and 13 <= int(v) <= 17)
    closing = sum(n for (p, _r), n in first.items() if p == "completed")
    exempt = sum(n for (_a, s), n in figures.get("clock_committee").items() if s == "exempt")
    children = sum(row[1] for row in ages.rows)

    def ratio(n: int) -> str:
        return f"{n}/{active}"

    rows = [
        ["referrals", _("Henvendelser i alt"), referrals, ""],
        ["excluded", _("Ekskluderet fra opgørelsen"), no_consent + elsewhere + again, ""],
        ["no_consent", _("– lukket pga. manglende samtykke"), no_consent, ""],
        ["elsewhere", _("– håndteret uden for modellen (anden vej)"), elsewhere, ""],
        ["re_referrals", _("– genhenvisninger"), again, ""],
        ["waiting", _("Venter endnu på samtykke eller udvalget"), waiting, ""],
        ["active", _("Aktive forløb (fælles forløb, første henvendelse)"), active, ""],
        ["via_gp", _("Henvendelser fra egen læge eller forældre via egen læge"), channel("gp", "parents_via_gp"), ""],
        ["via_school", _("Henvendelser fra skolen"), channel("school"), ""],
        ["committee_met", _("Udvalget inden for 8 hverdage efter samtykke"), met("committee"), ratio(met("committee"))],
        ["intervention_met", _("Udredende/behandlende indsats inden for 4 uger efter igangsætningsmødet"),
         met("intervention"), ratio(met("intervention"))],
        ["start_met", _("Igangsætningsmøde inden for 4 uger efter udvalget"), met("start"), ratio(met("start"))],
        ["follow_up_met", _("Første opfølgningsmøde inden for 6 uger efter igangsætningsmødet"), met("follow_up"),
         ratio(met("follow_up"))],
        ["no_follow_up", _("Intet opfølgningsmøde holdt ved periodens slutning (forsøget: ingen opfølgningsdato i "
                           "handleplanen)"), no_follow_up, ratio(no_follow_up)],
        ["long_wait", _("13–17 uger mellem igangsætningsmøde og opfølgningsmøde"), long_wait, ratio(long_wait)],
        ["closing", _("Afslutningsmøde holdt"), closing, ratio(closing)],
        ["exempt", _("Undtaget fra tidsfristerne"), exempt, ""],
        ["children", _("Børn henvist til modellen (aldersfordelingen)"), children, ""],
    ]
    return Table(
        key="noegletal",
        title=_("Nøgletal som i forsøgets evaluering"),
        description=_("Forsøgets egne nøgletal, talt som i evalueringen: aktive forløb er første henvendelser, som "
                      "udvalget satte i fælles forløb; brøkerne er af de aktive forløb."),
        columns=[Column("key", _("Nøgle"), "text"), Column("figure", _("Nøgletal"), "label"),
                 Column("n", _("Antal")), Column("ratio", _("Af aktive"), "text")],
        rows=[[k, str(label), n, r] for k, label, n, r in rows],
    )


def municipalities_compared(figures: Figures, area: Area) -> Table | None:
    """The region view: the main figures per municipality."""
    if not area.is_region:
        return None
    from tovholder.organisations.models import Municipality

    names = dict(Municipality.objects.filter(pk__in=area.municipality_ids).values_list("pk", "name"))
    referrals: Counter = Counter()
    active: Counter = Counter()
    for (mun, first, position), n in figures.get("by_municipality").items():
        referrals[mun] += n
        if _truthy(first) and POSITIONS[position][0] >= 3 and position != "committee_other":
            active[mun] += n
    committee = {m: Counter() for m in names}
    start = {m: Counter() for m in names}
    for (mun, s), n in figures.get("by_municipality_committee").items():
        if mun in committee and s:
            committee[mun][s] += n
    for (mun, s), n in figures.get("by_municipality_start").items():
        if mun in start and s:
            start[mun][s] += n
    rows = []
    for pk in sorted(names, key=names.get):
        c, s = committee[pk], start[pk]
        rows.append([names[pk], referrals[pk], active[pk],
                     percent(c["met"], c["met"] + c["late"] + c["overdue"]),
                     percent(s["met"], s["met"] + s["late"] + s["overdue"])])
    return Table(
        key="kommuner",
        title=_("Kommunerne i regionen"),
        description=_("Henvendelser, fælles forløb og rettidighed for udvalget og igangsætningsmødet i hver kommune."),
        columns=[Column("municipality", _("Kommune"), "label"), Column("referrals", _("Henvendelser")),
                 Column("active", _("Fælles forløb")), Column("committee", _("Udvalg rettidigt"), "percent"),
                 Column("start", _("Igangsætningsmøde rettidigt"), "percent")],
        rows=rows,
    )


# ---- Event figures outside the case facts (consultation, referrals onwards, admissions) -------

def _period_bounds(period: Period) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    return (dt.datetime.combine(period.start, dt.time.min, tzinfo=tz),
            dt.datetime.combine(period.end + dt.timedelta(days=1), dt.time.min, tzinfo=tz))


def psychiatry(area: Area, period: Period) -> Table:
    """Consultations with BUA (conversations and cases), referrals to BUA and the paediatric
    ward, rejections by reason, admissions — from the consultation part's own selectors."""
    try:
        from tovholder.consultation import selectors as consultation
        from tovholder.consultation.models import RejectionReason
    except ImportError:
        return Table(key="psykiatri", title=_("Sparring, henvisninger, afvisninger og indlæggelser"),
                     description="", columns=[], not_recorded=str(_("sparring, henvisninger og indlæggelser")))
    window = {"start": period.start, "end": period.end, "municipality_ids": area.municipality_ids}

    def total(rows: list[dict], key: str, **match) -> int:
        return sum(r[key] for r in rows if all(r.get(k) == v for k, v in match.items()))

    talks = consultation.consultation_figures(**window)
    referrals = consultation.referral_figures(**window)
    rejections = consultation.rejections_by_reason(**window)
    admissions = consultation.admission_figures(**window)
    rows = [
        [str(_("Sparring med BUA: samtaler")), total(talks, "conversations")],
        [str(_("– heraf anonyme")), total(talks, "anonymous")],
        [str(_("– heraf på faste sparringstider")), total(talks, "at_fixed_time")],
        [str(_("Sparring med BUA: forløb (identificerede)")), total(talks, "cases")],
        [str(_("Sparring, hvor henvisning blev anbefalet")), total(talks, "referral_recommended")],
        [str(_("Henvisninger til BUA")), total(referrals, "sent", receiver_kind="bua")],
        [str(_("Henvisninger til børne- og ungeafdeling")), total(referrals, "sent", receiver_kind="paediatric_ward")],
        [str(_("Afviste henvisninger i alt")), total(rejections, "rejections")],
        *[[f"– {label}", total(rejections, "rejections", reason=key)] for key, label in RejectionReason.choices],
        [str(_("Afvisninger fulgt op med familien inden for fristen")), total(rejections, "followed_up_in_time")],
        [str(_("Indlæggelser, BUA")), total(admissions, "admissions", unit_kind="bua")],
        [str(_("Indlæggelser, hospital")), sum(r["admissions"] for r in admissions if r["unit_kind"] != "bua")],
    ]
    return Table(
        key="psykiatri",
        title=_("Sparring, henvisninger, afvisninger og indlæggelser"),
        description=_("Sparring med BUA (samtaler og forløb), henvisninger til BUA og børne- og ungeafdelingen, "
                      "afviste henvisninger efter årsag og indlæggelser i perioden."),
        columns=[Column("what", _("Hændelse"), "label"), Column("n", _("Antal"))],
        rows=rows,
    )


def inbox_emptied(area: Area, period: Period) -> Table:
    """The entry's clock: every message handled by the next working day."""
    from tovholder.insight.calendar import calendar_key_expr
    from tovholder.insight.models import CalendarDay

    InboxItem = _model("inbox.InboxItem")
    if InboxItem is None:
        return Table(key="indgang", title=_("Indgangen tømt hver hverdag"), description="", columns=[],
                     not_recorded=str(_("indgangens henvendelser")))
    from django.db.models import OuterRef, Subquery
    from django.db.models.functions import TruncDate

    start, end = _period_bounds(period)
    asof_end = dt.datetime.combine(period.asof + dt.timedelta(days=1), dt.time.min,
                                   tzinfo=timezone.get_current_timezone())
    tz = timezone.get_current_timezone()

    def ordinal(ref: str):
        return Subquery(CalendarDay.objects.filter(calendar=OuterRef("x_cal"), day=OuterRef(ref))
                        .values("ordinal")[:1], output_field=IntegerField())

    items = (InboxItem.objects.filter(municipality_id__in=area.municipality_ids, received_at__gte=start,
                                      received_at__lt=end)
             .annotate(x_cal=calendar_key_expr(), x_in=TruncDate("received_at", tzinfo=tz),
                       x_out=TruncDate("handled_at", tzinfo=tz))
             .annotate(x_wd=ordinal("x_out") - ordinal("x_in")))
    c = items.aggregate(
        n=Count("pk"),
        met=Count("pk", filter=Q(handled_at__lt=asof_end, x_wd__lte=1)),
        late=Count("pk", filter=Q(handled_at__lt=asof_end, x_wd__gt=1)),
        waiting=Count("pk", filter=Q(handled_at__isnull=True) | Q(handled_at__gte=asof_end)),
    )
    return Table(
        key="indgang",
        title=_("Indgangen tømt hver hverdag"),
        description=_("Henvendelser og beskeder i indgangen i perioden, og om de blev behandlet senest hverdagen "
                      "efter, de kom ind."),
        columns=[Column("what", _("Beskeder"), "label"), Column("n", _("Antal")), Column("share", _("Andel"), "percent")],
        rows=[[str(_("Modtaget")), c["n"], None],
              [str(_("Behandlet senest næste hverdag")), c["met"], percent(c["met"], c["met"] + c["late"])],
              [str(_("Behandlet senere")), c["late"], percent(c["late"], c["met"] + c["late"])],
              [str(_("Ikke behandlet ved periodens slutning")), c["waiting"], None]],
    )


# ---- Everything for the page --------------------------------------------------------------------

@dataclass
class Insight:
    area: Area
    period: Period
    key: Table
    tables: dict[str, Table]
    waits: list[Table]

    def all_tables(self) -> list[Table]:
        return [self.key, *self.tables.values(), *self.waits]

    def table(self, key: str) -> Table | None:
        return next((t for t in self.all_tables() if t.key == key), None)


def insight_for(area: Area, period: Period) -> Insight:
    """Every figure for the area and period (the page, the exports and the API call this)."""
    figures = case_figures(area, period)
    entry = entry_items(area, period)
    steps, exits = funnel(figures, entry)
    tables = {
        "henvendelser": referrals_by_channel(figures, entry),
        "tragt": steps,
        "frafald": exits,
        "rettidighed": deadline_compliance(figures),
        "rettidighed_over_tid": deadline_compliance_by_month(figures),
        "alder": age_distribution(figures),
        "skoleindsatser": school_actions(figures),
        "indsatsansvarlig": lead_professionals(figures),
        "foraeldre": parents_agreement(figures),
        "psykiatri": psychiatry(area, period),
        "indgang": inbox_emptied(area, period),
    }
    compared = municipalities_compared(figures, area)
    if compared is not None:
        tables["kommuner"] = compared
    return Insight(area=area, period=period, key=key_figures(figures, entry, tables["alder"]), tables=tables,
                   waits=waiting_times(figures))
