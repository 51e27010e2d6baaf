"""The single entry's JSON API: the MedCom endpoint, the directory, and the inbox keeper's
work (the same services as the pages)."""

from __future__ import annotations

import datetime as dt
import hmac

from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.utils import timezone
from ninja import Router, Schema, Status
from ninja.security import django_auth

from tovholder import access
from tovholder.audit.actor import Actor
from tovholder.cases.models import Case
from tovholder.inbox import conf, selectors, services
from tovholder.inbox.models import Thread
from tovholder.inbox.services.intake import EVIDENCE_BYTES
from tovholder.medcom.parse import MAX_BODY_BYTES
from tovholder.organisations.models import Municipality, Unit

router = Router(tags=["inbox"], auth=django_auth)

READ_CHUNK = 1024 * 1024


def read_body(request) -> tuple[bytes, int, bool]:
    """The request body, read in chunks and never more than the 50 MB limit (plus one byte
    to know it was exceeded). Over the limit only the beginning is kept, as evidence."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > MAX_BODY_BYTES:
        return request.read(EVIDENCE_BYTES), declared, True
    chunks: list[bytes] = []
    total = 0
    while True:
        chunk = request.read(READ_CHUNK)
        if not chunk:
            break
        total += len(chunk)
        if total > MAX_BODY_BYTES:
            head = b"".join(chunks)[:EVIDENCE_BYTES]
            return head, total, True
        chunks.append(chunk)
    return b"".join(chunks), total, False


_MESSAGE_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "application/fhir+json": {"schema": {"type": "object", "description": "A CareCommunication or Acknowledgement Bundle"}},
            "application/fhir+xml": {"schema": {"type": "string"}},
        },
    },
    "responses": {
        "200": {"description": "The MedCom Acknowledgement bundle (ok or fatal-error), in the request's format",
                "content": {"application/fhir+json": {}, "application/fhir+xml": {}}},
        "204": {"description": "An Acknowledgement of a message we sent was received (it is never acknowledged)"},
        "401": {"description": "MEDCOM_INBOUND_TOKEN is set and X-MedCom-Token did not match"},
    },
}


@router.post("/medcom/messages", auth=None, summary="Modtag en MedCom-besked (CareCommunication eller kvittering)",
              openapi_extra=_MESSAGE_DOC, include_in_schema=True)
def receive_message(request):
    """Machine to machine: no session, no CSRF. In production VANS/mTLS sits in front; when
    MEDCOM_INBOUND_TOKEN is set the header X-MedCom-Token must carry it as well."""
    token = conf.inbound_token()
    if token and not hmac.compare_digest(request.headers.get("X-MedCom-Token", "").encode(), token.encode()):
        return HttpResponse(status=401)
    body, size, truncated = read_body(request)
    reception = services.medcom_receive(
        body=body, content_type=request.headers.get("Content-Type", ""), channel="http",
        source=request.META.get("REMOTE_ADDR", ""), size=size, truncated=truncated)
    if reception.status == 204:
        return HttpResponse(status=204)
    return HttpResponse(reception.body, status=reception.status, content_type=reception.content_type)


# --------------------------------------------------------------------------- directory


class DirectoryOut(Schema):
    municipality: str
    code: str
    region: str
    has_entry: bool
    entry: str
    sor: str
    ean: str
    phone: str
    email: str


@router.get("/directory", auth=None, response=list[DirectoryOut],
            summary="Hvor sender jeg en henvisning om et barn, der bor i …?")
def directory(request, kommune: str = ""):
    return [{**row.__dict__, "ean": row.gln} for row in selectors.directory(query=kommune)]


# --------------------------------------------------------------------------- the inbox


class Error(Schema):
    detail: str


class ItemOut(Schema):
    id: int
    kind: str
    status: str
    received_at: dt.datetime
    age_working_days: int
    overdue: bool
    municipality: str
    referrer: str
    child_name: str
    summary: str
    thread_id: int
    case_id: int | None


class SegmentOut(Schema):
    id: int
    kind: str
    timestamp: dt.datetime
    outgoing: bool
    author: str
    organisation: str
    text: str
    title: str
    content_type: str
    size: int
    carried_over: bool


class OutboundOut(Schema):
    id: int
    reason: str
    activity: str
    status: str
    header_id: str
    attempts: int
    created_at: dt.datetime
    acked_at: dt.datetime | None


class ThreadOut(Schema):
    id: int
    channel: str
    municipality: str
    referrer: str
    child_name: str
    category: str
    topic: str
    case_id: int | None
    beginning_missing: bool
    segments: list[SegmentOut]
    outbound: list[OutboundOut]


class ItemDetail(ItemOut):
    patient_cpr: str
    thread: ThreadOut


def _item_out(row) -> dict:
    item = row.item
    return {
        "id": item.pk, "kind": item.kind, "status": item.status, "received_at": item.received_at,
        "age_working_days": row.age_working_days, "overdue": row.overdue and item.is_new,
        "municipality": item.municipality.name, "referrer": item.thread.referrer_label,
        "child_name": item.thread.patient_name, "summary": item.summary, "thread_id": item.thread_id,
        "case_id": item.case_id,
    }


def _thread_out(thread: Thread) -> dict:
    return {
        "id": thread.pk, "channel": thread.channel, "municipality": thread.municipality.name,
        "referrer": thread.referrer_label, "child_name": thread.patient_name, "category": thread.category,
        "topic": thread.topic, "case_id": thread.case_id, "beginning_missing": thread.beginning_missing,
        "segments": [
            {"id": s.pk, "kind": s.kind, "timestamp": s.timestamp, "outgoing": s.outgoing, "author": s.author_name,
             "organisation": s.organisation, "text": s.text, "title": s.title, "content_type": s.content_type,
             "size": s.size, "carried_over": s.carried_over}
            for s in selectors.thread_segments(thread=thread)
        ],
        "outbound": [
            {"id": o.pk, "reason": o.reason, "activity": o.activity, "status": o.status, "header_id": o.header_id,
             "attempts": o.attempts, "created_at": o.created_at, "acked_at": o.acked_at}
            for o in selectors.thread_outbound(thread=thread)
        ],
    }


@router.get("/inbox/items", response=list[ItemOut], summary="Nye henvendelser i mine indgange, ældste først")
def list_items(request):
    return [_item_out(row) for row in selectors.new_items(user=request.user)]


@router.get("/inbox/items/{item_id}", response=ItemDetail, summary="En henvendelse med dens tråd")
def get_item(request, item_id: int):
    item, grant = access.require_inbox_item(request.user, item_id, keeper_only=False)
    row = selectors.item_age(item, timezone.localdate(), item.municipality)
    return {**_item_out(row), "patient_cpr": item.thread.patient_cpr, "thread": _thread_out(item.thread)}


class HolderIn(Schema):
    name: str
    relation: str
    cpr: str = ""
    email: str = ""
    phone: str = ""
    has_digital_post: bool = True


class OpenCaseIn(Schema):
    cpr: str
    given_name: str
    family_name: str
    custody_holders: list[HolderIn] = []
    school_id: int | None = None
    referral_channel: str | None = None
    # Only for a replacement CPR number without a birth date in it (else the MedCom message's).
    birth_date: dt.date | None = None


class OpenCaseOut(Schema):
    case_id: int
    reference: str
    stage: str
    is_re_referral: bool


def _keeper_item(request, item_id: int):
    return access.require_inbox_item(request.user, item_id, audit=False)


@router.post("/inbox/items/{item_id}/open-case", response={200: OpenCaseOut, 400: Error},
             summary="Opret forløb for henvendelsens barn (afventer samtykke); kvittering til henviseren")
def open_case(request, item_id: int, payload: OpenCaseIn):
    item, grant = _keeper_item(request, item_id)
    school = None
    if payload.school_id is not None:
        school = Unit.objects.filter(pk=payload.school_id, kind=Unit.Kind.SCHOOL).first()
        if school is None:
            return Status(400, {"detail": "Ukendt skole."})
    try:
        case = services.inbox_item_open_case(
            actor=grant.actor(request.user), item=item, cpr=payload.cpr, given_name=payload.given_name,
            family_name=payload.family_name, school=school, referral_channel=payload.referral_channel,
            birth_date=payload.birth_date,
            custody_holders=[services.CustodyHolderInput(**h.dict()) for h in payload.custody_holders])
    except ValidationError as exc:
        return Status(400, {"detail": " ".join(exc.messages)})
    return Status(200, {"case_id": case.pk, "reference": case.reference, "stage": case.stage,
                        "is_re_referral": case.is_re_referral})


class AttachIn(Schema):
    case_id: int


class HandledOut(Schema):
    id: int
    status: str
    case_id: int | None


@router.post("/inbox/items/{item_id}/attach", response={200: HandledOut, 400: Error},
             summary="Knyt henvendelsen til barnets åbne forløb (genhenvisning)")
def attach(request, item_id: int, payload: AttachIn):
    item, grant = _keeper_item(request, item_id)
    case = Case.objects.filter(pk=payload.case_id, municipality_id=item.municipality_id).first()
    if case is None:
        return Status(400, {"detail": "Forløbet findes ikke i kommunen."})
    try:
        item = services.inbox_item_attach(actor=grant.actor(request.user), item=item, case=case)
    except ValidationError as exc:
        return Status(400, {"detail": " ".join(exc.messages)})
    return Status(200, {"id": item.pk, "status": item.status, "case_id": item.case_id})


class RejectIn(Schema):
    reason: str


@router.post("/inbox/items/{item_id}/reject", response={200: HandledOut, 400: Error},
             summary="Afvis henvendelsen med en begrundelse til henviseren")
def reject(request, item_id: int, payload: RejectIn):
    item, grant = _keeper_item(request, item_id)
    try:
        item = services.inbox_item_reject(actor=grant.actor(request.user), item=item, reason=payload.reason)
    except ValidationError as exc:
        return Status(400, {"detail": " ".join(exc.messages)})
    return Status(200, {"id": item.pk, "status": item.status, "case_id": item.case_id})


class ForwardIn(Schema):
    municipality_code: str
    note: str = ""


@router.post("/inbox/items/{item_id}/forward", response={200: HandledOut, 400: Error},
             summary="Videresend henvendelsen til indgangen i barnets bopælskommune")
def forward(request, item_id: int, payload: ForwardIn):
    item, grant = _keeper_item(request, item_id)
    to = Municipality.objects.filter(code=payload.municipality_code).first()
    if to is None:
        return Status(400, {"detail": "Ukendt kommunekode."})
    try:
        item = services.inbox_item_forward(actor=grant.actor(request.user), item=item, to=to, note=payload.note)
    except ValidationError as exc:
        return Status(400, {"detail": " ".join(exc.messages)})
    return Status(200, {"id": item.pk, "status": item.status, "case_id": item.case_id})


@router.get("/inbox/threads/{thread_id}", response=ThreadOut, summary="En tråd: henvendelsen og svarene")
def get_thread(request, thread_id: int):
    thread, _ = access.require_thread(request.user, thread_id)
    return _thread_out(thread)


class QuarantineOut(Schema):
    id: int
    received_at: dt.datetime
    channel: str
    content_type: str
    size: int
    municipality: str | None
    region_wide: bool
    bundle_id: str
    header_id: str
    problems: list[str]


@router.get("/inbox/quarantine", response=list[QuarantineOut], summary="Beskeder i karantæne, som jeg kan se")
def list_quarantine(request):
    return [
        {"id": a.pk, "received_at": a.received_at, "channel": a.channel, "content_type": a.content_type,
         "size": a.size, "municipality": a.municipality.name if a.municipality else None,
         "region_wide": a.municipality_id is None, "bundle_id": a.bundle_id, "header_id": a.header_id,
         "problems": [p.get("text", "") for p in a.problems]}
        for a in selectors.quarantine(user=request.user)
    ]


class ReferralIn(Schema):
    unit_id: int
    municipality_code: str
    cpr: str
    given_name: str
    family_name: str
    text: str
    phone: str
    email: str = ""


class ReferralOut(Schema):
    item_id: int
    thread_id: int


@router.post("/inbox/referrals", response={200: ReferralOut, 400: Error},
             summary="Henvis et barn til den fælles indgang (for fagpersoner uden MedCom)")
def refer(request, payload: ReferralIn):
    unit = next((u for u in selectors.referring_units(user=request.user) if u.pk == payload.unit_id), None)
    if unit is None:
        raise Http404
    municipality = Municipality.objects.filter(code=payload.municipality_code).first()
    if municipality is None:
        return Status(400, {"detail": "Ukendt kommunekode."})
    try:
        item = services.web_referral_submit(
            actor=Actor(user=request.user, unit=unit), referrer_unit=unit, municipality=municipality,
            cpr=payload.cpr, given_name=payload.given_name, family_name=payload.family_name, text=payload.text,
            phone=payload.phone, email=payload.email)
    except ValidationError as exc:
        return Status(400, {"detail": " ".join(exc.messages)})
    return Status(200, {"item_id": item.pk, "thread_id": item.thread_id})

