"""About twenty fictional children and their families, spread over every stage.

Every case is moved along by the real services of each part of the domain, in the order
a case lives: consent (letters, answers), the committee (agenda, meetings, decisions,
minutes), the joint pathway (lead professional, start and follow-up meetings, plan
versions, interventions, closing), consultation and referral onwards.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from tovholder.audit.actor import Actor
from tovholder.cases.models import Case, ClosedReason, ReferralChannel, Stage
from tovholder.cases.services import case_open
from tovholder.children.services import child_create, custody_holder_add
from tovholder.demo.region import DemoRegion

SETUP = Actor(system="demo")


@dataclass(frozen=True)
class DemoFamily:
    given: str
    family: str
    birth: dt.date
    sex: str  # "f"/"m": CPR serial parity
    municipality: str
    school: int | None
    parents: tuple[tuple[str, str, bool], ...]  # (name, relation, has digital post)
    channel: str
    referrer: str  # unit key
    stage: str
    lead: str | None = None  # username
    closed_reason: str = ""
    days_ago: int = 10


def synthetic_cpr(birth: dt.date, n: int, sex: str) -> str:
    """A CPR with the right century digit; the serial is made up (not modulus-11 checked)."""
    if birth.year >= 2000:
        century = "4" if birth.year <= 2036 else "5"
    else:
        century = "0"
    last = (n * 2 + (1 if sex == "m" else 0)) % 10
    return f"{birth:%d%m%y}{century}{n % 100:02d}{last}"


F = ReferralChannel
S = Stage
FAMILIES = [
    DemoFamily("Emma", "Sørensen", dt.date(2015, 3, 14), "f", "706", 0, (("Line Sørensen", "mother", True), ("Jesper Sørensen", "father", True)), F.GP, "gp:0", S.AWAITING_CONSENT, days_ago=3),
    DemoFamily("Noah", "Jensen", dt.date(2012, 9, 2), "m", "706", 0, (("Camilla Jensen", "mother", True),), F.PARENTS_VIA_GP, "gp:1", S.AWAITING_CONSENT, days_ago=16),
    DemoFamily("Freja", "Andersen", dt.date(2010, 12, 1), "f", "706", 1, (("Maja Andersen", "mother", True), ("Kim Andersen", "father", False)), F.GP, "gp:0", S.AWAITING_CONSENT, days_ago=8),
    DemoFamily("Oscar", "Pedersen", dt.date(2016, 5, 20), "m", "707", 0, (("Sara Pedersen", "mother", True), ("Mikkel Pedersen", "father", True)), F.SCHOOL, "707:school:0", S.AWAITING_CONSENT, days_ago=2),
    DemoFamily("Ida", "Christensen", dt.date(2013, 1, 30), "f", "706", 0, (("Mette Christensen", "mother", True), ("Thomas Christensen", "father", True)), F.GP, "gp:0", S.AWAITING_COMMITTEE, days_ago=8),
    DemoFamily("William", "Larsen", dt.date(2014, 7, 11), "m", "706", 1, (("Louise Larsen", "mother", True),), F.GP, "gp:1", S.AWAITING_COMMITTEE, days_ago=6),
    DemoFamily("Alma", "Rasmussen", dt.date(2009, 10, 5), "f", "706", 0, (("Anja Rasmussen", "mother", True), ("Bo Rasmussen", "father", True)), F.SCHOOL, "706:school:0", S.AWAITING_COMMITTEE, days_ago=25),
    DemoFamily("Lucas", "Poulsen", dt.date(2011, 4, 22), "m", "710", 0, (("Helle Poulsen", "mother", True), ("Rasmus Poulsen", "father", True)), F.GP, "gp:3", S.AWAITING_COMMITTEE, days_ago=21),
    DemoFamily("Clara", "Madsen", dt.date(2014, 2, 17), "f", "706", 0, (("Tina Madsen", "mother", True), ("Søren Madsen", "father", True)), F.GP, "gp:0", S.AWAITING_START, lead="lars", days_ago=30),
    DemoFamily("Victor", "Kristensen", dt.date(2012, 11, 8), "m", "706", 1, (("Nanna Kristensen", "mother", True),), F.GP, "gp:1", S.AWAITING_START, lead="maria", days_ago=35),
    DemoFamily("Agnes", "Olsen", dt.date(2015, 8, 27), "f", "706", 0, (("Rikke Olsen", "mother", True), ("Jonas Olsen", "father", True)), F.PARENTS_VIA_GP, "gp:0", S.AWAITING_START, lead="lars", days_ago=28),
    DemoFamily("Malthe", "Thomsen", dt.date(2010, 6, 3), "m", "706", 0, (("Dorthe Thomsen", "mother", True), ("Claus Thomsen", "father", True)), F.GP, "gp:0", S.ACTIVE, lead="lars", days_ago=70),
    DemoFamily("Sofia", "Hansen", dt.date(2008, 3, 19), "f", "706", 1, (("Julie Hansen", "mother", True),), F.GP, "gp:1", S.ACTIVE, lead="maria", days_ago=92),
    DemoFamily("Karl", "Møller", dt.date(2016, 12, 12), "m", "706", 0, (("Eva Møller", "mother", True), ("Niels Møller", "father", True)), F.SCHOOL, "706:school:0", S.ACTIVE, lead="lars", days_ago=60),
    DemoFamily("Ella", "Johansen", dt.date(2011, 9, 9), "f", "706", 1, (("Pernille Johansen", "mother", True), ("Anders Johansen", "father", True)), F.GP, "gp:0", S.ACTIVE, lead="maria", days_ago=120),
    DemoFamily("Arthur", "Knudsen", dt.date(2013, 4, 1), "m", "707", 1, (("Lise Knudsen", "mother", True),), F.GP, "gp:2", S.ACTIVE, lead="ole", days_ago=80),
    DemoFamily("Liva", "Mikkelsen", dt.date(2012, 1, 15), "f", "706", 0, (("Birgitte Mikkelsen", "mother", True), ("Per Mikkelsen", "father", True)), F.GP, "gp:0", S.CLOSED, closed_reason=ClosedReason.NO_CONSENT, days_ago=45),
    DemoFamily("Elias", "Frederiksen", dt.date(2014, 10, 28), "m", "706", 1, (("Stine Frederiksen", "mother", True),), F.GP, "gp:1", S.CLOSED, closed_reason=ClosedReason.ORDINARY_ROUTE, days_ago=60),
    DemoFamily("Josefine", "Berg", dt.date(2009, 7, 7), "f", "706", 0, (("Marianne Berg", "mother", True), ("Henrik Berg", "father", True)), F.GP, "gp:0", S.CLOSED, lead="maria", closed_reason=ClosedReason.PATHWAY_COMPLETED, days_ago=200),
    DemoFamily("Alfred", "Nygaard", dt.date(2017, 2, 2), "m", "710", 1, (("Signe Nygaard", "mother", True), ("Martin Nygaard", "father", True)), F.HOSPITAL, "paediatric", S.AWAITING_CONSENT, days_ago=1),
]

def _email(name: str) -> str:
    local = name.split()[0].lower().replace("æ", "ae").replace("ø", "oe").replace("å", "aa")
    return f"{local}@example.dk"


# Committee meetings in Syddjurs, about `days ago` (moved to the nearest Wednesday, the
# committee's day), each within 8 working days of the consents, and the cases each took: (given name, lead username — or None for the ordinary route).
COMMITTEE_MEETINGS = [
    (192, [("Josefine", "maria")]),
    (112, [("Ella", "maria")]),
    (84, [("Sofia", "maria")]),
    (63, [("Malthe", "lars")]),
    (49, [("Karl", "lars"), ("Elias", None)]),
    (28, [("Victor", "maria")]),
    (21, [("Agnes", "lars"), ("Clara", "lars")]),
]
# Meetings of each pathway, days ago: start, then follow-ups; "closing" ends it.
PATHWAY_MEETINGS = {
    "Josefine": [("start", 170), ("follow_up", 120), ("closing", 60)],
    "Ella": [("start", 84), ("follow_up", 35)],
    "Sofia": [("start", 63), ("follow_up", 14)],
    "Malthe": [("start", 42), ("follow_up", 3)],
    "Karl": [("start", 28)],
    "Arthur": [("start", 40)],
}


def load_families(demo: DemoRegion) -> list[Case]:
    from tovholder.committee.demo import (
        committee_demo_agenda,
        committee_demo_past_meeting,
        committee_demo_schedule,
    )
    from tovholder.consent.demo import (
        consent_demo_complete,
        consent_demo_no_answer,
        consent_demo_partial,
        consent_demo_request,
    )
    from tovholder.pathway.demo import demo_pathway_start

    committee_demo_schedule(demo)
    by_name: dict[str, tuple[DemoFamily, Case]] = {}
    for n, fam in enumerate(FAMILIES, start=1):
        by_name[fam.given] = (fam, _open(demo, fam, n))

    # Consent: asked on opening; complete three days later for every case that got further.
    for n, (fam, case) in enumerate(by_name.values()):
        if fam.stage == S.AWAITING_CONSENT:
            (consent_demo_partial if n % 2 else consent_demo_request)(demo, case)
        elif fam.closed_reason == ClosedReason.NO_CONSENT:
            consent_demo_no_answer(demo, case, at=case.opened_at + dt.timedelta(days=22))
        else:
            consent_demo_complete(demo, case, at=case.opened_at + dt.timedelta(days=3))

    # The committee: what waits is on the agenda; what was decided went through a meeting.
    for fam, case in by_name.values():
        if fam.stage == S.AWAITING_COMMITTEE:
            committee_demo_agenda(demo, _fresh(case))
    for days_ago, taken in COMMITTEE_MEETINGS:
        cases = [_fresh(by_name[name][1]) for name, _ in taken]
        leads = tuple(lead for _, lead in taken if lead)
        committee_demo_past_meeting(demo, cases, days_ago=days_ago, leads=leads)
    arthur = by_name["Arthur"][1]
    demo_pathway_start(demo, _fresh(arthur), lead="ole", at=timezone.now() - dt.timedelta(days=60))

    # The joint pathways: meetings and plan versions.
    for name, meetings in PATHWAY_MEETINGS.items():
        _hold_meetings(demo, _fresh(by_name[name][1]), meetings)
    return [_fresh(case) for _, case in by_name.values()]


def _open(demo: DemoRegion, fam: DemoFamily, n: int) -> Case:
    municipality = demo.municipalities[fam.municipality]
    school = demo.units.get(f"{fam.municipality}:school:{fam.school}") if fam.school is not None else None
    child = child_create(actor=SETUP, basis="system", cpr=synthetic_cpr(fam.birth, n, fam.sex),
                         given_name=fam.given, family_name=fam.family, municipality=municipality, school=school)
    for i, (name, relation, digital) in enumerate(fam.parents):
        custody_holder_add(actor=SETUP, basis="system", child=child, name=name, relation=relation,
                           phone=f"20 {n:02d} 3{i} 4{len(name) % 10}", email=_email(name),
                           has_digital_post=digital)
    opened = timezone.now() - dt.timedelta(days=fam.days_ago)
    return case_open(actor=SETUP, basis="system", municipality=municipality, child=child,
                     referral_channel=fam.channel, referrer_unit=demo.units[fam.referrer], opened_at=opened)


def _fresh(case: Case) -> Case:
    return Case.objects.select_related("municipality", "child").get(pk=case.pk)


def _hold_meetings(demo: DemoRegion, case: Case, meetings: list[tuple[str, int]]) -> None:
    from tovholder.pathway.demo import demo_follow_up, demo_schedule_next, demo_start_meeting

    for kind, days_ago in meetings:
        if kind == "start":
            demo_start_meeting(demo, case, days_ago=days_ago)
        elif kind == "follow_up":
            demo_follow_up(demo, case, days_ago=days_ago)
        else:
            _closing_meeting(demo, case, days_ago=days_ago)
        case = _fresh(case)
    if case.stage == S.ACTIVE and len(meetings) > 1:
        demo_schedule_next(demo, case)


def _closing_meeting(demo: DemoRegion, case: Case, *, days_ago: int) -> None:
    from tovholder.pathway.models import MeetingKind, ParentsAgree, Pathway
    from tovholder.pathway.services import MeetingRecord, meeting_record, meeting_schedule

    pathway = Pathway.objects.select_related("lead_user", "lead_unit").get(case=case)
    lead = Actor(user=pathway.lead_user, unit=pathway.lead_unit)
    day = timezone.localdate() - dt.timedelta(days=days_ago)
    starts = timezone.make_aware(dt.datetime.combine(day, dt.time(14)))
    meeting = meeting_schedule(actor=lead, basis="lead", case=case, kind=MeetingKind.CLOSING, starts_at=starts,
                               ends_at=starts + dt.timedelta(hours=1), place=pathway.lead_unit.name,
                               idempotency_key=f"demo-closing-{day.isoformat()}")
    meeting_record(actor=lead, basis="lead", meeting=meeting, record=MeetingRecord(
        held_on=day, parents_agree=ParentsAgree.YES, child_voice="present",
        child_voice_text=f"{case.child.given_name} siger, at skolen er god igen, og at hun ved, hvem hun kan gå til.",
        what_works="Fuldt fremmøde siden sommerferien. Faste aftaler i frikvartererne.",
        what_is_hard="Eksamenstiden kan blive svær; familien ved, hvem de kan kontakte.",
        expectations="Forløbet afsluttes. Klasselæreren følger op i hverdagen.",
        everyday_support="Klasselæreren holder ugentlig kontakt; sundhedsplejen tilbyder en samtale efter jul.",
    ))
