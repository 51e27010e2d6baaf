"""Need-to-know on the item page: the inbox keeper learns only what their own municipality
knows of the child (name, cases there) — nothing of a child known in another municipality,
not even a hint — and the look-up by CPR number is audited without the number."""

from __future__ import annotations

import pytest

from tests.support.world import make_case, make_child
from tovholder.audit.models import AuditEvent
from tovholder.cases.models import Stage
from tovholder.children.cpr import CPR_PATTERN
from tovholder.inbox.models import InboxItem

pytestmark = pytest.mark.django_db


@pytest.fixture
def norddjurs_case(world):
    child = make_child(world.demo, municipality="707", given="Nanna", family="Nordby")
    return make_case(world.demo, child=child, municipality="707", stage=Stage.AWAITING_COMMITTEE, lead=None)


def _item_about(gp_message, post, child, entry: str) -> InboxItem:
    # The GP writes the name their own way: what the page shows of the registry is then visible.
    post(*gp_message(cpr=child.cpr, given="Sofus", family="Testesen", entry=entry))
    return InboxItem.objects.order_by("-pk").first()


def _lookups(username: str, world):
    return AuditEvent.objects.filter(user=world.user(username), action=AuditEvent.Action.SEARCH,
                                     object_type="inbox.InboxItem")


def test_ida_learns_nothing_of_a_child_known_only_in_norddjurs(world, gp_message, post, login, norddjurs_case):
    child = norddjurs_case.child
    item = _item_about(gp_message, post, child, "706:single_entry")
    page = login("ida").get(f"/indgang/henvendelse/{item.pk}/").content.decode()
    assert page.count("Sofus Testesen") >= 1  # the referral's own content is hers to read
    assert child.full_name not in page and child.family_name not in page
    assert norddjurs_case.reference not in page
    assert "Barnet er kendt" not in page and "bopælskommune Norddjurs" not in page
    assert "afventer koordinationsudvalget" not in page.lower()
    facts = page[page.index('id="h-facts"'):].split("</section>")[0]
    assert 'class="notice"' not in facts and "kendt" not in facts  # no hint either: minimal disclosure is none

    lookup = _lookups("ida", world).get()
    assert lookup.child_id is None, "nothing of the Norddjurs child was read"
    assert child.cpr not in lookup.criterion and not CPR_PATTERN.search(lookup.criterion)
    assert lookup.object_id == str(item.pk) and lookup.basis == "inbox"


def test_nora_sees_the_child_and_its_case_in_her_own_municipality(world, gp_message, post, login,
                                                                   norddjurs_case):
    child = norddjurs_case.child
    item = _item_about(gp_message, post, child, "707:single_entry")
    page = login("nora").get(f"/indgang/henvendelse/{item.pk}/").content.decode()
    assert f"Barnet er kendt: {child.full_name}, bopælskommune Norddjurs." in page
    assert norddjurs_case.reference in page
    lookup = _lookups("nora", world).get()
    assert lookup.child_id == child.pk and child.cpr not in lookup.criterion
    assert not CPR_PATTERN.search(lookup.criterion + lookup.summary)


def test_ida_sees_only_her_municipalitys_cases_of_a_child_who_moved(world, gp_message, post, login,
                                                                     norddjurs_case):
    # The Syddjurs child (world.case) now also has a case in Norddjurs.
    child = world.case.child
    elsewhere = make_case(world.demo, child=child, municipality="707", stage=Stage.AWAITING_CONSENT, lead=None)
    item = _item_about(gp_message, post, child, "706:single_entry")
    page = login("ida").get(f"/indgang/henvendelse/{item.pk}/").content.decode()
    assert f"Barnet er kendt: {child.full_name}, bopælskommune Syddjurs." in page
    assert world.case.reference in page and elsewhere.reference not in page
    assert _lookups("ida", world).get().child_id == child.pk


def test_no_lookup_for_an_item_already_handled(world, gp_message, post, login, norddjurs_case):
    from tovholder.audit.actor import Actor
    from tovholder.inbox.services import inbox_item_reject

    item = _item_about(gp_message, post, world.case.child, "706:single_entry")
    inbox_item_reject(actor=Actor(user=world.user("ida")), item=item, reason="Dublet.")
    page = login("ida").get(f"/indgang/henvendelse/{item.pk}/").content.decode()
    assert "Barnet er kendt" not in page and not _lookups("ida", world).exists()
