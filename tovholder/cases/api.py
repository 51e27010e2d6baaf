from __future__ import annotations

import datetime as dt

from django.utils import timezone
from ninja import Router, Schema
from ninja.security import django_auth

from tovholder.access import Basis, Scope, require_case
from tovholder.audit.actor import Actor
from tovholder.audit.models import AuditEvent
from tovholder.audit.selectors import audit_for_case
from tovholder.audit.services import audit_record_many
from tovholder.cases.selectors import case_team, my_cases
from tovholder.deadlines.milestones import case_milestones

router = Router(tags=["forløb"], auth=django_auth)


class CaseSummary(Schema):
    id: int
    reference: str
    child_name: str
    age: int
    stage: str
    stage_label: str
    next_deadline: dt.date | None
    next_deadline_kind: str
    my_role: str | None = None


class TeamMemberOut(Schema):
    name: str
    unit: str
    role: str
    phone: str


class MilestoneOut(Schema):
    clock: str
    label: str
    due: dt.date | None
    met_on: dt.date | None
    status: str


class CaseDetail(CaseSummary):
    municipality: str
    basis: str
    team: list[TeamMemberOut]
    milestones: list[MilestoneOut]


class AuditOut(Schema):
    at: dt.datetime
    actor: str
    unit: str | None
    action: str
    basis: str
    summary: str


def _summary(case, my_role=None) -> dict:
    return {
        "id": case.pk, "reference": case.reference, "child_name": case.child.full_name,
        "age": case.child.age, "stage": case.stage, "stage_label": case.get_stage_display(),
        "next_deadline": case.next_deadline, "next_deadline_kind": case.next_deadline_kind,
        "my_role": my_role,
    }


@router.get("/cases", response=list[CaseSummary], summary="Mine forløb")
def list_my_cases(request):
    cases = list(my_cases(user=request.user))
    if cases:
        audit_record_many(actor=Actor(user=request.user), action=AuditEvent.Action.SEARCH, basis=Basis.TEAM,
                          cases=cases, criterion="Mine forløb (API)")
    return [_summary(c, c.my_role) for c in cases]


@router.get("/cases/{case_id}", response=CaseDetail, summary="Et forløb")
def get_case(request, case_id: int):
    case, grant = require_case(request.user, case_id, scope=Scope.CASE)
    today = timezone.localdate()
    return {
        **_summary(case),
        "municipality": case.municipality.name,
        "basis": grant.basis,
        "team": [
            {"name": str(m.user), "unit": m.unit.name, "role": m.role, "phone": m.user.phone}
            for m in case_team(case=case)
        ],
        "milestones": [
            {"clock": m.clock, "label": m.label, "due": m.due, "met_on": m.met_on, "status": m.status(today)}
            for m in case_milestones(case, today)
        ],
    }


@router.get("/cases/{case_id}/audit", response=list[AuditOut], summary="Forløbets revisionsspor")
def get_case_audit(request, case_id: int):
    case, _ = require_case(request.user, case_id, scope=Scope.AUDIT, summary="Revisionsspor vist (API)")
    return [
        {"at": e.at, "actor": e.actor, "unit": e.unit.name if e.unit else None, "action": e.action,
         "basis": e.basis, "summary": e.summary}
        for e in audit_for_case(case_id=case.pk)[:500]
    ]
