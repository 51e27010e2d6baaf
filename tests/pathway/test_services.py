import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from tests.pathway.helpers import hold, lead_actor, pathway_case, schedule
from tovholder.cases.models import Case, CaseTeamMember, Stage, TeamRole
from tovholder.pathway.models import MeetingKind, Pathway, PlanVersion
from tovholder.pathway.services import handover_accept, handover_decline, handover_propose

pytestmark = pytest.mark.django_db


def test_it_starts_a_pathway_with_exactly_one_lead(world):
    case = pathway_case(world)
    assert case.stage == Stage.AWAITING_START
    pathway = Pathway.objects.get(case=case)
    assert pathway.lead_user == world.user("lars")
    leads = CaseTeamMember.objects.filter(case=case, role=TeamRole.LEAD, ended_at__isnull=True)
    assert [m.user.username for m in leads] == ["lars"]
    assert case.next_deadline_kind == "start_meeting"


def test_it_refuses_a_second_start(world):
    case = pathway_case(world)
    with pytest.raises(ValidationError):
        from tovholder.pathway.services import pathway_start

        pathway_start(actor=lead_actor(world), basis="committee", case=case, lead_user=world.user("maria"),
                      lead_unit=world.unit("706:ppr"))


def test_it_holds_the_start_meeting_and_a_follow_up_making_versions(world, sent):
    case = pathway_case(world)
    meeting = schedule(world, case, at=timezone.now() - dt.timedelta(hours=2))
    assert "invitation" in sent.family_reasons()
    v1 = hold(world, case, meeting)
    assert v1.number == 1
    case.refresh_from_db()
    assert case.stage == Stage.ACTIVE
    follow = schedule(world, case, kind=MeetingKind.FOLLOW_UP, at=timezone.now() - dt.timedelta(hours=1))
    goal = v1.pathway.goals.get()
    v2 = hold(world, case, follow, new_goals=[], ratings={goal.pk: (6, "child")})
    assert v2.number == 2
    assert [r["score"] for r in v2.content["goals"][0]["ratings"]] == [3, 6]
    assert sent.family_reasons().count("plan") == 2
    attachment = sent.family[-1]["attachments"][0]
    assert attachment[1] == "application/pdf" and attachment[2].startswith(b"%PDF")


def test_it_refuses_a_record_without_next_meeting_unless_closing(world):
    case = pathway_case(world)
    meeting = schedule(world, case, at=timezone.now() - dt.timedelta(hours=2))
    with pytest.raises(ValidationError) as err:
        hold(world, case, meeting, next_meeting_on=None)
    assert "next_meeting_on" in err.value.message_dict
    assert not PlanVersion.objects.exists()


def test_it_enforces_the_next_meeting_date_in_the_database_too(world):
    case = pathway_case(world)
    meeting = schedule(world, case, at=timezone.now() - dt.timedelta(hours=2))
    v1 = hold(world, case, meeting)
    with pytest.raises(IntegrityError), transaction.atomic():
        PlanVersion.objects.filter(pk=v1.pk).update(next_meeting_on=None)


def test_it_keeps_versions_immutable(world):
    case = pathway_case(world)
    v1 = hold(world, case, schedule(world, case, at=timezone.now() - dt.timedelta(hours=2)))
    v1.content["what_works"] = "changed"
    with pytest.raises(ValidationError):
        v1.save()


def test_it_enforces_one_lead_in_the_database(world):
    case = pathway_case(world)
    with pytest.raises(IntegrityError), transaction.atomic():
        Pathway.objects.filter(case=case).update(lead_user=None)
    with pytest.raises(IntegrityError), transaction.atomic():
        CaseTeamMember.objects.create(case=case, user=world.user("maria"), unit=world.unit("706:ppr"),
                                      role=TeamRole.LEAD)
    with pytest.raises(IntegrityError), transaction.atomic():
        Pathway.objects.create(case=case, lead_user=world.user("maria"), lead_unit=world.unit("706:ppr"),
                               decided_on=timezone.localdate())


def test_it_hands_over_only_when_the_receiver_accepts(world, sent):
    case = pathway_case(world)
    handover = handover_propose(actor=lead_actor(world), basis="lead", case=case, to_user=world.user("maria"),
                                to_unit=world.unit("706:ppr"), note="PPR overtager, da udredningen fylder mest.")
    assert Pathway.objects.get(case=case).lead_user.username == "lars"
    with pytest.raises(ValidationError):
        handover_accept(actor=lead_actor(world, "karen"), handover=handover)
    handover_accept(actor=lead_actor(world, "maria"), handover=handover)
    pathway = Pathway.objects.get(case=case)
    assert pathway.lead_user.username == "maria"
    open_roles = dict(CaseTeamMember.objects.filter(case=case, ended_at__isnull=True)
                      .values_list("user__username", "role"))
    assert open_roles == {"maria": "lead", "lars": "participant"}
    assert "lead_changed" in sent.family_reasons()
    assert "Maria Vestergaard" in sent.family[-1]["body"] and "87 53 50 15" in sent.family[-1]["body"]


def test_it_keeps_the_lead_when_the_receiver_declines(world):
    case = pathway_case(world)
    handover = handover_propose(actor=lead_actor(world), basis="lead", case=case, to_user=world.user("maria"),
                                to_unit=world.unit("706:ppr"), note="Forslag")
    with pytest.raises(ValidationError):
        handover_decline(actor=lead_actor(world, "maria"), handover=handover, note="")
    handover_decline(actor=lead_actor(world, "maria"), handover=handover, note="Ingen kapacitet før jul.")
    assert Pathway.objects.get(case=case).lead_user.username == "lars"
    assert Case.objects.get(pk=case.pk).team.filter(role="lead", ended_at__isnull=True).get().user.username == "lars"


def test_the_closing_meeting_ends_the_pathway_and_tells_committee_and_gp(world, sent):
    from tovholder.cases.models import Notice

    case = pathway_case(world)
    hold(world, case, schedule(world, case, at=timezone.now() - dt.timedelta(hours=3)))
    closing = schedule(world, case, kind=MeetingKind.CLOSING, at=timezone.now() - dt.timedelta(hours=1))
    with pytest.raises(ValidationError):
        hold(world, case, closing, next_meeting_on=None)  # no everyday support named
    v = hold(world, case, closing, next_meeting_on=None, everyday_support="Klasselærer Lars Nielsen")
    assert v.next_meeting_on is None
    case.refresh_from_db()
    assert case.stage == Stage.CLOSED and case.closed_reason == "pathway_completed"
    assert case.next_deadline is None
    # The GP got the plan after each of the two meetings, then the closing message.
    assert [s["reason"] for s in sent.referrer] == ["plan", "plan", "closing"]
    told = set(Notice.objects.filter(case=case, text__contains="afsluttet").values_list("user__username", flat=True))
    assert {"karen", "mads"} <= told
