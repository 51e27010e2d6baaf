"""Reads of consent for the case page, the inbox keeper's list and the API."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, Prefetch, QuerySet

from tovholder.access import Basis, case_grants
from tovholder.cases.models import Case, Stage
from tovholder.consent.gate import processing_allowed
from tovholder.consent.milestones import consent_rounds_prefetch, rounds_of
from tovholder.consent.models import ConsentRequest, ConsentRound
from tovholder.consent.services import required_people
from tovholder.organisations.models import User

R = ConsentRound.Status
Q = ConsentRequest.Status
# Who may register paper answers, withdraw on a person's request and send requests.
MANAGE_BASES = frozenset({Basis.LEAD, Basis.TEAM, Basis.COMMITTEE, Basis.INBOX})


def manage_grant(user: User, case: Case):
    for grant in case_grants(user, case):
        if grant.basis in MANAGE_BASES:
            return grant
    return None


def request_state(request: ConsentRequest, today: dt.date) -> tuple[str, str]:
    """(badge class, words) for one person's consent; words never rely on colour."""
    if request.status == Q.PENDING:
        due = request.current_due
        days = (due - today).days
        if days < 0:
            return "status-overdue", f"Afventer svar — fristen var {due:%d.%m.%Y}"
        return "status-due_soon", f"Afventer svar — frist {due:%d.%m.%Y} ({days} dage)"
    if request.status == Q.GIVEN:
        if request.round.status not in (R.OPEN, R.COMPLETE):
            return "status-exempt", f"Givet — ikke i kraft ({request.round.get_status_display().lower()})"
        if request.expires_on and request.expires_on <= today:
            return "status-overdue", f"Givet — udløbet {request.expires_on:%d.%m.%Y}"
        return "status-met", "Givet"
    if request.status == Q.CANCELLED:
        return "status-exempt", request.get_status_display()
    return "status-overdue", request.get_status_display()


@dataclass
class CaseConsent:
    rounds: list[ConsentRound]
    allowed: bool
    missing: list = field(default_factory=list)  # required people without a request

    @property
    def current(self) -> ConsentRound | None:
        return self.rounds[-1] if self.rounds else None


def case_consent(*, case: Case, today: dt.date) -> CaseConsent:
    rounds = rounds_of(case)
    missing = []
    open_round = next((r for r in rounds if r.status == R.OPEN), None)
    if case.stage == Stage.AWAITING_CONSENT and (open_round is not None or not rounds):
        have = {r.person_key for r in open_round.requests.all()} if open_round else set()
        missing = [p for p in required_people(case, today) if p.key not in have]
    return CaseConsent(rounds=rounds, allowed=processing_allowed(case), missing=missing)


@dataclass
class WaitingRow:
    case: Case
    consent_round: ConsentRound
    given: int
    required: int
    due: dt.date | None
    days_left: int | None
    reminded: bool
    paper: bool

    @property
    def overdue_by(self) -> int:
        return -self.days_left if self.days_left is not None and self.days_left < 0 else 0


def waiting_for_consent(*, municipality_ids: list[int]) -> QuerySet[Case]:
    open_round = ConsentRound.objects.filter(case=OuterRef("pk"), status=R.OPEN)
    return (
        Case.objects.filter(municipality_id__in=municipality_ids)
        .exclude(stage=Stage.CLOSED)
        .filter(Exists(open_round))
        .select_related("child", "municipality")
        .prefetch_related(Prefetch(
            "consent_rounds", queryset=ConsentRound.objects.filter(status=R.OPEN).prefetch_related(
                Prefetch("requests", queryset=ConsentRequest.objects.defer("scan").order_by("id"))),
            to_attr="open_rounds",
        ))
    )


def waiting_rows(cases, today: dt.date) -> list[WaitingRow]:
    rows = []
    for case in cases:
        consent_round = case.open_rounds[0]
        requests = [r for r in consent_round.requests.all() if r.status != Q.CANCELLED]
        pending = [r for r in requests if r.status == Q.PENDING]
        due = min((r.current_due for r in pending), default=None)
        rows.append(WaitingRow(
            case=case, consent_round=consent_round, given=sum(r.status == Q.GIVEN for r in requests),
            required=len(requests), due=due, days_left=(due - today).days if due else None,
            reminded=any(r.reminded_at for r in pending),
            paper=any(r.channel == ConsentRequest.Channel.PAPER for r in pending),
        ))
    rows.sort(key=lambda r: (r.due or dt.date.max, r.case.pk))
    return rows


__all__ = ["consent_rounds_prefetch", "case_consent", "waiting_for_consent", "waiting_rows", "manage_grant"]
