"""The URL × persona access matrix: every URL pattern and API path, with every persona.

Each part of the domain lists its routes in `tests/<part>/routes.py` as `ROUTES`.
A route names who may reach it and with what status; every other signed-in persona
must get 404 (an outsider must not learn that a case exists), anonymous visitors are
sent to the login page (pages) or get 401 (API). `tests/foundation/test_access_matrix.py`
fails when a URL pattern or API operation has no route here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

PERSONAS = ["ida", "karen", "mads", "lars", "maria", "pia", "henrik", "anne", "peter", "jonas", "ole",
            "nora", "admin", "stranger"]


@dataclass
class Route:
    # A Django URL name ("cases:detail") or an API operation ("GET /api/cases/{case_id}").
    name: str
    # Builds the path parameters from the world (it may create objects through services).
    params: Callable[[Any], dict] = lambda world: {}
    # persona → expected status; personas not listed get `others`.
    allowed: dict[str, int] = field(default_factory=dict)
    others: int = 404
    anonymous: int | None = None  # default: 302 for pages, 401 for API
    method: str = "GET"
    data: Callable[[Any], dict] | None = None
    content_type: str | None = None
    # Public routes (login, the family's token pages…) are checked only for anonymous.
    public: bool = False

    @property
    def is_api(self) -> bool:
        return " " in self.name


def everyone(status: int) -> dict[str, int]:
    return {p: status for p in PERSONAS}
