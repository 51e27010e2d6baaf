"""Expiry: 30 days before, the lead professional is told and renewal is requested; after
it, the gate is closed until renewed. An idempotent sweep under time_machine."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from tests.consent.helpers import family_actor_give, local
from tests.support.world import make_case
from tovholder.cases.models import Case, Notice, Stage
from tovholder.consent.gate import processing_allowed
from tovholder.consent.models import ConsentRequest, ConsentRound
from tovholder.consent.services import consent_answer, consent_sweep, family_actor
from tovholder.deadlines.clocks import Clock
from tovholder.deadlines.milestones import case_milestones
from tovholder.letters.models import Letter

pytestmark = pytest.mark.django_db

GIVEN = local(2025, 1, 10)  # lapses 10 January 2026; notice and renewal from 11 December 2025


def pathway(world) -> Case:  # the world is built on 1 December 2024 (the `clock` fixture)
    with time_machine.travel(GIVEN, tick=False):
        return make_case(world.demo, stage=Stage.ACTIVE, lead="lars", participants=("maria",))


# The sweep works on every case in the database (the world's own case too): assertions look
# at this test's case only.
def renewal_requests(case) -> list[ConsentRequest]:
    return list(ConsentRequest.objects.filter(case=case, round__kind="renewal").defer("scan").order_by("id"))


def lars_notices(world, case) -> list[str]:
    return list(Notice.objects.filter(case=case, user=world.user("lars")).values_list("text", flat=True))


def test_thirty_days_before_the_lead_is_told_and_the_family_asked_to_renew_once(clock, world):
    case = pathway(world)
    expiry = [m for m in case_milestones(case, dt.date(2025, 6, 1)) if m.clock == Clock.CONSENT_EXPIRY]
    assert [m.due for m in expiry] == [dt.date(2026, 1, 10)]
    with time_machine.travel(local(2025, 12, 10, 23, 0), tick=False) as clock:
        consent_sweep()
        assert renewal_requests(case) == []
        clock.move_to(local(2025, 12, 11, 6, 0))
        consent_sweep()
        consent_sweep()
    assert len(renewal_requests(case)) == 2
    assert Letter.objects.filter(case=case, reason="consent_renewal").count() == 2
    assert any("udløber 10.01.2026" in t for t in lars_notices(world, case))
    assert processing_allowed(case)  # still valid until it lapses


def test_a_renewal_given_in_time_keeps_the_gate_open_past_the_old_end_date(clock, world):
    case = pathway(world)
    with time_machine.travel(local(2025, 12, 11, 6, 0), tick=False) as clock:
        consent_sweep()
        clock.move_to(local(2025, 12, 15))
        for r in renewal_requests(case):
            family_actor_give(r)
        assert any("fornyet" in t for t in lars_notices(world, case))
        clock.move_to(local(2026, 1, 10, 8, 0))
        consent_sweep()
        consent_sweep()
        case.refresh_from_db()
        assert case.stage == Stage.ACTIVE and processing_allowed(case)
        assert case.next_deadline_kind != "" and case.next_deadline >= dt.date(2026, 1, 10)
        expiry = [m.due for m in case_milestones(case, dt.date(2026, 1, 10)) if m.clock == Clock.CONSENT_EXPIRY]
        assert expiry == [dt.date(2026, 12, 15)]


def test_without_an_answer_the_gate_closes_at_expiry_and_the_case_closes(clock, world, told):
    case = pathway(world)
    with time_machine.travel(local(2025, 12, 11, 6, 0), tick=False) as clock:
        consent_sweep()
        clock.move_to(local(2025, 12, 26, 6, 0))  # 14 days passed: reminder
        consent_sweep()
        consent_sweep()
        assert Letter.objects.filter(case=case, reason="consent_reminder").count() == 2
        clock.move_to(local(2026, 1, 3, 6, 0))  # 7 more: the renewal lapses, the lead is told
        consent_sweep()
        assert ConsentRound.objects.get(case=case, kind="renewal").status == "lapsed"
        assert Case.objects.get(pk=case.pk).stage == Stage.ACTIVE and processing_allowed(case)
        clock.move_to(local(2026, 1, 10, 0, 30))
        consent_sweep()
        consent_sweep()
    case.refresh_from_db()
    assert (case.stage, case.closed_reason) == (Stage.CLOSED, "no_consent")
    assert not processing_allowed(case)
    assert [t["reason"] for t in told.referrer if t["case"].pk == case.pk] == ["no_consent"]


def test_a_refused_renewal_lets_the_consent_run_out_then_closes(clock, world, told):
    case = pathway(world)
    with time_machine.travel(local(2025, 12, 11, 6, 0), tick=False) as clock:
        consent_sweep()
        first = renewal_requests(case)[0]
        consent_answer(actor=family_actor(first), request=first.pk, give=False)
        assert Case.objects.get(pk=case.pk).stage == Stage.ACTIVE and processing_allowed(case)
        clock.move_to(local(2026, 1, 10, 0, 30))
        consent_sweep()
    case.refresh_from_db()
    assert (case.stage, case.closed_reason) == (Stage.CLOSED, "consent_refused")
    # The consent that was in force keeps its history: complete, then lapsed at its end date.
    assert ConsentRound.objects.get(case=case, kind="initial").status == ConsentRound.Status.COMPLETE
    assert ConsentRound.objects.get(case=case, kind="renewal").status == ConsentRound.Status.REFUSED


def test_when_the_renewal_is_still_open_at_expiry_the_gate_is_closed_until_it_is_given(clock, world):
    m = world.syddjurs
    m.consent_answer_days = 40  # an answer window that runs past the end date
    m.save()
    case = pathway(world)
    with time_machine.travel(local(2025, 12, 11, 6, 0), tick=False) as clock:
        consent_sweep()
        clock.move_to(local(2026, 1, 10, 6, 0))
        consent_sweep()
        case.refresh_from_db()
        assert case.stage == Stage.ACTIVE
        assert not processing_allowed(case)
        assert any("udløbet og endnu ikke fornyet" in t for t in lars_notices(world, case))
        for r in renewal_requests(case):
            family_actor_give(r)
        assert processing_allowed(Case.objects.get(pk=case.pk))
