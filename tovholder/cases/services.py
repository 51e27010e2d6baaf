"""State changes of a case: opening, moving between stages, its team."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from tovholder.audit.actor import Actor
from tovholder.audit.models import AuditEvent
from tovholder.audit.services import audit_record
from tovholder.cases.models import TRANSITIONS, Case, CaseTeamMember, Stage, TeamRole
from tovholder.children.models import Child
from tovholder.deadlines.services import case_refresh_deadline
from tovholder.organisations.models import Municipality, Unit, User


class StaleCase(ValidationError):
    """Someone else changed the case since it was read: reload and try again."""


def lock_case(case: Case | int, *, expected_version: int | None = None) -> Case:
    """Lock the case row for the rest of the transaction (and check the version read)."""
    pk = case.pk if isinstance(case, Case) else case
    locked = Case.objects.select_for_update().select_related("municipality", "child").get(pk=pk)
    if expected_version is not None and locked.version != expected_version:
        raise StaleCase("Forløbet er ændret af en anden, mens du arbejdede. Indlæs siden igen.")
    return locked


def _bump(case: Case, *fields: str) -> None:
    case.version += 1
    case.save(update_fields=[*fields, "version"])


@transaction.atomic
def case_open(
    *,
    actor: Actor,
    basis: str,
    municipality: Municipality,
    child: Child,
    referral_channel: str,
    referrer_unit: Unit | None = None,
    is_re_referral: bool = False,
    opened_at=None,
) -> Case:
    case = Case(
        municipality=municipality,
        child=child,
        referral_channel=referral_channel,
        referrer_unit=referrer_unit,
        is_re_referral=is_re_referral,
        opened_at=opened_at or timezone.now(),
        stage=Stage.AWAITING_CONSENT,
    )
    case.full_clean()
    case.save()
    audit_record(actor=actor, action=AuditEvent.Action.CREATE, basis=basis, case=case, obj=case,
                 summary="Forløb oprettet (afventer samtykke)")
    case_refresh_deadline(case=case)
    return case


@transaction.atomic
def case_transition(
    *,
    actor: Actor,
    basis: str,
    case: Case,
    to: str,
    closed_reason: str = "",
    summary: str = "",
    at=None,
) -> Case:
    """Move a case to another stage. Callers are the services of consent, committee and pathway."""
    case = lock_case(case)
    if to not in TRANSITIONS[case.stage]:
        raise ValidationError(
            f"Forløbet kan ikke gå fra «{case.get_stage_display()}» til «{Stage(to).label}»."
        )
    at = at or timezone.now()
    fields = ["stage"]
    case.stage = to
    if to == Stage.CLOSED:
        if not closed_reason:
            raise ValidationError("Et afsluttet forløb skal have en årsag.")
        case.closed_reason = closed_reason
        case.closed_at = at
        fields += ["closed_reason", "closed_at"]
        # Team roles stay open: the closed case's history stays readable, for the record,
        # to those who had access (issue 4); every service refuses changes to a closed case.
    if to == Stage.AWAITING_COMMITTEE and case.consent_completed_at is None:
        case.consent_completed_at = at
        fields.append("consent_completed_at")
    if to == Stage.AWAITING_START and case.committee_decided_at is None:
        case.committee_decided_at = at
        fields.append("committee_decided_at")
    _bump(case, *fields)
    audit_record(actor=actor, action=AuditEvent.Action.CHANGE, basis=basis, case=case, obj=case,
                 summary=summary or f"Fase: {case.get_stage_display()}")
    case_refresh_deadline(case=case)
    return case


@transaction.atomic
def case_team_add(
    *, actor: Actor, basis: str, case: Case, user: User, unit: Unit, role: str = TeamRole.PARTICIPANT
) -> CaseTeamMember:
    case = lock_case(case)
    if not case.is_open:
        raise ValidationError("Forløbet er afsluttet.")
    if role == TeamRole.LEAD and case.team.filter(role=TeamRole.LEAD, ended_at__isnull=True).exists():
        raise ValidationError("Forløbet har allerede en indsatsansvarlig; brug overdragelse.")
    if not user.memberships.active().filter(unit=unit).exists():
        raise ValidationError(f"{user} er ikke tilknyttet {unit}.")
    member = CaseTeamMember(case=case, user=user, unit=unit, role=role)
    member.full_clean()
    member.save()
    _bump(case)
    audit_record(actor=actor, action=AuditEvent.Action.CREATE, basis=basis, case=case, obj=member,
                 summary=f"{user} tilføjet som {member.get_role_display().lower()}")
    return member


@transaction.atomic
def case_team_end(*, actor: Actor, basis: str, member: CaseTeamMember) -> CaseTeamMember:
    case = lock_case(member.case_id)
    member = CaseTeamMember.objects.select_for_update().get(pk=member.pk)
    if member.role == TeamRole.LEAD and case.stage in (Stage.AWAITING_START, Stage.ACTIVE):
        raise ValidationError("Den indsatsansvarlige kan kun skiftes ved en overdragelse.")
    if member.ended_at is None:
        member.ended_at = timezone.now()
        member.save(update_fields=["ended_at"])
        _bump(case)
        audit_record(actor=actor, action=AuditEvent.Action.CHANGE, basis=basis, case=case, obj=member,
                     summary=f"{member.user} har ikke længere en rolle i forløbet")
    return member


@transaction.atomic
def notice_send(*, actor: Actor, case: Case, users, text: str, url: str = "") -> list:
    from tovholder.cases.models import Notice

    notices = Notice.objects.bulk_create(
        Notice(user=u, case=case, text=text[:500], url=url) for u in {u.pk: u for u in users}.values()
    )
    if notices:
        audit_record(actor=actor, action=AuditEvent.Action.CREATE, basis="system", case=case,
                     summary=f"Besked til {len(notices)} fagperson(er): {text[:120]}")
    return notices


@transaction.atomic
def notice_mark_read(*, actor: Actor, notice) -> None:
    from tovholder.cases.models import Notice

    Notice.objects.filter(pk=notice.pk, read_at__isnull=True).update(read_at=timezone.now())
