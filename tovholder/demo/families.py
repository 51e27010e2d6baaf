"""About twenty fictional children and their families, spread over every stage.

Cases are moved along by the real services of each part of the domain; `STAGE_STEPS`
lists them in order so each part can take over its own step.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from tovholder.audit.actor import Actor
from tovholder.cases.models import Case, ClosedReason, ReferralChannel, Stage, TeamRole
from tovholder.cases.services import case_open, case_team_add, case_transition
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
    DemoFamily("Ida", "Christensen", dt.date(2013, 1, 30), "f", "706", 0, (("Mette Christensen", "mother", True), ("Thomas Christensen", "father", True)), F.GP, "gp:0", S.AWAITING_COMMITTEE, days_ago=20),
    DemoFamily("William", "Larsen", dt.date(2014, 7, 11), "m", "706", 1, (("Louise Larsen", "mother", True),), F.GP, "gp:1", S.AWAITING_COMMITTEE, days_ago=18),
    DemoFamily("Alma", "Rasmussen", dt.date(2009, 10, 5), "f", "706", 0, (("Anja Rasmussen", "mother", True), ("Bo Rasmussen", "father", True)), F.SCHOOL, "706:school:0", S.AWAITING_COMMITTEE, days_ago=25),
    DemoFamily("Lucas", "Poulsen", dt.date(2011, 4, 22), "m", "710", 0, (("Helle Poulsen", "mother", True), ("Rasmus Poulsen", "father", True)), F.GP, "gp:3", S.AWAITING_COMMITTEE, days_ago=21),
    DemoFamily("Clara", "Madsen", dt.date(2014, 2, 17), "f", "706", 0, (("Tina Madsen", "mother", True), ("Søren Madsen", "father", True)), F.GP, "gp:0", S.AWAITING_START, lead="lars", days_ago=30),
    DemoFamily("Victor", "Kristensen", dt.date(2012, 11, 8), "m", "706", 1, (("Nanna Kristensen", "mother", True),), F.GP, "gp:1", S.AWAITING_START, lead="maria", days_ago=35),
    DemoFamily("Agnes", "Olsen", dt.date(2015, 8, 27), "f", "706", 0, (("Rikke Olsen", "mother", True), ("Jonas Olsen", "father", True)), F.PARENTS_VIA_GP, "gp:0", S.AWAITING_START, lead="lars", days_ago=28),
    DemoFamily("Malthe", "Thomsen", dt.date(2010, 6, 3), "m", "706", 0, (("Dorthe Thomsen", "mother", True), ("Claus Thomsen", "father", True)), F.GP, "gp:0", S.ACTIVE, lead="lars", days_ago=70),
    DemoFamily("Sofia", "Hansen", dt.date(2008, 3, 19), "f", "706", 1, (("Julie Hansen", "mother", True),), F.GP, "gp:1", S.ACTIVE, lead="maria", days_ago=90),
    DemoFamily("Karl", "Møller", dt.date(2016, 12, 12), "m", "706", 0, (("Eva Møller", "mother", True), ("Niels Møller", "father", True)), F.SCHOOL, "706:school:0", S.ACTIVE, lead="lars", days_ago=60),
    DemoFamily("Ella", "Johansen", dt.date(2011, 9, 9), "f", "706", 1, (("Pernille Johansen", "mother", True), ("Anders Johansen", "father", True)), F.GP, "gp:0", S.ACTIVE, lead="maria", days_ago=120),
    DemoFamily("Arthur", "Knudsen", dt.date(2013, 4, 1), "m", "707", 1, (("Lise Knudsen", "mother", True),), F.GP, "gp:2", S.ACTIVE, days_ago=80),
    DemoFamily("Liva", "Mikkelsen", dt.date(2012, 1, 15), "f", "706", 0, (("Birgitte Mikkelsen", "mother", True), ("Per Mikkelsen", "father", True)), F.GP, "gp:0", S.CLOSED, closed_reason=ClosedReason.NO_CONSENT, days_ago=45),
    DemoFamily("Elias", "Frederiksen", dt.date(2014, 10, 28), "m", "706", 1, (("Stine Frederiksen", "mother", True),), F.GP, "gp:1", S.CLOSED, closed_reason=ClosedReason.EVERYDAY_SUPPORT, days_ago=50),
    DemoFamily("Josefine", "Berg", dt.date(2009, 7, 7), "f", "706", 0, (("Marianne Berg", "mother", True), ("Henrik Berg", "father", True)), F.GP, "gp:0", S.CLOSED, lead="maria", closed_reason=ClosedReason.PATHWAY_COMPLETED, days_ago=200),
    DemoFamily("Alfred", "Nygaard", dt.date(2017, 2, 2), "m", "710", 1, (("Signe Nygaard", "mother", True), ("Martin Nygaard", "father", True)), F.HOSPITAL, "paediatric", S.AWAITING_CONSENT, days_ago=1),
]

def _email(name: str) -> str:
    local = name.split()[0].lower().replace("æ", "ae").replace("ø", "oe").replace("å", "aa")
    return f"{local}@example.dk"


ORDER = [S.AWAITING_CONSENT, S.AWAITING_COMMITTEE, S.AWAITING_START, S.ACTIVE]


def load_families(demo: DemoRegion) -> list[Case]:
    cases = []
    for n, fam in enumerate(FAMILIES, start=1):
        municipality = demo.municipalities[fam.municipality]
        school = demo.units.get(f"{fam.municipality}:school:{fam.school}") if fam.school is not None else None
        child = child_create(actor=SETUP, basis="system", cpr=synthetic_cpr(fam.birth, n, fam.sex),
                             given_name=fam.given, family_name=fam.family, municipality=municipality,
                             school=school)
        for name, relation, digital in fam.parents:
            custody_holder_add(actor=SETUP, basis="system", child=child, name=name, relation=relation,
                               phone=f"20 {n:02d} 3{len(name) % 10} 4{len(cases) % 10}",
                               email=_email(name), has_digital_post=digital)
        opened = timezone.now() - dt.timedelta(days=fam.days_ago)
        case = case_open(actor=SETUP, basis="system", municipality=municipality, child=child,
                         referral_channel=fam.channel, referrer_unit=demo.units[fam.referrer], opened_at=opened)
        cases.append(advance(demo, case, fam, opened))
    return cases


def advance(demo: DemoRegion, case: Case, fam: DemoFamily, opened: dt.datetime) -> Case:
    target = fam.stage
    if target == S.CLOSED:
        # Closed cases got as far as their reason implies, then closed.
        reached = {ClosedReason.NO_CONSENT: S.AWAITING_CONSENT,
                   ClosedReason.EVERYDAY_SUPPORT: S.AWAITING_COMMITTEE}.get(fam.closed_reason, S.ACTIVE)
    else:
        reached = target
    at = opened
    for stage in ORDER[1: ORDER.index(reached) + 1]:
        at = at + dt.timedelta(days=fam.days_ago // 5 or 1)
        case = case_transition(actor=SETUP, basis="system", case=case, to=stage, at=min(at, timezone.now()))
        if stage == S.AWAITING_START:
            lead = demo.users[fam.lead] if fam.lead else demo.users["lars"]
            unit = lead.memberships.first().unit
            case_team_add(actor=SETUP, basis="system", case=case, user=lead, unit=unit, role=TeamRole.LEAD)
            if lead.username != "pia" and case.child.school and case.child.school.name == "Rønde Skole":
                case_team_add(actor=SETUP, basis="system", case=case, user=demo.users["pia"],
                              unit=demo.units["706:school:0"], role=TeamRole.PARTICIPANT)
    if target == S.CLOSED:
        case = case_transition(actor=SETUP, basis="system", case=case, to=S.CLOSED,
                               closed_reason=fam.closed_reason, at=timezone.now())
    return case
