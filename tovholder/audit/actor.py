"""Who performs a state change: a staff member, a family member, a sender, or a job."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tovholder.organisations.models import Unit, User


@dataclass(frozen=True)
class Actor:
    user: User | None = None
    unit: Unit | None = None
    # For actors without a login: "worker:consent_sweep", "medcom", "family:<holder id>".
    system: str = ""

    @classmethod
    def job(cls, name: str) -> Actor:
        return cls(system=f"worker:{name}")

    @property
    def label(self) -> str:
        if self.user is not None:
            return self.user.get_username()
        return self.system or "system"

    def __str__(self) -> str:
        return self.label


def actor_for(user: User, unit: Unit | None = None) -> Actor:
    return Actor(user=user, unit=unit)
