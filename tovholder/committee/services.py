"""State changes of the coordination committee (#B).

Lock order, to keep concurrent services from deadlocking: the case, then the agenda item,
then the meeting. Every service that acts on a case calls the consent gate after locking it.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.urls import reverse
from django.utils import timezone

from tovholder.access import Basis
from tovholder.audit.actor import Actor
from tovholder.audit.models import AuditEvent
from tovholder.audit.services import audit_record, audit_record_many
from tovholder.cases import notify
from tovholder.cases.models import Case, CaseTeamMember, ClosedReason, Stage, TeamRole
from tovholder.cases.services import case_transition, lock_case
from tovholder.committee.minutes import draft_minute
from tovholder.committee.models import (
    FINAL_KINDS,
    AgendaItem,
    CommitteeDecision,
    CommitteeMeeting,
    CommitteeSettings,
    DecisionKind,
    ExemptionGround,
    MeetingAttendance,
    Minute,
    UnitNote,
)
from tovholder.committee.selectors import (
    TAKEOVER_KINDS,
    committee_seats,
    expected_attendees,
    settings_for,
)
from tovholder.consent.gate import ConsentRequired, processing_allowed, require_processing_allowed
from tovholder.deadlines.clocks import Rules
from tovholder.deadlines.services import case_refresh_deadline
from tovholder.deadlines.workdays import COPENHAGEN, calendar_for, local_date
from tovholder.organisations.models import Membership, Municipality, Unit, User

log = logging.getLogger(__name__)

JOB = Actor.job("committee")
STALE = "ændret af en anden, mens du arbejdede. Indlæs siden igen."

# The case's closing reason for each decision that ends the committee's part.
CLOSES_WITH = {
    DecisionKind.ORDINARY_ROUTE: ClosedReason.ORDINARY_ROUTE,
    DecisionKind.EVERYDAY_SUPPORT: ClosedReason.EVERYDAY_SUPPORT,
    DecisionKind.REFERRED_ON: ClosedReason.REFERRED_ON,
}


class StaleObject(ValidationError):
    """Someone else saved the same thing first: nothing is lost, reload and try again."""


def _at(day: dt.date, time: dt.time) -> dt.datetime:
    """A Copenhagen wall-clock time on `day`, as an aware moment (DST-safe)."""
    return dt.datetime.combine(day, time, tzinfo=COPENHAGEN)


def _seat_role(actor: Actor, municipality_id: int) -> str | None:
    if actor.user is None:
        return None
    for seat in committee_seats(actor.user):
        if seat.municipality.pk == municipality_id:
            return seat.role
    return None


def _require_member(actor: Actor, municipality_id: int) -> None:
    if _seat_role(actor, municipality_id) is None:
        raise ValidationError("Kun koordinationsudvalgets medlemmer kan gøre dette.")


def _require_chair(actor: Actor, municipality_id: int) -> None:
    if _seat_role(actor, municipality_id) != "chair":
        raise ValidationError("Kun koordinationsudvalgets formand kan gøre dette.")


def _require_sitting(meeting: CommitteeMeeting, now: dt.datetime) -> None:
    """Decisions are recorded at a meeting that is not cancelled or closed, on its day or after."""
    if meeting.status == CommitteeMeeting.Status.CANCELLED:
        raise ValidationError("Mødet er aflyst.")
    if meeting.status == CommitteeMeeting.Status.HELD:
        raise ValidationError("Mødet er afsluttet, og referaterne er sendt. Tag sagen på næste møde.")
    if meeting.scheduled_on > local_date(now):
        raise ValidationError("Mødet er ikke begyndt endnu.")


# --- Set-up: the standing meeting and the schedule -------------------------------------


@transaction.atomic
def committee_settings_update(
    *, actor: Actor, municipality: Municipality, weekday: int, starts_at: dt.time, ends_at: dt.time,
    location: str = "", video_link: str = "", weeks_ahead: int = 8, expected_version: int | None = None,
) -> CommitteeSettings:
    _require_chair(actor, municipality.pk)
    CommitteeSettings.objects.get_or_create(municipality=municipality)
    s = CommitteeSettings.objects.select_for_update().get(municipality=municipality)
    if expected_version is not None and s.version != expected_version:
        raise StaleObject(f"Mødeplanen er {STALE}")
    moved = (s.weekday, s.starts_at, s.ends_at) != (weekday, starts_at, ends_at)
    s.weekday, s.starts_at, s.ends_at = weekday, starts_at, ends_at
    s.location, s.video_link, s.weeks_ahead = location.strip(), video_link.strip(), weeks_ahead
    s.version += 1
    s.updated_at = timezone.now()
    s.full_clean()
    s.save()
    audit_record(actor=actor, action=AuditEvent.Action.CHANGE, basis=Basis.COMMITTEE, obj=s,
                 summary=f"Mødeplan: {s.get_weekday_display()} {starts_at:%H:%M}–{ends_at:%H:%M}")
    if moved:
        _drop_unused_meetings(actor=actor, settings=s)
    meetings_generate(actor=actor, municipality=municipality)
    return s


def _drop_unused_meetings(*, actor: Actor, settings: CommitteeSettings) -> None:
    """Planned standing meetings that no longer match the schedule go, unless something
    happened at them already (attendance, decisions)."""
    used = Q(Exists(CommitteeDecision.objects.filter(meeting=OuterRef("pk")))) | Q(
        Exists(MeetingAttendance.objects.filter(meeting=OuterRef("pk"))))
    future = CommitteeMeeting.objects.filter(
        municipality=settings.municipality, kind=CommitteeMeeting.Kind.SCHEDULED,
        status=CommitteeMeeting.Status.PLANNED, starts_at__gt=timezone.now(),
    ).exclude(used)
    stale = [
        m.pk for m in future
        if (m.scheduled_on.weekday(), m.starts_at.astimezone(COPENHAGEN).time(), m.ends_at.astimezone(COPENHAGEN).time())
        != (settings.weekday, settings.starts_at, settings.ends_at)
    ]
    if stale:
        CommitteeMeeting.objects.filter(pk__in=stale).delete()
        audit_record(actor=actor, action=AuditEvent.Action.CHANGE, basis=Basis.COMMITTEE, obj=settings,
                     summary=f"{len(stale)} planlagte møder flyttet til den nye mødeplan")


@transaction.atomic
def meetings_generate(*, actor: Actor, municipality: Municipality, now: dt.datetime | None = None) -> list[CommitteeMeeting]:
    """Plan the standing meetings for the coming weeks. Idempotent: a day that has its
    meeting (even a cancelled one) is left alone; no meeting on a non-working day."""
    now = now or timezone.now()
    today = local_date(now)
    s = settings_for(municipality)
    calendar = calendar_for(municipality)
    wanted: list[tuple[dt.date, dt.datetime, dt.datetime]] = []
    for offset in range(s.weeks_ahead * 7 + 1):
        day = today + dt.timedelta(days=offset)
        if day.weekday() != s.weekday or not calendar.is_working_day(day):
            continue
        starts, ends = _at(day, s.starts_at), _at(day, s.ends_at)
        if ends >= now:
            wanted.append((day, starts, ends))
    if not wanted:
        return []
    have = set(
        CommitteeMeeting.objects.filter(municipality=municipality, kind=CommitteeMeeting.Kind.SCHEDULED,
                                        scheduled_on__in=[w[0] for w in wanted])
        .values_list("scheduled_on", flat=True)
    )
    new = [
        CommitteeMeeting(municipality=municipality, kind=CommitteeMeeting.Kind.SCHEDULED, scheduled_on=day,
                         starts_at=starts, ends_at=ends, location=s.location, video_link=s.video_link)
        for day, starts, ends in wanted if day not in have
    ]
    if not new:
        return []
    CommitteeMeeting.objects.bulk_create(new, ignore_conflicts=True)
    audit_record(actor=actor, action=AuditEvent.Action.CREATE, basis=Basis.SYSTEM,
                 summary=f"{municipality}: {len(new)} udvalgsmøder planlagt frem til {new[-1].scheduled_on:%d.%m.%Y}")
    return new


@transaction.atomic
def meeting_add(
    *, actor: Actor, municipality: Municipality, day: dt.date, starts_at: dt.time, ends_at: dt.time,
    location: str = "", video_link: str = "",
) -> CommitteeMeeting:
    """An extra meeting the chair adds, e.g. so a case does not miss its deadline."""
    _require_chair(actor, municipality.pk)
    if not calendar_for(municipality).is_working_day(day):
        raise ValidationError({"day": f"{day:%d.%m.%Y} er ikke en hverdag i {municipality.name} Kommune."})
    if ends_at <= starts_at:
        raise ValidationError({"ends_at": "Mødet skal slutte efter, det begynder."})
    starts = _at(day, starts_at)
    existing = CommitteeMeeting.objects.filter(municipality=municipality, starts_at=starts).exclude(
        status=CommitteeMeeting.Status.CANCELLED).first()
    if existing is not None:
        return existing  # a double click, or the standing meeting is already there
    s = settings_for(municipality)
    meeting = CommitteeMeeting(
        municipality=municipality, kind=CommitteeMeeting.Kind.EXTRA, scheduled_on=day, starts_at=starts,
        ends_at=_at(day, ends_at), location=location.strip() or s.location,
        video_link=video_link.strip() or s.video_link, created_by=actor.user,
    )
    meeting.full_clean()
    meeting.save()
    audit_record(actor=actor, action=AuditEvent.Action.CREATE, basis=Basis.COMMITTEE, obj=meeting,
                 summary=f"Ekstra udvalgsmøde {day:%d.%m.%Y} kl. {starts_at:%H:%M}")
    return meeting


@transaction.atomic
def meeting_cancel(*, actor: Actor, meeting: CommitteeMeeting, reason: str) -> CommitteeMeeting:
    _require_chair(actor, meeting.municipality_id)
    meeting = CommitteeMeeting.objects.select_for_update().get(pk=meeting.pk)
    if meeting.status == CommitteeMeeting.Status.CANCELLED:
        return meeting
    if meeting.status != CommitteeMeeting.Status.PLANNED:
        raise ValidationError("Et afholdt møde kan ikke aflyses.")
    if meeting.decisions.exists():
        raise ValidationError("Mødet har afgørelser og kan ikke aflyses.")
    if not reason.strip():
        raise ValidationError({"reason": "Skriv hvorfor mødet aflyses."})
    meeting.status = CommitteeMeeting.Status.CANCELLED
    meeting.cancel_reason = reason.strip()[:300]
    meeting.version += 1
    meeting.full_clean()
    meeting.save()
    audit_record(actor=actor, action=AuditEvent.Action.CHANGE, basis=Basis.COMMITTEE, obj=meeting,
                 summary=f"Udvalgsmøde {meeting.scheduled_on:%d.%m.%Y} aflyst: {meeting.cancel_reason[:200]}")
    return meeting


@transaction.atomic
def meeting_attendance_record(
    *, actor: Actor, meeting: CommitteeMeeting, present: Iterable[User], guests: str = "",
    expected_version: int | None = None,
) -> CommitteeMeeting:
    """Who took part: the members, invited principals and leads (present or not), and
    others without a login (e.g. BUA by video)."""
    _require_member(actor, meeting.municipality_id)
    meeting = CommitteeMeeting.objects.select_for_update().get(pk=meeting.pk)
    _require_sitting(meeting, timezone.now())
    if expected_version is not None and meeting.version != expected_version:
        raise StaleObject(f"Fremmødet er {STALE}")
    present_ids = {u.pk for u in present}
    expected = expected_attendees(meeting)
    unknown = present_ids - {a.user.pk for a in expected}
    if unknown:
        raise ValidationError("Kun udvalgets medlemmer og inviterede kan registreres som til stede.")
    for a in expected:
        MeetingAttendance.objects.update_or_create(
            meeting=meeting, user=a.user, defaults={"unit": a.unit, "role": a.role, "present": a.user.pk in present_ids})
    meeting.guests = guests.strip()[:300]
    meeting.version += 1
    meeting.save(update_fields=["guests", "version"])
    audit_record(actor=actor, action=AuditEvent.Action.CHANGE, basis=Basis.COMMITTEE, obj=meeting,
                 summary=f"Fremmøde registreret: {len(present_ids)} til stede")
    return meeting


# --- The agenda -------------------------------------------------------------------------


@transaction.atomic
def agenda_sync(*, actor: Actor = JOB, municipality: Municipality | None = None) -> int:
    """Put every case whose consent is complete, and that the consent gate lets through, on
    its committee's agenda, and take off items whose case left the committee's hands some
    other way (e.g. consent withdrawn). Idempotent; run by the background loop and before
    the agenda is shown."""
    has_item = AgendaItem.objects.filter(case=OuterRef("pk"), origin=AgendaItem.Origin.CONSENT)
    ready = Case.objects.filter(stage=Stage.AWAITING_COMMITTEE, consent_completed_at__isnull=False).exclude(
        Exists(has_item))
    if municipality is not None:
        ready = ready.filter(municipality=municipality)
    cases = list(ready.select_for_update(skip_locked=True, of=("self",)).select_related("child"))
    # Defence in depth: the stage and consent_completed_at are facts, not the gate. A case
    # the gate keeps shut (consent missing, lapsed or withdrawn; e.g. moved past consent by
    # the plain stage service) is skipped, not put on the agenda, and not an error.
    allowed = [c for c in cases if processing_allowed(c)]
    if len(allowed) < len(cases):
        shut = sorted({c.pk for c in cases} - {c.pk for c in allowed})
        log.warning("agenda_sync: %d case(s) awaiting the committee without valid consent skipped: %s",
                    len(shut), ", ".join(map(str, shut)))
    cases = allowed
    if cases:
        AgendaItem.objects.bulk_create(
            [AgendaItem(case=c, municipality_id=c.municipality_id, origin=AgendaItem.Origin.CONSENT,
                        ready_at=c.consent_completed_at) for c in cases],
            ignore_conflicts=True,
        )
        audit_record_many(actor=actor, action=AuditEvent.Action.CREATE, basis=Basis.SYSTEM, cases=cases,
                          summary="Sat på koordinationsudvalgets dagsorden (samtykke komplet)")
        _invite_principals(actor=actor, cases=cases)
    gone = AgendaItem.objects.filter(state=AgendaItem.State.PENDING).filter(
        Q(case__stage=Stage.CLOSED) | Q(origin=AgendaItem.Origin.CONSENT) & ~Q(case__stage=Stage.AWAITING_COMMITTEE))
    if municipality is not None:
        gone = gone.filter(municipality=municipality)
    gone = list(gone.select_related("case"))
    if gone:
        AgendaItem.objects.filter(pk__in=[i.pk for i in gone], state=AgendaItem.State.PENDING).update(
            state=AgendaItem.State.WITHDRAWN, version=F("version") + 1)
        audit_record_many(actor=actor, action=AuditEvent.Action.CHANGE, basis=Basis.SYSTEM,
                          cases=[i.case for i in gone],
                          summary="Taget af udvalgets dagsorden: forløbet er afsluttet eller afgjort andetsteds")
    return len(cases) + len(gone)


def _invite_principals(*, actor: Actor, cases: list[Case]) -> None:
    """The child's school principal joins the committee for that child (seed 001)."""
    school_ids = {c.child.school_id for c in cases if c.child.school_id}
    if not school_ids:
        return
    principals: dict[int, list[User]] = {}
    for m in Membership.objects.active().filter(unit_id__in=school_ids, role=Membership.Role.LEADER).select_related("user"):
        principals.setdefault(m.unit_id, []).append(m.user)
    items = dict(AgendaItem.objects.filter(case__in=cases, origin=AgendaItem.Origin.CONSENT).values_list("case_id", "pk"))
    for case in cases:
        users = principals.get(case.child.school_id)
        if users and case.pk in items:
            notify.tell_staff(
                actor=actor, case=case, users=users,
                text=f"{case.child.full_name} er på koordinationsudvalgets dagsorden. Du er inviteret som skoleleder.",
                url=reverse("committee:item", args=[items[case.pk]]),
            )


def _lock_item(item: AgendaItem | int) -> tuple[Case, AgendaItem]:
    pk = item.pk if isinstance(item, AgendaItem) else item
    case_id = AgendaItem.objects.values_list("case_id", flat=True).get(pk=pk)
    case = lock_case(case_id)
    locked = AgendaItem.objects.select_for_update().get(pk=pk)
    return case, locked


@transaction.atomic
def unit_note_save(
    *, actor: Actor, basis: str, item: AgendaItem, unit: Unit, text: str, expected_version: int | None = None,
) -> UnitNote:
    """What one unit already knows about the child, written before or during the meeting.
    expected_version: the note's version as read, 0 for a new note."""
    case, item = _lock_item(item)
    require_processing_allowed(case)
    if item.state != AgendaItem.State.PENDING:
        raise ValidationError("Sagen er ikke længere på dagsordenen.")
    if actor.user is None or not Membership.objects.active().filter(user=actor.user, unit=unit).exists():
        raise ValidationError("Du kan kun skrive for en enhed, du selv er tilknyttet.")
    if unit.municipality_id != case.municipality_id or unit.kind not in TAKEOVER_KINDS:
        raise ValidationError("Enheden hører ikke til kommunens udvalg.")
    text = text.strip()
    if not text:
        raise ValidationError({"text": "Skriv hvad enheden ved om barnet."})
    note = UnitNote.objects.select_for_update().filter(item=item, unit=unit).first()
    now = timezone.now()
    if note is None:
        if expected_version not in (None, 0):
            raise StaleObject(f"Noten er {STALE}")
        note = UnitNote(item=item, unit=unit, author=actor.user, text=text, created_at=now, updated_at=now)
        action = AuditEvent.Action.CREATE
    else:
        if expected_version is not None and note.version != expected_version:
            raise StaleObject(f"{unit.name}s note er {STALE}")
        note.text, note.author, note.updated_at = text, actor.user, now
        note.version += 1
        action = AuditEvent.Action.CHANGE
    note.full_clean()
    note.save()
    audit_record(actor=actor, action=action, basis=basis, case=case, obj=note,
                 summary=f"Viden fra {unit.name} til udvalget")
    return note


# --- Decisions --------------------------------------------------------------------------


def _effective_at(meeting: CommitteeMeeting, now: dt.datetime) -> dt.datetime:
    """A decision is dated by its meeting, even when the chair records it afterwards."""
    return meeting.starts_at if meeting.starts_at <= now else now


def _lock_for_decision(
    *, actor: Actor, item: AgendaItem, meeting: CommitteeMeeting, expected_version: int | None,
) -> tuple[Case, AgendaItem, CommitteeMeeting]:
    """Lock in order and check the seat. The consent gate is the caller's next step, after
    it has recognised a repeated submission (which must not fail on the case it closed)."""
    case, item = _lock_item(item)
    meeting = CommitteeMeeting.objects.select_for_update().get(pk=meeting.pk)
    _require_member(actor, case.municipality_id)
    if meeting.municipality_id != item.municipality_id:
        raise ValidationError("Mødet hører til et andet udvalg.")
    if meeting.ends_at < item.ready_at:
        raise ValidationError("Sagen var ikke på dagsordenen, da mødet blev holdt.")
    return case, item, meeting


def _check_open(item: AgendaItem, expected_version: int | None) -> None:
    if item.state != AgendaItem.State.PENDING:
        raise ValidationError("Sagen er ikke længere på dagsordenen.")
    if expected_version is not None and item.version != expected_version:
        raise StaleObject(f"Sagen er {STALE}")


@transaction.atomic
def decision_record(
    *, actor: Actor, basis: str, item: AgendaItem, meeting: CommitteeMeeting, kind: str, conclusion: str,
    lead_user: User | None = None, lead_unit: Unit | None = None, unit: Unit | None = None,
    referred_to: str = "", late_explanation: str = "", expected_version: int | None = None,
) -> CommitteeDecision:
    """The committee's decision on a case at a meeting: a joint pathway with its lead
    professional, the ordinary municipal route, advice back to everyday support (#0), a
    recommendation to refer on, or (for a case its lead brought back) that the pathway
    continues. Records compliance with the 8-working-day clock and drafts the minute."""
    if kind not in FINAL_KINDS:
        raise ValidationError({"kind": "Vælg en afgørelse."})
    case, item, meeting = _lock_for_decision(actor=actor, item=item, meeting=meeting,
                                             expected_version=expected_version)
    earlier = item.decisions.filter(kind__in=sorted(FINAL_KINDS)).first()
    if earlier is not None:
        if earlier.kind == kind and earlier.meeting_id == meeting.pk:
            return earlier  # the same decision submitted twice (a double click)
        raise ValidationError("Sagen er allerede afgjort.")
    require_processing_allowed(case)
    _check_open(item, expected_version)
    now = timezone.now()
    _require_sitting(meeting, now)
    at = _effective_at(meeting, now)

    conclusion = conclusion.strip()
    if not conclusion:
        raise ValidationError({"conclusion": "Skriv en kort konklusion; den står i referatet."})
    current_lead = (CaseTeamMember.objects.filter(case=case, role=TeamRole.LEAD, ended_at__isnull=True)
                    .select_related("user", "unit").first())
    if kind == DecisionKind.PATHWAY:
        if item.origin != AgendaItem.Origin.CONSENT or current_lead is not None:
            raise ValidationError({"kind": "Forløbet har allerede en indsatsansvarlig; vælg «Forløbet fortsætter»."})
        if lead_user is None or lead_unit is None:
            raise ValidationError({"lead": "Udpeg den indsatsansvarlige: person og enhed."})
        if lead_unit.municipality_id != case.municipality_id or lead_unit.kind not in TAKEOVER_KINDS:
            raise ValidationError({"lead": "Den indsatsansvarlige skal komme fra en af kommunens enheder."})
        if not Membership.objects.active().filter(user=lead_user, unit=lead_unit).exists():
            raise ValidationError({"lead": f"{lead_user} er ikke tilknyttet {lead_unit}."})
        unit = lead_unit
    elif kind == DecisionKind.CONTINUE:
        if item.origin != AgendaItem.Origin.RETURNED or current_lead is None:
            raise ValidationError({"kind": "«Forløbet fortsætter» gælder kun en sag, som den indsatsansvarlige har sendt tilbage."})
        lead_user, unit = current_lead.user, current_lead.unit
    else:
        lead_user = None
        if kind == DecisionKind.ORDINARY_ROUTE and unit is None:
            raise ValidationError({"unit": "Vælg den enhed, der overtager sagen."})
        if kind == DecisionKind.EVERYDAY_SUPPORT and unit is None:
            unit = case.child.school
        if unit is not None and (unit.municipality_id != case.municipality_id or unit.kind not in TAKEOVER_KINDS):
            raise ValidationError({"unit": "Enheden skal høre til kommunen."})
        if kind == DecisionKind.REFERRED_ON and not referred_to.strip():
            raise ValidationError({"referred_to": "Skriv hvortil udvalget anbefaler henvisning."})

    # Compliance with the 8-working-day promise is recorded with the decision.
    rules = Rules.for_municipality(case.municipality)
    due = rules.committee_due(item.ready_at)
    if case.exempt_from_deadlines:
        compliance = AgendaItem.Compliance.EXEMPT
    elif meeting.scheduled_on <= due:
        compliance = AgendaItem.Compliance.MET
    else:
        compliance = AgendaItem.Compliance.MISSED
        if not late_explanation.strip():
            raise ValidationError({"late_explanation": (
                f"Fristen {due:%d.%m.%Y} er overskredet. Skriv en forklaring; den gemmes med afgørelsen.")})

    decision = CommitteeDecision(
        item=item, meeting=meeting, kind=kind, conclusion=conclusion, lead_user=lead_user, unit=unit,
        referred_to=referred_to.strip()[:200], decided_by=actor.user, decided_at=at, recorded_at=now,
    )
    decision.full_clean()
    decision.save()
    item.state = AgendaItem.State.DECIDED
    item.due_on, item.decided_on, item.compliance = due, meeting.scheduled_on, compliance
    item.late_explanation = late_explanation.strip() if compliance == AgendaItem.Compliance.MISSED else ""
    item.version += 1
    item.full_clean()
    item.save()
    audit_record(actor=actor, action=AuditEvent.Action.CREATE, basis=basis, case=case, obj=decision,
                 summary=f"Udvalgets afgørelse: {decision.get_kind_display()} ({item.get_compliance_display().lower()})")

    if kind == DecisionKind.PATHWAY:
        from tovholder.pathway.services import pathway_start

        case = pathway_start(actor=actor, basis=basis, case=case, lead_user=lead_user, lead_unit=lead_unit, at=at)
        notify.tell_staff(actor=actor, case=case, users=[lead_user],
                          text=f"Koordinationsudvalget har udpeget dig som indsatsansvarlig for {case.child.full_name}.",
                          url=reverse("cases:detail", args=[case.pk]))
    elif kind in CLOSES_WITH:
        if case.committee_decided_at is None:
            case.committee_decided_at = at
            case.version += 1
            case.save(update_fields=["committee_decided_at", "version"])
        case = case_transition(actor=actor, basis=basis, case=case, to=Stage.CLOSED, closed_reason=CLOSES_WITH[kind],
                               at=at, summary=f"Afsluttet af koordinationsudvalget: {decision.get_kind_display()}")
        if kind == DecisionKind.ORDINARY_ROUTE:
            leaders = [m.user for m in Membership.objects.active().filter(unit=unit, role=Membership.Role.LEADER)
                       .select_related("user")]
            if leaders:
                notify.tell_staff(actor=actor, case=case, users=leaders, text=(
                    f"Koordinationsudvalget har sendt sagen om {case.child.full_name} til almindelig "
                    f"sagsbehandling hos {unit.name}. Kontakt udvalgets formand for sagens oplysninger."))

    Minute.objects.create(decision=decision, meeting=meeting, item=item, updated_by=actor.user, updated_at=now,
                          text=draft_minute(decision=decision, case=case, meeting=meeting, rules=rules))
    return decision


@transaction.atomic
def item_postpone(
    *, actor: Actor, basis: str, item: AgendaItem, meeting: CommitteeMeeting, reason: str,
    expected_version: int | None = None,
) -> CommitteeDecision:
    """Postponed with a reason: the case stays on the next agenda; its clock keeps running."""
    case, item, meeting = _lock_for_decision(actor=actor, item=item, meeting=meeting,
                                             expected_version=expected_version)
    earlier = item.decisions.filter(kind=DecisionKind.POSTPONE, meeting=meeting).first()
    if earlier is not None:
        return earlier
    require_processing_allowed(case)
    _check_open(item, expected_version)
    now = timezone.now()
    _require_sitting(meeting, now)
    if not reason.strip():
        raise ValidationError({"reason": "Skriv hvorfor sagen udsættes."})
    decision = CommitteeDecision(item=item, meeting=meeting, kind=DecisionKind.POSTPONE, reason=reason.strip(),
                                 decided_by=actor.user, decided_at=_effective_at(meeting, now), recorded_at=now)
    decision.full_clean()
    decision.save()
    item.version += 1
    item.save(update_fields=["version"])
    audit_record(actor=actor, action=AuditEvent.Action.CREATE, basis=basis, case=case, obj=decision,
                 summary=f"Sagen udsat til næste møde: {decision.reason[:200]}")
    return decision


@transaction.atomic
def case_exempt_from_deadlines(
    *, actor: Actor, basis: str, item: AgendaItem, ground: str, reason: str,
    meeting: CommitteeMeeting | None = None,
) -> CommitteeDecision:
    """Exempt the case from the model's deadlines: the case is of authority character or
    there are medical grounds (seed 001). The one place the committee sets the case's
    exemption fields. At a meeting any member records it; between meetings the chair."""
    case, item = _lock_item(item)
    require_processing_allowed(case)
    if meeting is not None:
        meeting = CommitteeMeeting.objects.select_for_update().get(pk=meeting.pk)
        _require_member(actor, case.municipality_id)
        _require_sitting(meeting, timezone.now())
    else:
        _require_chair(actor, case.municipality_id)
    if case.exempt_from_deadlines:
        earlier = item.decisions.filter(kind=DecisionKind.EXEMPT).first()
        if earlier is not None:
            return earlier
        raise ValidationError("Forløbet er allerede undtaget fra tidsfristerne.")
    if item.state != AgendaItem.State.PENDING:
        raise ValidationError("Sagen er ikke længere på dagsordenen.")
    if ground not in ExemptionGround.values:
        raise ValidationError({"ground": "Vælg grundlaget: myndighedskarakter eller lægefaglige hensyn."})
    if not reason.strip():
        raise ValidationError({"reason": "Skriv en begrundelse."})
    now = timezone.now()
    label = ExemptionGround(ground).label
    case.exempt_from_deadlines = True
    case.exemption_reason = f"{label}: {reason.strip()}"[:300]
    case.version += 1
    case.save(update_fields=["exempt_from_deadlines", "exemption_reason", "version"])
    decision = CommitteeDecision(item=item, meeting=meeting, kind=DecisionKind.EXEMPT, exemption_ground=ground,
                                 reason=reason.strip(), decided_by=actor.user,
                                 decided_at=_effective_at(meeting, now) if meeting else now, recorded_at=now)
    decision.full_clean()
    decision.save()
    item.version += 1
    item.save(update_fields=["version"])
    audit_record(actor=actor, action=AuditEvent.Action.CHANGE, basis=basis, case=case, obj=case,
                 summary=f"Undtaget fra tidsfristerne: {label}")
    case_refresh_deadline(case=case)
    return decision


# --- Minutes ----------------------------------------------------------------------------


def _require_minutes_allowed(case: Case, minute: Minute) -> None:
    """Minutes are processing too. A case the decision itself closed may still get the
    minute of that decision; a case closed any other way (e.g. consent withdrawn) may not."""
    if case.is_open:
        require_processing_allowed(case)
        return
    closing = CLOSES_WITH.get(minute.decision.kind)
    if closing is None or case.closed_reason != closing:
        raise ConsentRequired("Forløbet er afsluttet; referatet kan ikke ændres eller sendes.")


@transaction.atomic
def minute_update(*, actor: Actor, basis: str, minute: Minute, text: str, expected_version: int | None = None) -> Minute:
    case = lock_case(minute.item.case_id)
    minute = Minute.objects.select_for_update().select_related("decision").get(pk=minute.pk)
    _require_member(actor, case.municipality_id)
    _require_minutes_allowed(case, minute)
    if minute.status == Minute.Status.SENT:
        raise ValidationError("Referatet er godkendt og sendt og kan ikke ændres.")
    if expected_version is not None and minute.version != expected_version:
        raise StaleObject(f"Referatet er {STALE}")
    text = text.strip()
    if not text:
        raise ValidationError({"text": "Referatet må ikke være tomt."})
    minute.text, minute.updated_by, minute.updated_at = text, actor.user, timezone.now()
    minute.version += 1
    minute.full_clean()
    minute.save()
    audit_record(actor=actor, action=AuditEvent.Action.CHANGE, basis=basis, case=case, obj=minute,
                 summary="Referat redigeret")
    return minute


@transaction.atomic
def minute_approve(*, actor: Actor, basis: str, minute: Minute) -> Minute:
    """The chair approves the minute; it goes to the custody holders (and the child if
    15+) by Digital Post and to the GP as a MedCom reply in the referral's thread."""
    case = lock_case(minute.item.case_id)
    minute = Minute.objects.select_for_update().select_related("decision").get(pk=minute.pk)
    _require_chair(actor, case.municipality_id)
    if minute.status == Minute.Status.SENT:
        return minute
    _require_minutes_allowed(case, minute)
    now = timezone.now()
    try:
        letters = notify.tell_family(actor=actor, case=case, subject="Referat fra koordinationsudvalget",
                                     body=minute.text, reason="minutes", include_child=True)
        reply = notify.tell_referrer(actor=actor, case=case, text=minute.text, reason="minutes")
    except ImproperlyConfigured as exc:
        raise ValidationError(f"Referatet kan ikke sendes: {exc}.") from exc
    minute.status = Minute.Status.SENT
    minute.approved_by, minute.approved_at = actor.user, now
    minute.letters_sent = len(letters or [])
    minute.referrer_reply = reply is not None
    minute.version += 1
    minute.full_clean()
    minute.save()
    audit_record(actor=actor, action=AuditEvent.Action.CHANGE, basis=basis, case=case, obj=minute,
                 summary=(f"Referat godkendt og sendt: {minute.letters_sent} brev(e)"
                          + (", svar til henviser" if minute.referrer_reply else "")))
    return minute


@transaction.atomic
def meeting_minutes_approve(*, actor: Actor, meeting: CommitteeMeeting) -> int:
    """The chair approves and sends every minute of the meeting and closes it. Cases it
    did not reach stay on the agenda of the next meeting."""
    _require_chair(actor, meeting.municipality_id)
    if meeting.scheduled_on > timezone.localdate():
        raise ValidationError("Mødet er ikke holdt endnu.")
    drafts = list(meeting.minutes.filter(status=Minute.Status.DRAFT).order_by("pk"))
    for minute in drafts:
        minute_approve(actor=actor, basis=Basis.COMMITTEE, minute=minute)
    meeting = CommitteeMeeting.objects.select_for_update().get(pk=meeting.pk)
    if meeting.status == CommitteeMeeting.Status.CANCELLED:
        raise ValidationError("Mødet er aflyst.")
    if meeting.status == CommitteeMeeting.Status.PLANNED:
        meeting.status = CommitteeMeeting.Status.HELD
        meeting.held_at = timezone.now()
        meeting.version += 1
        meeting.save(update_fields=["status", "held_at", "version"])
        audit_record(actor=actor, action=AuditEvent.Action.CHANGE, basis=Basis.COMMITTEE, obj=meeting,
                     summary=f"Udvalgsmøde {meeting.scheduled_on:%d.%m.%Y} afsluttet; {len(drafts)} referat(er) sendt")
    return len(drafts)


# --- Stalled pathways come back ------------------------------------------------------------


@transaction.atomic
def committee_return_case(*, actor: Actor, case: Case, reason: str) -> AgendaItem:
    """The lead professional brings a stalled pathway back to the committee (DOMAIN.md):
    it goes on the next agenda, and the lead is invited."""
    case = lock_case(case)
    require_processing_allowed(case)
    if case.stage not in (Stage.AWAITING_START, Stage.ACTIVE):
        raise ValidationError("Kun et igangværende forløb kan sendes tilbage til udvalget.")
    lead = CaseTeamMember.objects.filter(case=case, role=TeamRole.LEAD, ended_at__isnull=True).first()
    if lead is None or actor.user is None or lead.user_id != actor.user.pk:
        raise ValidationError("Kun den indsatsansvarlige kan sende forløbet tilbage til udvalget.")
    pending = AgendaItem.objects.filter(case=case, state=AgendaItem.State.PENDING).first()
    if pending is not None:
        if pending.origin == AgendaItem.Origin.RETURNED and pending.returned_by_id == actor.user.pk:
            return pending  # sent twice
        raise ValidationError("Forløbet er allerede på udvalgets dagsorden.")
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "Skriv hvorfor forløbet går i stå, og hvad du har brug for fra udvalget."})
    item = AgendaItem(case=case, municipality_id=case.municipality_id, origin=AgendaItem.Origin.RETURNED,
                      ready_at=timezone.now(), returned_by=actor.user, returned_unit=lead.unit,
                      return_reason=reason[:4000])
    item.full_clean()
    item.save()
    audit_record(actor=actor, action=AuditEvent.Action.CREATE, basis=Basis.LEAD, case=case, obj=item,
                 summary="Forløbet sendt tilbage til koordinationsudvalget")
    members = [m.user for m in Membership.objects.active().filter(
        unit__kind=Unit.Kind.COMMITTEE, unit__municipality_id=case.municipality_id,
        role__in=(Membership.Role.COMMITTEE_CHAIR, Membership.Role.COMMITTEE_MEMBER)).select_related("user")]
    if members:
        notify.tell_staff(actor=actor, case=case, users=members,
                          text=f"{actor.user} har sendt forløbet for {case.child.full_name} tilbage til udvalget.",
                          url=reverse("committee:item", args=[item.pk]))
    return item
