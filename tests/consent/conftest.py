"""Fixtures of the consent tests.

`told` records what consent asks the referrer and family transports to send, and passes
it on to the real handlers when their apps registered them (letters is ours; the
referrer's MedCom reply belongs to the inbox). `postgres_only` tests skip on SQLite."""

from __future__ import annotations

import pytest
from django.db import connection

from tests.consent.helpers import Told
from tovholder.cases import notify


@pytest.fixture(autouse=True)
def told(monkeypatch) -> Told:
    record = Told()
    handlers = dict(notify._handlers)
    record.real_referrer = "referrer" in handlers

    def family(**kwargs):
        record.family.append(kwargs)
        return handlers["family"](**kwargs)

    def referrer(**kwargs):
        record.referrer.append(kwargs)
        if record.real_referrer:
            return handlers["referrer"](**kwargs)
        return None

    monkeypatch.setitem(notify._handlers, "family", family)
    monkeypatch.setitem(notify._handlers, "referrer", referrer)
    return record


@pytest.fixture(autouse=True)
def _postgres_only(request):
    if request.node.get_closest_marker("postgres_only") and connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite has no row locks (SELECT … FOR UPDATE), so two connections "
                    "cannot race; run with DATABASE_URL=postgres://…")


@pytest.fixture
def clock():
    """Build the world at 1 December 2024, 09:00 Copenhagen (request before `world`), so the
    staff's memberships are in force on the fixed dates the tests travel to."""
    import datetime as dt

    import time_machine

    from tovholder.deadlines.workdays import COPENHAGEN

    with time_machine.travel(dt.datetime(2024, 12, 1, 9, 0, tzinfo=COPENHAGEN), tick=False) as traveller:
        yield traveller
