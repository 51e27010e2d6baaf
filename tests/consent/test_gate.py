"""The gate itself: open only on complete, unexpired, unwithdrawn consent that covers the party."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError

from tests.consent.helpers import family_actor_give, local, open_case, requests_of
from tests.support.world import SYSTEM, make_case
from tovholder.cases.models import ClosedReason, Stage
from tovholder.cases.services import case_transition
from tovholder.consent.gate import ConsentRequired, processing_allowed, require_processing_allowed
from tovholder.consent.models import ConsentRound
from tovholder.consent.services import consent_text_current, consent_text_publish

pytestmark = pytest.mark.django_db


def test_it_is_closed_while_consent_is_missing_and_open_when_complete(world):
    case = open_case(world, parents=2)
    first, second = requests_of(case)
    assert not processing_allowed(case)
    family_actor_give(first)
    assert not processing_allowed(case)
    with pytest.raises(ConsentRequired) as err:
        require_processing_allowed(case)
    assert isinstance(err.value, ValidationError)
    assert "samtykke" in err.value.messages[0]
    family_actor_give(second)
    case.refresh_from_db()
    assert processing_allowed(case)
    require_processing_allowed(case)


def test_it_does_not_trust_the_stage_alone(world):
    """A case moved to the committee by the plain stage service, without consent, stays shut."""
    from tests.support.world import make_child
    from tovholder.cases.services import case_open

    child = make_child(world.demo)
    case = case_open(actor=SYSTEM, basis="system", municipality=world.syddjurs, child=child, referral_channel="gp")
    case = case_transition(actor=SYSTEM, basis="system", case=case, to=Stage.AWAITING_COMMITTEE)
    assert case.consent_completed_at is not None
    assert not processing_allowed(case)


def test_it_checks_that_the_consent_covers_the_receiving_party(world):
    current = consent_text_current(municipality=world.syddjurs)
    consent_text_publish(actor=SYSTEM, municipality=world.syddjurs, body_template=current.body_template,
                         parties=[p for p in current.parties if p["kind"] in ("committee", "gp_practice")],
                         contact="PPR", valid_from=dt.date(2000, 1, 2))
    case = make_case(world.demo, stage=Stage.AWAITING_COMMITTEE, lead=None)
    assert processing_allowed(case)
    for party in ("committee", "school", "ppr", "health_visitors", "family_counselling", "gp_practice", "gp"):
        assert processing_allowed(case, party=party), party
    for party in ("bua", "paediatric_ward", "police", ""):
        assert not processing_allowed(case, party=party), party
    full = make_case(world.demo, stage=Stage.AWAITING_COMMITTEE, lead=None)
    ConsentRound.objects.filter(case=full).update(text=current)
    assert processing_allowed(full, party="bua") and processing_allowed(full, party="paediatric_ward")


def test_it_closes_when_consent_lapses_at_its_end_date(clock, world):
    with time_machine.travel(local(2025, 1, 10), tick=False) as clock:
        case = make_case(world.demo, stage=Stage.AWAITING_START, lead="lars")
        assert ConsentRound.objects.get(case=case).expires_on == dt.date(2026, 1, 10)
        clock.move_to(local(2026, 1, 9, 23, 59))
        assert processing_allowed(case)
        clock.move_to(local(2026, 1, 10, 0, 1))
        assert not processing_allowed(case)


def test_it_is_closed_on_a_closed_case(world):
    case = make_case(world.demo, stage=Stage.ACTIVE, lead="lars")
    case = case_transition(actor=SYSTEM, basis="system", case=case, to=Stage.CLOSED,
                           closed_reason=ClosedReason.PATHWAY_COMPLETED)
    assert not processing_allowed(case)


def test_the_world_cases_past_consent_have_real_consent(world):
    assert processing_allowed(world.case)
    assert ConsentRound.objects.get(case=world.case).status == ConsentRound.Status.COMPLETE
