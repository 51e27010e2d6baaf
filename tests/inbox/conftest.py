"""Fixtures for the single entry: posting to the MedCom endpoint, MedCom's test receivers,
the transport, and messages from the demo GP practices built with our own MedCom library."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.db import connection

from tests.inbox.helpers import ENDPOINT, content_type_of, sample
from tovholder.inbox.transport import MemoryTransport

_serial = itertools.count(70)


@pytest.fixture(autouse=True)
def _postgres_only(request):
    if request.node.get_closest_marker("postgres_only") and connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises writers, so concurrent deliveries cannot race; "
                    "run with DATABASE_URL=postgres://…")


@pytest.fixture(autouse=True)
def _memory_transport(settings):
    settings.MEDCOM_TRANSPORT = "tovholder.inbox.transport.MemoryTransport"
    MemoryTransport.sent = []
    yield
    MemoryTransport.sent = []


@pytest.fixture
def sent():
    """What left through the transport, in order."""
    return MemoryTransport.sent


@pytest.fixture
def aliases(world):
    """MedCom's test receivers routed to Syddjurs' entry (as the demo does)."""
    from tovholder.inbox.demo import medcom_test_receivers_add

    return medcom_test_receivers_add(entry=world.unit("706:single_entry"))


@pytest.fixture
def post(client):
    """post(body, content_type) → the HTTP response of the MedCom endpoint (no login)."""

    def _post(body: bytes, content_type: str = "application/fhir+json", **extra):
        return client.generic("POST", ENDPOINT, body, content_type=content_type, **extra)

    return _post


@pytest.fixture
def post_sample(post):
    def _post(part: str):
        path = sample(part)
        return post(path.read_bytes(), content_type_of(path))

    return _post


@pytest.fixture
def gp_message(world):
    """gp_message(...) → (body, content type) of a referral from anne's practice (gp:0) to
    Syddjurs' entry, built by our MedCom library."""
    from tovholder.demo.families import synthetic_cpr
    from tovholder.inbox.demo import gp_referral

    def build(*, cpr: str | None = None, given: str = "Sofus", family: str = "Testesen", text: str | None = None,
              sender: str = "gp:0", entry: str = "706:single_entry", **kwargs):
        cpr = cpr or synthetic_cpr(dt.date(2014, 3, 9), next(_serial), "m")
        return gp_referral(sender=world.unit(sender), entry=world.unit(entry), cpr=cpr, given=given,
                           family=family, text=text or f"{given} har det svært i skolen.",
                           author="Anne Mortensen", **kwargs)

    return build
