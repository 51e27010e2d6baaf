"""Which entry a MedCom address belongs to, and how an entry is addressed.

A message is routed by its receiver: the SOR id or EAN number of a municipality's single
entry, or of an `EntryAlias` registered for it (an entry's own address wins over an
alias). When both are given they must not point at two different entries. Nothing else
is guessed: a receiver we do not know is refused.
"""

from __future__ import annotations

import time
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


@dataclass(frozen=True)
class _Table:
    entries: dict[tuple[str, str], tuple[int, int]]  # ("sor"|"gln", value) -> (entry id, municipality id)
    units: dict[tuple[str, str], int]  # ("sor"|"gln", value) -> our unit's id


_CACHE_SECONDS = 60.0
_cache: tuple[float, _Table] | None = None


def clear_cache(**_kwargs) -> None:
    """Forget the address table (connected to saves of units and aliases in this process)."""
    global _cache
    _cache = None


def _table() -> _Table:
    """Every address we route by, read once a minute at most: a message is routed without
    a query. Saving a unit or an alias clears it here; other processes follow within a
    minute (the table changes when an administrator adds an entry or an alias)."""
    global _cache
    from tovholder.inbox.models import EntryAlias

    now = time.monotonic()
    if _cache is not None and now - _cache[0] < _CACHE_SECONDS:
        return _cache[1]
    entries: dict[tuple[str, str], tuple[int, int]] = {}
    units: dict[tuple[str, str], int] = {}
    rows = (Unit.objects.filter(~Q(sor_id="") | ~Q(gln="")).order_by("pk")
            .values_list("pk", "kind", "municipality_id", "sor_id", "gln"))
    for pk, kind, municipality_id, sor, gln in rows:
        for key in (("sor", sor), ("gln", gln)):
            if key[1]:
                units.setdefault(key, pk)
                if kind == Unit.Kind.SINGLE_ENTRY:
                    entries.setdefault(key, (pk, municipality_id))
    aliases = EntryAlias.objects.order_by("pk").values_list("entry_id", "entry__municipality_id", "sor_id", "gln")
    for entry_id, municipality_id, sor, gln in aliases:  # an entry's own address wins
        for key in (("sor", sor), ("gln", gln)):
            if key[1]:
                entries.setdefault(key, (entry_id, municipality_id))
    table = _Table(entries=entries, units=units)
    _cache = (now, table)
    return table


def route(sor: str | None, gln: str | None, *, referrer: tuple[str | None, str | None] = (None, None)) -> Route:
    """The entry (id and municipality) a receiver address belongs to, and our unit at the
    `referrer` address (SOR, EAN), if any."""
    if not (sor or gln):
        return Route(entry_id=None)
    table = _table()
    by_sor = table.entries.get(("sor", sor)) if sor else None
    by_gln = table.entries.get(("gln", gln)) if gln else None
    referrer_sor, referrer_gln = referrer
    referrer_unit_id = ((table.units.get(("sor", referrer_sor)) if referrer_sor else None)
                        or (table.units.get(("gln", referrer_gln)) if referrer_gln else None))
    if by_sor and by_gln and by_sor != by_gln:
        return Route(entry_id=None, conflict=True)
    entry_id, municipality_id = by_sor or by_gln or (None, None)
    return Route(entry_id=entry_id, municipality_id=municipality_id, referrer_unit_id=referrer_unit_id)


def entry_org(entry: Unit) -> Org:
    """Our own organisation in what we send: the municipality's single entry."""
    return Org(name=entry.name, sor=entry.sor_id, ean=entry.gln or None)


def entry_endpoint(entry: Unit) -> str:
    return SOR_ENDPOINT_PREFIX + entry.sor_id
