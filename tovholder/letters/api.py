from __future__ import annotations

import datetime as dt

from ninja import Router, Schema
from ninja.security import django_auth

from tovholder.access import Scope, require_case
from tovholder.letters.selectors import case_letters

router = Router(tags=["letters"], auth=django_auth)


class LetterOut(Schema):
    id: int
    recipient_name: str
    recipient_kind: str
    channel: str
    subject: str
    reason: str
    status: str
    created_at: dt.datetime
    sent_at: dt.datetime | None
    attachments: int


@router.get("/cases/{case_id}/letters", response=list[LetterOut], summary="Breve til familien i et forløb")
def list_case_letters(request, case_id: int):
    case, grant = require_case(request.user, case_id, scope=Scope.INTAKE, summary="Breve til familien vist (API)")
    return [
        {"id": x.pk, "recipient_name": x.recipient_name, "recipient_kind": x.recipient_kind, "channel": x.channel,
         "subject": x.subject, "reason": x.reason, "status": x.status, "created_at": x.created_at,
         "sent_at": x.sent_at, "attachments": x.attachment_count}
        for x in case_letters(case=case, grant=grant)
    ]
