"""State changes of the joint pathway: start, handovers, meetings, the plan, interventions,
explanations of missed deadlines, and the daily jobs (digest, deadline sweep).

Every service that acts on the case locks it, passes the consent gate, writes its audit row
and refreshes the case's next deadline, all in one transaction.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from tovholder.audit.actor import Actor
from tovholder.audit.models import AuditEvent
from tovholder.audit.services import audit_record
from tovholder.cases import notify
from tovholder.cases.models import Case, CaseTeamMember, ClosedReason, Stage, TeamRole
from tovholder.cases.services import case_team_add, case_transition, lock_case
from tovholder.consent.gate import require_processing_allowed
from tovholder.deadlines.services import case_refresh_deadline
from tovholder.deadlines.workdays import local_date
from tovholder.organisations.models import Membership, Unit, User
from tovholder.pathway.models import (
    SECTOR_OF_UNIT_KIND,
    Agreement,
    DeadlineExplanation,
    Goal,
    GoalRating,
    Intervention,
    LeadDigest,
    LeadProfessionalHandover,
    Meeting,
    MeetingKind,
    MeetingParticipant,
    ParentsAgree,
    Pathway,
    PlanVersion,
    RatedBy,
    Sector,
)

STALE = "Forløbet er ændret af en anden, mens du arbejdede. Indlæs siden igen — intet er gemt."

log = logging.getLogger(__name__)


def _lock(case: Case | int) -> tuple[Case, Pathway]:
    case = lock_case(case)
    require_processing_allowed(case)
    pathway = Pathway.objects.select_for_update().select_related("lead_user", "lead_unit").filter(case=case).first()
    if pathway is None:
        raise ValidationError("Forløbet er ikke et fælles forløb.")
    if not pathway.is_active:
        raise ValidationError("Det fælles forløb er afsluttet.")
    return case, pathway


def _bump(pathway: Pathway, *fields: str) -> None:
    pathway.version += 1
    pathway.full_clean()
    pathway.save(update_fields=[*fields, "version"])


def _uid(actor: Actor) -> int | None:
    return actor.user.pk if actor.user is not None else None


def _check_version(pathway: Pathway, expected_version: int | None) -> None:
    if expected_version is not None and pathway.version != expected_version:
        raise ValidationError(STALE)


def lead_contact(pathway: Pathway) -> str:
    """How the family reaches the lead professional, for every letter."""
    lead = pathway.lead_user
    parts = [lead.get_full_name() or lead.username]
    if lead.title:
        parts.append(lead.title)
    if pathway.lead_unit.name not in lead.title:
        parts.append(pathway.lead_unit.name)
    reach = []
    if lead.phone or pathway.lead_unit.phone:
        reach.append(f"tlf. {lead.phone or pathway.lead_unit.phone}")
    if lead.email or pathway.lead_unit.email:
        reach.append(f"e-mail {lead.email or pathway.lead_unit.email}")
    return ", ".join(parts) + (" — " + ", ".join(reach) if reach else "")


# ---- Start and lead professional ---------------------------------------------------------------

@transaction.atomic
def pathway_start(*, actor: Actor, basis: str, case: Case, lead_user: User, lead_unit: Unit, at=None) -> Case:
    """The committee decided on a joint pathway: appoint the lead professional and move the
    case to "awaiting start meeting". Called by tovholder.committee."""
    case = lock_case(case)
    require_processing_allowed(case)
    if Pathway.objects.filter(case=case).exists():
        raise ValidationError("Forløbet er allerede et fælles forløb; skift indsatsansvarlig ved en overdragelse.")
    if not lead_user.memberships.active().filter(unit=lead_unit).exists():
        raise ValidationError(f"{lead_user} er ikke tilknyttet {lead_unit}.")
    at = at or timezone.now()
    case = case_transition(actor=actor, basis=basis, case=case, to=Stage.AWAITING_START, at=at,
                           summary="Fælles forløb besluttet")
    pathway = Pathway(case=case, lead_user=lead_user, lead_unit=lead_unit, lead_since=at, started_at=at,
                      decided_on=local_date(case.committee_decided_at or at))
    pathway.full_clean()
    pathway.save()
    # The lead may already be on the team as a participant: the lead row replaces it.
    CaseTeamMember.objects.filter(case=case, user=lead_user, ended_at__isnull=True).update(ended_at=at)
    case_team_add(actor=actor, basis=basis, case=case, user=lead_user, unit=lead_unit, role=TeamRole.LEAD)
    audit_record(actor=actor, action=AuditEvent.Action.CREATE, basis=basis, case=case, obj=pathway,
                 summary=f"Indsatsansvarlig: {lead_user}, {lead_unit}")
    case_refresh_deadline(case=case)
    return case


@transaction.atomic
def handover_propose(*, actor: Actor, basis: str, case: Case, to_user: User, to_unit: Unit, note: str,
                     expected_version: int | None = None) -> LeadProfessionalHandover:
    """The lead (or the committee) proposes that another unit/person takes over. Nothing
    changes until the receiver accepts."""
    case, pathway = _lock(case)
    _check_version(pathway, expected_version)
    if not note.strip():
        raise ValidationError("Skriv et overdragelsesnotat: hvad skal den nye indsatsansvarlige vide?")
    if to_user.pk == pathway.lead_user_id:
        raise ValidationError("Modtageren er allerede indsatsansvarlig.")
    if not to_user.is_active or not to_user.memberships.active().filter(unit=to_unit).exists():
        raise ValidationError(f"{to_user} er ikke tilknyttet {to_unit}.")
    if pathway.handovers.filter(status=LeadProfessionalHandover.Status.PROPOSED).exists():
        raise ValidationError("Der er allerede en overdragelse, som venter på svar.")
    handover = LeadProfessionalHandover(
        pathway=pathway, from_user=pathway.lead_user, from_unit=pathway.lead_unit, to_user=to_user,
        to_unit=to_unit, note=note.strip(), proposed_by=actor.user,
    )
    handover.full_clean()
    handover.save()
    _bump(pathway)
    audit_record(actor=actor, action=AuditEvent.Action.CREATE, basis=basis, case=case, obj=handover,
                 summary=f"Overdragelse foreslået til {to_user}, {to_unit}")
    from django.urls import reverse

    notify.tell_staff(actor=actor, case=case, users=[to_user],
                      text=f"{pathway.lead_user} foreslår, at du bliver indsatsansvarlig for et fælles forløb.",
                      url=reverse("pathway:handover", args=[handover.pk]))
    return handover


def _open_handover(handover: LeadProfessionalHandover | int) -> tuple[Case, Pathway, LeadProfessionalHandover]:
    pk = handover.pk if isinstance(handover, LeadProfessionalHandover) else handover
    case_id = LeadProfessionalHandover.objects.values_list("pathway__case_id", flat=True).get(pk=pk)
    case, pathway = _lock(case_id)
    handover = LeadProfessionalHandover.objects.select_for_update().get(pk=pk)
    if handover.status != LeadProfessionalHandover.Status.PROPOSED:
        raise ValidationError("Overdragelsen er allerede besvaret.")
    return case, pathway, handover


@transaction.atomic
def handover_accept(*, actor: Actor, handover: LeadProfessionalHandover | int, note: str = "") -> Pathway:
    """The receiver accepts: from now on they are the one lead professional. The former lead
    stays on the team as a participant."""
    case, pathway, handover = _open_handover(handover)
    if actor.user is None or actor.user.pk != handover.to_user_id:
        raise ValidationError("Kun modtageren kan acceptere overdragelsen.")
    now = timezone.now()
    old = CaseTeamMember.objects.select_for_update().get(case=case, role=TeamRole.LEAD, ended_at__isnull=True)
    old.ended_at = now
    old.save(update_fields=["ended_at"])
    CaseTeamMember.objects.filter(case=case, user=handover.to_user, ended_at__isnull=True).update(ended_at=now)
    CaseTeamMember.objects.create(case=case, user=handover.to_user, unit=handover.to_unit, role=TeamRole.LEAD,
                                  started_at=now)
    if old.user_id != handover.to_user_id:
        CaseTeamMember.objects.create(case=case, user_id=old.user_id, unit_id=old.unit_id,
                                      role=TeamRole.PARTICIPANT, started_at=now)
    handover.status = LeadProfessionalHandover.Status.ACCEPTED
    handover.answered_at = now
    handover.answer_note = note.strip()
    handover.save(update_fields=["status", "answered_at", "answer_note"])
    pathway.lead_user, pathway.lead_unit, pathway.lead_since = handover.to_user, handover.to_unit, now
    _bump(pathway, "lead_user", "lead_unit", "lead_since")
    case.version += 1
    case.save(update_fields=["version"])
    audit_record(actor=actor, action=AuditEvent.Action.CHANGE, basis="lead", case=case, obj=handover,
                 summary=f"Indsatsansvar overtaget af {handover.to_user}, {handover.to_unit}")
    notify.tell_family(
        actor=actor, case=case, reason="lead_changed",
        subject=f"Ny indsatsansvarlig for {case.child.given_name}s forløb",
        body=(f"Kære familie\n\nFra i dag er {lead_contact(pathway)} indsatsansvarlig for "
              f"{case.child.given_name}s fælles forløb og jeres faste kontaktperson.\n"
              f"{handover.from_user} har overdraget ansvaret og kender fortsat forløbet.\n\n"
              f"Med venlig hilsen\n{pathway.lead_user.get_full_name()}"),
    )
    notify.tell_staff(actor=actor, case=case, users=[handover.from_user],
                      text=f"{handover.to_user} har accepteret at blive indsatsansvarlig.")
    return pathway


@transaction.atomic
def handover_decline(*, actor: Actor, handover: LeadProfessionalHandover | int, note: str) -> LeadProfessionalHandover:
    case, pathway, handover = _open_handover(handover)
    if actor.user is None or actor.user.pk != handover.to_user_id:
        raise ValidationError("Kun modtageren kan afvise overdragelsen.")
    if not note.strip():
        raise ValidationError("Skriv hvorfor, så den indsatsansvarlige kan finde en anden løsning.")
    handover.status = LeadProfessionalHandover.Status.DECLINED
    handover.answered_at = timezone.now()
    handover.answer_note = note.strip()
    handover.save(update_fields=["status", "answered_at", "answer_note"])
    _bump(pathway)
    audit_record(actor=actor, action=AuditEvent.Action.CHANGE, basis="handover", case=case, obj=handover,
                 summary=f"Overdragelse afvist af {handover.to_user}")
    notify.tell_staff(actor=actor, case=case, users=[handover.from_user],
                      text=f"{handover.to_user} har afvist at blive indsatsansvarlig: {handover.answer_note[:200]}")
    return handover


@transaction.atomic
def handover_withdraw(*, actor: Actor, basis: str, handover: LeadProfessionalHandover | int) -> LeadProfessionalHandover:
    case, pathway, handover = _open_handover(handover)
    handover.status = LeadProfessionalHandover.Status.WITHDRAWN
    handover.answered_at = timezone.now()
    handover.save(update_fields=["status", "answered_at"])
    _bump(pathway)
    audit_record(actor=actor, action=AuditEvent.Action.CHANGE, basis=basis, case=case, obj=handover,
                 summary="Overdragelse trukket tilbage")
    return handover


# ---- Meetings -------------------------------------------------------------------------------

@dataclass
class ExternalParticipant:
    name: str
    title: str = ""
    sector: str = Sector.OTHER
    email: str = ""


@transaction.atomic
def meeting_schedule(
    *, actor: Actor, basis: str, case: Case, kind: str, starts_at: dt.datetime, ends_at: dt.datetime,
    place: str = "", video_link: str = "", staff: list[tuple[User, Unit]] = (),
    external: list[ExternalParticipant] = (), invite_child: bool = True, invite_custody_holders: bool = True,
    idempotency_key: str = "",
) -> Meeting:
    """Call a start, follow-up or closing meeting. The family gets an invitation letter (with
    the calendar file), the staff invited a notice, and every professional with an e-mail
    address the calendar file by e-mail (`pathway.invitations`)."""
    case, pathway = _lock(case)
    if idempotency_key:
        done = pathway.meetings.filter(idempotency_key=idempotency_key).first()
        if done is not None:
            return done
    kind = MeetingKind(kind)
    if kind != MeetingKind.START and pathway.start_meeting_on is None:
        raise ValidationError("Igangsætningsmødet skal holdes først.")
    if kind == MeetingKind.START and pathway.start_meeting_on is not None:
        raise ValidationError("Igangsætningsmødet er allerede holdt.")
    if pathway.meetings.filter(status=Meeting.Status.SCHEDULED).exists():
        raise ValidationError("Der er allerede et planlagt møde. Hold eller aflys det først.")
    meeting = Meeting(pathway=pathway, kind=kind, starts_at=starts_at, ends_at=ends_at, place=place.strip(),
                      video_link=video_link.strip(), created_by=actor.user, idempotency_key=idempotency_key)
    if ends_at <= starts_at:
        raise ValidationError({"ends_at": "Mødet skal slutte efter det begynder."})
    if not meeting.place and not meeting.video_link:
        raise ValidationError({"place": "Angiv et mødested eller et videolink."})
    meeting.full_clean()
    meeting.save()
    rows = [MeetingParticipant(meeting=meeting, sector=SECTOR_OF_UNIT_KIND.get(pathway.lead_unit.kind, Sector.OTHER),
                               user=pathway.lead_user, unit=pathway.lead_unit, name=pathway.lead_user.get_full_name(),
                               title=pathway.lead_user.title, email=pathway.lead_user.email)]
    seen = {pathway.lead_user_id}
    for user, unit in staff:
        if user.pk in seen:
            continue
        seen.add(user.pk)
        rows.append(MeetingParticipant(meeting=meeting, sector=SECTOR_OF_UNIT_KIND.get(unit.kind, Sector.OTHER),
                                       user=user, unit=unit, name=user.get_full_name() or user.username,
                                       title=user.title, email=user.email))
    child = case.child
    if invite_child:
        rows.append(MeetingParticipant(meeting=meeting, sector=Sector.CHILD, name=child.full_name, title="Barnet"))
    if invite_custody_holders:
        for holder in child.custody_holders.filter(ended_at__isnull=True):
            rows.append(MeetingParticipant(meeting=meeting, sector=Sector.PARENTS, custody_holder=holder,
                                           name=holder.name, title=holder.get_relation_display(),
                                           email=holder.email))
    for ext in external:
        if ext.name.strip():
            rows.append(MeetingParticipant(meeting=meeting, sector=ext.sector, name=ext.name.strip(),
                                           title=ext.title.strip(), email=ext.email.strip()))
    MeetingParticipant.objects.bulk_create(rows)
    _bump(pathway)
    audit_record(actor=actor, action=AuditEvent.Action.CREATE, basis=basis, case=case, obj=meeting,
                 summary=f"{meeting.get_kind_display()} indkaldt til {_when(meeting)}")
    _invite(actor=actor, case=case, pathway=pathway, meeting=meeting, basis=basis)
    return meeting


def _when(meeting: Meeting) -> str:
    start = timezone.localtime(meeting.starts_at)
    end = timezone.localtime(meeting.ends_at)
    return f"{_weekday(start)} d. {start:%d.%m.%Y} kl. {start:%H.%M}–{end:%H.%M}"


def _weekday(moment: dt.datetime) -> str:
    return ["mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag"][moment.weekday()]


def _invite(*, actor: Actor, case: Case, pathway: Pathway, meeting: Meeting, cancel: bool = False,
            basis: str = "lead") -> None:
    from django.urls import reverse

    from tovholder.letters.models import LINK_PLACEHOLDER
    from tovholder.pathway.ics import meeting_ics
    from tovholder.pathway.invitations import invitations_queue
    from tovholder.pathway.voice import LINK_KIND as VOICE_LINK

    child = case.child
    where = meeting.place or "video"
    if meeting.video_link:
        where += f" (videolink: {meeting.video_link})" if meeting.place else f": {meeting.video_link}"
    if cancel:
        subject = f"Aflyst: {meeting.get_kind_display().lower()} om {child.given_name}"
        body = (f"Kære familie\n\n{meeting.get_kind_display()} om {child.given_name} {_when(meeting)} er aflyst. "
                f"I hører fra mig med en ny tid.\n\nKontakt: {lead_contact(pathway)}\n")
    else:
        agenda = "\n".join(f"  • {item}" for item in meeting.agenda)
        subject = f"Invitation: {meeting.get_kind_display().lower()} om {child.given_name}"
        body = (
            f"Kære familie\n\nI inviteres til {meeting.get_kind_display().lower()} i {child.given_name}s fælles "
            f"forløb {_when(meeting)}.\nSted: {where}\n\nDagsorden:\n{agenda}\n\n"
            f"{child.given_name}s stemme er vigtig. Hvis {child.given_name} ikke har lyst til at deltage, kan "
            f"{child.given_name} skrive eller fortælle mig før mødet, hvordan det går, og hvad der er vigtigt — "
            f"så tager jeg det med. {child.given_name} — eller I sammen med {child.given_name} — kan også skrive "
            f"til mødet her: {LINK_PLACEHOLDER}\n\nDin kontaktperson (indsatsansvarlig): {lead_contact(pathway)}\n\n"
            f"Med venlig hilsen\n{pathway.lead_user.get_full_name()}"
        )
    ics = meeting_ics(meeting, method="CANCEL" if cancel else "REQUEST")
    notify.tell_family(actor=actor, case=case, subject=subject, body=body, reason="invitation",
                       attachments=[("moede.ics", "text/calendar", ics)],
                       **({} if cancel else {"link_kind": VOICE_LINK, "link_ref": meeting.pk}))
    invitations_queue(actor=actor, basis=basis, meeting=meeting, when=_when(meeting), cancel=cancel,
                      except_user_id=_uid(actor))
    staff = [p.user for p in meeting.participants.select_related("user") if p.user_id and p.user_id != _uid(actor)]
    if staff:
        url = reverse("pathway:meeting", args=[case.pk, meeting.pk])
        notify.tell_staff(actor=actor, case=case, users=staff, url=url,
                          text=f"{subject} — {_when(meeting)}. Kalenderinvitation (.ics) på mødesiden.")


@transaction.atomic
def meeting_cancel(*, actor: Actor, basis: str, meeting: Meeting | int, reason: str) -> Meeting:
    pk = meeting.pk if isinstance(meeting, Meeting) else meeting
    case, pathway = _lock(Meeting.objects.values_list("pathway__case_id", flat=True).get(pk=pk))
    meeting = Meeting.objects.select_for_update().get(pk=pk)
    if meeting.status != Meeting.Status.SCHEDULED:
        raise ValidationError("Kun et planlagt møde kan aflyses.")
    if not reason.strip():
        raise ValidationError("Skriv hvorfor mødet aflyses.")
    meeting.status = Meeting.Status.CANCELLED
    meeting.sequence += 1
    meeting.save(update_fields=["status", "sequence"])
    _bump(pathway)
    audit_record(actor=actor, action=AuditEvent.Action.CHANGE, basis=basis, case=case, obj=meeting,
                 summary=f"Møde aflyst: {reason.strip()[:200]}")
    _invite(actor=actor, case=case, pathway=pathway, meeting=meeting, cancel=True, basis=basis)
    return meeting


@transaction.atomic
def child_statement_record(*, actor: Actor, basis: str, meeting: Meeting | int, text: str,
                           append: bool = False) -> Meeting:
    """The child's own words before the meeting, written by the child (or taken down with
    them) when the child does not attend. `append`: the family's link adds to the statement."""
    pk = meeting.pk if isinstance(meeting, Meeting) else meeting
    case, pathway = _lock(Meeting.objects.values_list("pathway__case_id", flat=True).get(pk=pk))
    meeting = Meeting.objects.select_for_update().get(pk=pk)
    if meeting.status != Meeting.Status.SCHEDULED:
        raise ValidationError("Barnets udtalelse gives før mødet.")
    if not text.strip():
        raise ValidationError({"text": "Skriv barnets udtalelse."})
    if append and meeting.child_statement:
        # Written through the family's link: added to what is there, never replacing it.
        stamp = timezone.localtime().strftime("%d.%m.%Y kl. %H.%M")
        meeting.child_statement = f"{meeting.child_statement}\n\n({stamp}, via familiens link)\n{text.strip()}"
    else:
        meeting.child_statement = text.strip()
    meeting.child_statement_at = timezone.now()
    meeting.save(update_fields=["child_statement", "child_statement_at"])
    audit_record(actor=actor, action=AuditEvent.Action.CHANGE, basis=basis, case=case, obj=meeting,
                 summary="Barnets udtalelse før mødet registreret")
    return meeting


# ---- The meeting record and the plan ---------------------------------------------------------

@dataclass
class NewAgreement:
    what: str
    responsible: str
    how: str = ""
    responsible_name: str = ""
    due_on: dt.date | None = None


@dataclass
class MeetingRecord:
    """What the lead writes at the meeting (Bilag 1)."""

    held_on: dt.date
    parents_agree: str
    child_voice: str
    child_voice_text: str = ""
    what_works: str = ""
    what_is_hard: str = ""
    expectations: str = ""
    parents_comment: str = ""
    next_meeting_on: dt.date | None = None
    attended: dict[int, bool] = field(default_factory=dict)  # participant id → attended
    extra_participants: list[ExternalParticipant] = field(default_factory=list)
    ratings: dict[int, tuple[int, str]] = field(default_factory=dict)  # goal id → (score, rated by)
    new_goals: list[tuple[str, str, int | None, str]] = field(default_factory=list)  # child, ours, score, by
    ended_goals: set[int] = field(default_factory=set)
    agreement_status: dict[int, str] = field(default_factory=dict)
    new_agreements: list[NewAgreement] = field(default_factory=list)
    needs_assessment: bool | None = None
    everyday_support: str = ""


@transaction.atomic
def meeting_record(*, actor: Actor, basis: str, meeting: Meeting | int, record: MeetingRecord,
                   expected_version: int | None = None) -> PlanVersion:
    """Write the plan at a held meeting: a new immutable version of the one living plan.
    The start meeting makes the pathway active; the closing meeting ends it."""
    pk = meeting.pk if isinstance(meeting, Meeting) else meeting
    case, pathway = _lock(Meeting.objects.values_list("pathway__case_id", flat=True).get(pk=pk))
    _check_version(pathway, expected_version)
    meeting = Meeting.objects.select_for_update().get(pk=pk)
    if meeting.status != Meeting.Status.SCHEDULED:
        raise ValidationError("Mødet er allerede skrevet ind i handleplanen (eller aflyst).")
    _validate_record(meeting, pathway, record)
    closing = meeting.kind == MeetingKind.CLOSING

    for participant in meeting.participants.all():
        # Not said: taken as attended (the form always says).
        participant.attended = record.attended.get(participant.pk, True) if record.attended else True
        participant.save(update_fields=["attended"])
    for ext in record.extra_participants:
        if ext.name.strip():
            MeetingParticipant.objects.create(meeting=meeting, sector=ext.sector, name=ext.name.strip(),
                                              title=ext.title.strip(), attended=True)
    meeting.status = Meeting.Status.HELD
    meeting.save(update_fields=["status"])

    number = (pathway.versions.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    version = PlanVersion(pathway=pathway, number=number, meeting=meeting, meeting_kind=meeting.kind,
                          held_on=record.held_on, next_meeting_on=None if closing else record.next_meeting_on,
                          parents_agree=record.parents_agree, content={}, created_by=actor.user)
    if not closing and record.next_meeting_on is None:
        raise ValidationError({"next_meeting_on": "Angiv datoen for næste møde (kun afslutningsmødet er uden)."})
    version.full_clean(exclude=["content"])
    version.save()

    goals = {g.pk: g for g in pathway.goals.filter(ended_in__isnull=True)}
    for goal_id, (score, by) in record.ratings.items():
        if goal_id in goals:
            GoalRating.objects.create(goal=goals[goal_id], version=version, score=score, rated_by=by)
    for goal_id in record.ended_goals:
        if goal_id in goals:
            goals[goal_id].ended_in = version
            goals[goal_id].save(update_fields=["ended_in"])
    for child_words, our_words, score, by in record.new_goals:
        if child_words.strip() or our_words.strip():
            goal = Goal.objects.create(pathway=pathway, child_words=child_words.strip(), our_words=our_words.strip(),
                                       created_in=version)
            if score is not None:
                GoalRating.objects.create(goal=goal, version=version, score=score, rated_by=by or RatedBy.CHILD)
    for agreement in pathway.agreements.filter(status=Agreement.Status.OPEN):
        status = record.agreement_status.get(agreement.pk, Agreement.Status.OPEN)
        if closing and status == Agreement.Status.OPEN:
            status = Agreement.Status.DONE
        if status != Agreement.Status.OPEN:
            agreement.status, agreement.closed_in = status, version
            agreement.save(update_fields=["status", "closed_in"])
    for new in record.new_agreements:
        if new.what.strip():
            row = Agreement(pathway=pathway, what=new.what.strip(), how=new.how.strip(), responsible=new.responsible,
                            responsible_name=new.responsible_name.strip(), due_on=new.due_on, created_in=version)
            row.full_clean()
            row.save()

    fields = ["last_meeting_on", "next_meeting_on"]
    pathway.last_meeting_on = record.held_on
    pathway.next_meeting_on = version.next_meeting_on
    if meeting.kind == MeetingKind.START:
        pathway.start_meeting_on = record.held_on
        fields.append("start_meeting_on")
        if record.needs_assessment is not None:
            pathway.needs_assessment = record.needs_assessment
            fields.append("needs_assessment")
        _sync_intervention_fact(pathway)
        fields.append("intervention_started_on")
    elif pathway.first_follow_up_on is None:
        # The first meeting after the start meeting answers the first-follow-up clock,
        # whichever kind it is.
        pathway.first_follow_up_on = record.held_on
        fields.append("first_follow_up_on")
    if closing:
        pathway.closed_on = record.held_on
        pathway.everyday_support = record.everyday_support.strip()
        fields += ["closed_on", "everyday_support"]
    _bump(pathway, *fields)

    content = plan_snapshot(pathway=pathway, version=version, meeting=meeting, record=record)
    PlanVersion.objects.filter(pk=version.pk).update(content=content)
    version.content = content
    audit_record(actor=actor, action=AuditEvent.Action.CREATE, basis=basis, case=case, obj=version,
                 summary=f"{meeting.get_kind_display()} holdt {record.held_on:%d.%m.%Y}; handleplan version {number}")

    if meeting.kind == MeetingKind.START and case.stage == Stage.AWAITING_START:
        case = case_transition(actor=actor, basis=basis, case=case, to=Stage.ACTIVE,
                               summary="Igangsætningsmøde holdt — fælles forløb i gang")
    _send_plan(actor=actor, case=case, pathway=pathway, version=version)
    if closing:
        _close(actor=actor, basis=basis, case=case, pathway=pathway, version=version)
    else:
        case_refresh_deadline(case=case)
    return version


def _validate_record(meeting: Meeting, pathway: Pathway, record: MeetingRecord) -> None:
    errors: dict[str, str] = {}
    today = timezone.localdate()
    if record.held_on > today:
        errors["held_on"] = "Mødet kan ikke skrives ind, før det er holdt."
    if pathway.last_meeting_on and record.held_on < pathway.last_meeting_on:
        errors["held_on"] = "Mødet kan ikke ligge før forløbets seneste møde."
    if meeting.kind != MeetingKind.CLOSING:
        if record.next_meeting_on is None:
            errors["next_meeting_on"] = "Angiv datoen for næste møde (kun afslutningsmødet er uden)."
        elif record.next_meeting_on <= record.held_on:
            errors["next_meeting_on"] = "Næste møde skal ligge efter dette møde."
    elif not record.everyday_support.strip():
        errors["everyday_support"] = "Skriv hvem i barnets hverdag der følger barnet fremover (#0)."
    if record.parents_agree not in ParentsAgree.values:
        errors["parents_agree"] = "Angiv om forældrene er enige i planen."
    if not record.child_voice:
        errors["child_voice"] = "Angiv hvordan barnets stemme er hørt."
    if record.child_voice != "present" and not (record.child_voice_text.strip() or meeting.child_statement):
        errors["child_voice_text"] = "Barnet deltog ikke: skriv hvad barnet har sagt, eller registrér barnets udtalelse."
    for score, _by in record.ratings.values():
        if not 0 <= score <= 10:
            errors["ratings"] = "Målene vurderes på en skala fra 0 til 10."
    if errors:
        raise ValidationError(errors)


def _close(*, actor: Actor, basis: str, case: Case, pathway: Pathway, version: PlanVersion) -> None:
    """The closing meeting ends the pathway, hands the child back to everyday support (#0),
    and tells the committee and the GP."""
    case = case_transition(actor=actor, basis=basis, case=case, to=Stage.CLOSED,
                           closed_reason=ClosedReason.PATHWAY_COMPLETED, summary="Afslutningsmøde holdt — forløb afsluttet")
    committee = User.objects.filter(
        memberships__unit__kind=Unit.Kind.COMMITTEE, memberships__unit__municipality=case.municipality,
        memberships__role__in=[Membership.Role.COMMITTEE_CHAIR, Membership.Role.COMMITTEE_MEMBER],
        memberships__ended_at__isnull=True, is_active=True,
    ).distinct()
    text = (f"Fælles forløb {case.reference} er afsluttet ved afslutningsmødet {version.held_on:%d.%m.%Y}. "
            f"Overdraget til hverdagsindsatsen: {pathway.everyday_support}.")
    notify.tell_staff(actor=actor, case=case, users=list(committee), text=text)
    notify.tell_referrer(
        actor=actor, case=case, reason="closing",
        text=(f"Det fælles forpligtende forløb for {case.child.full_name} er afsluttet ved afslutningsmøde "
              f"{version.held_on:%d.%m.%Y}. Barnet følges fremover i hverdagen af: {pathway.everyday_support}. "
              f"Kontakt: {lead_contact(pathway)}."),
    )


def _send_plan(*, actor: Actor, case: Case, pathway: Pathway, version: PlanVersion) -> None:
    """After each meeting the plan goes to all parties: the family by letter with the PDF;
    the referrer (the GP) as text in the referral's MedCom thread; the professionals on the
    case by a notice (they download it on the case)."""
    from django.urls import reverse

    from tovholder.pathway.pdf import plan_pdf

    child = case.child
    pdf = plan_pdf(version, case=case)
    next_line = (f"Næste møde: {version.next_meeting_on:%d.%m.%Y}." if version.next_meeting_on
                 else "Forløbet er afsluttet.")
    notify.tell_family(
        actor=actor, case=case, reason="plan",
        subject=f"{child.given_name}s handleplan efter {version.meeting.get_kind_display().lower()}",
        body=(f"Kære familie\n\nHer er {child.given_name}s fælles forpligtende handleplan, version {version.number}, "
              f"som den blev skrevet på mødet {version.held_on:%d.%m.%Y}. Den viser, hvem der gør hvad og hvornår.\n"
              f"{next_line}\n\nHar I spørgsmål, eller går noget ikke som aftalt, så kontakt mig.\n"
              f"Din kontaktperson (indsatsansvarlig): {lead_contact(pathway)}\n\n"
              f"Med venlig hilsen\n{pathway.lead_user.get_full_name()}"),
        attachments=[(f"handleplan-v{version.number}.pdf", "application/pdf", pdf)],
    )
    # The referrer — usually the child's own GP — is a party too: the plan's content as text in
    # the referral's MedCom thread (a secure channel), or on the referrer's page for web referrals.
    notify.tell_referrer(actor=actor, case=case, reason="plan", text=plan_as_text(version))
    staff = [m.user for m in case.team.filter(ended_at__isnull=True).select_related("user")
             if m.user_id != _uid(actor)]
    if staff:
        notify.tell_staff(actor=actor, case=case, users=staff,
                          url=reverse("pathway:plan_version", args=[case.pk, version.number]),
                          text=f"Handleplanen er opdateret (version {version.number}) efter mødet {version.held_on:%d.%m.%Y}.")


def plan_as_text(version: PlanVersion) -> str:
    """The plan as plain text for a MedCom message: who does what by when, the goals and how
    they are rated, every sector's interventions, the next meeting and the lead."""
    c = version.content

    def day(iso: str | None) -> str:
        return dt.date.fromisoformat(iso).strftime("%d.%m.%Y") if iso else "—"

    lines = [f"Fælles forpligtende handleplan for {c['child']['name']}, version {c['number']} "
             f"({c['meeting']['kind_label'].lower()} {day(c['meeting']['held_on'])}).", ""]
    if c["goals"]:
        lines.append("Mål:")
        for g in c["goals"]:
            scores = " → ".join(str(r["score"]) for r in g["ratings"]) or "—"
            lines.append(f"- {g['child_words'] or g['our_words']} (0–10: {scores})")
        lines.append("")
    if c["agreements"]:
        lines.append("Aftaler (hvad — hvem — senest):")
        for a in c["agreements"]:
            who = a["responsible_label"] + (f": {a['responsible_name']}" if a["responsible_name"] else "")
            lines.append(f"- {a['what']} — {who} — {day(a['due_on'])} ({a['status_label'].lower()})")
        lines.append("")
    if c["interventions"]:
        lines.append("Indsatser:")
        for i in c["interventions"]:
            lines.append(f"- {i['description']} ({i['sector_label']}, {i['kind_label'].lower()}, trin {i['step']}, "
                         f"{i['status_label'].lower()})")
        lines.append("")
    lines.append(f"Næste møde: {day(c['next_meeting_on'])}." if c["next_meeting_on"] else "Forløbet er afsluttet.")
    lead = c["lead"]
    contact = ", ".join(x for x in (lead["title"], lead["unit"], lead["phone"] and f"tlf. {lead['phone']}",
                                    lead["email"]) if x)
    lines.append(f"Indsatsansvarlig: {lead['name']}, {contact}.")
    return "\n".join(lines)


def plan_snapshot(*, pathway: Pathway, version: PlanVersion, meeting: Meeting, record: MeetingRecord) -> dict:
    """The whole plan at this meeting, as the family and every sector will read it."""
    case = pathway.case
    child = case.child
    ratings = {}
    for r in GoalRating.objects.filter(goal__pathway=pathway).select_related("version").order_by("version__number"):
        ratings.setdefault(r.goal_id, []).append(
            {"version": r.version.number, "held_on": r.version.held_on.isoformat(), "score": r.score,
             "rated_by": r.get_rated_by_display()})
    goals = [
        {"id": g.pk, "child_words": g.child_words, "our_words": g.our_words,
         "ended": g.ended_in_id == version.pk, "ratings": ratings.get(g.pk, [])}
        for g in pathway.goals.filter(ended_in__isnull=True) | pathway.goals.filter(ended_in=version)
    ]
    agreements = [
        {"id": a.pk, "what": a.what, "how": a.how, "responsible": a.responsible,
         "responsible_label": str(a.get_responsible_display()), "responsible_name": a.responsible_name,
         "due_on": a.due_on.isoformat() if a.due_on else None, "status": a.status,
         "status_label": str(a.get_status_display())}
        for a in pathway.agreements.filter(closed_in__isnull=True) | pathway.agreements.filter(closed_in=version)
    ]
    interventions = [
        {"id": i.pk, "sector": i.sector, "sector_label": str(i.get_sector_display()),
         "unit": i.unit.name if i.unit else "", "description": i.description, "kind": i.kind,
         "kind_label": str(i.get_kind_display()), "step": i.step,
         "start_on": i.start_on.isoformat() if i.start_on else None,
         "end_on": i.end_on.isoformat() if i.end_on else None,
         "status": i.status, "status_label": str(i.get_status_display())}
        for i in pathway.interventions.select_related("unit").order_by("id")
    ]
    lead = pathway.lead_user
    voice_text = record.child_voice_text.strip()
    return {
        "child": {"name": child.full_name, "birth_date": child.birth_date.isoformat(),
                  "school": child.school.name if child.school else ""},
        "reference": case.reference,
        "meeting": {"kind": meeting.kind, "kind_label": str(meeting.get_kind_display()),
                    "held_on": record.held_on.isoformat(),
                    "place": meeting.place or ("Video" if meeting.video_link else "")},
        "lead": {"name": lead.get_full_name(), "title": lead.title, "unit": pathway.lead_unit.name,
                 "phone": lead.phone or pathway.lead_unit.phone, "email": lead.email or pathway.lead_unit.email},
        "participants": [
            {"name": p.name, "title": p.title, "sector": p.sector, "sector_label": str(p.get_sector_display()),
             "attended": bool(p.attended)}
            for p in meeting.participants.all()
        ],
        "custody_holders": [
            {"name": h.name, "relation": str(h.get_relation_display()), "address": h.address}
            for h in child.custody_holders.filter(ended_at__isnull=True)
        ],
        "child_voice": {"how": record.child_voice, "text": voice_text,
                        "statement": meeting.child_statement},
        "what_works": record.what_works.strip(),
        "what_is_hard": record.what_is_hard.strip(),
        "goals": goals,
        "agreements": agreements,
        "interventions": interventions,
        "expectations": record.expectations.strip(),
        "parents_agree": record.parents_agree,
        "parents_comment": record.parents_comment.strip(),
        "next_meeting_on": version.next_meeting_on.isoformat() if version.next_meeting_on else None,
        "everyday_support": record.everyday_support.strip(),
        "number": version.number,
    }


# ---- Interventions --------------------------------------------------------------------------

def _sync_intervention_fact(pathway: Pathway) -> None:
    """The intervention clock is met by the first assessing/treating intervention that
    started (on or after the start meeting, or already running then)."""
    first = (pathway.interventions.filter(kind__in=[Intervention.Kind.ASSESSING, Intervention.Kind.TREATING],
                                          start_on__isnull=False)
             .exclude(status=Intervention.Status.PLANNED).order_by("start_on").values_list("start_on", flat=True).first())
    pathway.intervention_started_on = first if pathway.start_meeting_on else None


@transaction.atomic
def intervention_add(*, actor: Actor, basis: str, case: Case, sector: str, description: str, kind: str,
                     step: int, unit: Unit | None = None, start_on: dt.date | None = None,
                     end_on: dt.date | None = None, status: str = Intervention.Status.PLANNED) -> Intervention:
    case, pathway = _lock(case)
    intervention = Intervention(pathway=pathway, sector=sector, unit=unit, description=description.strip(),
                                kind=kind, step=step, start_on=start_on, end_on=end_on, status=status)
    intervention.full_clean()
    intervention.save()
    _sync_intervention_fact(pathway)
    _bump(pathway, "intervention_started_on")
    audit_record(actor=actor, action=AuditEvent.Action.CREATE, basis=basis, case=case, obj=intervention,
                 summary=f"Indsats: {intervention.description[:120]} ({intervention.get_kind_display().lower()}, trin {step})")
    case_refresh_deadline(case=case)
    return intervention


@transaction.atomic
def agreement_add(*, actor: Actor, basis: str, case: Case, what: str, how: str = "", responsible: str,
                  responsible_name: str = "", due_on: dt.date | None = None) -> Agreement:
    """An agreement added to the living plan between meetings (e.g. from BUA's advice). It
    shows in the current plan at once and is carried into the next meeting's version (before
    the start meeting: into the plan's first version)."""
    case, pathway = _lock(case)
    latest = pathway.versions.order_by("-number").first()
    agreement = Agreement(pathway=pathway, what=what.strip(), how=how.strip(), responsible=responsible,
                          responsible_name=responsible_name.strip(), due_on=due_on, created_in=latest)
    agreement.full_clean()
    agreement.save()
    _bump(pathway)
    audit_record(actor=actor, action=AuditEvent.Action.CREATE, basis=basis, case=case, obj=agreement,
                 summary=f"Aftale tilføjet handleplanen mellem møder: {agreement.what[:150]}")
    return agreement


@transaction.atomic
def intervention_update(*, actor: Actor, basis: str, intervention: Intervention | int, expected_version: int,
                        status: str, start_on: dt.date | None, end_on: dt.date | None,
                        step: int | None = None) -> Intervention:
    pk = intervention.pk if isinstance(intervention, Intervention) else intervention
    case, pathway = _lock(Intervention.objects.values_list("pathway__case_id", flat=True).get(pk=pk))
    intervention = Intervention.objects.select_for_update().get(pk=pk)
    if intervention.version != expected_version:
        raise ValidationError("Indsatsen er ændret af en anden, mens du arbejdede. Indlæs siden igen.")
    intervention.status, intervention.start_on, intervention.end_on = status, start_on, end_on
    if step is not None:
        intervention.step = step
    intervention.version += 1
    intervention.full_clean()
    intervention.save()
    _sync_intervention_fact(pathway)
    _bump(pathway, "intervention_started_on")
    audit_record(actor=actor, action=AuditEvent.Action.CHANGE, basis=basis, case=case, obj=intervention,
                 summary=f"Indsats {intervention.description[:100]}: {intervention.get_status_display().lower()}")
    case_refresh_deadline(case=case)
    return intervention


# ---- Deadlines: explanations, digest, sweep ----------------------------------------------------

@transaction.atomic
def deadline_explain(*, actor: Actor, basis: str, case: Case, clock: str, due_on: dt.date, text: str) -> DeadlineExplanation:
    """The lead professional's written explanation of a missed (or missing) deadline."""
    from tovholder.pathway.clocks import PATHWAY_CLOCKS

    case, pathway = _lock(case)
    if clock not in PATHWAY_CLOCKS:
        raise ValidationError("Ukendt frist.")
    if actor.user is None or actor.user.pk != pathway.lead_user_id:
        raise ValidationError("Forklaringen skrives af den indsatsansvarlige.")
    if len(text.strip()) < 10:
        raise ValidationError({"text": "Skriv en forklaring på, hvorfor fristen ikke er overholdt."})
    today = timezone.localdate()
    from tovholder.deadlines.milestones import case_milestones

    if not any(str(m.clock) == clock and m.due == due_on and m.status(today) in ("overdue", "met_late")
               for m in case_milestones(case, today)):
        raise ValidationError("Fristen er ikke overskredet.")
    explanation, created = DeadlineExplanation.objects.get_or_create(
        case=case, clock=clock, due_on=due_on, defaults={"text": text.strip(), "given_by": actor.user})
    if not created:
        raise ValidationError("Der er allerede givet en forklaring på denne frist.")
    audit_record(actor=actor, action=AuditEvent.Action.CREATE, basis=basis, case=case, obj=explanation,
                 summary=f"Forklaring på overskredet frist ({clock}, {due_on:%d.%m.%Y})")
    return explanation


def lead_digest_items(*, user: User, today: dt.date) -> list[dict]:
    """What is due soon, overdue or unexplained on the user's active pathways."""
    from tovholder.deadlines.milestones import case_milestones
    from tovholder.pathway.clocks import PATHWAY_CLOCKS

    items = []
    for pathway in Pathway.objects.filter(lead_user=user, closed_on__isnull=True).select_related(
            "case__child", "case__municipality"):
        for m in case_milestones(pathway.case, today):
            status = m.status(today)
            if m.clock not in PATHWAY_CLOCKS or status not in ("overdue", "due_soon", "met_late"):
                continue
            if status == "met_late" and m.explanation:
                continue
            items.append({"case_id": pathway.case_id, "reference": pathway.case.reference,
                          "child": pathway.case.child.full_name, "clock": str(m.clock), "label": m.label,
                          "due": m.due.isoformat() if m.due else None, "status": str(status),
                          "needs_explanation": status in ("overdue", "met_late") and not m.explanation})
    return sorted(items, key=lambda i: (i["due"] or "", i["reference"]))


def lead_digest_send(*, limit: int = 500) -> int:
    """The daily digest to each lead professional (background job). One per lead per day,
    guaranteed by a unique constraint, so running it twice sends nothing twice."""
    today = timezone.localdate()
    done = LeadDigest.objects.filter(day=today).values("user_id")
    active_leads = Pathway.objects.filter(closed_on__isnull=True).values("lead_user_id")
    leads = User.objects.filter(pk__in=active_leads, is_active=True).exclude(pk__in=done).order_by("pk")[:limit]
    sent = 0
    for user in leads:
        items = lead_digest_items(user=user, today=today)
        try:
            with transaction.atomic():
                LeadDigest.objects.create(user=user, day=today, items=items)
        except IntegrityError:
            continue  # another worker got there first
        sent += 1
    digest_emails_send(today=today)
    return sent


def digest_counts(items: list[dict]) -> dict[str, int]:
    return {
        "overdue": sum(1 for i in items if i["status"] == "overdue"),
        "due_soon": sum(1 for i in items if i["status"] == "due_soon"),
        "unexplained": sum(1 for i in items if i["needs_explanation"]),
    }


def digest_emails_send(*, today: dt.date, limit: int = 500) -> int:
    """E-mail each lead that today's digest is waiting — counts and a link, never a child's
    name (e-mail is not a secure channel). One claimed row at a time; a failure is retried
    by the next run of the loop."""
    from django.conf import settings
    from django.core.mail import send_mail
    from django.urls import reverse

    stale = timezone.now() - dt.timedelta(minutes=10)
    LeadDigest.objects.filter(day=today, emailed_at__isnull=True, email_claimed_at__lt=stale).update(
        email_claimed_at=None)
    ids = list(LeadDigest.objects.filter(day=today, emailed_at__isnull=True, email_claimed_at__isnull=True)
               .exclude(items=[]).exclude(user__email="").values_list("pk", flat=True)[:limit])
    url = settings.SITE_URL.rstrip("/") + reverse("pathway:digest")
    sent = 0
    for pk in ids:
        if LeadDigest.objects.filter(pk=pk, emailed_at__isnull=True, email_claimed_at__isnull=True).update(
                email_claimed_at=timezone.now()) != 1:
            continue
        digest = LeadDigest.objects.select_related("user").get(pk=pk)
        n = digest_counts(digest.items)
        lines = [f"Kære {digest.user.get_full_name()}", "",
                 f"På dine fælles forløb er {n['overdue']} frist(er) overskredet, og {n['due_soon']} falder "
                 f"inden for kort tid."]
        if n["unexplained"]:
            lines.append(f"{n['unexplained']} mangler en skriftlig forklaring.")
        lines += ["", f"Se dem i Tovholder: {url}", "",
                  "Af hensyn til databeskyttelse står børnenes navne ikke i e-mailen."]
        try:
            send_mail(subject="Tovholder: dine frister i dag", message="\n".join(lines),
                      from_email=settings.DEFAULT_FROM_EMAIL, recipient_list=[digest.user.email])
        except Exception as exc:  # noqa: BLE001 - retried by the next run
            log.warning("digest e-mail %s not sent: %s", pk, type(exc).__name__)
            LeadDigest.objects.filter(pk=pk).update(email_claimed_at=None)
            continue
        LeadDigest.objects.filter(pk=pk).update(emailed_at=timezone.now())
        sent += 1
    return sent


def deadline_sweep_daily() -> int:
    """The daily deadline sweep (background job): claims today's run, then refreshes every
    active pathway's next deadline in set-based SQL."""
    from tovholder.pathway.clocks import sweep_deadlines
    from tovholder.pathway.models import DeadlineSweepRun

    today = timezone.localdate()
    try:
        with transaction.atomic():
            run = DeadlineSweepRun.objects.create(day=today)
    except IntegrityError:
        return 0
    updated = sweep_deadlines()
    DeadlineSweepRun.objects.filter(pk=run.pk).update(finished_at=timezone.now(), updated=updated)
    return updated
