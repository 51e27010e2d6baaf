"""A small world for tests, built through the real services: the demo region's
organisations and staff, and helpers to put a case in any stage.

Personas (username → who):
  ida      inbox keeper, Syddjurs single entry
  karen    committee chair, Syddjurs (leader of PPR)
  mads     committee member, Syddjurs
  lars     teacher at Rønde Skole (lead professional on `world.case`)
  maria    PPR psychologist (participant on `world.case`)
  pia      principal, Rønde Skole (the child's school)
  henrik   principal, Hornslet Skole (another school)
  anne     GP, Lægehuset Ebeltoft (the referrer of `world.case`)
  peter    GP at another practice
  jonas    BUA advisory unit
  ole      committee chair in Norddjurs (another municipality)
  nora     inbox keeper in Norddjurs
  admin    administrator (configuration, not case content)
  stranger a staff user with no memberships
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass

from django.utils import timezone

from tovholder.audit.actor import Actor
from tovholder.cases.models import Case, ReferralChannel, Stage, TeamRole
from tovholder.cases.services import case_open, case_team_add, case_transition
from tovholder.children.models import Child
from tovholder.children.services import child_create, custody_holder_add
from tovholder.demo.families import synthetic_cpr
from tovholder.demo.region import DemoRegion, build_region
from tovholder.organisations.models import User
from tovholder.organisations.services import staff_create

SYSTEM = Actor(system="test")
PASSWORD = "test-password-1"
_serial = itertools.count(1)


@dataclass
class World:
    demo: DemoRegion
    case: Case

    def user(self, username: str) -> User:
        return self.demo.users[username]

    def unit(self, key: str):
        return self.demo.units[key]

    @property
    def syddjurs(self):
        return self.demo.municipalities["706"]

    @property
    def norddjurs(self):
        return self.demo.municipalities["707"]


def make_child(
    demo: DemoRegion, *, birth: dt.date = dt.date(2013, 5, 4), municipality: str = "706", school: int | None = 0,
    parents: int = 2, given: str = "Test", family: str = "Barnsen", digital_post: bool = True,
) -> Child:
    n = next(_serial)
    child = child_create(
        actor=SYSTEM, basis="system", cpr=synthetic_cpr(birth, 50 + n, "f"), given_name=given,
        family_name=f"{family}{n}", municipality=demo.municipalities[municipality],
        school=demo.units.get(f"{municipality}:school:{school}") if school is not None else None,
    )
    for i in range(parents):
        custody_holder_add(actor=SYSTEM, basis="system", child=child, name=f"Forælder {i + 1} {family}{n}",
                           relation="mother" if i == 0 else "father", email=f"p{i}{n}@example.dk",
                           has_digital_post=digital_post)
    return child


def make_case(
    demo: DemoRegion, *, stage: str = Stage.AWAITING_CONSENT, child: Child | None = None,
    lead: str | None = "lars", participants: tuple[str, ...] = (), referrer: str = "gp:0",
    municipality: str = "706", at: dt.datetime | None = None,
) -> Case:
    """A case moved to `stage` by the plain stage service (parts of the domain that own a
    stage offer richer helpers for their own tests)."""
    child = child or make_child(demo, municipality=municipality)
    at = at or timezone.now()
    case = case_open(actor=SYSTEM, basis="system", municipality=demo.municipalities[municipality], child=child,
                     referral_channel=ReferralChannel.GP, referrer_unit=demo.units[referrer], opened_at=at)
    order = [Stage.AWAITING_COMMITTEE, Stage.AWAITING_START, Stage.ACTIVE]
    targets = order[: order.index(stage) + 1] if stage in order else []
    for s in targets:
        if s == Stage.AWAITING_COMMITTEE:
            # Past consent through the consent services, so the consent gate is open.
            from tovholder.consent.demo import consent_demo_complete

            case = consent_demo_complete(demo, case, at=at)
            continue
        case = case_transition(actor=SYSTEM, basis="system", case=case, to=s, at=at)
        if s == Stage.AWAITING_START:
            if lead:
                user = demo.users[lead]
                case_team_add(actor=SYSTEM, basis="system", case=case, user=user,
                              unit=user.memberships.first().unit, role=TeamRole.LEAD)
            for username in participants:
                user = demo.users[username]
                case_team_add(actor=SYSTEM, basis="system", case=case, user=user,
                              unit=user.memberships.first().unit, role=TeamRole.PARTICIPANT)
    return case


def build_world() -> World:
    demo = build_region(password=PASSWORD)
    demo.users["stranger"] = staff_create(actor=SYSTEM, username="stranger", first_name="Sune",
                                          last_name="Fremmed", password=PASSWORD)
    case = make_case(demo, stage=Stage.AWAITING_START, lead="lars", participants=("maria",))
    return World(demo=demo, case=case)
