"""The daily jobs: the set-based deadline sweep agrees with the per-case computation, runs
once a day, and the digest reaches each lead once a day."""

import datetime as dt

import pytest
import time_machine

from tests.pathway.helpers import hold, lead_actor, local, pathway_case, schedule
from tovholder.cases.models import Case
from tovholder.deadlines.services import case_refresh_deadline
from tovholder.pathway.clocks import PATHWAY_CLOCKS, sweep_deadlines
from tovholder.pathway.models import DeadlineSweepRun, LeadDigest, MeetingKind
from tovholder.pathway.services import deadline_sweep_daily, intervention_add, lead_digest_send
from tovholder.worker.jobs import all_jobs

pytestmark = pytest.mark.django_db
UTC = dt.UTC


@pytest.fixture(autouse=True)
def _staff_since_2020(world):
    from tovholder.organisations.models import Membership

    Membership.objects.update(started_at=dt.datetime(2020, 1, 1, tzinfo=UTC))


def _mixed_pathways(world):
    """Pathways in every state the clocks know."""
    cases = []
    with time_machine.travel(local(2026, 9, 1, 10), tick=False):
        cases.append(pathway_case(world, decided_at=local(2026, 9, 1, 10)))  # awaiting start
        late = pathway_case(world, decided_at=local(2026, 9, 1, 10), participants=())
        cases.append(late)
        exempt = pathway_case(world, decided_at=local(2026, 9, 1, 10), participants=())
        Case.objects.filter(pk=exempt.pk).update(exempt_from_deadlines=True)
        cases.append(exempt)
        started = pathway_case(world, decided_at=local(2026, 9, 1, 10), participants=())
        no_need = pathway_case(world, decided_at=local(2026, 9, 1, 10), participants=())
        followed = pathway_case(world, decided_at=local(2026, 9, 1, 10), participants=())
        cases += [started, no_need, followed]
    with time_machine.travel(local(2026, 9, 10, 15), tick=False):
        hold(world, started, schedule(world, started, at=local(2026, 9, 10, 13)), next_meeting_on=dt.date(2026, 10, 1))
        hold(world, no_need, schedule(world, no_need, at=local(2026, 9, 10, 13)), needs_assessment=False,
             next_meeting_on=dt.date(2026, 12, 1))
        v1 = hold(world, followed, schedule(world, followed, at=local(2026, 9, 10, 13)),
                  next_meeting_on=dt.date(2026, 10, 1))
        intervention_add(actor=lead_actor(world), basis="lead", case=followed, sector="ppr", description="Udredning",
                         kind="assessing", step=2, start_on=dt.date(2026, 9, 10), status="active")
    with time_machine.travel(local(2026, 10, 1, 15), tick=False):
        hold(world, followed, schedule(world, followed, kind=MeetingKind.FOLLOW_UP, at=local(2026, 10, 1, 13)),
             new_goals=[], ratings={v1.pathway.goals.get().pk: (4, "child")}, next_meeting_on=dt.date(2026, 11, 12))
    return cases


def test_the_sweep_computes_what_the_per_case_refresh_computes(world):
    cases = _mixed_pathways(world)
    expected = {}
    for case in cases:
        case = Case.objects.get(pk=case.pk)
        case_refresh_deadline(case=case)
        expected[case.pk] = (case.next_deadline, case.next_deadline_kind)
    assert len(set(expected.values())) >= 4
    # Scramble what is stored, then let the sweep put it right.
    Case.objects.filter(pk__in=expected).update(next_deadline=dt.date(2030, 1, 1), next_deadline_kind="start_meeting")
    with time_machine.travel(local(2026, 10, 2, 6), tick=False):
        assert sweep_deadlines(chunk=2) == len(expected)
        got = {c.pk: (c.next_deadline, c.next_deadline_kind) for c in Case.objects.filter(pk__in=expected)}
    assert got == expected
    # Exempt: none of the pathway's clocks is open (another part's, like consent expiry, may be).
    assert expected[cases[2].pk][1] not in PATHWAY_CLOCKS
    # Nothing to change the second time.
    assert sweep_deadlines() == 0


def test_the_sweep_keeps_another_parts_earlier_deadline(world):
    with time_machine.travel(local(2026, 9, 1, 10), tick=False):
        case = pathway_case(world, decided_at=local(2026, 9, 1, 10))
    Case.objects.filter(pk=case.pk).update(next_deadline=dt.date(2026, 9, 5), next_deadline_kind="consent_expiry")
    sweep_deadlines()
    assert Case.objects.filter(pk=case.pk).values_list("next_deadline", "next_deadline_kind").get() == (
        dt.date(2026, 9, 5), "consent_expiry")
    Case.objects.filter(pk=case.pk).update(next_deadline=dt.date(2026, 12, 5))
    sweep_deadlines()
    assert Case.objects.get(pk=case.pk).next_deadline == dt.date(2026, 9, 29)


def test_the_sweep_follows_a_change_of_the_municipalitys_clock(world):
    with time_machine.travel(local(2026, 9, 1, 10), tick=False):
        case = pathway_case(world, decided_at=local(2026, 9, 1, 10))
    world.syddjurs.start_meeting_weeks = 6
    world.syddjurs.save(update_fields=["start_meeting_weeks"])
    assert deadline_sweep_daily() == 1
    assert Case.objects.get(pk=case.pk).next_deadline == dt.date(2026, 10, 13)


def test_the_daily_sweep_runs_once_a_day(world):
    with time_machine.travel(local(2026, 9, 1, 10), tick=False):
        pathway_case(world, decided_at=local(2026, 9, 1, 10))
    with time_machine.travel(local(2026, 9, 2, 6), tick=False):
        deadline_sweep_daily()
        assert deadline_sweep_daily() == 0
    assert DeadlineSweepRun.objects.count() == 1
    with time_machine.travel(local(2026, 9, 3, 6), tick=False):
        deadline_sweep_daily()
    assert DeadlineSweepRun.objects.count() == 2


def test_the_jobs_are_registered_with_the_background_loop():
    names = {job.name for job in all_jobs()}
    assert {"pathway_deadline_sweep", "pathway_lead_digest"} <= names


def test_the_digest_goes_to_each_lead_once_a_day_with_what_is_due_and_overdue(world, login):
    with time_machine.travel(local(2026, 9, 1, 10), tick=False):
        overdue = pathway_case(world, decided_at=local(2026, 9, 1, 10))
        pathway_case(world, decided_at=local(2026, 9, 1, 10), lead="maria", participants=())
    with time_machine.travel(local(2026, 9, 20, 10), tick=False):
        soon = pathway_case(world, decided_at=local(2026, 9, 20, 10), participants=())
    with time_machine.travel(local(2026, 10, 12, 6), tick=False):
        assert lead_digest_send() == 2
        assert lead_digest_send() == 0  # idempotent: one per lead per day
        digest = LeadDigest.objects.get(user=world.user("lars"))
        by_case = {i["case_id"]: i for i in digest.items}
        assert by_case[overdue.pk]["status"] == "overdue" and by_case[overdue.pk]["needs_explanation"]
        assert by_case[soon.pk]["status"] == "due_soon"
        page = login("lars").get("/handleplan/mine-frister/").content.decode()
        assert "Overskredet" in page and "forklaring mangler" in page
    with time_machine.travel(local(2026, 10, 13, 6), tick=False):
        assert lead_digest_send() == 2
    assert LeadDigest.objects.filter(user=world.user("lars")).count() == 2


def test_the_digest_reaches_the_lead_by_e_mail_once_with_counts_and_no_names(world, login):
    import time_machine as _tm
    from django.core import mail as _mail

    from tests.pathway.helpers import pathway_case as _pathway_case
    from tovholder.pathway.models import LeadDigest as _LeadDigest
    from tovholder.pathway.services import lead_digest_send as _send

    with _tm.travel(dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC), tick=False):
        case = _pathway_case(world)  # committee decided today: the start meeting is due in 4 weeks
    with _tm.travel(dt.datetime(2026, 3, 27, 7, tzinfo=dt.UTC), tick=False):  # due soon now
        assert _send() >= 1
        assert _send() == 0
        digest = _LeadDigest.objects.get(user=world.user("lars"))
        assert digest.items and digest.emailed_at is not None
        sent = [m for m in _mail.outbox if m.to == [world.user("lars").email]]
        assert len(sent) == 1
        assert "/handleplan/mine-frister/" in sent[0].body and "snart" not in sent[0].subject
        assert case.child.given_name not in sent[0].body and case.child.family_name not in sent[0].body
        home = login("lars").get("/").content.decode()
        assert "Dagens frister:" in home and 'href="/handleplan/mine-frister/"' in home
        login("lars").get("/handleplan/mine-frister/")
        assert "Dagens frister:" not in login("lars").get("/").content.decode()  # read: the banner goes
