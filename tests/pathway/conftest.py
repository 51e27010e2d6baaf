"""Fixtures of the pathway tests: a case put in a joint pathway through `pathway_start`,
and the family/referrer transports (the real ones when their apps have registered them;
a recording stand-in otherwise, so these tests do not depend on another part's progress)."""

from __future__ import annotations

import pytest

from tests.pathway.helpers import Sent
from tovholder.cases import notify


@pytest.fixture(autouse=True)
def sent(monkeypatch) -> Sent:
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
