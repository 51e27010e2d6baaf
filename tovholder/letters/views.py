"""Pages of the local outbox: a case's letters for staff with access, and the recipient's
own "read online" page (public, opened with the personal link from the letter)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from tovholder.access import Scope, require_case
from tovholder.audit.actor import Actor
from tovholder.audit.models import AuditEvent
from tovholder.audit.services import audit_record
from tovholder.letters.backends import delivered_copy
from tovholder.letters.models import Letter, LetterAttachment
from tovholder.letters.selectors import case_letters, letter_visible
from tovholder.letters.services import letter_for_read_token
from tovholder.letters.tokens import looks_like_token, private_response, token_hash


@login_required
@require_GET
def case_letter_list(request, case_id: int):
    case, grant = require_case(request.user, case_id, scope=Scope.INTAKE, summary="Breve til familien vist")
    letters = list(case_letters(case=case, grant=grant))
    return render(request, "letters/case_letters.html", {"case": case, "letters": letters})


def _letter_for_staff(request, letter_id: int) -> tuple[Letter, object]:
    letter = Letter.objects.filter(pk=letter_id).only("id", "case_id", "reason").first()
    if letter is None:
        raise Http404
    case, grant = require_case(request.user, letter.case_id, scope=Scope.INTAKE, audit=None)
    if not letter_visible(letter, grant):
        raise Http404
    letter = Letter.objects.select_related("case", "case__child").get(pk=letter_id)
    return letter, grant


@login_required
@require_GET
def letter_detail(request, letter_id: int):
    letter, grant = _letter_for_staff(request, letter_id)
    audit_record(actor=grant.actor(request.user), action=AuditEvent.Action.VIEW, basis=grant.basis,
                 case=letter.case, obj=letter, summary=f"Brev vist: {letter.subject}")
    return render(request, "letters/letter_detail.html", {
        "letter": letter, "case": letter.case, "attachments": letter.attachments.defer("content"),
        "demo_read_url": _demo_read_url(letter),
    })


def _demo_read_url(letter: Letter) -> str:
    """In the demo (LETTERS_DEMO_MAILBOX, on with DEBUG) staff may open the family's copy,
    to show what the family sees. Never in production: the link is the family's."""
    if not getattr(settings, "LETTERS_DEMO_MAILBOX", settings.DEBUG):
        return ""
    copy = delivered_copy(letter)
    return (copy or {}).get("read_url", "")


def _file_response(attachment: LetterAttachment) -> HttpResponse:
    response = HttpResponse(bytes(attachment.content), content_type=attachment.content_type)
    safe = attachment.filename.replace('"', "").replace("\n", " ")
    response["Content-Disposition"] = f'attachment; filename="{safe}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_GET
def letter_attachment(request, letter_id: int, attachment_id: int):
    letter, grant = _letter_for_staff(request, letter_id)
    attachment = get_object_or_404(LetterAttachment, pk=attachment_id, letter=letter)
    audit_record(actor=grant.actor(request.user), action=AuditEvent.Action.EXPORT, basis=grant.basis,
                 case=letter.case, obj=attachment, summary=f"Bilag hentet: {attachment.filename}")
    return _file_response(attachment)


def _recipient_actor(letter: Letter) -> Actor:
    who = f"holder:{letter.custody_holder_id}" if letter.custody_holder_id else f"child:{letter.child_id}"
    return Actor(system=f"family:{who}")


def _letter_for_family(token: str) -> Letter | None:
    if not looks_like_token(token):
        return None
    return letter_for_read_token(token_hash(token))


def _invalid(request) -> HttpResponse:
    return private_response(render(request, "letters/link_invalid.html", status=404))


@require_GET
def family_read(request, token: str):
    letter = _letter_for_family(token)
    if letter is None:
        return _invalid(request)
    copy = delivered_copy(letter)
    audit_record(actor=_recipient_actor(letter), action=AuditEvent.Action.VIEW, basis="recipient",
                 case=letter.case, obj=letter, summary="Brevet læst af modtageren")
    context = {
        "letter": letter,
        "token": token,
        "body": copy["body"] if copy else letter.staff_body,
        "attachments": letter.attachments.defer("content"),
    }
    return private_response(render(request, "letters/family_read.html", context))


@require_GET
def family_attachment(request, token: str, attachment_id: int):
    letter = _letter_for_family(token)
    attachment = LetterAttachment.objects.filter(pk=attachment_id, letter=letter).first() if letter else None
    if attachment is None:
        return _invalid(request)
    audit_record(actor=_recipient_actor(letter), action=AuditEvent.Action.EXPORT, basis="recipient",
                 case=letter.case, obj=attachment, summary=f"Bilag hentet af modtageren: {attachment.filename}")
    return private_response(_file_response(attachment))
