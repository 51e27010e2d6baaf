"""How the committee's pages and API find what a person may see: a seat at a committee,
or an agenda item and its case. No seat or no grant means 404, never 403."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import get_object_or_404

from tovholder.access import Basis, Grant, Scope, case_grants, require_case
from tovholder.audit.actor import Actor
from tovholder.audit.models import AuditEvent
from tovholder.audit.services import audit_record, audit_record_many
from tovholder.cases.models import Case
from tovholder.committee import selectors as sel
from tovholder.committee.models import AgendaItem
from tovholder.organisations.models import Municipality, User

# Who the committee shows an item to: its members, the child's principal, the case's lead.
ITEM_BASES = (Basis.COMMITTEE, Basis.PRINCIPAL, Basis.LEAD)


def municipality_by_code(code: str | None) -> int | None:
    if not code:
        return None
    found = Municipality.objects.filter(code=code).values_list("pk", flat=True).first()
    if found is None:
        raise Http404
    return found


def require_seat(user: User, municipality_id: int | None = None, *, member: bool = False,
                 chair: bool = False) -> sel.Seat:
    seat = sel.seat_for(user, municipality_id)
    if seat is None or (member and not seat.is_member) or (chair and not seat.is_chair):
        raise Http404
    return seat


def seat_basis(seat: sel.Seat) -> str:
    """The access basis a seat reads the agenda on: committee, or as an invited principal/lead."""
    if seat.is_member:
        return Basis.COMMITTEE
    return Basis.PRINCIPAL if seat.school_ids else Basis.LEAD


def audit_list(user: User, seat: sel.Seat, cases: list[Case], criterion: str) -> None:
    """A list that shows children's names is a read of each of them."""
    if cases:
        audit_record_many(actor=Actor(user=user, unit=seat.unit), action=AuditEvent.Action.SEARCH,
                          basis=seat_basis(seat), cases=cases, criterion=criterion,
                          summary=f"Vist på {criterion.lower()}")


def require_item(user: User, item_id: int, *, summary: str = "Sagen vist for koordinationsudvalget",
                 ) -> tuple[AgendaItem, Case, Grant]:
    """An agenda item and its case, audited with the basis that allowed it; else 404."""
    item = get_object_or_404(AgendaItem.objects.select_related("municipality", "returned_by", "returned_unit"),
                             pk=item_id)
    case, _grant = require_case(user, item.case_id, scope=Scope.CASE, audit=None)
    grant = next((g for g in case_grants(user, case) if g.basis in ITEM_BASES), None)
    if grant is None:
        raise Http404
    audit_record(actor=grant.actor(user), action=AuditEvent.Action.VIEW, basis=grant.basis, case=case, obj=item,
                 summary=summary)
    item.case = case
    return item, case, grant
