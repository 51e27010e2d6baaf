"""The committee's JSON API: the agenda, meetings, a case at the committee, decisions,
exemption, minutes and the lead's way back — the same services as the pages."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from ninja import Router, Schema, Status
from ninja.errors import HttpError
from ninja.security import django_auth

from tovholder.access import Basis, Scope, require_case
from tovholder.audit.actor import Actor
from tovholder.committee import selectors as sel
from tovholder.committee import services
from tovholder.committee.guards import audit_list, municipality_by_code, require_item, require_seat
from tovholder.committee.models import (
    AgendaItem,
    CommitteeDecision,
    CommitteeMeeting,
    DecisionKind,
    UnitNote,
)
from tovholder.organisations.models import Unit, User

router = Router(tags=["koordinationsudvalg"], auth=django_auth)


class Error(Schema):
    detail: str


class MeetingOut(Schema):
    id: int
    date: dt.date
    starts_at: dt.datetime
    ends_at: dt.datetime
    kind: str
    status: str
    location: str
    video_link: str
    cancel_reason: str


class InviteeOut(Schema):
    name: str
    role: str


class ItemOut(Schema):
    id: int
    case_id: int
    reference: str
    child_name: str
    age: int
    school: str | None
    origin: str
    ready_at: dt.datetime
    due: dt.date
    deadline_status: str
    misses_deadline: bool
    invited: list[InviteeOut]
    state: str
    version: int


class AgendaOut(Schema):
    municipality: str
    role: str
    next_meeting: MeetingOut | None
    items: list[ItemOut]


class NoteOut(Schema):
    unit: str
    author: str
    text: str
    updated_at: dt.datetime


class DecisionOut(Schema):
    id: int
    kind: str
    meeting_id: int | None
    decided_at: dt.datetime
    conclusion: str
    reason: str
    exemption_ground: str
    lead: str | None
    lead_phone: str | None
    unit: str | None
    referred_to: str


class ItemDetailOut(ItemOut):
    return_reason: str
    compliance: str
    late_explanation: str
    exempt_from_deadlines: bool
    notes: list[NoteOut]
    decisions: list[DecisionOut]


class MeetingIn(Schema):
    day: dt.date
    starts_at: dt.time
    ends_at: dt.time
    location: str = ""
    video_link: str = ""


class DecisionIn(Schema):
    kind: str
    conclusion: str = ""
    lead_user_id: int | None = None
    lead_unit_id: int | None = None
    unit_id: int | None = None
    referred_to: str = ""
    reason: str = ""
    late_explanation: str = ""
    version: int | None = None


class ExemptionIn(Schema):
    ground: str
    reason: str
    meeting_id: int | None = None


class ReturnIn(Schema):
    reason: str


class ApprovedOut(Schema):
    sent: int


def _refused(exc: ValidationError) -> HttpError:
    return HttpError(400, " ".join(exc.messages))


def _meeting(m: CommitteeMeeting) -> dict:
    return {"id": m.pk, "date": m.scheduled_on, "starts_at": m.starts_at, "ends_at": m.ends_at, "kind": m.kind,
            "status": m.status, "location": m.location, "video_link": m.video_link, "cancel_reason": m.cancel_reason}


def _item(row: sel.AgendaRow) -> dict:
    case = row.item.case
    return {
        "id": row.item.pk, "case_id": case.pk, "reference": case.reference, "child_name": case.child.full_name,
        "age": case.child.age, "school": case.child.school.name if case.child.school else None,
        "origin": row.item.origin, "ready_at": row.item.ready_at, "due": row.due, "deadline_status": row.status,
        "misses_deadline": row.misses_deadline, "state": row.item.state, "version": row.item.version,
        "invited": [{"name": str(p.user), "role": p.role} for p in row.invited],
    }


def _decision(d: CommitteeDecision) -> dict:
    return {
        "id": d.pk, "kind": d.kind, "meeting_id": d.meeting_id, "decided_at": d.decided_at, "conclusion": d.conclusion,
        "reason": d.reason, "exemption_ground": d.exemption_ground,
        "lead": str(d.lead_user) if d.lead_user else None, "lead_phone": d.lead_user.phone if d.lead_user else None,
        "unit": d.unit.name if d.unit else None, "referred_to": d.referred_to,
    }


@router.get("/committee/agenda", response=AgendaOut, summary="Udvalgets dagsorden")
def get_agenda(request, kommune: str | None = None):
    seat = require_seat(request.user, municipality_by_code(kommune))
    if seat.is_member:
        services.meetings_generate(actor=services.JOB, municipality=seat.municipality)
        services.agenda_sync(actor=services.JOB, municipality=seat.municipality)
    nxt = sel.next_meeting(seat.municipality)
    rows = sel.agenda_rows(list(sel.agenda_items(seat)), municipality=seat.municipality)
    audit_list(request.user, seat, [r.case for r in rows], "Udvalgets dagsorden (API)")
    return {"municipality": seat.municipality.name, "role": seat.role,
            "next_meeting": _meeting(nxt) if nxt else None, "items": [_item(r) for r in rows]}


@router.get("/committee/meetings", response=list[MeetingOut], summary="Udvalgets kommende møder")
def list_meetings(request, kommune: str | None = None):
    seat = require_seat(request.user, municipality_by_code(kommune), member=True)
    return [_meeting(m) for m in sel.upcoming_meetings(seat.municipality, limit=26)]


@router.post("/committee/meetings", response={201: MeetingOut, 400: Error}, summary="Tilføj et ekstra møde")
def add_meeting(request, data: MeetingIn, kommune: str | None = None):
    seat = require_seat(request.user, municipality_by_code(kommune), chair=True)
    try:
        meeting = services.meeting_add(actor=Actor(user=request.user, unit=seat.unit), municipality=seat.municipality,
                                       **data.dict())
    except ValidationError as exc:
        raise _refused(exc) from exc
    return Status(201, _meeting(meeting))


@router.get("/committee/items/{item_id}", response=ItemDetailOut, summary="En sag hos udvalget")
def get_item(request, item_id: int):
    item, case, grant = require_item(request.user, item_id, summary="Sagen vist for koordinationsudvalget (API)")
    row = sel.agenda_rows([item], municipality=item.municipality)[0]
    return {
        **_item(row), "return_reason": item.return_reason, "compliance": item.compliance,
        "late_explanation": item.late_explanation, "exempt_from_deadlines": case.exempt_from_deadlines,
        "notes": [{"unit": n.unit.name, "author": str(n.author), "text": n.text, "updated_at": n.updated_at}
                  for n in UnitNote.objects.filter(item=item).select_related("unit", "author")],
        "decisions": [_decision(d) for d in sel.item_history(item)],
    }


@router.post("/committee/meetings/{meeting_id}/items/{item_id}/decision", response={201: DecisionOut, 400: Error},
             summary="Udvalgets afgørelse på et møde (eller udsættelse)")
def post_decision(request, meeting_id: int, item_id: int, data: DecisionIn):
    meeting = get_object_or_404(CommitteeMeeting, pk=meeting_id)
    seat = require_seat(request.user, meeting.municipality_id, member=True)
    item, case, grant = require_item(request.user, item_id, summary="Sagen behandlet på udvalgsmødet (API)")
    if item.municipality_id != meeting.municipality_id:
        raise HttpError(404, "Not Found")
    actor = Actor(user=request.user, unit=seat.unit)

    def pick(model, pk):
        if pk is None:
            return None
        found = model.objects.filter(pk=pk).first()
        if found is None:
            raise HttpError(400, f"Ukendt {model._meta.verbose_name}: {pk}")
        return found

    try:
        if data.kind == DecisionKind.POSTPONE:
            decision = services.item_postpone(actor=actor, basis=grant.basis, item=item, meeting=meeting,
                                              reason=data.reason, expected_version=data.version)
        else:
            decision = services.decision_record(
                actor=actor, basis=grant.basis, item=item, meeting=meeting, kind=data.kind, conclusion=data.conclusion,
                lead_user=pick(User, data.lead_user_id), lead_unit=pick(Unit, data.lead_unit_id),
                unit=pick(Unit, data.unit_id), referred_to=data.referred_to, late_explanation=data.late_explanation,
                expected_version=data.version)
    except ValidationError as exc:
        raise _refused(exc) from exc
    return Status(201, _decision(decision))


@router.post("/committee/items/{item_id}/exemption", response={201: DecisionOut, 400: Error},
             summary="Undtag forløbet fra tidsfristerne")
def post_exemption(request, item_id: int, data: ExemptionIn):
    item, case, grant = require_item(request.user, item_id)
    seat = require_seat(request.user, item.municipality_id, member=True)
    meeting = None
    if data.meeting_id is not None:
        meeting = get_object_or_404(CommitteeMeeting, pk=data.meeting_id, municipality_id=item.municipality_id)
    try:
        decision = services.case_exempt_from_deadlines(actor=Actor(user=request.user, unit=seat.unit), basis=grant.basis,
                                                       item=item, ground=data.ground, reason=data.reason, meeting=meeting)
    except ValidationError as exc:
        raise _refused(exc) from exc
    return Status(201, _decision(decision))


@router.post("/committee/meetings/{meeting_id}/approve", response={200: ApprovedOut, 400: Error},
             summary="Godkend og send mødets referater, og afslut mødet")
def approve_minutes(request, meeting_id: int):
    meeting = get_object_or_404(CommitteeMeeting, pk=meeting_id)
    seat = require_seat(request.user, meeting.municipality_id, chair=True)
    try:
        n = services.meeting_minutes_approve(actor=Actor(user=request.user, unit=seat.unit), meeting=meeting)
    except ValidationError as exc:
        raise _refused(exc) from exc
    return {"sent": n}


@router.post("/committee/cases/{case_id}/return", response={201: ItemOut, 400: Error},
             summary="Den indsatsansvarlige sender forløbet tilbage til udvalget")
def return_case(request, case_id: int, data: ReturnIn):
    case, grant = require_case(request.user, case_id, scope=Scope.MANAGE, summary="Sendt tilbage til udvalget (API)")
    if grant.basis != Basis.LEAD:
        raise HttpError(404, "Not Found")
    try:
        item = services.committee_return_case(actor=grant.actor(request.user), case=case, reason=data.reason)
    except ValidationError as exc:
        raise _refused(exc) from exc
    item = AgendaItem.objects.select_related("case__child__school", "municipality", "returned_by").get(pk=item.pk)
    row = sel.agenda_rows([item], municipality=item.municipality)[0]
    return Status(201, _item(row))
