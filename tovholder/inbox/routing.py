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
    entry_id: int | None
    municipality_id: int | None = None
    conflict: bool = False  # SOR and EAN name two different entries

    @property
    def found(self) -> bool:
        return self.entry_id is not None


def _address_q(sor: str | None, gln: str | None) -> Q | None:
    q = Q()
    if sor:
        q |= Q(sor_id=sor)
    if gln:
        q |= Q(gln=gln)
    return q or None


def route(sor: str | None, gln: str | None) -> Route:
    """The entry (id and municipality) a receiver address belongs to. Values only: this
    runs for every message."""
    from tovholder.inbox.models import EntryAlias

    q = _address_q(sor, gln)
    if q is None:
        return Route(entry_id=None)
    found: dict[str, tuple[int, int]] = {}
    rows = Unit.objects.filter(q, kind=Unit.Kind.SINGLE_ENTRY).values_list("pk", "municipality_id", "sor_id", "gln")
    for pk, municipality_id, unit_sor, unit_gln in rows:
        if sor and unit_sor == sor:
            found["sor"] = (pk, municipality_id)
        if gln and unit_gln == gln:
            found["gln"] = (pk, municipality_id)
    if len(found) < bool(sor) + bool(gln):
        aliases = EntryAlias.objects.filter(q).values_list("entry_id", "entry__municipality_id", "sor_id", "gln")
        for pk, municipality_id, alias_sor, alias_gln in aliases:
            if sor and alias_sor == sor:
                found.setdefault("sor", (pk, municipality_id))
            if gln and alias_gln == gln:
                found.setdefault("gln", (pk, municipality_id))
    by_sor, by_gln = found.get("sor"), found.get("gln")
    if by_sor and by_gln and by_sor != by_gln:
        return Route(entry_id=None, conflict=True)
    entry_id, municipality_id = by_sor or by_gln or (None, None)
    return Route(entry_id=entry_id, municipality_id=municipality_id)


def entry_org(entry: Unit) -> Org:
    """Our own organisation in what we send: the municipality's single entry."""
    return Org(name=entry.name, sor=entry.sor_id, ean=entry.gln or None)


def entry_endpoint(entry: Unit) -> str:
    return SOR_ENDPOINT_PREFIX + entry.sor_id


def unit_id_for_address(sor: str | None, gln: str | None) -> int | None:
    """A unit of ours with this SOR id or EAN (e.g. the GP practice that referred)."""
    q = _address_q(sor, gln)
    if q is None:
        return None
    return Unit.objects.filter(q).order_by("pk").values_list("pk", flat=True).first()
