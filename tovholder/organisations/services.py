"""Configuration changes: municipalities, units, staff and memberships (administrators)."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from tovholder.audit.actor import Actor
from tovholder.audit.models import AuditEvent
from tovholder.audit.services import audit_record
from tovholder.organisations.models import Membership, Municipality, Region, Unit, User

CONFIG = "administrator"


@transaction.atomic
def municipality_create(*, actor: Actor, region: Region, name: str, code: str, **settings) -> Municipality:
    municipality = Municipality(region=region, name=name, code=code, **settings)
    municipality.full_clean()
    municipality.save()
    audit_record(actor=actor, action=AuditEvent.Action.CREATE, basis=CONFIG, obj=municipality,
                 summary=f"Kommune oprettet: {name}")
    return municipality


@transaction.atomic
def unit_create(
    *, actor: Actor, kind: str, name: str, region: Region, municipality: Municipality | None = None,
    sor_id: str = "", gln: str = "", phone: str = "", email: str = "", address: str = "",
) -> Unit:
    unit = Unit(kind=kind, name=name, region=region, municipality=municipality, sor_id=sor_id, gln=gln,
                phone=phone, email=email, address=address)
    unit.full_clean()
    unit.save()
    audit_record(actor=actor, action=AuditEvent.Action.CREATE, basis=CONFIG, obj=unit,
                 summary=f"Enhed oprettet: {name}")
    return unit


@transaction.atomic
def staff_create(
    *, actor: Actor, username: str, first_name: str, last_name: str, email: str = "", title: str = "",
    phone: str = "", password: str | None = None,
) -> User:
    user = User(username=username, first_name=first_name, last_name=last_name, email=email, title=title,
                phone=phone)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean()
    user.save()
    audit_record(actor=actor, action=AuditEvent.Action.CREATE, basis=CONFIG, obj=user,
                 summary=f"Medarbejder oprettet: {user}")
    return user


# Roles that belong to one kind of unit: the inbox is kept at the single entry, the
# committee's seats are on the committee.
ROLE_UNIT_KINDS = {
    Membership.Role.INBOX_KEEPER: Unit.Kind.SINGLE_ENTRY,
    Membership.Role.COMMITTEE_MEMBER: Unit.Kind.COMMITTEE,
    Membership.Role.COMMITTEE_CHAIR: Unit.Kind.COMMITTEE,
}


@transaction.atomic
def membership_grant(
    *, actor: Actor, user: User, unit: Unit, role: str, started_at: dt.datetime | None = None,
    replace_chair: bool = True,
) -> Membership:
    """Give a staff member a role in a unit, from now or from `started_at` (an earlier
    appointment being registered, or the demo's staff who have held their posts for years).

    Granting a role the person already holds returns that membership (a double click grants
    once). A committee has one chair: appointing a new one ends the previous chair's seat
    (`replace_chair=False` only for replaying history beside today's seats: the 2022 trial)."""
    needed = ROLE_UNIT_KINDS.get(role)
    if needed is not None and unit.kind != needed:
        raise ValidationError({"role": f"Rollen »{Membership.Role(role).label}« hører til en enhed af typen "
                                       f"»{Unit.Kind(needed).label}«, ikke »{unit.get_kind_display()}«."})
    User.objects.select_for_update().filter(pk=user.pk).first()  # serialise grants to one person
    existing = Membership.objects.filter(user=user, unit=unit, role=role, ended_at__isnull=True).first()
    if existing is not None:
        return existing
    if role == Membership.Role.COMMITTEE_CHAIR and replace_chair:
        for previous in Membership.objects.select_for_update().filter(
                unit=unit, role=Membership.Role.COMMITTEE_CHAIR, ended_at__isnull=True):
            _membership_close(actor=actor, membership=previous, summary=f"{previous.user}: ikke længere formand "
                                                                          f"for {unit} (ny formand: {user})")
    membership = Membership(user=user, unit=unit, role=role, started_at=started_at or timezone.now())
    membership.full_clean()
    membership.save()
    audit_record(actor=actor, action=AuditEvent.Action.CREATE, basis=CONFIG, obj=membership,
                 summary=f"{user}: {membership.get_role_display()} i {unit}")
    return membership


def _membership_close(*, actor: Actor, membership: Membership, summary: str) -> None:
    membership.ended_at = timezone.now()
    membership.save(update_fields=["ended_at"])
    audit_record(actor=actor, action=AuditEvent.Action.CHANGE, basis=CONFIG, obj=membership, summary=summary)


@transaction.atomic
def membership_end(*, actor: Actor, membership: Membership) -> Membership:
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if membership.ended_at is None:  # ending an ended role again changes nothing
        _membership_close(actor=actor, membership=membership,
                          summary=f"{membership.user}: rolle ophørt i {membership.unit}")
    return membership


SETTING_FIELDS = (
    "closed_constitution_day", "closed_christmas_eve", "closed_new_years_eve", "committee_working_days",
    "start_meeting_weeks", "intervention_weeks", "first_follow_up_weeks", "consent_answer_days",
    "consent_reminder_days", "consent_validity_days",
)


@transaction.atomic
def municipality_change_settings(*, actor: Actor, municipality: Municipality, **changes) -> Municipality:
    """Change a municipality's working-day closures and clocks (its realistic deadlines)."""
    unknown = set(changes) - set(SETTING_FIELDS)
    if unknown:
        raise ValueError(f"not a municipality setting: {sorted(unknown)}")
    municipality = Municipality.objects.select_for_update().get(pk=municipality.pk)
    before = {f: getattr(municipality, f) for f in changes}
    for field, value in changes.items():
        setattr(municipality, field, value)
    municipality.full_clean()
    municipality.save(update_fields=list(changes) or None)
    changed = ", ".join(f"{f}: {before[f]} → {v}" for f, v in changes.items() if before[f] != v)
    audit_record(actor=actor, action=AuditEvent.Action.CHANGE, basis=CONFIG, obj=municipality,
                 summary=f"Indstillinger ændret for {municipality.name}: {changed or 'ingen ændringer'}"[:300])
    return municipality
