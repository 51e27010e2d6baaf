"""Fixtures of the committee tests.

`sent` records what the committee asks the family and referrer transports to send, and
passes it on to the real ones when their apps have registered them (letters, inbox), so
these tests do not depend on another part's progress. `clock` starts the test world at a
fixed Copenhagen time so the calendar cases (Easter, Christmas, DST) are reproducible:
request it before `world`."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from tests.support.notify import Sent, record_notifications
from tovholder.deadlines.workdays import COPENHAGEN


@pytest.fixture(autouse=True)
def sent(monkeypatch) -> Sent:
    return record_notifications(monkeypatch)


@pytest.fixture
def clock():
    """Travel to 1 December 2025, 09:00 in Copenhagen; move on with clock.move_to(...)."""
    with time_machine.travel(dt.datetime(2025, 12, 1, 9, 0, tzinfo=COPENHAGEN), tick=False) as traveller:
        yield traveller
