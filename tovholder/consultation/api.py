"""JSON API of consultation and referral onwards: the same selectors and access policy as
the pages (404 without a grant; reads of personal data audited)."""

from __future__ import annotations

import datetime as dt

from ninja import Router, Schema
from ninja.security import django_auth

from tovholder.access import Scope, advising_units, require_case, require_consultation
from tovholder.consultation import selectors

router = Router(tags=["sparring og henvisning"], auth=django_auth)


class ConsultationSummary(Schema):
    id: int
    reference: str
    subject: str
    status: str
    target_group: str
    anonymous: bool
    advising_unit: str
    asking_unit: str
    asked_at: dt.datetime
    slot_starts_at: dt.datetime | None = None
    recommendation: str


class MessageOut(Schema):
    kind: str
    author: str
    unit: str
    at: dt.datetime
    text: str
    attachments: list[str]


class ConsultationDetail(ConsultationSummary):
    basis: str
    case_id: int | None = None
    messages: list[MessageOut]


class SlotOut(Schema):
    id: int
    advising_unit: str
    target_group: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    capacity: int
    free: int


class AnswerOut(Schema):
    outcome: str
    reason: str
    expected_wait_weeks: int | None = None
    answered_on: dt.date


class ReferralOut(Schema):
    id: int
    receiver: str
    status: str
    priority: str
    sent_at: dt.datetime | None = None
    answers: list[AnswerOut]
    follow_up_due: dt.date | None = None
    follow_up_done: dt.date | None = None


def _summary(c) -> dict:
    booking = getattr(c, "booking", None) if hasattr(c, "booking") else None
    return {
        "id": c.pk, "reference": c.reference, "subject": c.subject, "status": c.status,
        "target_group": c.target_group, "anonymous": c.is_anonymous, "advising_unit": c.advising_unit.name,
        "asking_unit": c.asking_unit.name, "asked_at": c.asked_at, "recommendation": c.recommendation,
        "slot_starts_at": booking.slot.starts_at if booking else None,
    }


@router.get("/consultations", response=list[ConsultationSummary], summary="Mine spørgsmål og spørgsmål til min enhed")
def list_consultations(request):
    # The list names no child (subject and reference only), so it is not a read of personal data.
    mine = list(selectors.consultations_asked_by(user=request.user)[:200])
    units = advising_units(request.user)
    incoming = list(selectors.consultations_for_advisor(units=units)[:200]) if units else []
    seen = set()
    out = []
    for c in [*incoming, *mine]:
        if c.pk not in seen:
            seen.add(c.pk)
            out.append(_summary(c))
    return out


@router.get("/consultations/{consultation_id}", response=ConsultationDetail, summary="En sparring")
def get_consultation(request, consultation_id: int):
    c, grant, case = require_consultation(request.user, consultation_id, summary="Sparring vist (API)")
    messages = c.messages.select_related("author", "author_unit").prefetch_related("attachments")
    return {
        **_summary(c), "basis": grant.basis, "case_id": case.pk if case else None,
        "messages": [{"kind": m.kind, "author": m.author.get_full_name(), "unit": m.author_unit.name,
                      "at": m.created_at, "text": m.text, "attachments": [a.filename for a in m.attachments.all()]}
                     for m in messages],
    }


@router.get("/consultation-slots", response=list[SlotOut], summary="Kommende faste sparringstider")
def list_slots(request, target_group: str = ""):
    return [{"id": s.pk, "advising_unit": s.advising_unit.name, "target_group": s.target_group,
             "starts_at": s.starts_at, "ends_at": s.ends_at, "capacity": s.capacity, "free": max(s.free, 0)}
            for s in selectors.upcoming_slots(target_group=target_group)[:200]]


@router.get("/cases/{case_id}/referrals", response=list[ReferralOut], summary="Forløbets henvisninger videre")
def list_referrals(request, case_id: int):
    case, _grant = require_case(request.user, case_id, scope=Scope.CASE, summary="Henvisninger vist (API)")
    follow_ups = {f.answer.referral_id: f for f in selectors.case_follow_ups(case=case)}
    out = []
    for r in selectors.case_referrals(case=case):
        f = follow_ups.get(r.pk)
        out.append({
            "id": r.pk, "receiver": r.receiver_unit.name, "status": r.status, "priority": r.priority,
            "sent_at": r.sent_at,
            "answers": [{"outcome": a.outcome, "reason": a.reason, "expected_wait_weeks": a.expected_wait_weeks,
                         "answered_on": a.answered_on} for a in r.answers.all()],
            "follow_up_due": f.due_on if f else None, "follow_up_done": f.done_on if f else None,
        })
    return out
