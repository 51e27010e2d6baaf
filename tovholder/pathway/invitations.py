"""Calendar invitations (.ics) to the professionals invited to a pathway meeting, by e-mail.

The family is invited by Digital Post (`notify.tell_family`); staff with an account also get
a notice. Every professional with an e-mail address — a colleague, or a GP or BUA doctor
without an account — gets the calendar file by e-mail, so the meeting lands in their own
calendar. Queued in the meeting's transaction, sent by the background loop (one claimed row
at a time, retried, never twice), through Django's e-mail backend (`EMAIL_BACKEND`).
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from tovholder.audit.actor import Actor
from tovholder.audit.models import AuditEvent
from tovholder.audit.services import audit_record
from tovholder.pathway.models import CalendarInvitation, Meeting, Sector

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5
STALE_CLAIM = dt.timedelta(minutes=10)
FAMILY = (Sector.CHILD, Sector.PARENTS)


def professional_recipients(meeting: Meeting, *, except_user_id: int | None = None) -> list[tuple[str, str]]:
    """(name, e-mail) of every invited professional with an address, once each."""
    seen: set[str] = set()
    out = []
    for p in meeting.participants.select_related("user"):
        email = (p.email or (p.user.email if p.user_id else "")).strip()
        if p.sector in FAMILY or not email or email.lower() in seen:
            continue
        if except_user_id is not None and p.user_id == except_user_id:
            continue
        seen.add(email.lower())
        out.append((p.name, email))
    return out


def _text(meeting: Meeting, when: str, cancel: bool) -> tuple[str, str]:
    pathway = meeting.pathway
    ref = pathway.case.reference
    kind = meeting.get_kind_display()
    lead = pathway.lead_user
    contact = lead.get_full_name() + (f", tlf. {lead.phone}" if lead.phone else "") + (
        f", {lead.email}" if lead.email else "")
    if cancel:
        return (f"Aflyst: {kind.lower()} — fælles forløb {ref}",
                f"{kind} i det fælles forløb {ref} {when} er aflyst.\n\nIndsatsansvarlig: {contact}\n")
    where = meeting.place or meeting.video_link
    if meeting.place and meeting.video_link:
        where += f" (video: {meeting.video_link})"
    return (
        f"Invitation: {kind.lower()} — fælles forløb {ref}",
        f"Du er inviteret til {kind.lower()} i det fælles forpligtende forløb {ref} {when}.\n"
        f"Sted: {where}\n\nKalenderinvitationen er vedhæftet.\n\n"
        f"Af hensyn til databeskyttelse står barnets navn ikke i e-mailen. Har du adgang til Tovholder, "
        f"finder du mødet og handleplanen under forløbet; ellers kontakt den indsatsansvarlige.\n\n"
        f"Indsatsansvarlig: {contact}\n",
    )


def invitations_queue(*, actor: Actor, basis: str, meeting: Meeting, when: str, cancel: bool,
                      except_user_id: int | None = None) -> list[CalendarInvitation]:
    """Queue the e-mail with the calendar file to each professional (in the caller's transaction)."""
    from tovholder.pathway.ics import meeting_ics

    method = "CANCEL" if cancel else "REQUEST"
    ics = meeting_ics(meeting, method=method, professionals_only=True)
    subject, body = _text(meeting, when, cancel)
    queued = []
    for name, email in professional_recipients(meeting, except_user_id=except_user_id):
        invitation = CalendarInvitation(meeting=meeting, name=name[:200], email=email, method=method,
                                        sequence=meeting.sequence, subject=subject[:200], body=body, ics=ics)
        try:
            with transaction.atomic():
                invitation.save()
        except IntegrityError:
            continue  # this version of the meeting was already sent to this address
        audit_record(actor=actor, action=AuditEvent.Action.CREATE, basis=basis, case=meeting.pathway.case,
                     obj=invitation, summary=f"Kalenderinvitation ({method}) til {name} i kø")
        queued.append(invitation)
    return queued


def invitations_send(*, limit: int = 50) -> int:
    """The background job: e-mail queued invitations, one claimed row at a time."""
    now = timezone.now()
    CalendarInvitation.objects.filter(status=CalendarInvitation.Status.QUEUED,
                                      claimed_at__lt=now - STALE_CLAIM).update(claimed_at=None)
    ids = list(CalendarInvitation.objects.filter(status=CalendarInvitation.Status.QUEUED, claimed_at__isnull=True)
               .order_by("id").values_list("id", flat=True)[:limit])
    done = 0
    for pk in ids:
        if CalendarInvitation.objects.filter(pk=pk, status=CalendarInvitation.Status.QUEUED,
                                             claimed_at__isnull=True).update(claimed_at=timezone.now()) != 1:
            continue  # another worker has it
        try:
            _send_one(pk)
            done += 1
        except Exception as exc:  # noqa: BLE001 - any failure is recorded and retried
            log.warning("calendar invitation %s not sent: %s", pk, type(exc).__name__)
            CalendarInvitation.objects.filter(pk=pk).update(claimed_at=None, attempts=F("attempts") + 1,
                                                            last_error=type(exc).__name__[:300])
            CalendarInvitation.objects.filter(pk=pk, attempts__gte=MAX_ATTEMPTS).update(
                status=CalendarInvitation.Status.FAILED)
    return done


@transaction.atomic
def _send_one(pk: int) -> None:
    invitation = (CalendarInvitation.objects.select_for_update(of=("self",))
                  .select_related("meeting__pathway__case").get(pk=pk))
    if invitation.status != CalendarInvitation.Status.QUEUED:
        return
    message = EmailMessage(subject=invitation.subject, body=invitation.body,
                           from_email=settings.DEFAULT_FROM_EMAIL, to=[f"{invitation.name} <{invitation.email}>"])
    # Django adds the charset itself to a text/* attachment.
    message.attach("moede.ics", bytes(invitation.ics), f"text/calendar; method={invitation.method}")
    message.send(fail_silently=False)
    invitation.status = CalendarInvitation.Status.SENT
    invitation.sent_at = timezone.now()
    invitation.last_error = ""
    invitation.save(update_fields=["status", "sent_at", "last_error"])
    audit_record(actor=Actor.job("calendar_invitations_send"), action=AuditEvent.Action.CHANGE, basis="system",
                 case=invitation.meeting.pathway.case, obj=invitation,
                 summary=f"Kalenderinvitation sendt til {invitation.name} (e-mail)")
