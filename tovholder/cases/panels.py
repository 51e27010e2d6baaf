"""Sections of the case page contributed by other apps (consent status, plan, meetings…).

An app registers `panel(request, case, grant) -> str | None` (rendered HTML, or None
when it has nothing to show for this grant) in its AppConfig.ready(), with an order.
"""

from __future__ import annotations

from collections.abc import Callable

from django.utils.safestring import mark_safe

Panel = Callable[..., "str | None"]
_panels: list[tuple[int, Panel]] = []


def register_panel(order: int, panel: Panel) -> None:
    if all(p is not panel for _, p in _panels):
        _panels.append((order, panel))
        _panels.sort(key=lambda item: item[0])


def render_panels(request, case, grant) -> list[str]:
    out = []
    for _, panel in _panels:
        html = panel(request, case, grant)
        if html:
            out.append(mark_safe(html))
    return out
