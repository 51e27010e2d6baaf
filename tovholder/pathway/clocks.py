"""The pathway's clocks (DOMAIN.md "Deadlines"): start meeting, assessing/treating
intervention, first follow-up, next follow-up — as milestones of the case, and as one
set-based SQL sweep that keeps `Case.next_deadline` right for every active pathway.

Rules (deadlines/clocks.py Rules, from the municipality's settings):
- start meeting: `start_meeting_weeks` after the committee's decision (its Copenhagen date);
- assessing/treating intervention started: `intervention_weeks` after the start meeting —
  exempt when the start meeting found no such intervention needed;
- first follow-up: `first_follow_up_weeks` after the start meeting;
- each later follow-up: the date agreed at the previous meeting (required on every record
  but the closing one).
The clocks count calendar weeks, as the model says: holidays and weekends do not stretch them.
"""

from __future__ import annotations

import datetime as dt

from django.db import connection, transaction

from tovholder.cases.models import Case
from tovholder.deadlines.clocks import Clock, Rules, Status
from tovholder.deadlines.milestones import Milestone, case_milestones

PATHWAY_CLOCKS = (Clock.START_MEETING, Clock.INTERVENTION, Clock.FIRST_FOLLOW_UP, Clock.NEXT_FOLLOW_UP)
NEEDS_EXPLANATION = (Status.OVERDUE, Status.MET_LATE)


def pathway_milestones(case: Case, rules: Rules, today: dt.date) -> list[Milestone]:
    """Milestone provider (registered in PathwayConfig.ready)."""
    from tovholder.pathway.models import DeadlineExplanation, Pathway, PlanVersion

    pathway = Pathway.objects.filter(case_id=case.pk).first()
    if pathway is None:
        return []
    exempt = case.exempt_from_deadlines
    explained = {(e.clock, e.due_on): e.text for e in DeadlineExplanation.objects.filter(case_id=case.pk)}

    def milestone(clock: Clock, due: dt.date | None, met_on: dt.date | None, *, exempt_too: bool = False):
        return Milestone(clock=clock, due=due, met_on=met_on, exempt=exempt or exempt_too,
                         explanation=explained.get((str(clock), due), ""))

    # decided_on is the Copenhagen date of the committee's decision (Rules.start_meeting_due).
    decided = pathway.decided_on + dt.timedelta(weeks=rules.start_meeting_weeks)
    found = [milestone(Clock.START_MEETING, decided, pathway.start_meeting_on)]
    start = pathway.start_meeting_on
    if start is None:
        return found
    found.append(milestone(Clock.INTERVENTION, rules.intervention_due(start), pathway.intervention_started_on,
                           exempt_too=not pathway.needs_assessment))
    found.append(milestone(Clock.FIRST_FOLLOW_UP, rules.first_follow_up_due(start), pathway.first_follow_up_on))
    if pathway.first_follow_up_on is None:
        return found
    # From the first follow-up on, each meeting's agreed date is the next clock, met by the
    # next meeting held. Past ones from the plan's versions; the open one from the pathway's
    # own fact column, which is what the set-based sweep reads too.
    versions = list(PlanVersion.objects.filter(pathway=pathway).exclude(meeting_kind="start")
                    .order_by("number").values_list("held_on", "next_meeting_on"))
    for (_held, agreed), (next_held, _next) in zip(versions, versions[1:], strict=False):
        if agreed is not None:
            found.append(milestone(Clock.NEXT_FOLLOW_UP, agreed, next_held))
    if pathway.closed_on is None and pathway.next_meeting_on is not None:
        found.append(milestone(Clock.NEXT_FOLLOW_UP, pathway.next_meeting_on, None))
    return found


def needs_explanation(milestone: Milestone, today: dt.date) -> bool:
    return (milestone.clock in PATHWAY_CLOCKS and milestone.status(today) in NEEDS_EXPLANATION
            and not milestone.explanation)


def unexplained(case: Case, today: dt.date) -> list[Milestone]:
    return [m for m in case_milestones(case, today) if needs_explanation(m, today)]


# ---- The set-based sweep -------------------------------------------------------------------

def _plus_days(column: str, days_sql: str) -> str:
    if connection.vendor == "postgresql":
        return f"({column} + ({days_sql}))"
    return f"date({column}, '+' || ({days_sql}) || ' days')"


def _least(*parts: str) -> str:
    far = "DATE '9999-12-31'" if connection.vendor == "postgresql" else "'9999-12-31'"
    fn = "LEAST" if connection.vendor == "postgresql" else "MIN"
    return f"NULLIF({fn}({', '.join(f'COALESCE({p}, {far})' for p in parts)}), {far})"


def _due_sql() -> str:
    """One row per active pathway in an id range: the earliest open pathway deadline and its
    clock. Ties break in the order the milestone list sorts them (by clock name)."""
    start = _plus_days("p.decided_on", "7 * m.start_meeting_weeks")
    follow = _plus_days("p.start_meeting_on", "7 * m.first_follow_up_weeks")
    interv = _plus_days("p.start_meeting_on", "7 * m.intervention_weeks")
    true = "TRUE" if connection.vendor == "postgresql" else "1"
    return f"""
        SELECT x.case_id, x.d,
               CASE WHEN x.d IS NULL THEN ''
                    WHEN x.ff = x.d THEN 'first_follow_up'
                    WHEN x.iv = x.d THEN 'intervention'
                    WHEN x.nf = x.d THEN 'next_follow_up'
                    ELSE 'start_meeting' END AS kind
        FROM (
            SELECT y.*, {_least("y.sm", "y.ff", "y.iv", "y.nf")} AS d FROM (
                SELECT p.case_id,
                  CASE WHEN p.start_meeting_on IS NULL THEN {start} END AS sm,
                  CASE WHEN p.start_meeting_on IS NOT NULL AND p.first_follow_up_on IS NULL THEN {follow} END AS ff,
                  CASE WHEN p.start_meeting_on IS NOT NULL AND p.needs_assessment = {true}
                            AND p.intervention_started_on IS NULL THEN {interv} END AS iv,
                  CASE WHEN p.first_follow_up_on IS NOT NULL THEN p.next_meeting_on END AS nf
                FROM pathway_pathway p
                JOIN cases_case c ON c.id = p.case_id
                JOIN organisations_municipality m ON m.id = c.municipality_id
                WHERE p.closed_on IS NULL AND c.stage <> 'closed' AND c.exempt_from_deadlines = {"FALSE" if true == "TRUE" else "0"}
                  AND p.id >= %s AND p.id < %s
            ) y
        ) x
    """


def sweep_deadlines(*, chunk: int = 25_000) -> int:
    """Refresh `Case.next_deadline` for every active pathway in set-based UPDATEs, one id
    range (its own short transaction) at a time. Returns how many cases changed.

    Another part's earlier open deadline stored on the case (consent expiry…) is kept: its
    owner keeps it fresh. Where the pathway has no open deadline (exempt cases) the full
    per-case refresh decides, since only it knows every provider."""
    from tovholder.deadlines.services import case_refresh_deadline
    from tovholder.pathway.models import Pathway

    bounds = Pathway.objects.filter(closed_on__isnull=True).order_by("id").values_list("id", flat=True)
    first = bounds.first()
    if first is None:
        return 0
    last = bounds.last()
    mine = ", ".join(f"'{c}'" for c in PATHWAY_CLOCKS)
    distinct = "IS DISTINCT FROM" if connection.vendor == "postgresql" else "IS NOT"
    changed = 0
    for low in range(first, last + 1, chunk):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"""
                UPDATE cases_case SET next_deadline = due.d, next_deadline_kind = due.kind
                FROM ({_due_sql()}) AS due
                WHERE cases_case.id = due.case_id AND due.d IS NOT NULL
                  AND (cases_case.next_deadline {distinct} due.d OR cases_case.next_deadline_kind <> due.kind)
                  AND NOT (cases_case.next_deadline IS NOT NULL
                           AND cases_case.next_deadline_kind NOT IN ({mine}, '')
                           AND cases_case.next_deadline < due.d)
                """,
                [low, low + chunk],
            )
            changed += cursor.rowcount
    # Exempt (or otherwise clock-less) active pathways whose stored deadline is one of ours.
    stale = Case.objects.filter(pathway__closed_on__isnull=True, next_deadline_kind__in=[str(c) for c in PATHWAY_CLOCKS],
                                exempt_from_deadlines=True).exclude(stage="closed")
    for case in stale.select_related("municipality"):
        with transaction.atomic():
            before = case.next_deadline
            case_refresh_deadline(case=case)
            changed += before != case.next_deadline
    return changed
