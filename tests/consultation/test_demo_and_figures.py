"""The demo functions run through the real services, and the trial's figures come out of
the selectors tovholder.insight can call (per municipality and period)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tests.consultation.helpers import actor, consented_case
from tovholder.consultation import demo as consultation_demo
from tovholder.consultation import selectors
from tovholder.consultation import services as svc
from tovholder.consultation.models import AdviceAgreement, Referral


@pytest.mark.django_db
def test_it_runs_the_demo_through_the_services(world):
    case = consented_case(world)
    other = consented_case(world, participants=())
    series = consultation_demo.demo_samrum_publish(world.demo)
    assert len(series) == 2 and all(s.slots.count() == 8 for s in series)
    assert consultation_demo.demo_samrum_publish(world.demo)[0].pk == series[0].pk  # idempotent
    anonymous = consultation_demo.demo_anonymous_consultation(world.demo)
    assert anonymous.is_anonymous and anonymous.status == "answered"
    answered = consultation_demo.demo_consultation_answered(world.demo, case)
    assert answered.recommendation == "referral" and answered.booking.slot.target_group == "adhd"
    rejected = consultation_demo.demo_referral_rejected(world.demo, case)
    assert rejected.status == Referral.Status.REJECTED
    assert rejected.answers.get().follow_up.due_on > timezone.localdate()
    accepted = consultation_demo.demo_referral_accepted(world.demo, other)
    assert accepted.status == Referral.Status.ACCEPTED and other.admissions.count() == 1


@pytest.mark.django_db
def test_it_counts_consultations_referrals_rejections_and_admissions_per_municipality(world):
    syddjurs = world.syddjurs.pk
    a, b = consented_case(world), consented_case(world)
    consultation_demo.demo_samrum_publish(world.demo)
    consultation_demo.demo_consultation_answered(world.demo, a)
    consultation_demo.demo_consultation_answered(world.demo, b)
    consultation_demo.demo_anonymous_consultation(world.demo)
    svc.consultation_ask(actor=actor(world, "lars"), basis="lead", advising_unit=world.unit("bua"),
                         asking_unit=world.unit("706:school:0"), target_group="adhd", subject="Opfølgning",
                         text="Et spørgsmål mere.", case=a)
    consultation_demo.demo_referral_rejected(world.demo, a)
    consultation_demo.demo_referral_accepted(world.demo, b)
    today = timezone.localdate()
    start, end = today - dt.timedelta(days=30), today + dt.timedelta(days=1)

    [c] = selectors.consultation_figures(start=start, end=end, municipality_ids=[syddjurs])
    assert (c["conversations"], c["cases"], c["identified"], c["anonymous"], c["at_fixed_time"]) == (4, 2, 3, 1, 2)
    assert c["referral_recommended"] == 2
    groups = {r["target_group"]: r["conversations"] for r in selectors.consultations_by_target_group(
        start=start, end=end, municipality_ids=[syddjurs])}
    assert groups == {"adhd": 3, "eating_disorders": 1}
    referrals = {r["receiver_kind"]: r for r in selectors.referral_figures(start=start, end=end)}
    assert referrals["bua"]["sent"] == 1 and referrals["bua"]["rejected"] == 1
    assert referrals["paediatric_ward"]["accepted"] == 1
    [rej] = selectors.rejections_by_reason(start=start, end=end, municipality_ids=[syddjurs])
    assert (rej["reason"], rej["rejections"], rej["followed_up_in_time"]) == ("municipal_efforts", 1, 0)
    [adm] = selectors.admission_figures(start=start, end=end)
    assert (adm["unit_kind"], adm["admissions"], adm["children"]) == ("paediatric_ward", 1, 1)
    assert selectors.consultation_figures(start=start, end=end, municipality_ids=[world.norddjurs.pk]) == []


@pytest.mark.django_db
def test_it_counts_figures_for_many_municipalities_in_a_fixed_number_of_queries(world, django_assert_max_num_queries):
    today = timezone.localdate()
    with django_assert_max_num_queries(5):
        selectors.consultation_figures(start=today, end=today)
        selectors.consultations_by_target_group(start=today, end=today)
        selectors.referral_figures(start=today, end=today)
        selectors.rejections_by_reason(start=today, end=today)
        selectors.admission_figures(start=today, end=today)


@pytest.mark.django_db
def test_it_turns_the_advice_into_a_plan_agreement_once(world, monkeypatch):
    """Against the pathway's `agreement_add` (faked here when the pathway does not offer it)."""
    from tovholder.pathway import services as pathway_services

    added = []
    if not hasattr(pathway_services, "agreement_add"):
        class Fake:
            pk = 4711

        def agreement_add(**kwargs):
            added.append(kwargs)
            return Fake()

        monkeypatch.setattr(pathway_services, "agreement_add", agreement_add, raising=False)
    case = consented_case(world)
    consultation_demo.demo_samrum_publish(world.demo)
    c = consultation_demo.demo_consultation_answered(world.demo, case)
    lead = actor(world, "lars", "706:school:0")
    link = svc.advice_to_agreement(actor=lead, basis="lead", consultation=c, what="Fast visuel dagsplan",
                                   how="Lærer og forældre bruger samme dagsplan.", responsible="school",
                                   responsible_name="Lars Nielsen", due_on=timezone.localdate() + dt.timedelta(weeks=4))
    again = svc.advice_to_agreement(actor=lead, basis="lead", consultation=c, what="x", how="", responsible="school")
    assert link.pk == again.pk and AdviceAgreement.objects.count() == 1
    if added:
        assert len(added) == 1 and added[0]["case"] == case and c.reference in added[0]["how"]
