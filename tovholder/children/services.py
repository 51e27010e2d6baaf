"""State changes for children and custody holders."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from tovholder.audit.actor import Actor
from tovholder.audit.models import AuditEvent
from tovholder.audit.services import audit_record
from tovholder.children.cpr import birth_date_from_cpr, mask_cpr, normalise_cpr, validate_cpr
from tovholder.children.models import Child, CustodyHolder
from tovholder.organisations.models import Municipality, Unit

MAX_CUSTODY_HOLDERS = 2


@transaction.atomic
def child_create(
    *,
    actor: Actor,
    basis: str,
    cpr: str,
    given_name: str,
    family_name: str,
    municipality: Municipality,
    school: Unit | None = None,
) -> Child:
    cpr = normalise_cpr(cpr)
    validate_cpr(cpr)
    child = Child(
        cpr=cpr,
        given_name=given_name.strip(),
        family_name=family_name.strip(),
        birth_date=birth_date_from_cpr(cpr),
        municipality=municipality,
        school=school,
    )
    child.full_clean()
    child.save()
    audit_record(actor=actor, action=AuditEvent.Action.CREATE, basis=basis, child=child, obj=child,
                 summary="Barn oprettet")
    return child


@transaction.atomic
def child_get_or_create(
    *,
    actor: Actor,
    basis: str,
    cpr: str,
    given_name: str,
    family_name: str,
    municipality: Municipality,
    school: Unit | None = None,
) -> tuple[Child, bool]:
    cpr = normalise_cpr(cpr)
    validate_cpr(cpr)
    existing = Child.objects.filter(cpr=cpr).first()
    if existing is not None:
        audit_record(actor=actor, action=AuditEvent.Action.SEARCH, basis=basis, child=existing,
                     criterion=f"cpr={mask_cpr(cpr)}", summary="Barn fundet ud fra CPR-nummer")
        return existing, False
    return child_create(actor=actor, basis=basis, cpr=cpr, given_name=given_name,
                        family_name=family_name, municipality=municipality, school=school), True


@transaction.atomic
def child_change_school(*, actor: Actor, basis: str, child: Child, school: Unit | None) -> Child:
    child = Child.objects.select_for_update().get(pk=child.pk)
    child.school = school
    child.full_clean()
    child.save(update_fields=["school"])
    audit_record(actor=actor, action=AuditEvent.Action.CHANGE, basis=basis, child=child, obj=child,
                 summary="Skole ændret")
    return child


@transaction.atomic
def custody_holder_add(
    *,
    actor: Actor,
    basis: str,
    child: Child,
    name: str,
    relation: str,
    cpr: str = "",
    email: str = "",
    phone: str = "",
    address: str = "",
    has_digital_post: bool = True,
) -> CustodyHolder:
    # Lock the child so two people adding a parent at once cannot make three.
    Child.objects.select_for_update().get(pk=child.pk)
    if child.custody_holders.filter(ended_at__isnull=True).count() >= MAX_CUSTODY_HOLDERS:
        raise ValidationError("Et barn kan højst have to forældremyndighedsindehavere.")
    cpr = normalise_cpr(cpr)
    if cpr:
        validate_cpr(cpr)
    holder = CustodyHolder(
        child=child, name=name.strip(), relation=relation, cpr=cpr, email=email, phone=phone,
        address=address, has_digital_post=has_digital_post,
    )
    holder.full_clean()
    holder.save()
    audit_record(actor=actor, action=AuditEvent.Action.CREATE, basis=basis, child=child, obj=holder,
                 summary="Forældremyndighedsindehaver tilføjet")
    return holder
