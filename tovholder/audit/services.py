"""Writing the audit trail. Called by every service that reads or writes personal data."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from tovholder.audit.actor import Actor
from tovholder.audit.models import AuditEvent

if TYPE_CHECKING:
    from django.db.models import Model

    from tovholder.cases.models import Case
    from tovholder.children.models import Child


def audit_record(
    *,
    actor: Actor,
    action: str,
    basis: str,
    case: Case | None = None,
    child: Child | None = None,
    obj: Model | None = None,
    summary: str = "",
    criterion: str = "",
) -> AuditEvent:
    if case is not None and child is None:
        child_id = case.child_id
    else:
        child_id = child.pk if child is not None else None
    event = AuditEvent(
        user=actor.user,
        actor=actor.label[:150],
        unit=actor.unit,
        action=action,
        case=case,
        child_id=child_id,
        object_type=obj._meta.label if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        basis=basis,
        summary=summary[:300],
        criterion=criterion[:200],
    )
    event.save()
    return event


def audit_record_many(
    *, actor: Actor, action: str, basis: str, cases: Iterable[Case], summary: str = "", criterion: str = ""
) -> None:
    """One row per case in a single INSERT: used by list pages that show several children."""
    AuditEvent.objects.bulk_create(
        AuditEvent(
            user=actor.user,
            actor=actor.label[:150],
            unit=actor.unit,
            action=action,
            case=case,
            child_id=case.child_id,
            object_type="cases.Case",
            object_id=str(case.pk),
            basis=basis,
            summary=summary[:300],
            criterion=criterion[:200],
        )
        for case in cases
    )
