"""The pathway's JSON API: the same reads and services as the pages."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import timezone
from ninja import Router, Schema
from ninja.errors import HttpError
from ninja.security import django_auth

from tovholder.access import Scope, require_case
from tovholder.deadlines.milestones import case_milestones
from tovholder.pathway.clocks import PATHWAY_CLOCKS
from tovholder.pathway.models import Pathway, PlanVersion

router = Router(tags=["fælles forløb"], auth=django_auth)


class LeadOut(Schema):
    name: str
    title: str
    unit: str
    phone: str
    email: str


class MilestoneOut(Schema):
    clock: str
    label: str
    due: dt.date | None
    met_on: dt.date | None
    status: str
    explanation: str


class VersionSummary(Schema):
    number: int
    meeting_kind: str
    held_on: dt.date
    next_meeting_on: dt.date | None


class PathwayOut(Schema):
    case_id: int
    reference: str
    lead: LeadOut
    next_meeting_on: dt.date | None
    closed_on: dt.date | None
    milestones: list[MilestoneOut]
    versions: list[VersionSummary]


class PlanOut(Schema):
    number: int
    held_on: dt.date
    content: dict


class ExplanationIn(Schema):
    clock: str
    due_on: dt.date
    text: str


def _pathway(request, case_id: int, scope: str = Scope.CASE, summary: str = "Fælles forløb vist (API)"):
    case, grant = require_case(request.user, case_id, scope=scope, summary=summary)
    pathway = Pathway.objects.select_related("lead_user", "lead_unit").filter(case=case).first()
    if pathway is None:
        raise Http404
    return case, grant, pathway


@router.get("/pathways/{case_id}", response=PathwayOut, summary="Et fælles forløb: indsatsansvarlig, frister, versioner")
def get_pathway(request, case_id: int):
    case, _grant, pathway = _pathway(request, case_id)
    today = timezone.localdate()
    lead = pathway.lead_user
    return {
        "case_id": case.pk, "reference": case.reference,
        "lead": {"name": lead.get_full_name(), "title": lead.title, "unit": pathway.lead_unit.name,
                 "phone": lead.phone, "email": lead.email},
        "next_meeting_on": pathway.next_meeting_on, "closed_on": pathway.closed_on,
        "milestones": [
            {"clock": str(m.clock), "label": m.label, "due": m.due, "met_on": m.met_on,
             "status": str(m.status(today)), "explanation": m.explanation}
            for m in case_milestones(case, today) if m.clock in PATHWAY_CLOCKS
        ],
        "versions": list(pathway.versions.order_by("number").values("number", "meeting_kind", "held_on",
                                                                   "next_meeting_on")),
    }


@router.get("/pathways/{case_id}/plan/{number}", response=PlanOut, summary="En version af handleplanen")
def get_plan_version(request, case_id: int, number: int):
    _case, _grant, pathway = _pathway(request, case_id, summary=f"Handleplan version {number} vist (API)")
    version = PlanVersion.objects.filter(pathway=pathway, number=number).first()
    if version is None:
        raise Http404
    return {"number": version.number, "held_on": version.held_on, "content": version.content}


@router.post("/pathways/{case_id}/explanations", response={201: MilestoneOut},
             summary="Forklaring på en overskredet frist (den indsatsansvarlige)")
def post_explanation(request, case_id: int, payload: ExplanationIn):
    from tovholder.pathway.services import deadline_explain

    case, grant, _pathway_ = _pathway(request, case_id, Scope.MANAGE)
    try:
        deadline_explain(actor=grant.actor(request.user), basis=grant.basis, case=case, clock=payload.clock,
                         due_on=payload.due_on, text=payload.text)
    except ValidationError as exc:
        raise HttpError(422, " ".join(exc.messages)) from None
    today = timezone.localdate()
    m = next(m for m in case_milestones(case, today) if str(m.clock) == payload.clock and m.due == payload.due_on)
    return 201, {"clock": str(m.clock), "label": m.label, "due": m.due, "met_on": m.met_on,
                 "status": str(m.status(today)), "explanation": m.explanation}
