"""Recording what a part of the domain asks the family and referrer transports to send.

The record passes each call on to the real transport when its app has registered one
(letters, inbox), so tests see both what was asked and what was really sent."""

from __future__ import annotations

from dataclasses import dataclass, field

from tovholder.cases import notify


@dataclass
class Sent:
    family: list = field(default_factory=list)
    referrer: list = field(default_factory=list)
    real_family: bool = False
    real_referrer: bool = False

    def family_reasons(self) -> list[str]:
        return [s["reason"] for s in self.family]


def record_notifications(monkeypatch) -> Sent:
    record = Sent()
    handlers = dict(notify._handlers)
    record.real_family = "family" in handlers
    record.real_referrer = "referrer" in handlers

    def family(**kwargs):
        record.family.append(kwargs)
        if record.real_family:
            return handlers["family"](**kwargs)
        return [kwargs]

    def referrer(**kwargs):
        record.referrer.append(kwargs)
        if record.real_referrer:
            return handlers["referrer"](**kwargs)
        return None

    monkeypatch.setitem(notify._handlers, "family", family)
    monkeypatch.setitem(notify._handlers, "referrer", referrer)
    return record
