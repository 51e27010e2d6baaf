"""The consent clocks on a case: the answer deadline and the day consent lapses.

Callers that compute milestones for many cases at once avoid a query per case with
`Case.objects.prefetch_related(consent_rounds_prefetch())`.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Prefetch

from tovholder.cases.models import Case, Stage
from tovholder.consent.models import ConsentRequest, ConsentRound
from tovholder.deadlines.clocks import Clock, Rules
from tovholder.deadlines.milestones import Milestone
from tovholder.deadlines.workdays import local_date

R = ConsentRound.Status
Q = ConsentRequest.Status


def consent_rounds_prefetch() -> Prefetch:
    return Prefetch(
        "consent_rounds",
        queryset=ConsentRound.objects.order_by("number").prefetch_related(
            Prefetch("requests", queryset=ConsentRequest.objects.defer("scan").order_by("id"))
        ),
    )


def rounds_of(case: Case) -> list[ConsentRound]:
    if "consent_rounds" in getattr(case, "_prefetched_objects_cache", {}):
        return list(case.consent_rounds.all())
    return list(Case.objects.filter(pk=case.pk).prefetch_related(consent_rounds_prefetch()).get()
                .consent_rounds.all()) if case.pk else []


def consent_milestones(case: Case, rules: Rules, today: dt.date) -> list[Milestone]:
    rounds = rounds_of(case)
    found: list[Milestone] = []
    if not rounds:
        if case.stage == Stage.AWAITING_CONSENT:
            found.append(Milestone(clock=Clock.CONSENT_ANSWER, due=rules.consent_answer_due(case.opened_at)))
        return found
    for consent_round in rounds:
        requests = [r for r in consent_round.requests.all() if r.status != Q.CANCELLED]
        if not requests:
            continue
        if consent_round.status == R.OPEN:
            pending = [r.current_due for r in requests if r.status == Q.PENDING]
            if pending:
                found.append(Milestone(clock=Clock.CONSENT_ANSWER, due=min(pending)))
        elif consent_round.status == R.COMPLETE and consent_round.kind == ConsentRound.Kind.INITIAL:
            found.append(Milestone(clock=Clock.CONSENT_ANSWER, due=max(r.current_due for r in requests),
                                   met_on=local_date(consent_round.completed_at)))
    if case.stage != Stage.CLOSED:
        complete = [r for r in rounds if r.status == R.COMPLETE]
        if complete:
            found.append(Milestone(clock=Clock.CONSENT_EXPIRY, due=max(r.expires_on for r in complete)))
    return found
