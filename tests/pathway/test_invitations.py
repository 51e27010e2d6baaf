"""Calendar invitations (.ics) by e-mail to the professionals invited to a meeting: queued
with the meeting, sent by the background loop once, retried on failure, and carrying no
name or CPR of the child."""

from __future__ import annotations

import pytest
from django.core import mail

from tests.pathway.helpers import lead_actor, pathway_case, schedule
from tovholder.audit.models import AuditEvent
from tovholder.pathway.invitations import MAX_ATTEMPTS, invitations_send
from tovholder.pathway.models import CalendarInvitation, Sector
from tovholder.pathway.services import ExternalParticipant, meeting_cancel
from tovholder.worker.jobs import all_jobs

pytestmark = pytest.mark.django_db
GP = ExternalParticipant(name="Anne Mortensen", title="Egen læge", sector=Sector.GP, email="anne@laegehuset.dk")


def staff(world, *names):
    return [(world.user(n), world.user(n).memberships.first().unit) for n in names]


def test_it_emails_every_invited_professional_the_calendar_file_once(world):
    case = pathway_case(world)
    meeting = schedule(world, case, staff=staff(world, "maria"), external=[GP])
    queued = CalendarInvitation.objects.filter(meeting=meeting)
    # Maria (PPR) and the GP; not the lead who called the meeting, not the family (Digital Post).
    assert sorted(queued.values_list("email", flat=True)) == ["anne@laegehuset.dk", "maria@demo.tovholder.dk"]
    assert AuditEvent.objects.filter(case=case, summary__startswith="Kalenderinvitation (REQUEST)").count() == 2

    assert invitations_send() == 2
    assert invitations_send() == 0  # the loop running again sends nothing twice
    assert len(mail.outbox) == 2
    message = next(m for m in mail.outbox if "anne@laegehuset.dk" in m.to[0])
    name, content, mimetype = message.attachments[0]
    assert name == "moede.ics" and mimetype.startswith("text/calendar") and "method=REQUEST" in mimetype
    text = content if isinstance(content, str) else content.decode()
    assert f"UID:{meeting.uid}" in text and "METHOD:REQUEST" in text
    assert case.reference in message.subject
    child = case.child
    holders = [h.name for h in child.custody_holders.all()] + [h.email for h in child.custody_holders.all() if h.email]
    for leak in (child.given_name, child.family_name, child.cpr, child.cpr[:6], *holders):
        assert leak not in message.subject + message.body + text
    assert set(queued.values_list("status", flat=True)) == {"sent"}


def test_a_cancelled_meeting_sends_a_cancellation_with_a_higher_sequence(world):
    case = pathway_case(world)
    meeting = schedule(world, case, external=[GP])
    invitations_send()
    meeting_cancel(actor=lead_actor(world), basis="lead", meeting=meeting, reason="Sygdom")
    cancel = CalendarInvitation.objects.get(meeting=meeting, method="CANCEL")
    first = CalendarInvitation.objects.get(meeting=meeting, method="REQUEST")
    assert cancel.sequence > first.sequence
    invitations_send()
    assert "METHOD:CANCEL" in bytes(cancel.ics).decode() and mail.outbox[-1].subject.startswith("Aflyst")


def test_a_failing_mail_server_loses_nothing_and_gives_up_after_the_last_attempt(world, settings, monkeypatch):
    case = pathway_case(world)
    schedule(world, case, external=[GP])

    def refuse(self, fail_silently=False):
        raise ConnectionRefusedError

    monkeypatch.setattr("django.core.mail.EmailMessage.send", refuse)
    invitations_send()
    invitation = CalendarInvitation.objects.get()
    assert (invitation.status, invitation.attempts, invitation.last_error) == ("queued", 1, "ConnectionRefusedError")
    for _ in range(MAX_ATTEMPTS):
        invitations_send()
    invitation.refresh_from_db()
    assert invitation.status == "failed" and invitation.attempts == MAX_ATTEMPTS


def test_the_background_loop_has_the_job(world):
    assert "pathway_calendar_invitations" in {job.name for job in all_jobs()}
