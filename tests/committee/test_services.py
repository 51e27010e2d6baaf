"""The committee's services: decisions, compliance, minutes, notes, the return of a stalled
pathway, and the schedule — through the real services, with the real consent gate."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from tests.committee.helpers import actor, consented_case, item_for, local, meeting_on, plan
from tests.support.world import SYSTEM
from tovholder.cases.models import CaseTeamMember, ClosedReason, Notice, Stage, TeamRole
from tovholder.cases.services import case_transition
from tovholder.children.cpr import CPR_PATTERN
from tovholder.committee import selectors as sel
from tovholder.committee import services
from tovholder.committee.jobs import committee_schedule
from tovholder.committee.models import (
    AgendaItem,
    CommitteeDecision,
    CommitteeMeeting,
    DecisionKind,
    MeetingAttendance,
    Minute,
    UnitNote,
)
from tovholder.consent.gate import ConsentRequired
from tovholder.deadlines.clocks import Clock, Status
from tovholder.deadlines.milestones import case_milestones

pytestmark = pytest.mark.django_db

MONDAY = local(2026, 11, 16, 10)  # consent; the deadline is Thursday 26 November
WEDNESDAY = dt.date(2026, 11, 18)


@pytest.fixture
def ready(clock, world):
    """A consented case on the agenda, and the Wednesday meeting, in session."""
    clock.move_to(MONDAY)
    case = consented_case(world, at=MONDAY)
    plan(world)
    item = item_for(case)
    clock.move_to(local(2026, 11, 18, 8, 40))
    return case, item, meeting_on(world, WEDNESDAY)


def decide(world, item, meeting, kind=DecisionKind.PATHWAY, who="karen", **kw):
    if kind == DecisionKind.PATHWAY:
        kw.setdefault("lead_user", world.user("lars"))
        kw.setdefault("lead_unit", world.unit("706:school:0"))
    kw.setdefault("conclusion", "Skolen og PPR samarbejder om et forløb.")
    return services.decision_record(actor=actor(world, who), basis="committee", item=item, meeting=meeting,
                                    kind=kind, **kw)


def test_it_starts_a_joint_pathway_appoints_the_lead_and_drafts_the_minute(ready, world):
    case, item, meeting = ready
    decision = decide(world, item, meeting)
    case.refresh_from_db()
    item.refresh_from_db()
    assert case.stage == Stage.AWAITING_START
    assert case.committee_decided_at == meeting.starts_at
    lead = CaseTeamMember.objects.get(case=case, role=TeamRole.LEAD, ended_at__isnull=True)
    assert (lead.user, lead.unit) == (world.user("lars"), world.unit("706:school:0"))
    assert (item.state, item.compliance, item.due_on) == ("decided", "met", dt.date(2026, 11, 26))
    minute = Minute.objects.get(decision=decision)
    assert minute.status == Minute.Status.DRAFT
    assert "fælles forpligtende forløb" in minute.text
    assert "Lars Nielsen" in minute.text and "87 53 50 20" in minute.text
    assert "senest onsdag d. 16. december 2026" in minute.text  # start meeting within 4 weeks
    assert not CPR_PATTERN.search(minute.text)
    assert Notice.objects.filter(user=world.user("lars"), case=case).exists()
    committee = next(m for m in case_milestones(case, dt.date(2026, 11, 18)) if m.clock == Clock.COMMITTEE)
    assert committee.status(dt.date(2026, 11, 18)) == Status.MET


def test_it_sends_the_case_to_the_ordinary_route_with_the_unit_that_takes_over(ready, world):
    case, item, meeting = ready
    decision = decide(world, item, meeting, DecisionKind.ORDINARY_ROUTE, unit=world.unit("706:family_counselling"))
    case.refresh_from_db()
    assert (case.stage, case.closed_reason) == (Stage.CLOSED, ClosedReason.ORDINARY_ROUTE)
    assert case.committee_decided_at == meeting.starts_at
    assert decision.unit == world.unit("706:family_counselling")
    assert "Familierådgivningen Syddjurs" in decision.minute.text
    assert Notice.objects.filter(user=world.user("mads"), case=case).exists()  # the unit's leader is told
    with pytest.raises(ValidationError):
        decide(world, consented_item(world), meeting, DecisionKind.ORDINARY_ROUTE)  # which unit?


def consented_item(world):
    case = consented_case(world, at=MONDAY)
    return item_for(case)


def test_it_gives_advice_back_to_everyday_support_at_the_childs_school(ready, world):
    case, item, meeting = ready
    decision = decide(world, item, meeting, DecisionKind.EVERYDAY_SUPPORT)
    case.refresh_from_db()
    assert (case.stage, case.closed_reason) == (Stage.CLOSED, ClosedReason.EVERYDAY_SUPPORT)
    assert decision.unit == world.unit("706:school:0")
    assert "Rønde Skole" in decision.minute.text


def test_it_recommends_referral_onwards_and_says_to_whom(ready, world):
    case, item, meeting = ready
    with pytest.raises(ValidationError, match="hvortil"):
        decide(world, item, meeting, DecisionKind.REFERRED_ON)
    decision = decide(world, item, meeting, DecisionKind.REFERRED_ON,
                      referred_to="Børne- og Ungdomspsykiatrisk Afdeling via egen læge")
    case.refresh_from_db()
    assert (case.stage, case.closed_reason) == (Stage.CLOSED, ClosedReason.REFERRED_ON)
    assert "Børne- og Ungdomspsykiatrisk Afdeling via egen læge" in decision.minute.text


def test_it_refuses_a_late_decision_without_a_written_explanation_and_keeps_it(ready, world, clock):
    case, item, _ = ready
    clock.move_to(local(2026, 12, 2, 8, 35))
    late = meeting_on(world, dt.date(2026, 12, 2))
    with pytest.raises(ValidationError, match="overskredet"):
        decide(world, item, late)
    decide(world, item, late, late_explanation="Mødet 18. og 25. november manglede beslutningsdygtighed.")
    item.refresh_from_db()
    assert item.compliance == AgendaItem.Compliance.MISSED
    assert item.late_explanation.startswith("Mødet 18.")
    case.refresh_from_db()
    committee = next(m for m in case_milestones(case, dt.date(2026, 12, 2)) if m.clock == Clock.COMMITTEE)
    assert committee.status(dt.date(2026, 12, 2)) == Status.MET_LATE
    assert sel.compliance_summary(world.syddjurs).missed == 1


def test_it_postpones_with_a_reason_and_keeps_the_case_on_the_next_agenda(ready, world, clock):
    case, item, meeting = ready
    karen = actor(world, "karen")
    with pytest.raises(ValidationError):
        services.item_postpone(actor=karen, basis="committee", item=item, meeting=meeting, reason=" ")
    first = services.item_postpone(actor=karen, basis="committee", item=item, meeting=meeting,
                                   reason="Vi mangler PPR's vurdering.")
    again = services.item_postpone(actor=karen, basis="committee", item=item, meeting=meeting,
                                   reason="Vi mangler PPR's vurdering.")
    assert first == again  # a double click
    item.refresh_from_db()
    assert item.state == AgendaItem.State.PENDING
    next_week = meeting_on(world, dt.date(2026, 11, 25))
    assert item in sel.meeting_items(next_week)
    [row] = sel.agenda_rows(sel.meeting_items(next_week), municipality=world.syddjurs, meetings=[next_week])
    assert row.postponements == 1 and not row.misses_deadline  # 25 November is before the 26th
    clock.move_to(local(2026, 11, 25, 8, 40))
    decide(world, item, next_week)
    case.refresh_from_db()
    assert case.stage == Stage.AWAITING_START


def test_it_needs_no_explanation_for_an_exempt_case(ready, world, clock):
    case, item, meeting = ready
    services.case_exempt_from_deadlines(actor=actor(world, "mads"), basis="committee", item=item, ground="authority",
                                        reason="Sagen behandles som børnefaglig undersøgelse.", meeting=meeting)
    clock.move_to(local(2026, 12, 9, 8, 40))
    decide(world, item, meeting_on(world, dt.date(2026, 12, 9)))
    item.refresh_from_db()
    assert item.compliance == AgendaItem.Compliance.EXEMPT
    case.refresh_from_db()
    assert case.exempt_from_deadlines and case.exemption_reason.startswith("Sagen er af myndighedskarakter")
    with pytest.raises(ValidationError):  # between meetings only the chair exempts
        services.case_exempt_from_deadlines(actor=actor(world, "mads"), basis="committee", item=consented_item(world),
                                            ground="medical", reason="x")


def test_it_ignores_a_double_click_and_refuses_a_second_different_decision(ready, world):
    case, item, meeting = ready
    first = decide(world, item, meeting)
    assert decide(world, item, meeting) == first
    assert CommitteeDecision.objects.filter(item=item).count() == 1
    assert Minute.objects.filter(item=item).count() == 1
    with pytest.raises(ValidationError, match="allerede afgjort"):
        decide(world, item, meeting, DecisionKind.EVERYDAY_SUPPORT)
    # Also when the first submission closed the case: the second is not refused by the gate.
    other = consented_item(world)
    closing = decide(world, other, meeting, DecisionKind.EVERYDAY_SUPPORT)
    assert decide(world, other, meeting, DecisionKind.EVERYDAY_SUPPORT) == closing


def test_it_refuses_a_decision_on_a_version_someone_else_changed(ready, world):
    case, item, meeting = ready
    read = item.version
    services.unit_note_save(actor=actor(world, "karen"), basis="committee", item=item, unit=world.unit("706:ppr"),
                            text="Kendt i PPR siden 2022.")
    services.item_postpone(actor=actor(world, "mads"), basis="committee", item=item, meeting=meeting, reason="Mangler")
    with pytest.raises(services.StaleObject, match="ændret af en anden"):
        decide(world, item, meeting, expected_version=read)


def test_it_records_decisions_only_at_a_sitting_meeting_by_its_members(ready, world, clock):
    case, item, meeting = ready
    future = meeting_on(world, dt.date(2026, 11, 25))
    with pytest.raises(ValidationError, match="ikke begyndt"):
        decide(world, item, future)
    for outsider in ("ole", "pia", "lars"):
        with pytest.raises(ValidationError, match="medlemmer"):
            decide(world, item, meeting, who=outsider)
    services.meeting_cancel(actor=actor(world, "karen"), meeting=future, reason="Kursus")
    clock.move_to(local(2026, 11, 25, 9))
    with pytest.raises(ValidationError, match="aflyst"):
        decide(world, item, future)


def test_it_passes_every_decision_through_the_consent_gate(ready, world, monkeypatch):
    case, item, meeting = ready
    seen = []

    def refuse(c, **kw):
        seen.append(c.pk)
        raise ConsentRequired("Samtykket er trukket tilbage.")

    monkeypatch.setattr(services, "require_processing_allowed", refuse)
    karen = actor(world, "karen")
    calls = [
        lambda: decide(world, item, meeting),
        lambda: services.item_postpone(actor=karen, basis="committee", item=item, meeting=meeting, reason="x"),
        lambda: services.case_exempt_from_deadlines(actor=karen, basis="committee", item=item, ground="medical",
                                                    reason="x"),
        lambda: services.unit_note_save(actor=karen, basis="committee", item=item, unit=world.unit("706:ppr"),
                                        text="x"),
    ]
    for call in calls:
        with pytest.raises(ConsentRequired):
            call()
    assert seen == [case.pk] * len(calls)
    assert not CommitteeDecision.objects.filter(item=item).exists()


def test_it_sends_the_approved_minutes_to_the_family_and_the_gp_once(ready, world, sent):
    case, item, meeting = ready
    decision = decide(world, item, meeting)
    minute = decision.minute
    with pytest.raises(ValidationError, match="formand"):
        services.minute_approve(actor=actor(world, "mads"), basis="committee", minute=minute)
    edited = services.minute_update(actor=actor(world, "mads"), basis="committee", minute=minute,
                                    text=minute.text + "\n\nPS: Skolen kontakter jer også.", expected_version=1)
    with pytest.raises(services.StaleObject):
        services.minute_update(actor=actor(world, "karen"), basis="committee", minute=minute, text="x",
                               expected_version=1)
    services.minute_approve(actor=actor(world, "karen"), basis="committee", minute=edited)
    services.minute_approve(actor=actor(world, "karen"), basis="committee", minute=edited)  # twice: sent once
    edited.refresh_from_db()
    assert edited.status == Minute.Status.SENT and edited.approved_by == world.user("karen")
    assert len(sent.family) == 1 and len(sent.referrer) == 1
    assert sent.family[0]["reason"] == "minutes" and sent.family[0]["include_child"] is True
    assert sent.family[0]["body"].endswith("PS: Skolen kontakter jer også.")
    assert sent.referrer[0]["reason"] == "minutes" and sent.referrer[0]["case"] == case
    with pytest.raises(ValidationError, match="sendt"):
        services.minute_update(actor=actor(world, "karen"), basis="committee", minute=edited, text="x")


def test_it_sends_the_minute_of_a_closing_decision_but_not_after_consent_is_withdrawn(ready, world, sent):
    case, item, meeting = ready
    closing = decide(world, item, meeting, DecisionKind.EVERYDAY_SUPPORT)
    services.minute_approve(actor=actor(world, "karen"), basis="committee", minute=closing.minute)
    assert len(sent.family) == 1
    other = consented_item(world)
    pathway = decide(world, other, meeting)
    case_transition(actor=SYSTEM, basis="system", case=other.case, to=Stage.CLOSED,
                    closed_reason=ClosedReason.CONSENT_WITHDRAWN)
    with pytest.raises(ConsentRequired):
        services.minute_approve(actor=actor(world, "karen"), basis="committee", minute=pathway.minute)
    assert len(sent.family) == 1


def test_it_approves_every_minute_of_the_meeting_and_closes_it(ready, world, sent, clock):
    case, item, meeting = ready
    decide(world, item, meeting)
    decide(world, consented_item(world), meeting, DecisionKind.ORDINARY_ROUTE, unit=world.unit("706:ppr"))
    pending = consented_item(world)
    assert services.meeting_minutes_approve(actor=actor(world, "karen"), meeting=meeting) == 2
    meeting.refresh_from_db()
    assert meeting.status == CommitteeMeeting.Status.HELD
    assert len(sent.family) == 2
    with pytest.raises(ValidationError, match="afsluttet"):
        decide(world, pending, meeting)
    assert pending.pk in {i.pk for i in sel.meeting_items(meeting_on(world, dt.date(2026, 11, 25)))}


def test_it_lets_the_lead_bring_a_stalled_pathway_back_and_invites_them(ready, world, clock):
    case, item, meeting = ready
    decide(world, item, meeting)
    case.refresh_from_db()
    with pytest.raises(ValidationError, match="indsatsansvarlige"):
        services.committee_return_case(actor=actor(world, "maria"), case=case, reason="x")
    returned = services.committee_return_case(actor=actor(world, "lars"), case=case,
                                              reason="Familien kommer ikke til møderne; skolen kan ikke alene.")
    assert services.committee_return_case(actor=actor(world, "lars"), case=case, reason="igen") == returned
    assert (returned.origin, returned.state, returned.returned_by) == ("returned", "pending", world.user("lars"))
    assert {n.user.username for n in Notice.objects.filter(case=case, text__contains="tilbage")} == {"karen", "mads", "sofie"}
    next_week = meeting_on(world, dt.date(2026, 11, 25))
    [row] = sel.agenda_rows(sel.meeting_items(next_week), municipality=world.syddjurs, meetings=[next_week])
    assert row.item == returned
    assert [(p.user.username, p.role) for p in row.invited] == [("pia", "principal"), ("lars", "lead")]
    assert {a.user.username for a in sel.expected_attendees(next_week)} >= {"karen", "mads", "sofie", "pia", "lars"}
    lars_seat = sel.seat_for(world.user("lars"))
    assert lars_seat.role == "guest" and list(sel.agenda_items(lars_seat)) == [returned]
    clock.move_to(local(2026, 11, 25, 8, 45))
    with pytest.raises(ValidationError, match="allerede en indsatsansvarlig"):
        decide(world, returned, next_week)
    decision = decide(world, returned, next_week, DecisionKind.CONTINUE,
                      conclusion="Familierådgivningen deltager i næste opfølgningsmøde.")
    assert decision.lead_user == world.user("lars")
    assert "Forløbet for" in decision.minute.text and "Lars Nielsen" in decision.minute.text


def test_it_closes_a_returned_pathway_for_the_ordinary_route(ready, world, clock):
    case, item, meeting = ready
    decide(world, item, meeting)
    returned = services.committee_return_case(actor=actor(world, "lars"), case=case, reason="Behov for myndighed.")
    clock.move_to(local(2026, 11, 25, 8, 45))
    decide(world, returned, meeting_on(world, dt.date(2026, 11, 25)), DecisionKind.ORDINARY_ROUTE,
           unit=world.unit("706:family_counselling"))
    case.refresh_from_db()
    assert (case.stage, case.closed_reason) == (Stage.CLOSED, ClosedReason.ORDINARY_ROUTE)


def test_it_takes_a_case_off_the_agenda_when_it_closes_elsewhere(ready, world):
    case, item, meeting = ready
    case_transition(actor=SYSTEM, basis="system", case=case, to=Stage.CLOSED, closed_reason=ClosedReason.CONSENT_WITHDRAWN)
    assert services.agenda_sync() == 1
    item.refresh_from_db()
    assert item.state == AgendaItem.State.WITHDRAWN
    assert services.agenda_sync() == 0


def test_it_keeps_a_case_without_valid_consent_off_the_agenda_whatever_its_stage(clock, world, caplog):
    """Defence in depth: agenda_sync asks the consent gate, not only the stage and the
    consent timestamp. A case forced to "awaiting committee" by the plain stage service,
    without consent, and a case whose consent lapsed are skipped, not put on the agenda."""
    from tests.support.world import make_child
    from tovholder.cases.services import case_open
    from tovholder.consent.gate import processing_allowed
    from tovholder.consent.models import ConsentRound

    clock.move_to(MONDAY)
    child = make_child(world.demo)
    forced = case_open(actor=SYSTEM, basis="system", municipality=world.syddjurs, child=child, referral_channel="gp")
    forced = case_transition(actor=SYSTEM, basis="system", case=forced, to=Stage.AWAITING_COMMITTEE)
    assert forced.consent_completed_at is not None and not processing_allowed(forced)
    lapsed = consented_case(world, at=MONDAY)
    ConsentRound.objects.filter(case=lapsed).update(expires_on=dt.date(2026, 11, 16))
    good = consented_case(world, at=MONDAY)
    with caplog.at_level("WARNING", logger="tovholder.committee.services"):
        assert services.agenda_sync() == 1
    assert list(AgendaItem.objects.filter(case__in=[forced, lapsed, good]).values_list("case", flat=True)) == [good.pk]
    assert "2 case(s)" in caplog.text and str(forced.pk) in caplog.text
    assert services.agenda_sync() == 0  # still skipped, still no error
    assert not AgendaItem.objects.filter(case__in=[forced, lapsed]).exists()
    ConsentRound.objects.filter(case=lapsed).update(expires_on=dt.date(2027, 11, 16))
    assert services.agenda_sync() == 1  # consent valid again: it reaches the agenda
    assert AgendaItem.objects.filter(case=lapsed, state=AgendaItem.State.PENDING).exists()


def test_it_keeps_one_note_per_unit_and_refuses_a_stale_edit(ready, world):
    case, item, meeting = ready
    karen, pia = actor(world, "karen"), actor(world, "pia")
    note = services.unit_note_save(actor=karen, basis="committee", item=item, unit=world.unit("706:ppr"),
                                   text="Testet i 3. klasse.", expected_version=0)
    services.unit_note_save(actor=pia, basis="principal", item=item, unit=world.unit("706:school:0"),
                            text="Fravær 20 % dette skoleår.", expected_version=0)
    services.unit_note_save(actor=karen, basis="committee", item=item, unit=world.unit("706:ppr"),
                            text="Testet i 3. klasse; ny test aftalt.", expected_version=note.version)
    with pytest.raises(services.StaleObject):
        services.unit_note_save(actor=karen, basis="committee", item=item, unit=world.unit("706:ppr"),
                                text="Gammel version", expected_version=1)
    with pytest.raises(ValidationError, match="tilknyttet"):
        services.unit_note_save(actor=actor(world, "ole"), basis="committee", item=item,
                                unit=world.unit("706:ppr"), text="x")
    assert dict(UnitNote.objects.filter(item=item).values_list("unit__name", "version")) == {
        "PPR Syddjurs": 2, "Rønde Skole": 1}


def test_it_invites_the_principal_when_the_case_reaches_the_agenda(clock, world):
    clock.move_to(MONDAY)
    case = consented_case(world, at=MONDAY)
    services.agenda_sync()
    notice = Notice.objects.get(user=world.user("pia"), case=case)
    assert "inviteret" in notice.text and "/udvalg/sag/" in notice.url
    assert not Notice.objects.filter(user=world.user("henrik"), case=case).exists()


def test_it_records_who_attended_including_invited_principals(ready, world):
    case, item, meeting = ready
    services.meeting_attendance_record(actor=actor(world, "karen"), meeting=meeting,
                                       present=[world.user("karen"), world.user("mads"), world.user("pia")],
                                       guests="Jonas Berg, BUA (video)")
    rows = {a.user.username: (a.role, a.present) for a in MeetingAttendance.objects.filter(meeting=meeting)}
    assert rows == {"karen": ("chair", True), "mads": ("member", True), "sofie": ("member", False),
                    "pia": ("principal", True)}
    with pytest.raises(ValidationError):
        services.meeting_attendance_record(actor=actor(world, "karen"), meeting=meeting, present=[world.user("ole")])


def test_it_moves_planned_meetings_when_the_schedule_changes_but_keeps_used_ones(clock, world):
    clock.move_to(local(2026, 11, 16, 9))
    plan(world)
    used = meeting_on(world, dt.date(2026, 11, 25))
    MeetingAttendance.objects.create(meeting=used, user=world.user("karen"), role="chair", present=True)
    services.committee_settings_update(actor=actor(world, "karen"), municipality=world.syddjurs, weekday=3,
                                       starts_at=dt.time(9, 0), ends_at=dt.time(10, 0),
                                       video_link="https://video.example.dk/udvalg", expected_version=1)
    days = set(CommitteeMeeting.objects.filter(municipality=world.syddjurs).values_list("scheduled_on", flat=True))
    assert dt.date(2026, 11, 25) in days and dt.date(2026, 12, 2) not in days
    assert {dt.date(2026, 11, 19), dt.date(2026, 11, 26), dt.date(2026, 12, 3)} <= days
    assert CommitteeMeeting.objects.get(scheduled_on=dt.date(2026, 12, 3)).video_link == "https://video.example.dk/udvalg"
    with pytest.raises(services.StaleObject):
        services.committee_settings_update(actor=actor(world, "karen"), municipality=world.syddjurs, weekday=2,
                                           starts_at=dt.time(9, 0), ends_at=dt.time(10, 0), expected_version=1)
    with pytest.raises(ValidationError, match="formand"):
        services.committee_settings_update(actor=actor(world, "mads"), municipality=world.syddjurs, weekday=2,
                                           starts_at=dt.time(9, 0), ends_at=dt.time(10, 0))


def test_it_keeps_agenda_and_schedule_up_to_date_in_the_background(clock, world):
    clock.move_to(MONDAY)
    case = consented_case(world, at=MONDAY)
    assert committee_schedule() > 0
    assert AgendaItem.objects.filter(case=case, state="pending").exists()
    assert CommitteeMeeting.objects.filter(municipality=world.norddjurs).count() >= 8
    assert committee_schedule() == 0  # nothing more to do: the worker may sleep
    clock.move_to(local(2026, 11, 24, 9))
    assert committee_schedule() == 3  # one more week for each of the three committees
