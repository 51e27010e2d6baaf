"""Routing by receiver: entries by SOR or EAN, aliases, conflicts — without a query per message."""

from __future__ import annotations

import pytest

from tests.support.world import SYSTEM
from tovholder.inbox.routing import route
from tovholder.inbox.services import entry_alias_add

pytestmark = pytest.mark.django_db


def test_it_routes_by_the_sor_id_or_the_ean_of_an_entry(world, django_assert_num_queries):
    entry = world.unit("707:single_entry")
    route(entry.sor_id, None)  # the address table is read once …
    with django_assert_num_queries(0):  # … and every message after it is routed from memory
        by_both = route(entry.sor_id, entry.gln, referrer=(world.unit("gp:2").sor_id, None))
    assert (by_both.entry_id, by_both.municipality_id) == (entry.pk, world.norddjurs.pk)
    assert by_both.referrer_unit_id == world.unit("gp:2").pk
    assert route(entry.sor_id, None).entry_id == entry.pk
    assert route(None, entry.gln).entry_id == entry.pk


def test_an_address_that_is_no_entry_is_not_routed(world):
    ppr = world.unit("706:ppr")  # a unit of ours with SOR and EAN, but not the single entry
    assert not route(ppr.sor_id, ppr.gln).found
    assert not route("12345678901", None).found
    assert not route(None, None).found


def test_an_alias_routes_to_its_entry_and_an_entry_wins_over_an_alias(world):
    syddjurs, norddjurs = world.unit("706:single_entry"), world.unit("707:single_entry")
    assert not route("123456789012345", None).found
    entry_alias_add(actor=SYSTEM, entry=syddjurs, name="Gammel adresse", sor_id="123456789012345")
    assert route("123456789012345", None).entry_id == syddjurs.pk
    assert route("123456789012345", norddjurs.gln).conflict, "SOR and EAN point at two entries"


def test_an_alias_must_point_at_an_entry(world):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        entry_alias_add(actor=SYSTEM, entry=world.unit("706:ppr"), name="x", sor_id="123456789012345")
