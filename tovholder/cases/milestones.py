"""The committee clock as the case itself records it (8 working days from consent)."""

from __future__ import annotations

import datetime as dt

from tovholder.cases.models import Case
from tovholder.deadlines.clocks import Clock, Rules
from tovholder.deadlines.milestones import Milestone
from tovholder.deadlines.workdays import local_date


def committee_milestone(case: Case, rules: Rules, today: dt.date) -> list[Milestone]:
    if case.consent_completed_at is None:
        return []
    met_on = local_date(case.committee_decided_at) if case.committee_decided_at else None
    explanation = ""
    if met_on is not None and met_on > rules.committee_due(case.consent_completed_at):
        from tovholder.committee.selectors import committee_late_explanation

        explanation = committee_late_explanation(case.pk)
    return [
        Milestone(
            clock=Clock.COMMITTEE,
            due=rules.committee_due(case.consent_completed_at),
            met_on=met_on,
            exempt=case.exempt_from_deadlines,
            explanation=explanation,
        )
    ]
