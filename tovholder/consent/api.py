from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import timezone
from ninja import Router, Schema
from ninja.errors import HttpError
from ninja.security import django_auth

from tovholder.access import Scope, inbox_municipalities, require_case
from tovholder.audit.actor import Actor
from tovholder.audit.models import AuditEvent
from tovholder.audit.services import audit_record_many
from tovholder.consent.models import ConsentRequest
from tovholder.consent.selectors import (
    case_consent,
    manage_grant,
    waiting_for_consent,
    waiting_rows,
)
from tovholder.consent.services import consent_withdraw_on_request

router = Router(tags=["consent"], auth=django_auth)


class PersonOut(Schema):
    request_id: int
    name: str
    capacity: str
    channel: str
    status: str
    requested_at: dt.datetime
    due: dt.date | None
    reminded_at: dt.datetime | None
    answered_at: dt.datetime | None
    answered_how: str
    text_version: int
    expires_on: dt.date | None
    withdrawn_at: dt.datetime | None
    version: int


class RoundOut(Schema):
    number: int
    kind: str
    status: str
    text_version: int
    started_at: dt.datetime
    completed_at: dt.datetime | None
    expires_on: dt.date | None
    people: list[PersonOut]


class CaseConsentOut(Schema):
    case_id: int
    processing_allowed: bool
    rounds: list[RoundOut]


class WaitingOut(Schema):
    case_id: int
    reference: str
    child_name: str
    kind: str
    given: int
    required: int
    due: dt.date | None
    days_left: int | None
    reminded: bool


class WithdrawIn(Schema):
    note: str
    version: int | None = None


def _person(r: ConsentRequest) -> dict:
    return {
        "request_id": r.pk, "name": r.person_name, "capacity": r.capacity, "channel": r.channel,
        "status": r.status, "requested_at": r.requested_at,
        "due": r.current_due if r.status == ConsentRequest.Status.PENDING else None,
        "reminded_at": r.reminded_at, "answered_at": r.answered_at, "answered_how": r.answered_how,
        "text_version": r.text.version, "expires_on": r.expires_on, "withdrawn_at": r.withdrawn_at,
        "version": r.version,
    }


@router.get("/cases/{case_id}/consent", response=CaseConsentOut, summary="Samtykke i et forløb")
def get_case_consent(request, case_id: int):
    case, _ = require_case(request.user, case_id, scope=Scope.INTAKE, summary="Samtykke vist (API)")
    consent = case_consent(case=case, today=timezone.localdate())
    return {
        "case_id": case.pk,
        "processing_allowed": consent.allowed,
        "rounds": [
            {"number": c.number, "kind": c.kind, "status": c.status, "text_version": c.text.version,
             "started_at": c.started_at, "completed_at": c.completed_at, "expires_on": c.expires_on,
             "people": [_person(r) for r in c.requests.all()]}
            for c in consent.rounds
        ],
    }


@router.get("/consent/waiting", response=list[WaitingOut], summary="Forløb der afventer samtykke")
def list_waiting(request):
    municipality_ids = inbox_municipalities(request.user)
    if not municipality_ids:
        raise Http404
    cases = list(waiting_for_consent(municipality_ids=municipality_ids))
    if cases:
        audit_record_many(actor=Actor(user=request.user), action=AuditEvent.Action.SEARCH, basis="inbox",
                          cases=cases, criterion="Afventer samtykke (API)")
    return [
        {"case_id": r.case.pk, "reference": r.case.reference, "child_name": r.case.child.full_name,
         "kind": r.consent_round.kind, "given": r.given, "required": r.required, "due": r.due,
         "days_left": r.days_left, "reminded": r.reminded}
        for r in waiting_rows(cases, timezone.localdate())
    ]


@router.post("/consent/requests/{request_id}/withdraw", response=PersonOut,
             summary="Træk et samtykke tilbage efter personens anmodning")
def withdraw_on_request(request, request_id: int, payload: WithdrawIn):
    req = ConsentRequest.objects.filter(pk=request_id).only("id", "case_id").first()
    if req is None:
        raise Http404
    case, _ = require_case(request.user, req.case_id, scope=Scope.INTAKE, summary="Samtykke: tilbagetrækning (API)")
    grant = manage_grant(request.user, case)
    if grant is None:
        raise Http404
    try:
        done = consent_withdraw_on_request(actor=grant.actor(request.user), basis=grant.basis, request=req,
                                           note=payload.note, expected_version=payload.version)
    except ValidationError as exc:
        raise HttpError(400, " ".join(exc.messages)) from None
    return _person(ConsentRequest.objects.select_related("text").defer("scan").get(pk=done.pk))
