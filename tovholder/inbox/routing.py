"""Which entry a MedCom address belongs to, and how an entry is addressed.

A message is routed by its receiver: the SOR id or EAN number of a municipality's single
entry, or of an `EntryAlias` registered for it. SOR is tried first (it names the unit),
then EAN (the network address); when both are given they must not point at two
different entries. Nothing else is guessed: a receiver we do not know is refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q

from tovholder.medcom import Org
from tovholder.medcom.codes import SOR_ENDPOINT_PREFIX
from tovholder.organisations.models import Unit


@dataclass(frozen=True)
class Route:
    entry: Unit | None
    conflict: bool = False  # SOR and EAN name two different entries


def _matches(sor: str | None, gln: str | None) -> dict[str, Unit]:
    """{"sor": entry, "gln": entry} for whichever address matched."""
    from tovholder.inbox.models import EntryAlias

    found: dict[str, Unit] = {}
    q = Q()
    if sor:
        q |= Q(sor_id=sor)
    if gln:
        q |= Q(gln=gln)
    if not q:
        return found
    for unit in Unit.objects.filter(q, kind=Unit.Kind.SINGLE_ENTRY).select_related("municipality"):
        if sor and unit.sor_id == sor:
            found["sor"] = unit
        if gln and unit.gln == gln:
            found["gln"] = unit
    if len(found) < (bool(sor) + bool(gln)):
        for alias in EntryAlias.objects.filter(q).select_related("entry__municipality"):
            if sor and alias.sor_id == sor:
                found.setdefault("sor", alias.entry)
            if gln and alias.gln == gln:
                found.setdefault("gln", alias.entry)
    return found


def route(sor: str | None, gln: str | None) -> Route:
    found = _matches(sor, gln)
    by_sor, by_gln = found.get("sor"), found.get("gln")
    if by_sor and by_gln and by_sor.pk != by_gln.pk:
        return Route(entry=None, conflict=True)
    return Route(entry=by_sor or by_gln)


def entry_org(entry: Unit) -> Org:
    """Our own organisation in what we send: the municipality's single entry."""
    return Org(name=entry.name, sor=entry.sor_id, ean=entry.gln or None)


def entry_endpoint(entry: Unit) -> str:
    return SOR_ENDPOINT_PREFIX + entry.sor_id


def unit_for_address(sor: str | None, gln: str | None) -> Unit | None:
    """A unit of ours with this SOR id or EAN (e.g. the GP practice that referred)."""
    q = Q()
    if sor:
        q |= Q(sor_id=sor)
    if gln:
        q |= Q(gln=gln)
    if not q:
        return None
    return Unit.objects.filter(q).order_by("pk").first()
