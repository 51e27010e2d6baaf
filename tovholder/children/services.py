"""State changes for children and custody holders."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction

from tovholder.audit.actor import Actor
from tovholder.audit.models import AuditEvent
from tovholder.audit.services import audit_record
from tovholder.children.cpr import CprNumber, cpr_parse, mask_cpr, normalise_cpr, validate_cpr
from tovholder.children.models import Child, CustodyHolder
from tovholder.organisations.models import Municipality, Unit

MAX_CUSTODY_HOLDERS = 2


def _birth_date(number: CprNumber, birth_date: dt.date | None) -> dt.date:
    """An ordinary CPR number gives the birth date (a different one given is an error, which
    Child.clean reports); a replacement number gives it when its digits do, but a date
    from the referral or the staff member wins (the issuer's digits are a convention)."""
    if not number.is_replacement:
        return birth_date or number.birth_date
    found = birth_date or number.birth_date
    if found is None:
        raise ValidationError({"birth_date": (
            f"Fødselsdato mangler: erstatnings-CPR-nummeret {mask_cpr(number.number)} indeholder ingen "
            "fødselsdato. Skriv barnets fødselsdato."
        )})
    return found


def _parse(cpr: str, replacement: bool) -> CprNumber:
    try:
        return cpr_parse(cpr, replacement=replacement)
    except ValidationError as exc:
        raise ValidationError({"cpr": exc.messages}) from None


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
    replacement: bool = False,
    birth_date: dt.date | None = None,
) -> Child:
    """Register a child by CPR number, or by replacement number ("erstatnings-CPR").

    ``replacement``: the source marked the number as a replacement number (a MedCom
    replacement system); numbers whose shape can only be one (letters in the serial part,
    DD+60) are replacement numbers anyway. ``birth_date`` is needed for a replacement
    number whose digits give none (ValidationError on ``birth_date`` otherwise)."""
    number = _parse(cpr, replacement)
    child = Child(
        cpr=number.number,
        cpr_is_replacement=number.is_replacement,
        given_name=given_name.strip(),
        family_name=family_name.strip(),
        birth_date=_birth_date(number, birth_date),
        municipality=municipality,
        school=school,
    )
    child.full_clean()
    child.save()
    audit_record(actor=actor, action=AuditEvent.Action.CREATE, basis=basis, child=child, obj=child,
                 summary="Barn oprettet" + (" (erstatnings-CPR-nummer)" if number.is_replacement else ""))
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
    replacement: bool = False,
    birth_date: dt.date | None = None,
) -> tuple[Child, bool]:
    """The child with this number, or a new one (arguments as for ``child_create``; the
    birth date is used only for a new child).

    The number is looked up as given, so a caller that cannot tell (an ordinary-looking
    number that a MedCom replacement system issued) finds the child registered with it.
    Only a number marked as a replacement number that is registered as an ordinary CPR
    number is refused: two different people may be meant, and a person must check."""
    number = normalise_cpr(cpr)
    existing = Child.objects.filter(cpr=number).first() if number else None
    if existing is not None:
        if replacement and not existing.cpr_is_replacement:
            raise ValidationError({"cpr": (
                f"Nummeret {mask_cpr(number)} er et erstatnings-CPR-nummer, men er allerede registreret som "
                "almindeligt CPR-nummer for et barn; det kan være en anden person. Kontrollér nummeret."
            )})
        audit_record(actor=actor, action=AuditEvent.Action.SEARCH, basis=basis, child=existing,
                     criterion=f"cpr={mask_cpr(number)}", summary="Barn fundet ud fra CPR-nummer")
        return existing, False
    return child_create(actor=actor, basis=basis, cpr=number, given_name=given_name,
                        family_name=family_name, municipality=municipality, school=school,
                        replacement=replacement, birth_date=birth_date), True


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
