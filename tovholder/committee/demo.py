"""Demo data for the coordination committee, made with the committee's real services.

The lead engineer wires these into the demo loader, after the region, the families and
the consent demo (the consent gate must let the cases through):

    committee_demo_schedule(demo: DemoRegion) -> None
        The standing meetings of every demo municipality for the coming weeks; Syddjurs
        meets virtually with a video link BUA can join.

    committee_demo_agenda(demo: DemoRegion, case: Case) -> AgendaItem
        Puts a case whose consent is complete (stage "awaiting committee") on its
        committee's agenda, with what PPR and the child's school already know.

    committee_demo_past_meeting(demo: DemoRegion, cases: list[Case], *, days_ago: int = 7,
                                leads: tuple[str, ...] = ("lars", "maria")) -> CommitteeMeeting
        A Syddjurs meeting `days_ago` days back (the nearest working day) that took the
        given cases (awaiting committee, consent complete before that day): the first ones
        get a joint pathway with the leads named in `leads` (usernames), the last one goes
        to the ordinary route (family counselling) if there are more cases than leads.
        The chair approves the minutes, which go to the families and the GPs when the
        letters and inbox apps have registered their transports (else they stay drafts).
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.utils import timezone

from tovholder.audit.actor import Actor
from tovholder.cases.models import Case
from tovholder.committee.models import (
    AgendaItem,
    CommitteeMeeting,
    CommitteeSettings,
    DecisionKind,
    Weekday,
)
from tovholder.committee.services import (
    agenda_sync,
    committee_settings_update,
    decision_record,
    meeting_add,
    meeting_minutes_approve,
    meetings_generate,
    unit_note_save,
)
from tovholder.deadlines.clocks import Rules
from tovholder.deadlines.workdays import calendar_for
from tovholder.demo.region import DemoRegion

CHAIRS = {"706": "karen", "707": "ole", "710": "frida"}


def _actor(demo: DemoRegion, username: str, unit_key: str | None = None) -> Actor:
    user = demo.users[username]
    unit = demo.units[unit_key] if unit_key else user.memberships.first().unit
    return Actor(user=user, unit=unit)


def committee_demo_schedule(demo: DemoRegion) -> None:
    syddjurs = demo.municipalities["706"]
    committee_settings_update(actor=_actor(demo, "karen", "706:committee"), municipality=syddjurs, weekday=2,
                              starts_at=dt.time(8, 30), ends_at=dt.time(9, 30), location="Virtuelt møde",
                              video_link="https://video.syddjurs.example.dk/koordinationsudvalg")
    for code, municipality in demo.municipalities.items():
        if code != "706":
            meetings_generate(actor=Actor(system="demo"), municipality=municipality)


def committee_demo_agenda(demo: DemoRegion, case: Case) -> AgendaItem:
    agenda_sync(actor=Actor(system="demo"), municipality=case.municipality)
    item = AgendaItem.objects.get(case=case, state=AgendaItem.State.PENDING)
    if case.municipality.code == "706":
        unit_note_save(actor=_actor(demo, "karen", "706:ppr"), basis="committee", item=item,
                       unit=demo.units["706:ppr"],
                       text="Kendt i PPR: test i 3. klasse viste læsevanskeligheder; ingen aktuel sag.")
        school = case.child.school
        if school is not None and school.name == "Rønde Skole":
            unit_note_save(actor=_actor(demo, "pia", "706:school:0"), basis="principal", item=item, unit=school,
                           text="Stigende fravær siden efterårsferien; klasselæreren har holdt to forældresamtaler.")
    return item


def committee_demo_past_meeting(
    demo: DemoRegion, cases: list[Case], *, days_ago: int = 7, leads: tuple[str, ...] = ("lars", "maria"),
) -> CommitteeMeeting:
    syddjurs = demo.municipalities["706"]
    calendar = calendar_for(syddjurs)
    # The nearest of the committee's own meeting days (Wednesday in Syddjurs), at most three
    # days either way, then the nearest working day before it: the history reads like a real one.
    day = timezone.localdate() - dt.timedelta(days=days_ago)
    weekday = CommitteeSettings.objects.filter(municipality=syddjurs).values_list("weekday", flat=True).first()
    weekday = Weekday.WEDNESDAY if weekday is None else weekday
    shift = (weekday - day.weekday()) % 7
    day += dt.timedelta(days=shift if shift <= 3 else shift - 7)
    while not calendar.is_working_day(day):
        day -= dt.timedelta(days=1)
    karen = _actor(demo, "karen", "706:committee")
    meeting = meeting_add(actor=karen, municipality=syddjurs, day=day, starts_at=dt.time(8, 30),
                          ends_at=dt.time(9, 30))
    rules = Rules.for_municipality(syddjurs)
    for n, case in enumerate(cases):
        agenda_sync(actor=Actor(system="demo"), municipality=syddjurs)
        item = AgendaItem.objects.get(case=case, state=AgendaItem.State.PENDING)
        late = "" if day <= rules.committee_due(item.ready_at) else "Demo: mødet før blev aflyst."
        if n < len(leads):
            lead = demo.users[leads[n]]
            decision_record(actor=karen, basis="committee", item=item, meeting=meeting, kind=DecisionKind.PATHWAY,
                            conclusion="Udvalget igangsætter et fælles forløb; skolen og PPR samarbejder.",
                            lead_user=lead, lead_unit=lead.memberships.first().unit, late_explanation=late)
        else:
            decision_record(actor=karen, basis="committee", item=item, meeting=meeting,
                            kind=DecisionKind.ORDINARY_ROUTE, unit=demo.units["706:family_counselling"],
                            conclusion="Familierådgivningen overtager sagen.", late_explanation=late)
    try:
        meeting_minutes_approve(actor=karen, meeting=meeting)
    except ValidationError:
        pass  # no letters or inbox transport installed: the minutes stay drafts
    meeting.refresh_from_db()
    return meeting
