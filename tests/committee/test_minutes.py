"""The minute says what happens next, by when and whom to contact, for every decision that
has one (issue 5, point 4). Dates are counted on the municipality's working-day calendar:
as many working days after the decision as its committee clock (8 by default).

The meeting is Wednesday 16 December 2026. Eight working days on, without the holidays,
would be Monday 28 December; Christmas Eve (closed by default), Christmas Day and Boxing
Day (a Saturday) make it Wednesday 30 December. Around Easter 2027 (Maundy Thursday 25
March to Easter Monday 29 March) a decision on Wednesday 17 March gives Thursday 1 April.
"""

from __future__ import annotations

import datetime as dt

import pytest

from tests.committee.helpers import actor, consented_case, item_for, local, meeting_on, plan
from tests.support.world import SYSTEM
from tovholder.children.cpr import CPR_PATTERN
from tovholder.committee import services
from tovholder.committee.models import DecisionKind
from tovholder.organisations.models import Unit
from tovholder.organisations.services import municipality_change_settings, unit_create

pytestmark = pytest.mark.django_db

CONSENT = local(2026, 12, 14, 10)  # Monday; the committee's deadline is Monday 28 December
MEETING = dt.date(2026, 12, 16)  # Wednesday
CHRISTMAS_DUE = "senest onsdag d. 30. december 2026"
ENTRY = "e-mail boernogunge@syddjurs.dk"  # the single entry's own contact (the demo has no phone)


@pytest.fixture
def before_christmas(clock, world):
    """A consented case on the agenda of the meeting of 16 December 2026, in session."""
    clock.move_to(CONSENT)
    case = consented_case(world, at=CONSENT)
    plan(world)
    item = item_for(case)
    clock.move_to(local(2026, 12, 16, 8, 40))
    return case, item, meeting_on(world, MEETING)


def decide(world, item, meeting, kind, **kw):
    kw.setdefault("conclusion", "Udvalget har drøftet sagen.")
    decision = services.decision_record(actor=actor(world, "karen"), basis="committee", item=item, meeting=meeting,
                                        kind=kind, **kw)
    text = decision.minute.text
    assert not CPR_PATTERN.search(text)
    return text


def test_it_tells_the_family_when_the_unit_that_takes_over_contacts_them(before_christmas, world):
    case, item, meeting = before_christmas
    text = decide(world, item, meeting, DecisionKind.ORDINARY_ROUTE, unit=world.unit("706:family_counselling"))
    assert f"Familierådgivningen Syddjurs kontakter jer {CHRISTMAS_DUE}" in text
    assert "Ansvarlig for sagen nu: Familierådgivningen Syddjurs, e-mail familieraadgivningen@syddjurs.dk." in text
    assert "kontakt dem selv" in text


def test_it_gives_the_phone_of_a_unit_that_has_one(before_christmas, world):
    case, item, meeting = before_christmas
    unit = unit_create(actor=SYSTEM, kind=Unit.Kind.FAMILY_COUNSELLING, name="Familiehuset Kalø",
                       region=world.syddjurs.region, municipality=world.syddjurs, phone="87 53 60 00",
                       email="familiehuset@syddjurs.dk")
    text = decide(world, item, meeting, DecisionKind.ORDINARY_ROUTE, unit=unit)
    assert "Familiehuset Kalø, telefon 87 53 60 00, e-mail familiehuset@syddjurs.dk." in text
    assert f"Familiehuset Kalø kontakter jer {CHRISTMAS_DUE}" in text


def test_it_tells_the_family_when_the_school_contacts_them_and_that_they_may_come_back(before_christmas, world):
    case, item, meeting = before_christmas
    text = decide(world, item, meeting, DecisionKind.EVERYDAY_SUPPORT)
    assert f"Rønde Skole kontakter jer {CHRISTMAS_DUE}" in text
    # The school has no phone or e-mail of its own here: reach it through the single entry.
    assert f"Kontakt: Rønde Skole (kontakt dem gennem kommunens indgang: {ENTRY})." in text
    assert f"henvende jer til kommunens indgang ({ENTRY}) igen" in text


def test_it_asks_the_gp_to_send_the_referral_by_a_date(before_christmas, world):
    case, item, meeting = before_christmas
    text = decide(world, item, meeting, DecisionKind.REFERRED_ON,
                  referred_to="Børne- og Ungdomspsykiatrisk Afdeling")
    assert "Jeres egen læge, Lægehuset Ebeltoft, modtager dette referat og laver henvisningen." in text
    assert f"Udvalget beder lægen sende den {CHRISTMAS_DUE}" in text
    assert f"kontakt kommunens indgang: {ENTRY}" in text


def test_it_names_the_unit_that_prepares_the_referral_and_by_when(before_christmas, world):
    case, item, meeting = before_christmas
    text = decide(world, item, meeting, DecisionKind.REFERRED_ON, unit=world.unit("706:ppr"),
                  referred_to="Børne- og Ungdomspsykiatrisk Afdeling")
    assert "PPR Syddjurs forbereder henvisningen og sender senest onsdag d. 30. december 2026" in text
    assert "Kontakt: PPR Syddjurs, e-mail ppr@syddjurs.dk." in text


def test_it_keeps_the_start_meeting_clock_for_a_joint_pathway(before_christmas, world):
    case, item, meeting = before_christmas
    text = decide(world, item, meeting, DecisionKind.PATHWAY, lead_user=world.user("lars"),
                  lead_unit=world.unit("706:school:0"))
    assert "Lars Nielsen" in text and "Telefon: 87 53 50 20" in text
    assert "senest onsdag d. 13. januar 2027" in text  # four weeks, calendar weeks


def test_it_counts_on_the_municipalitys_own_calendar_and_clock(clock, world):
    """Christmas Eve open, and a 10-working-day committee clock: 17–24 December (6),
    28–30 December (9), then 31 December (closed) and New Year's Day (a holiday): 4 January."""
    municipality_change_settings(actor=SYSTEM, municipality=world.syddjurs, closed_christmas_eve=False,
                                 committee_working_days=10)
    clock.move_to(CONSENT)
    case = consented_case(world, at=CONSENT)
    plan(world)
    item = item_for(case)
    clock.move_to(local(2026, 12, 16, 8, 40))
    text = decide(world, item, meeting_on(world, MEETING), DecisionKind.ORDINARY_ROUTE,
                  unit=world.unit("706:family_counselling"))
    assert "Familierådgivningen Syddjurs kontakter jer senest mandag d. 4. januar 2027" in text


def test_it_tells_the_family_when_the_lead_contacts_them_after_a_returned_pathway(clock, world):
    """Across Easter 2027: decided Wednesday 17 March, eight working days is Thursday 1 April."""
    clock.move_to(local(2027, 3, 8, 10))
    case = consented_case(world, at=local(2027, 3, 8, 10))
    plan(world)
    item = item_for(case)
    clock.move_to(local(2027, 3, 10, 8, 40))
    decide(world, item, meeting_on(world, dt.date(2027, 3, 10)), DecisionKind.PATHWAY,
           lead_user=world.user("lars"), lead_unit=world.unit("706:school:0"))
    case.refresh_from_db()
    returned = services.committee_return_case(actor=actor(world, "lars"), case=case,
                                              reason="Familien kommer ikke til møderne.")
    clock.move_to(local(2027, 3, 17, 8, 40))
    text = decide(world, returned, meeting_on(world, dt.date(2027, 3, 17)), DecisionKind.CONTINUE,
                  conclusion="Familierådgivningen deltager i næste opfølgningsmøde.")
    assert "Indsatsansvarlig (tovholder): Lars Nielsen" in text
    assert "Lars Nielsen kontakter jer senest torsdag d. 1. april 2027" in text
