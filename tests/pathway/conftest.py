"""Fixtures of the pathway tests: a case put in a joint pathway through `pathway_start`,
and the family/referrer transports (the real ones when their apps have registered them;
a recording stand-in otherwise, so these tests do not depend on another part's progress)."""

from __future__ import annotations

import pytest

from tests.support.notify import Sent, record_notifications


@pytest.fixture(autouse=True)
def sent(monkeypatch) -> Sent:
    return record_notifications(monkeypatch)
