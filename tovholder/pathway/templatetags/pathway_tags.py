"""Small filters for the plan pages: the plan's content keeps dates as ISO strings."""

from __future__ import annotations

import datetime as dt

from django import template

register = template.Library()

VOICE = {
    "present": "Barnet deltog i mødet.",
    "statement": "Barnet gav en skriftlig udtalelse før mødet.",
    "conversation": "Barnet blev hørt i en samtale før mødet.",
    "represented": "Barnets stemme blev bragt ind af en voksen.",
}


@register.filter
def isodate(value):
    """'2026-11-23' → a date, for the |date filter."""
    if not value:
        return None
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        return None


@register.filter
def voice_label(how: str) -> str:
    return VOICE.get(how, "")
