"""The Syddjurs trial (seed 001), replayed through the real services with the clock set by
time_machine, so the insight page must produce the trial's published figures itself.

Eighteen referrals to the single entry, 1 April – 10 November 2022:
- 15 referrals opened a case (14 from GPs or parents via their GP, 1 from a school);
  2 of them closed without consent (no answer after the reminder) → 13 active pathways;
- 2 re-referrals from GPs about children already in a pathway, attached to their case;
- 1 referral from a school outside the trial, rejected at the entry with a reason.
The 13 pathways: committee within 8 working days in all 13; start meeting within 4 weeks
in 10; an assessing/treating intervention within 4 weeks of the start meeting in 6; the
first follow-up within 6 weeks in 3, after 13–17 weeks in 3, and none by 10 November in
7; no closing meeting. Ages on the day of referral: 8 (4), 9, 10 (2), 12, 13 (2), 14,
15 (2), 16 (2).

How the trial is represented honestly: the trial's "7 of 13 plans without a follow-up
date" cannot be recorded any more (a meeting record needs the next meeting's date), so
those 7 plans carry the date the system forced the lead to agree, and the follow-up
meeting never happened by the end of the period — which is what the figure measured.

`trial_load()` needs the demo region's Syddjurs units and staff (the test world or the
demo database) and is used by tests/insight/test_trial_reproduction.py and the
management command `insight_load_trial`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError

TRIAL_START = dt.date(2022, 4, 1)
TRIAL_END = dt.date(2022, 11, 10)
MUNICIPALITY = "706"
CPH = ZoneInfo("Europe/Copenhagen")

# The figures the trial published (seed 001, "Kvantitative data på forløb").
PUBLISHED = {
    "referrals": 18, "excluded": 5, "no_consent": 2, "elsewhere": 1, "re_referrals": 2, "active": 13,
    "via_gp": 16, "via_school": 2, "committee_met": 13, "intervention_met": 6, "start_met": 10,
    "follow_up_met": 3, "no_follow_up": 7, "long_wait": 3, "closing": 0, "exempt": 0, "children": 15,
}
PUBLISHED_AGES = {8: 4, 9: 1, 10: 2, 12: 1, 13: 2, 14: 1, 15: 2, 16: 2}


@dataclass(frozen=True)
class TrialCase:
    key: str
    age: int
    referred: dt.date
    channel: str  # gp | parents_via_gp | school
    consent_days: int | None  # None: nobody answers, the consent lapses
    lead: str = ""
    start_days: int = 0  # from the committee's decision to the start meeting
    intervention_days: int | None = None  # from the start meeting; None: not started by the end
    follow_up_days: int | None = None  # from the start meeting; None: no follow-up held
    school_action: bool = False


D = dt.date
CASES = [
    TrialCase("A1", 8, D(2022, 4, 4), "gp", 5, "lars", 20, 12, 35, True),
    TrialCase("A2", 8, D(2022, 4, 7), "parents_via_gp", 8, "pia", 22, 20, 37),
    TrialCase("A3", 9, D(2022, 4, 20), "gp", 6, "lars", 18, 9, 94, True),
    TrialCase("A4", 10, D(2022, 4, 28), "gp", 9, "maria", 21, 40, 106),
    TrialCase("A5", 12, D(2022, 5, 5), "school", 7, "pia", 35, 14, 120, True),
    TrialCase("A6", 13, D(2022, 5, 16), "gp", 10, "lars", 24, 21, 36, True),
    TrialCase("A7", 13, D(2022, 5, 30), "parents_via_gp", 4, "mads", 19, 45, None),
    TrialCase("A8", 14, D(2022, 6, 9), "gp", 12, "pia", 40, None, None),
    TrialCase("A9", 15, D(2022, 6, 20), "gp", 6, "maria", 23, 7, None, True),
    TrialCase("A10", 16, D(2022, 6, 27), "gp", 9, "lars", 26, None, None),
    TrialCase("A11", 10, D(2022, 8, 8), "gp", 5, "pia", 22, 38, None, True),
    TrialCase("A12", 8, D(2022, 8, 15), "parents_via_gp", 7, "lars", 44, None, None),
    TrialCase("A13", 15, D(2022, 8, 22), "gp", 8, "maria", 20, None, None),
    TrialCase("N1", 16, D(2022, 5, 10), "gp", None),
    TrialCase("N2", 8, D(2022, 7, 4), "parents_via_gp", None),
]
# Re-referrals from GPs about children already in a pathway: (day, the case).
RE_REFERRALS = [(D(2022, 6, 15), "A2"), (D(2022, 9, 5), "A7")]
# The school outside the trial: its referral is rejected at the entry.
OUTSIDE_SCHOOL = D(2022, 6, 1)

FIRST_NAMES = ["Asta", "Bertram", "Cecilie", "Dagmar", "Emil", "Frida", "Gustav", "Hannah", "Ingrid", "Johan",
               "Karla", "Laurits", "Merle", "Nikolaj", "Olivia"]


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=CPH)


def _birth(case: TrialCase) -> dt.date:
    """Born so the child is `age` on the day of referral (the birthday comes 40 days later)."""
    day = case.referred + dt.timedelta(days=40)
    return D(day.year - case.age - 1, day.month, min(day.day, 28))


def trial_cpr(index: int, birth: dt.date) -> str:
    from tovholder.demo.families import synthetic_cpr

    return synthetic_cpr(birth, 70 + index, "f" if index % 2 else "m")


def _next_weekday(day: dt.date, weekday: int) -> dt.date:
    """The first `weekday` strictly after `day`."""
    ahead = (weekday - day.weekday() - 1) % 7 + 1
    return day + dt.timedelta(days=ahead)


def _working(day: dt.date) -> dt.date:
    from tovholder.deadlines.workdays import DEFAULT_CALENDAR

    while not DEFAULT_CALENDAR.is_working_day(day):
        day += dt.timedelta(days=1)
    return day


class TrialAlreadyLoaded(Exception):
    pass


# The trial's own staff: their roles begin before the trial and end with it, so the
# services see a committee, an inbox keeper and lead professionals in 2022 (roles are
# dated). Created without passwords: nobody logs in as them. (username, first, last,
# title, unit, role)
STAFF = [
    ("forsoeg.postkasse", "Tove", "Dam", "Sundhedsplejerske, postkasseansvarlig i forsøget", "entry", "inbox_keeper"),
    ("forsoeg.formand", "Bente", "Kirk", "Formand for koordinationsudvalget i forsøget", "committee",
     "committee_chair"),
    ("forsoeg.laerer", "Jens", "Holt", "Lærer, Rønde Skole", "school", "staff"),
    ("forsoeg.skoleleder", "Lone", "Fisker", "Skoleleder, Rønde Skole", "school", "leader"),
    ("forsoeg.ppr", "Rikke", "Brink", "Psykolog, PPR", "ppr", "staff"),
    ("forsoeg.familie", "Ole", "Vinther", "Familierådgiver", "family_counselling", "staff"),
    ("forsoeg.hornslet", "Sanne", "Lykke", "Lærer, Hornslet Skole", "outside_school", "staff"),
]
LEADS = {"lars": "forsoeg.laerer", "pia": "forsoeg.skoleleder", "maria": "forsoeg.ppr", "mads": "forsoeg.familie"}
STAFF_FROM = D(2022, 3, 1)


class _World:
    """The Syddjurs units (found by name in the database) and the trial's staff."""

    def __init__(self):
        from tovholder.organisations.models import Municipality, Unit

        self.municipality = Municipality.objects.filter(code=MUNICIPALITY).first()
        if self.municipality is None:
            raise ValidationError("Syddjurs Kommune (706) findes ikke: indlæs demoregionen først.")
        units = Unit.objects.filter(municipality=self.municipality)
        try:
            self.units = {
                "entry": units.get(kind=Unit.Kind.SINGLE_ENTRY),
                "committee": units.get(kind=Unit.Kind.COMMITTEE),
                "school": units.get(kind=Unit.Kind.SCHOOL, name="Rønde Skole"),
                "outside_school": units.get(kind=Unit.Kind.SCHOOL, name="Hornslet Skole"),
                "ppr": units.get(kind=Unit.Kind.PPR),
                "family_counselling": units.get(kind=Unit.Kind.FAMILY_COUNSELLING),
            }
        except Unit.DoesNotExist as exc:
            raise ValidationError("Syddjurs' enheder mangler: indlæs demoregionen først.") from exc
        self.entry, self.committee = self.units["entry"], self.units["committee"]
        self.school, self.outside_school = self.units["school"], self.units["outside_school"]
        self.gps = list(Unit.objects.filter(kind=Unit.Kind.GP_PRACTICE, region=self.municipality.region)
                        .order_by("pk")[:2])
        if len(self.gps) < 2:
            raise ValidationError("Regionen har ikke to lægepraksisser: indlæs demoregionen først.")
        self.users: dict = {}
        self.unit_of: dict = {}

    def hire(self) -> None:
        """The trial's staff and their roles, dated before the trial."""
        from tovholder.audit.actor import Actor
        from tovholder.organisations.services import membership_grant, staff_create

        setup = Actor(system="insight:trial")
        for username, first, last, title, unit_key, role in STAFF:
            user = staff_create(actor=setup, username=username, first_name=first, last_name=last, title=title,
                                phone=f"87 53 59 {len(self.users) + 10}")
            unit = self.units[unit_key]
            # The trial's chair sat in 2022 beside today's demo chair: history, not a new appointment.
            membership_grant(actor=setup, user=user, unit=unit, role=role, replace_chair=False)
            self.users[username], self.unit_of[username] = user, unit

    def dismiss(self) -> None:
        """The trial ended: its staff's roles end with it."""
        from tovholder.audit.actor import Actor
        from tovholder.organisations.models import Membership
        from tovholder.organisations.services import membership_end

        for membership in Membership.objects.filter(user__username__in=[s[0] for s in STAFF], ended_at__isnull=True):
            membership_end(actor=Actor(system="insight:trial"), membership=membership)

    def actor(self, username: str):
        from tovholder.audit.actor import Actor

        username = LEADS.get(username, username)
        return Actor(user=self.users[username], unit=self.unit_of[username])

    def lead(self, username: str):
        username = LEADS.get(username, username)
        return self.users[username], self.unit_of[username]


def trial_loaded() -> bool:
    from tovholder.organisations.models import User

    return User.objects.filter(username=STAFF[0][0]).exists()


def trial_load(*, refresh: bool = True, survey: bool = True) -> dict[str, int]:
    """Replay the trial. Returns the case id of each trial case by key. Refuses to run twice."""
    import time_machine

    if trial_loaded():
        raise TrialAlreadyLoaded("Forsøgets data er allerede indlæst.")
    w = _World()
    with time_machine.travel(_at(STAFF_FROM, 8), tick=False):
        w.hire()
    events = _events(w)
    events.sort(key=lambda e: e[0])
    state: dict = {"cases": {}}
    for moment, _order, action in events:
        with time_machine.travel(moment, tick=False):
            action(state)
    if survey:
        trial_survey_load()
    with time_machine.travel(_at(TRIAL_END, 18), tick=False):
        w.dismiss()
    if refresh:
        from tovholder.insight.facts import facts_refresh

        with time_machine.travel(_at(TRIAL_END, 20), tick=False):
            facts_refresh()
    return {key: case.pk for key, case in state["cases"].items()}


def _events(w: _World) -> list[tuple[dt.datetime, int, object]]:
    """Every step of the trial as (moment, order, action(state))."""
    events: list = []
    seq = iter(range(10_000))

    def add(moment: dt.datetime, action) -> None:
        events.append((moment, next(seq), action))

    # The committee's standing meetings, planned by the background loop every week.
    day = TRIAL_START - dt.timedelta(days=1)
    while day <= TRIAL_END:
        add(_at(day, 6), lambda s, d=day: _plan_meetings(w, d))
        day += dt.timedelta(days=7)
    for index, case in enumerate(CASES):
        _case_events(w, add, index, case)
    for day, key in RE_REFERRALS:
        add(_at(day, 9), lambda s, k=key, d=day: _re_referral(w, s, k, d))
    add(_at(OUTSIDE_SCHOOL, 10), lambda s: _outside_school(w, s))
    return events


def _plan_meetings(w: _World, day: dt.date) -> None:
    from tovholder.audit.actor import Actor
    from tovholder.committee.services import meetings_generate

    meetings_generate(actor=Actor.job("committee_schedule"), municipality=w.municipality)


def _case_events(w: _World, add, index: int, case: TrialCase) -> None:
    referred = case.referred
    add(_at(referred, 9), lambda s: _referral(w, s, index, case))
    if case.consent_days is None:
        # No answer: the reminder after 14 days, the lapse a week later (the consent sweep).
        add(_at(referred + dt.timedelta(days=15), 7), lambda s: _sweep())
        add(_at(referred + dt.timedelta(days=23), 7), lambda s: _sweep())
        return
    consent_on = referred + dt.timedelta(days=case.consent_days)
    add(_at(consent_on, 19), lambda s: _consent(s, case))
    decided = _next_weekday(consent_on, 2)  # the committee meets on Wednesdays
    add(_at(decided, 7), lambda s: _agenda(w))
    add(_at(decided, 9), lambda s: _decide(w, s, case, decided))
    start = _working(decided + dt.timedelta(days=case.start_days))
    add(_at(decided + dt.timedelta(days=1), 10), lambda s: _schedule(w, s, case, "start", start))
    next_on = (_working(start + dt.timedelta(days=case.follow_up_days)) if case.follow_up_days
               else start + dt.timedelta(days=42))
    add(_at(start, 16), lambda s: _record(w, s, case, start, next_on, first=True))
    if case.school_action:
        add(_at(start, 17), lambda s: _intervention(w, s, case, start, "school", "supporting", "Støtte i klassen"))
    if case.intervention_days is not None:
        began = _working(start + dt.timedelta(days=case.intervention_days))
        add(_at(began, 11), lambda s: _intervention(w, s, case, began, "ppr", "assessing",
                                                      "Psykologisk undersøgelse ved PPR"))
    else:
        add(_at(start, 17, 30), lambda s: _intervention(w, s, case, None, "ppr", "assessing",
                                                          "Psykologisk undersøgelse ved PPR (venteliste)"))
    if case.follow_up_days is not None:
        add(_at(next_on - dt.timedelta(days=7), 10), lambda s: _schedule(w, s, case, "follow_up", next_on))
        add(_at(next_on, 16), lambda s: _record(w, s, case, next_on, next_on + dt.timedelta(days=42), first=False))


def _referral(w: _World, s: dict, index: int, case: TrialCase) -> None:
    from tovholder.inbox.services.handling import (
        CustodyHolderInput,
        contact_register,
        inbox_item_open_case,
        web_referral_submit,
    )

    birth = _birth(case)
    cpr = trial_cpr(index, birth)
    given, family = FIRST_NAMES[index], f"Forsøg{index + 1:02d}"
    keeper = w.actor("forsoeg.postkasse")
    if case.channel == "school":
        item = web_referral_submit(actor=w.actor("forsoeg.laerer"), referrer_unit=w.school,
                                   municipality=w.municipality, cpr=cpr, given_name=given, family_name=family,
                                   text="Vi er bekymrede for elevens trivsel og fravær.", phone="87 53 50 20")
    else:
        gp = w.gps[index % 2]
        item = contact_register(actor=keeper, entry=w.entry, kind="letter", received_at=_at(case.referred, 9),
                                referrer_name="Praktiserende læge", referrer_organisation=gp.name, referrer_unit=gp,
                                cpr=cpr, given_name=given, family_name=family,
                                text="Henvisning: barnet mistrives; forældrene ønsker hjælp via egen læge.")
    holders = [CustodyHolderInput(name=f"Mor {family}", relation="mother", email=f"mor{index}@example.dk"),
               CustodyHolderInput(name=f"Far {family}", relation="father", email=f"far{index}@example.dk")]
    s["cases"][case.key] = inbox_item_open_case(
        actor=keeper, item=item, cpr=cpr, given_name=given, family_name=family, custody_holders=holders,
        school=w.school, referral_channel=case.channel)


def _sweep() -> None:
    from tovholder.consent.services import consent_sweep

    consent_sweep()


def _consent(s: dict, case: TrialCase) -> None:
    from tovholder.consent.models import ConsentRequest
    from tovholder.consent.services import consent_answer, family_actor

    for request in ConsentRequest.objects.filter(case=s["cases"][case.key], status="pending"):
        consent_answer(actor=family_actor(request), request=request, give=True)


def _agenda(w: _World) -> None:
    from tovholder.committee.services import agenda_sync

    agenda_sync(municipality=w.municipality)


def _decide(w: _World, s: dict, case: TrialCase, day: dt.date) -> None:
    from tovholder.committee.models import AgendaItem, CommitteeMeeting
    from tovholder.committee.services import decision_record

    c = s["cases"][case.key]
    item = AgendaItem.objects.get(case=c, origin="consent")
    meeting = CommitteeMeeting.objects.get(municipality=w.municipality, scheduled_on=day, kind="scheduled")
    lead_user, lead_unit = w.lead(case.lead)
    decision_record(actor=w.actor("forsoeg.formand"), basis="committee", item=item, meeting=meeting,
                    kind="pathway", conclusion="Fælles forpligtende forløb med indsatsansvarlig.",
                    lead_user=lead_user, lead_unit=lead_unit)


def _schedule(w: _World, s: dict, case: TrialCase, kind: str, day: dt.date) -> None:
    from tovholder.pathway.services import meeting_schedule

    meeting_schedule(actor=w.actor(case.lead), basis="lead", case=s["cases"][case.key],
                     kind=kind, starts_at=_at(day, 14), ends_at=_at(day, 15), place="Rønde Skole")


def _record(w: _World, s: dict, case: TrialCase, held: dt.date, next_on: dt.date, *, first: bool) -> None:
    from tovholder.pathway.models import Meeting
    from tovholder.pathway.services import MeetingRecord, NewAgreement, meeting_record

    c = s["cases"][case.key]
    meeting = Meeting.objects.get(pathway__case=c, status="scheduled")
    record = MeetingRecord(
        held_on=held, parents_agree="yes" if first else "partly", child_voice="present",
        what_works="Barnet har en god relation til sin kontaktlærer.", what_is_hard="Fravær og søvn.",
        next_meeting_on=next_on, needs_assessment=True if first else None,
        new_agreements=[NewAgreement(what="Ugentlig samtale med kontaktlæreren", responsible="school")] if first else [],
        new_goals=[("Jeg vil gerne i skole hver dag", "Fremmøde over 90 %", 4, "child")] if first else [],
    )
    meeting_record(actor=w.actor(case.lead), basis="lead", meeting=meeting, record=record)


def _intervention(w: _World, s: dict, case: TrialCase, began: dt.date | None, sector: str, kind: str,
                  text: str) -> None:
    from tovholder.pathway.services import intervention_add

    intervention_add(actor=w.actor(case.lead), basis="lead", case=s["cases"][case.key],
                     sector=sector, description=text, kind=kind, step=2 if kind != "supporting" else 1,
                     start_on=began, status="active" if began else "planned")


def _re_referral(w: _World, s: dict, key: str, day: dt.date) -> None:
    from tovholder.inbox.services.handling import contact_register, inbox_item_attach

    c = s["cases"][key]
    keeper = w.actor("forsoeg.postkasse")
    gp = w.gps[0]
    item = contact_register(actor=keeper, entry=w.entry, kind="letter", received_at=_at(day, 9),
                            referrer_name="Praktiserende læge", referrer_organisation=gp.name, referrer_unit=gp,
                            cpr=c.child.cpr, given_name=c.child.given_name, family_name=c.child.family_name,
                            text="Ny henvisning: forældrene har igen søgt hjælp hos egen læge.")
    inbox_item_attach(actor=keeper, item=item, case=c)


def _outside_school(w: _World, s: dict) -> None:
    from tovholder.inbox.services.handling import inbox_item_reject, web_referral_submit

    birth = D(2011, 9, 14)
    item = web_referral_submit(actor=w.actor("forsoeg.hornslet"), referrer_unit=w.outside_school,
                               municipality=w.municipality, cpr=trial_cpr(len(CASES), birth), given_name="Otto",
                               family_name="Udenfor", text="Bekymring for elevens trivsel.", phone="87 53 50 22")
    inbox_item_reject(actor=w.actor("forsoeg.postkasse"), item=item,
                      reason="Skolen deltager ikke i afprøvningen; sagen behandles i skolens almindelige "
                             "samarbejde med PPR.")


# ---- The relational coordination survey of the trial ---------------------------------------------

SURVEY_ROUNDS = [("baseline", D(2022, 4, 4), "Baselinemåling, april 2022"),
                 ("midway", D(2022, 9, 12), "Midtvejsmåling, september 2022"),
                 ("final", D(2022, 11, 7), "Afsluttende måling, november 2022")]
# Respondents per partner group and round (baseline, midway, final).
SURVEY_RESPONDENTS = {"gp": (5, 6, 7), "school": (5, 5, 5), "ppr": (5, 5, 6), "health_visitors": (5, 5, 5),
                      "family_counselling": (6, 6, 6), "bua": (4, 4, 4)}
# The answers the trial report shows (seed 001, "Evaluering af det tværgående samarbejde"),
# one value per respondent: 1 helt uenig … 5 helt enig.
SURVEY_REPORTED = {
    ("bua", "shared_goals"): ([3, 3, 3, 4], [3, 3, 4, 4], [3, 3, 4, 5]),
    ("gp", "shared_knowledge"): ([1, 2, 3, 3, 3], [2, 3, 3, 4, 4, 3], [4, 4, 4, 4, 3, 5, 3]),
    ("school", "shared_goals"): ([3, 3, 3, 4, 4], [3, 4, 4, 4, 5], [4, 4, 4, 5, 5]),
    ("family_counselling", "accurate"): ([1, 1, 2, 2, 2, 3], [2, 2, 3, 3, 4, 4], [5, 5, 5, 4, 3, 2]),
}


def _survey_value(group: str, dimension: str, round_index: int, respondent: int) -> int:
    reported = SURVEY_REPORTED.get((group, dimension))
    if reported is not None:
        return reported[round_index][respondent]
    # Otherwise a modest improvement over the trial, the same every time it is loaded.
    base = 2.6 + 0.5 * round_index
    wobble = ((respondent * 7 + len(dimension) * 3 + len(group)) % 5 - 2) * 0.5
    return max(1, min(5, round(base + wobble)))


def trial_survey_load() -> int:
    """The three rounds of the trial's relational coordination survey, answered by the
    trial's staff through the real services. Returns how many responses were saved."""
    import time_machine

    from tovholder.audit.actor import Actor
    from tovholder.insight.models import Dimension, PartnerGroup
    from tovholder.insight.services import (
        survey_response_submit,
        survey_round_close,
        survey_round_open,
    )
    from tovholder.organisations.models import Municipality, User

    municipality = Municipality.objects.get(code=MUNICIPALITY)
    staff = list(User.objects.filter(username__in=[s[0] for s in STAFF]).order_by("username"))
    if len(staff) < max(max(n) for n in SURVEY_RESPONDENTS.values()):
        raise ValidationError("Forsøgets medarbejdere mangler: indlæs forsøget først.")
    chair = next(u for u in staff if u.username == "forsoeg.formand")
    saved = 0
    for round_index, (kind, opens_on, title) in enumerate(SURVEY_ROUNDS):
        with time_machine.travel(_at(opens_on, 8), tick=False):
            survey_round = survey_round_open(actor=Actor(user=chair), municipality=municipality, kind=kind,
                                             opens_on=opens_on, title=title)
        groups = {g.key: g for g in PartnerGroup.objects.filter(municipality=municipality)}
        for key, counts in SURVEY_RESPONDENTS.items():
            for respondent in range(counts[round_index]):
                answers = {d: _survey_value(key, d, round_index, respondent) for d in Dimension.values}
                with time_machine.travel(_at(opens_on + dt.timedelta(days=1 + respondent % 4), 12), tick=False):
                    survey_response_submit(actor=Actor(user=staff[respondent]), survey_round=survey_round,
                                           partner_group=groups[key], answers=answers)
                saved += 1
        closes = min(opens_on + dt.timedelta(days=14), TRIAL_END)
        with time_machine.travel(_at(closes, 17), tick=False):
            survey_round_close(actor=Actor(user=chair), survey_round=survey_round)
    return saved
