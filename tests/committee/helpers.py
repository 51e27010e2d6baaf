"""Helpers for the committee tests: consented cases, meetings and decisions made with the
real services, at Copenhagen wall-clock times."""

from __future__ import annotations

import datetime as dt
import itertools

from tests.support.world import SYSTEM, make_case, make_child
from tovholder.audit.actor import Actor
from tovholder.cases.models import Stage
from tovholder.committee.models import AgendaItem, CommitteeMeeting
from tovholder.committee.services import agenda_sync, meeting_add, meetings_generate
from tovholder.deadlines.workdays import COPENHAGEN


def local(y, m, d, hh=14, mm=0) -> dt.datetime:
    return dt.datetime(y, m, d, hh, mm, tzinfo=COPENHAGEN)


from tests.support.notify import Sent  # noqa: E402,F401  (re-exported for the tests)


def actor(world, username: str) -> Actor:
    user = world.user(username)
    return Actor(user=user, unit=user.memberships.first().unit)


def consented_case(world, *, at: dt.datetime | None = None, municipality: str = "706", school: int | None = 0,
                   birth: dt.date = dt.date(2013, 5, 4)):
    """A case whose custody holders gave consent through the consent services (or, while
    those are not in place, a case moved past consent by the plain stage service)."""
    child = make_child(world.demo, municipality=municipality, school=school, birth=birth)
    try:
        from tovholder.consent.models import ConsentRequest
        from tovholder.consent.services import consent_answer, consent_request_start
    except ImportError:
        return make_case(world.demo, stage=Stage.AWAITING_COMMITTEE, lead=None, at=at, municipality=municipality,
                         child=child)
    case = make_case(world.demo, stage=Stage.AWAITING_CONSENT, lead=None, at=at, municipality=municipality,
                     child=child)
    consent_request_start(actor=SYSTEM, case=case)
    for request in ConsentRequest.objects.filter(case=case):
        consent_answer(actor=SYSTEM, request=request, give=True, at=at)
    case.refresh_from_db()
    assert case.stage == Stage.AWAITING_COMMITTEE
    return case


_serial = itertools.count(300)


def referred_case(world, *, given: str, family: str, school: int = 0, birth: dt.date = dt.date(2014, 3, 9),
                  parents: tuple[str, ...] = ("mother", "father")):
    """A GP's MedCom referral to Syddjurs' single entry, opened by the inbox keeper, with
    consent from everyone who must give it — through the real inbox and consent services
    when they exist, so the minutes can answer in the referral's MedCom thread."""
    try:
        from tovholder.consent.models import ConsentRequest
        from tovholder.consent.services import consent_answer
        from tovholder.inbox.demo import gp_referral
        from tovholder.inbox.models import InboxItem
        from tovholder.inbox.services.handling import CustodyHolderInput, inbox_item_open_case
        from tovholder.inbox.services.intake import medcom_receive
    except ImportError:
        return consented_case(world, school=school, birth=birth)
    from tovholder.demo.families import synthetic_cpr

    cpr = synthetic_cpr(birth, next(_serial), "m")
    body, content_type = gp_referral(sender=world.unit("gp:0"), entry=world.unit("706:single_entry"), cpr=cpr,
                                     given=given, family=family, text=f"{given} har det svært i skolen.",
                                     author="Anne Mortensen")
    medcom_receive(body=body, content_type=content_type, channel="local")
    item = InboxItem.objects.get(status=InboxItem.Status.NEW, thread__patient_cpr=cpr)
    holders = [CustodyHolderInput(name=f"{'Mor' if r == 'mother' else 'Far'} {family}", relation=r,
                                  email=f"{r}.{family.lower()}@example.dk") for r in parents]
    case = inbox_item_open_case(actor=actor(world, "ida"), item=item, cpr=cpr, given_name=given, family_name=family,
                                custody_holders=holders, school=world.unit(f"706:school:{school}"))
    for request in ConsentRequest.objects.filter(case=case):
        consent_answer(actor=SYSTEM, request=request, give=True)
    case.refresh_from_db()
    assert case.stage == Stage.AWAITING_COMMITTEE
    return case


def item_for(case) -> AgendaItem:
    agenda_sync(municipality=case.municipality)
    return AgendaItem.objects.get(case=case, state=AgendaItem.State.PENDING)


def meeting_on(world, day: dt.date, *, municipality: str = "706", hh: int = 8, mm: int = 30) -> CommitteeMeeting:
    """The standing meeting that day if the schedule has one, else an extra one by the chair."""
    m = world.demo.municipalities[municipality]
    found = CommitteeMeeting.objects.filter(municipality=m, scheduled_on=day).exclude(status="cancelled").first()
    if found:
        return found
    chair = {"706": "karen", "707": "ole", "710": "frida"}[municipality]
    return meeting_add(actor=actor(world, chair), municipality=m, day=day, starts_at=dt.time(hh, mm),
                       ends_at=dt.time(hh + 1, mm))


def plan(world, municipality: str = "706") -> list[CommitteeMeeting]:
    return meetings_generate(actor=SYSTEM, municipality=world.demo.municipalities[municipality])
