"""The demo functions the lead wires into the demo loader."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tests.support.world import make_case, make_child
from tovholder.cases.models import Case, Stage
from tovholder.consent import demo
from tovholder.consent.gate import processing_allowed
from tovholder.consent.models import ConsentRequest
from tovholder.letters.models import Letter

pytestmark = pytest.mark.django_db


def waiting(world, **kw) -> Case:
    return make_case(world.demo, stage=Stage.AWAITING_CONSENT, lead=None, **kw)


def test_request_sends_letters_and_partial_has_one_answer(world):
    case = waiting(world)
    demo.consent_demo_request(world.demo, case)
    assert Letter.objects.filter(case=case, reason="consent_request").count() == 2
    other = waiting(world)
    demo.consent_demo_partial(world.demo, other)
    assert sorted(ConsentRequest.objects.filter(case=other).values_list("status", flat=True)) == ["given", "pending"]


def test_complete_in_the_past_opens_the_gate_without_letters(world):
    at = timezone.now() - dt.timedelta(days=20)
    case = demo.consent_demo_complete(world.demo, waiting(world, at=at), at=at)
    assert case.stage == Stage.AWAITING_COMMITTEE and case.consent_completed_at == at
    assert processing_allowed(case)
    assert not Letter.objects.filter(case=case).exists()


def test_complete_asks_a_child_of_15_too(world):
    child = make_child(world.demo, birth=dt.date(2009, 1, 1))
    case = demo.consent_demo_complete(world.demo, waiting(world, child=child))
    assert sorted(ConsentRequest.objects.filter(case=case).values_list("capacity", flat=True)) == [
        "child", "custody_holder", "custody_holder"]


def test_no_answer_closes_as_no_consent(world, told):
    case = demo.consent_demo_no_answer(world.demo, waiting(world))
    assert (case.stage, case.closed_reason) == (Stage.CLOSED, "no_consent")
    assert [t["reason"] for t in told.referrer] == ["no_consent"]
