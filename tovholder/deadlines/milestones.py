"""A case's milestones, gathered from every part of the domain.

Each app that owns a clock registers a provider in its AppConfig.ready(); a provider takes
(case, rules, today) and returns the milestones it knows about. The case's
`next_deadline` is the earliest open one, stored so lists can sort in SQL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tovholder.deadlines.clocks import (
    CLOCK_LABELS,
    STATUS_LABELS,
    Clock,
    Rules,
    Status,
    milestone_status,
)

if TYPE_CHECKING:
    from tovholder.cases.models import Case


@dataclass(frozen=True)
class Milestone:
    clock: Clock
    due: dt.date | None
    met_on: dt.date | None = None
    exempt: bool = False
    explanation: str = ""

    def status(self, today: dt.date) -> Status:
        return milestone_status(due=self.due, met_on=self.met_on, today=today, exempt=self.exempt)

    @property
    def label(self) -> str:
        return str(CLOCK_LABELS[self.clock])

    def status_label(self, today: dt.date) -> str:
        return str(STATUS_LABELS[self.status(today)])

    @property
    def is_open(self) -> bool:
        return self.met_on is None and not self.exempt and self.due is not None


Provider = Callable[["Case", Rules, dt.date], list[Milestone]]
_providers: list[Provider] = []


def register_provider(provider: Provider) -> Provider:
    if provider not in _providers:
        _providers.append(provider)
    return provider


def case_milestones(case: Case, today: dt.date, rules: Rules | None = None) -> list[Milestone]:
    rules = rules or Rules.for_municipality(case.municipality)
    found: list[Milestone] = []
    for provider in _providers:
        found.extend(provider(case, rules, today))
    return sorted(found, key=lambda m: (m.due or dt.date.max, m.clock))


def next_open_milestone(milestones: list[Milestone]) -> Milestone | None:
    open_ones = [m for m in milestones if m.is_open]
    return min(open_ones, key=lambda m: m.due) if open_ones else None
