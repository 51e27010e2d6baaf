"""Keeping `CaseFact` (one narrow row per case) in step with what the other parts recorded.

Everything here is set-based: one `INSERT … SELECT` per chunk of cases, built from an ORM
query over the case and the tables of the entry, the committee and the pathway. A case's
row is rewritten while the case is open and becomes final when it closes.

Run by the background loop (`insight_facts`, registered in InsightConfig.ready) at most
every REFRESH_SECONDS, by `insight_load_trial`, and by the benchmark.
"""

from __future__ import annotations

import datetime as dt
import logging
from zoneinfo import ZoneInfo

from django.apps import apps
from django.db import connection, transaction
from django.db.models import (
    BigIntegerField,
    BooleanField,
    DateField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models import Case as When_
from django.db.models import When as W
from django.db.models.functions import (
    Cast,
    Coalesce,
    ExtractDay,
    ExtractMonth,
    ExtractYear,
    TruncDate,
)
from django.utils import timezone

from tovholder.cases.models import Case
from tovholder.insight.calendar import calendar_ensure, calendar_key
from tovholder.insight.models import CalendarDay, CaseFact, FactsRefresh, FollowUpFact
from tovholder.insight.sql import PlusDays

log = logging.getLogger(__name__)
CPH = ZoneInfo("Europe/Copenhagen")
REFRESH_SECONDS = 30
CHUNK = 20_000
# New cases whose ids are below the highest id already seen (sequences commit out of
# order) are caught by looking this far back on every run.
LOOKBACK_IDS = 5_000

FACT_COLUMNS = [
    "case_id", "region_id", "municipality_id", "opened_on", "age", "channel", "is_re_referral", "exempt",
    "consent_due_on", "consent_on", "committee_due_on", "committee_on", "committee_wait_wd", "decision", "pathway_on",
    "start_due_on", "start_meeting_on", "needs_assessment", "intervention_due_on", "intervention_on",
    "follow_up_due_on", "first_follow_up_on", "last_meeting_on", "next_meeting_on", "closing_meeting_on",
    "closed_on", "closed_reason", "school_action", "lead_kind", "parents_agree", "final", "case_version", "pathway_version",
    "settings_stamp", "refreshed_at",
]


def _model(label: str):
    """Another part's model, or None while that part has not landed it (or its table)."""
    try:
        model = apps.get_model(label)
    except LookupError:
        return None
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
    return model if model._meta.db_table in tables else None


def _has_field(model, name: str) -> bool:
    return model is not None and any(f.name == name for f in model._meta.get_fields())


def _local_date(expr: str):
    return TruncDate(expr, tzinfo=CPH)


def _ordinal(day_ref: str):
    """The working-day ordinal of a date (an outer annotation) in the case's calendar."""
    return Subquery(CalendarDay.objects.filter(calendar=OuterRef("x_cal"), day=OuterRef(day_ref))
                    .values("ordinal")[:1], output_field=IntegerField())


def fact_queryset() -> QuerySet:
    """Cases annotated with every column of `CaseFact`, computed in the database."""
    from tovholder.insight.calendar import calendar_key_expr

    Pathway = _model("pathway.Pathway")
    AgendaItem = _model("committee.AgendaItem")
    Decision = _model("committee.CommitteeDecision")
    Intervention = _model("pathway.Intervention")
    PlanVersion = _model("pathway.PlanVersion")

    qs = Case.objects.annotate(
        x_cal=calendar_key_expr(),
        x_opened=_local_date("opened_at"),
        x_birth=F("child__birth_date"),
        x_consent=_local_date("consent_completed_at"),
    ).annotate(
        x_month=ExtractMonth("x_opened"), x_day=ExtractDay("x_opened"),
        x_bmonth=ExtractMonth("x_birth"), x_bday=ExtractDay("x_birth"),
    )
    # The committee's decision on the referral: the agenda item opened by consent, else the
    # date the case itself records for a pathway decision.
    committee_on = _local_date("committee_decided_at")
    decision = When_(W(committee_decided_at__isnull=False, then=Value("pathway")), default=Value(""))
    if AgendaItem is not None and Decision is not None:
        item = AgendaItem.objects.filter(case=OuterRef("pk"), origin="consent")
        final = Decision.objects.filter(item__case=OuterRef("pk"), item__origin="consent",
                                        kind__in=["pathway", "ordinary_route", "everyday_support", "referred_on",
                                                  "continue"])
        committee_on = Coalesce(Subquery(item.filter(state="decided").values("decided_on")[:1]), committee_on)
        decision = Coalesce(Subquery(final.order_by("decided_at").values("kind")[:1]), decision)
    qs = qs.annotate(x_committee=committee_on, x_decision=decision, x_age=ExtractYear("x_opened") - ExtractYear(
        "x_birth") - When_(W(Q(x_month__lt=F("x_bmonth")) | Q(x_month=F("x_bmonth"), x_day__lt=F("x_bday")),
                             then=Value(1)), default=Value(0), output_field=IntegerField()))
    qs = qs.annotate(
        x_consent_ord=_ordinal("x_consent"),
        x_committee_ord=_ordinal("x_committee"),
    ).annotate(
        x_committee_due=Subquery(
            CalendarDay.objects.filter(calendar=OuterRef("x_cal"), is_working=True,
                                       ordinal=OuterRef("x_consent_ord") + OuterRef("municipality__committee_working_days"))
            .order_by("day").values("day")[:1]),
    )
    pathway = {}
    if Pathway is not None:
        p = "pathway__"
        pathway = {
            "pathway_on": F(f"{p}decided_on"),
            "start_meeting_on": F(f"{p}start_meeting_on"),
            "needs_assessment": F(f"{p}needs_assessment"),
            "intervention_on": F(f"{p}intervention_started_on"),
            "first_follow_up_on": F(f"{p}first_follow_up_on"),
            "last_meeting_on": F(f"{p}last_meeting_on"),
            "next_meeting_on": F(f"{p}next_meeting_on"),
            "closing_meeting_on": F(f"{p}closed_on"),
            "lead_kind": Coalesce(F(f"{p}lead_unit__kind"), Value("")),
        }
    parents = Value("")
    if PlanVersion is not None:
        parents = Coalesce(Subquery(PlanVersion.objects.filter(pathway__case=OuterRef("pk")).order_by("-number")
                                    .values("parents_agree")[:1]), Value(""))
    school = Value(False)
    if Intervention is not None:
        school = Exists(Intervention.objects.filter(pathway__case=OuterRef("pk"), sector="school"))
    def col(name: str, default=None):
        return pathway.get(name, default if default is not None else Value(None, output_field=_date()))

    start = col("start_meeting_on")
    pathway_on = col("pathway_on")
    return qs.annotate(
        c_case_id=F("pk"),
        c_region_id=F("municipality__region_id"),
        c_municipality_id=F("municipality_id"),
        c_opened_on=F("x_opened"),
        c_age=When_(W(x_birth__gt=F("x_opened"), then=Value(None)), default=F("x_age"),
                    output_field=IntegerField()),
        c_channel=F("referral_channel"),
        c_is_re_referral=F("is_re_referral"),
        c_exempt=F("exempt_from_deadlines"),
        c_consent_due_on=PlusDays(F("x_opened"), F("municipality__consent_answer_days")
                                  + F("municipality__consent_reminder_days")),
        c_consent_on=F("x_consent"),
        c_committee_due_on=F("x_committee_due"),
        c_committee_on=F("x_committee"),
        c_committee_wait_wd=F("x_committee_ord") - F("x_consent_ord"),
        c_decision=F("x_decision"),
        c_pathway_on=pathway_on,
        c_start_due_on=PlusDays(Coalesce(pathway_on, F("x_committee")), F("municipality__start_meeting_weeks") * 7),
        c_start_meeting_on=start,
        c_needs_assessment=pathway.get("needs_assessment", Value(None, output_field=BooleanField())),
        c_intervention_due_on=PlusDays(start, F("municipality__intervention_weeks") * 7),
        c_intervention_on=col("intervention_on"),
        c_follow_up_due_on=PlusDays(start, F("municipality__first_follow_up_weeks") * 7),
        c_first_follow_up_on=col("first_follow_up_on"),
        c_last_meeting_on=col("last_meeting_on"),
        c_next_meeting_on=col("next_meeting_on"),
        c_closing_meeting_on=col("closing_meeting_on"),
        c_closed_on=_local_date("closed_at"),
        c_closed_reason=F("closed_reason"),
        c_school_action=school,
        c_lead_kind=pathway.get("lead_kind", Value("")),
        c_parents_agree=parents,
        c_final=When_(W(stage="closed", then=Value(True)), default=Value(False), output_field=BooleanField()),
        c_case_version=F("version"),
        c_pathway_version=Coalesce(F("pathway__version"), Value(0)) if Pathway is not None else Value(0),
        c_settings_stamp=settings_stamp(),
        c_refreshed_at=Value(timezone.now()),
    )


def settings_stamp(prefix: str = "municipality__"):
    """One number that changes when any of a municipality's clock settings does."""
    parts = ["committee_working_days", "start_meeting_weeks", "intervention_weeks", "first_follow_up_weeks",
             "consent_answer_days", "consent_reminder_days"]
    stamp = Cast(F(f"{prefix}closed_constitution_day"), IntegerField()) * 2 + Cast(
        F(f"{prefix}closed_christmas_eve"), IntegerField()) * 3 + Cast(F(f"{prefix}closed_new_years_eve"),
                                                                       IntegerField()) * 5
    for i, name in enumerate(parts):
        stamp = stamp + F(f"{prefix}{name}") * Value(1000 ** (i % 3) * (7 + i), output_field=BigIntegerField())
    return ExpressionWrapper(stamp, output_field=BigIntegerField())


def _date():
    return DateField()


def _insert_sql(where: Q) -> tuple[str, list]:
    qs = fact_queryset().filter(where).order_by()
    sql, params = qs.values_list(*[f"c_{c}" for c in FACT_COLUMNS]).query.sql_with_params()
    table = CaseFact._meta.db_table
    cols = ", ".join(connection.ops.quote_name(c) for c in FACT_COLUMNS)
    return f"INSERT INTO {table} ({cols}) {sql}", list(params)


# The working-day table covers these years and two ahead: the system's records start after
# it (the Syddjurs trial is 2022); a date outside gives no committee due date, not an error.
CALENDAR_FROM = dt.date(2000, 1, 1)


def _needed_years() -> tuple[set[int], dt.date, dt.date]:
    from tovholder.organisations.models import Municipality

    keys = {calendar_key(closed_constitution_day=a, closed_christmas_eve=b, closed_new_years_eve=c)
            for a, b, c in Municipality.objects.values_list("closed_constitution_day", "closed_christmas_eve",
                                                            "closed_new_years_eve").distinct()}
    return keys, CALENDAR_FROM, timezone.localdate() + dt.timedelta(days=800)


def facts_refresh(*, full: bool = False, case_ids: list[int] | None = None, written_ids: list | None = None) -> int:
    """Rewrite the fact rows of open cases that changed and add rows for new cases; `full`
    also looks for any case without a row. Returns how many rows were written (their case
    ids are appended to `written_ids` when given)."""
    keys, first, last = _needed_years()
    if keys:
        calendar_ensure(keys, first, last)
    ids: list[int] = [] if written_ids is None else written_ids
    if case_ids is not None:
        for i in range(0, len(case_ids), 500):
            ids += _rewrite(Q(pk__in=case_ids[i:i + 500]))
        return len(ids)
    with transaction.atomic():
        stale = stale_case_ids()
    for i in range(0, len(stale), 500):
        ids += _rewrite(Q(pk__in=stale[i:i + 500]))
    top = CaseFact.objects.aggregate(top=Max("case_id"))["top"] or 0
    last_id = Case.objects.aggregate(top=Max("id"))["top"] or 0
    low = 0 if full else max(0, top - LOOKBACK_IDS)
    for start in range(low, last_id + 1, CHUNK):
        ids += _rewrite(Q(pk__gt=start, pk__lte=start + CHUNK), only_missing=True)
    return len(ids)


def stale_case_ids() -> list[int]:
    """Open cases whose row no longer matches what it was computed from."""
    Pathway = _model("pathway.Pathway")
    pathway_version = (Coalesce(Subquery(Pathway.objects.filter(case_id=OuterRef("case_id")).values("version")[:1]),
                                Value(0)) if Pathway is not None else Value(0))
    return list(
        CaseFact.objects.filter(final=False)
        .annotate(now_case=F("case__version"), now_pathway=pathway_version,
                  now_stamp=settings_stamp("case__municipality__"))
        .filter(~Q(case_version=F("now_case")) | ~Q(pathway_version=F("now_pathway"))
                | ~Q(settings_stamp=F("now_stamp")) | Q(case__stage="closed"))
        .values_list("case_id", flat=True)
    )


def _rewrite(where: Q, *, only_missing: bool = False) -> list[int]:
    """(Re)write the rows of the cases matching `where`; returns their case ids."""
    with transaction.atomic():
        if not only_missing:
            ids = Case.objects.filter(where).values("pk")
            CaseFact.objects.filter(case_id__in=ids, final=False).delete()
        missing = where & ~Exists(CaseFact.objects.filter(case_id=OuterRef("pk")))
        sql, params = _insert_sql(missing)
        with connection.cursor() as cursor:
            cursor.execute(f"{sql} RETURNING case_id", params)
            written = [row[0] for row in cursor.fetchall()]
        _follow_ups(written)
        return written


def _follow_ups(case_ids: list[int]) -> None:
    """Rewrite the agreed next-meeting dates of these cases (from their plan versions)."""
    PlanVersion = _model("pathway.PlanVersion")
    Pathway = _model("pathway.Pathway")
    if not case_ids or PlanVersion is None or Pathway is None:
        return
    FollowUpFact.objects.filter(case_id__in=case_ids).delete()
    marks = ", ".join(["%s"] * len(case_ids))
    with connection.cursor() as cursor:
        cursor.execute(f"""
            INSERT INTO {FollowUpFact._meta.db_table} (version_id, case_id, region_id, municipality_id, opened_on,
                                                       held_on, agreed_on, next_held_on, exempt, closed_on)
            SELECT x.id, x.case_id, x.region_id, x.municipality_id, x.opened_on, x.held_on, x.agreed, x.next_held,
                   x.exempt, x.closed_on
            FROM (SELECT v.id, f.case_id, f.region_id, f.municipality_id, f.opened_on, v.held_on, v.meeting_kind,
                         v.next_meeting_on AS agreed, f.exempt, f.closed_on,
                         LEAD(v.held_on) OVER (PARTITION BY v.pathway_id ORDER BY v.number) AS next_held
                  FROM {PlanVersion._meta.db_table} v JOIN {Pathway._meta.db_table} p ON p.id = v.pathway_id
                  JOIN {CaseFact._meta.db_table} f ON f.case_id = p.case_id
                  WHERE p.case_id IN ({marks})) x
            WHERE x.meeting_kind = 'follow_up' AND x.agreed IS NOT NULL""", case_ids)


def facts_refresh_job() -> int:
    """The background loop's job: claims the refresh (one worker at a time, at most every
    REFRESH_SECONDS) with a conditional UPDATE that must change exactly one row."""
    now = timezone.now()
    FactsRefresh.objects.get_or_create(name="facts")
    claimed = FactsRefresh.objects.filter(
        Q(started_at__isnull=True) | Q(started_at__lt=now - dt.timedelta(seconds=REFRESH_SECONDS)),
        name="facts",
    ).update(started_at=now)
    if claimed != 1:
        return 0
    from tovholder.insight.rollup import rollup_asof, rollup_rebuild, rollup_update

    ids: list[int] = []
    written = facts_refresh(written_ids=ids)
    if rollup_asof() != timezone.localdate():
        rollup_rebuild()  # a new day: every open case's statuses moved with the date
    elif ids:
        rollup_update(case_ids=ids)
    FactsRefresh.objects.filter(name="facts").update(finished_at=timezone.now(), refreshed=written)
    return written


def facts_updated_at() -> dt.datetime | None:
    row = FactsRefresh.objects.filter(name="facts").values_list("finished_at", flat=True).first()
    return row
