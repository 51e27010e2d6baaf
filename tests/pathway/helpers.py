"""Helpers for the pathway tests: cases in a joint pathway made with the real services."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from tests.support.notify import Sent  # noqa: E402,F401  (re-exported for the tests)
from tests.support.world import SYSTEM, make_case
from tovholder.audit.actor import Actor
from tovholder.cases.models import Stage
from tovholder.deadlines.workdays import COPENHAGEN
from tovholder.pathway.models import (
    Meeting,
    MeetingKind,
    ParentsAgree,
    PlanVersion,
    RatedBy,
    Sector,
)
from tovholder.pathway.services import (
    MeetingRecord,
    NewAgreement,
    meeting_record,
    meeting_schedule,
    pathway_start,
)


def lead_actor(world, username: str = "lars") -> Actor:
    user = world.user(username)
    return Actor(user=user, unit=user.memberships.first().unit)


def consented_case(world, *, at: dt.datetime | None = None, municipality: str = "706"):
    """A case whose custody holders gave consent through the consent services (or, while
    those are not in place, a case moved past consent by the plain stage service)."""
    try:
        from tovholder.consent.models import ConsentRequest
        from tovholder.consent.services import consent_answer, consent_request_start
    except ImportError:
        return make_case(world.demo, stage=Stage.AWAITING_COMMITTEE, lead=None, at=at, municipality=municipality)

    case = make_case(world.demo, stage=Stage.AWAITING_CONSENT, lead=None, at=at, municipality=municipality)
    consent_request_start(actor=SYSTEM, case=case)
    for request in ConsentRequest.objects.filter(case=case):
        consent_answer(actor=SYSTEM, request=request, give=True, at=at)
    case.refresh_from_db()
    assert case.stage == Stage.AWAITING_COMMITTEE
    return case


def pathway_case(world, *, lead: str = "lars", decided_at: dt.datetime | None = None, participants=("maria",),
                 municipality: str = "706"):
    """A consented case the committee put in a joint pathway (through pathway_start)."""
    from tovholder.cases.services import case_team_add

    case = consented_case(world, at=decided_at, municipality=municipality)
    user = world.user(lead)
    case = pathway_start(actor=SYSTEM, basis="committee", case=case, lead_user=user,
                         lead_unit=user.memberships.first().unit, at=decided_at)
    for name in participants:
        p = world.user(name)
        case_team_add(actor=SYSTEM, basis="committee", case=case, user=p, unit=p.memberships.first().unit)
    return case


def local(y, m, d, hh=14, mm=0) -> dt.datetime:
    return dt.datetime(y, m, d, hh, mm, tzinfo=COPENHAGEN)


def schedule(world, case, *, kind=MeetingKind.START, at: dt.datetime | None = None, lead: str = "lars",
             **kwargs) -> Meeting:
    at = at or timezone.now() + dt.timedelta(days=1)
    return meeting_schedule(actor=lead_actor(world, lead), basis="lead", case=case, kind=kind, starts_at=at,
                            ends_at=at + dt.timedelta(hours=1), place=kwargs.pop("place", "Rønde Skole"), **kwargs)


def record(**overrides) -> MeetingRecord:
    base = dict(
        held_on=timezone.localdate(), parents_agree=ParentsAgree.YES, child_voice="present",
        what_works="Frikvartererne med Emil.", what_is_hard="Morgenerne og matematik.",
        expectations="PPR har ventetid på ca. 6 uger.", next_meeting_on=timezone.localdate() + dt.timedelta(weeks=6),
        new_goals=[("Jeg vil gerne komme i skole hver dag", "Fremmøde over 90 %", 3, RatedBy.CHILD)],
        new_agreements=[NewAgreement(what="Fast morgenaftale", how="Lærer tager imod ved døren kl. 8",
                                     responsible=Sector.SCHOOL, responsible_name="Lars Nielsen")],
    )
    base.update(overrides)
    return MeetingRecord(**base)


def hold(world, case, meeting: Meeting, lead: str = "lars", **overrides) -> PlanVersion:
    return meeting_record(actor=lead_actor(world, lead), basis="lead", meeting=meeting, record=record(**overrides))
