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
    referrer_unit_id: int | None = None  # our unit at the `referrer` address, if asked

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


def route(sor: str | None, gln: str | None, *, referrer: tuple[str | None, str | None] = (None, None)) -> Route:
    """The entry (id and municipality) a receiver address belongs to, and — in the same
    query — our unit at the `referrer` address (SOR, EAN). Values only: this runs for
    every message."""
    from tovholder.inbox.models import EntryAlias

    q = _address_q(sor, gln)
    if q is None:
        return Route(entry_id=None)
    referrer_q = _address_q(*referrer)
    found: dict[str, tuple[int, int]] = {}
    referrer_ids = []
    rows = Unit.objects.filter((q & Q(kind=Unit.Kind.SINGLE_ENTRY)) | (referrer_q or Q(pk__in=[]))).order_by("pk")
    for pk, kind, municipality_id, unit_sor, unit_gln in rows.values_list("pk", "kind", "municipality_id", "sor_id",
                                                                          "gln"):
        if kind == Unit.Kind.SINGLE_ENTRY:
            if sor and unit_sor == sor:
                found["sor"] = (pk, municipality_id)
            if gln and unit_gln == gln:
                found["gln"] = (pk, municipality_id)
        if (referrer[0] and unit_sor == referrer[0]) or (referrer[1] and unit_gln == referrer[1]):
            referrer_ids.append(pk)
    if len(found) < bool(sor) + bool(gln):
        aliases = EntryAlias.objects.filter(q).values_list("entry_id", "entry__municipality_id", "sor_id", "gln")
        for pk, municipality_id, alias_sor, alias_gln in aliases:
            if sor and alias_sor == sor:
                found.setdefault("sor", (pk, municipality_id))
            if gln and alias_gln == gln:
                found.setdefault("gln", (pk, municipality_id))
    by_sor, by_gln = found.get("sor"), found.get("gln")
    referrer_unit_id = referrer_ids[0] if referrer_ids else None
    if by_sor and by_gln and by_sor != by_gln:
        return Route(entry_id=None, conflict=True)
    entry_id, municipality_id = by_sor or by_gln or (None, None)
    return Route(entry_id=entry_id, municipality_id=municipality_id, referrer_unit_id=referrer_unit_id)


def entry_org(entry: Unit) -> Org:
    """Our own organisation in what we send: the municipality's single entry."""
    return Org(name=entry.name, sor=entry.sor_id, ean=entry.gln or None)


def entry_endpoint(entry: Unit) -> str:
    return SOR_ENDPOINT_PREFIX + entry.sor_id
