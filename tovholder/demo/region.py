"""The demo region: three municipalities of Region Midtjylland with their units and staff.

Everything is created through the real services. SOR ids and GLN numbers are invented
(with valid GS1 check digits); names of people and children are fictional.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from tovholder.audit.actor import Actor
from tovholder.organisations.identifiers import make_gln
from tovholder.organisations.models import Membership, Municipality, Region, Unit, User
from tovholder.organisations.services import (
    membership_grant,
    municipality_create,
    staff_create,
    unit_create,
)

DEMO_PASSWORD = "tovholder-demo"
SETUP = Actor(system="demo")
# The demo's staff have held their posts for years: the clock can be set back (tests, the
# trial replay) without their roles vanishing.
MEMBERS_SINCE = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
MAILBOXES = {"ppr": "ppr", "health_visitors": "sundhedsplejen", "family_counselling": "familieraadgivningen",
             "single_entry": "boernogunge", "committee": "koordinationsudvalget"}
DEMO_MUNICIPALITIES = [("706", "Syddjurs"), ("707", "Norddjurs"), ("710", "Favrskov")]
SCHOOLS = {
    "706": ["Rønde Skole", "Hornslet Skole"],
    "707": ["Grenaa Skole", "Auning Skole"],
    "710": ["Hinnerup Skole", "Hadsten Skole"],
}
GP_PRACTICES = ["Lægehuset Ebeltoft", "Lægerne i Rønde", "Grenaa Lægecenter", "Hadsten Lægehus"]

# Staff personas: username, first, last, title, phone, [(unit key, role)].
PERSONAS = [
    ("ida", "Ida", "Bach", "Sundhedsplejerske, postkasseansvarlig", "87 53 50 11",
     [("706:single_entry", "inbox_keeper"), ("706:health_visitors", "staff")]),
    ("karen", "Karen", "Holm", "Leder af PPR, formand for koordinationsudvalget", "87 53 50 12",
     [("706:ppr", "leader"), ("706:committee", "committee_chair")]),
    ("mads", "Mads", "Lund", "Leder af Familierådgivningen", "87 53 50 13",
     [("706:family_counselling", "leader"), ("706:committee", "committee_member")]),
    ("sofie", "Sofie", "Krogh", "Leder af Sundhedsplejen", "87 53 50 14",
     [("706:health_visitors", "leader"), ("706:committee", "committee_member")]),
    ("lars", "Lars", "Nielsen", "Lærer, Rønde Skole", "87 53 50 20", [("706:school:0", "staff")]),
    ("pia", "Pia", "Skov", "Skoleleder, Rønde Skole", "87 53 50 21", [("706:school:0", "leader")]),
    ("henrik", "Henrik", "Dahl", "Skoleleder, Hornslet Skole", "87 53 50 22", [("706:school:1", "leader")]),
    ("maria", "Maria", "Vestergaard", "Psykolog, PPR", "87 53 50 15", [("706:ppr", "staff")]),
    ("anne", "Anne", "Mortensen", "Praktiserende læge", "86 34 10 10", [("gp:0", "staff")]),
    ("peter", "Peter", "Kjær", "Praktiserende læge", "86 37 12 12", [("gp:1", "staff")]),
    ("jonas", "Jonas", "Berg", "Overlæge, Rådgivningsenheden BUA", "78 47 10 00", [("bua", "staff")]),
    ("nora", "Nora", "Friis", "Postkasseansvarlig, Norddjurs", "89 59 10 00",
     [("707:single_entry", "inbox_keeper")]),
    ("ole", "Ole", "Brandt", "Leder af PPR Norddjurs, formand", "89 59 10 01",
     [("707:ppr", "leader"), ("707:committee", "committee_chair")]),
    ("frida", "Frida", "Lind", "Formand for koordinationsudvalget, Favrskov", "89 64 10 01",
     [("710:ppr", "leader"), ("710:committee", "committee_chair"), ("710:single_entry", "inbox_keeper")]),
    ("admin", "Alma", "Rask", "Systemadministrator", "", [("706:single_entry", "administrator")]),
]


@dataclass
class DemoRegion:
    region: Region
    municipalities: dict[str, Municipality] = field(default_factory=dict)
    units: dict[str, Unit] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)


def _municipality_names(csv_path: Path | None) -> dict[str, str]:
    if csv_path and csv_path.exists():
        with csv_path.open(encoding="utf-8") as f:
            return {row["code"]: row["name"] for row in csv.DictReader(f)}
    return dict(DEMO_MUNICIPALITIES)


def _ids(counter: list[int]) -> tuple[str, str]:
    counter[0] += 1
    n = counter[0]
    return f"{n:05d}1000016{n % 1000:03d}", make_gln(f"579000{n:06d}")


def build_region(*, csv_path: Path | None = None, password: str = DEMO_PASSWORD) -> DemoRegion:
    names = _municipality_names(csv_path)
    demo = DemoRegion(region=Region.objects.create(name="Region Midtjylland"))
    counter = [41000]
    kinds = [
        ("ppr", Unit.Kind.PPR, "PPR {m}"),
        ("health_visitors", Unit.Kind.HEALTH_VISITORS, "Sundhedsplejen {m}"),
        ("family_counselling", Unit.Kind.FAMILY_COUNSELLING, "Familierådgivningen {m}"),
        ("single_entry", Unit.Kind.SINGLE_ENTRY, "Børn og unge i mistrivsel — én indgang, {m} Kommune"),
        ("committee", Unit.Kind.COMMITTEE, "Koordinationsudvalget, {m} Kommune"),
    ]
    for code, fallback in DEMO_MUNICIPALITIES:
        name = names.get(code, fallback)
        m = municipality_create(actor=SETUP, region=demo.region, name=name, code=code)
        demo.municipalities[code] = m
        for key, kind, pattern in kinds:
            sor, gln = _ids(counter)
            with_ids = kind in (Unit.Kind.SINGLE_ENTRY, Unit.Kind.PPR, Unit.Kind.HEALTH_VISITORS)
            demo.units[f"{code}:{key}"] = unit_create(
                actor=SETUP, kind=kind, name=pattern.format(m=name), region=demo.region, municipality=m,
                sor_id=sor if with_ids else "", gln=gln if with_ids else "",
                email=f"{MAILBOXES[key]}@{name.lower().replace('ø', 'oe')}.dk",
            )
        for i, school in enumerate(SCHOOLS[code]):
            demo.units[f"{code}:school:{i}"] = unit_create(
                actor=SETUP, kind=Unit.Kind.SCHOOL, name=school, region=demo.region, municipality=m
            )
    for key, kind, name in [
        ("bua", Unit.Kind.BUA, "Børne- og Ungdomspsykiatrisk Afdeling, Aarhus Universitetshospital"),
        ("paediatric", Unit.Kind.PAEDIATRIC_WARD, "Børn og Unge, Regionshospitalet Randers"),
    ]:
        sor, gln = _ids(counter)
        demo.units[key] = unit_create(actor=SETUP, kind=kind, name=name, region=demo.region, sor_id=sor, gln=gln)
    for i, name in enumerate(GP_PRACTICES):
        sor, gln = _ids(counter)
        demo.units[f"gp:{i}"] = unit_create(actor=SETUP, kind=Unit.Kind.GP_PRACTICE, name=name,
                                            region=demo.region, sor_id=sor, gln=gln)
    for username, first, last, title, phone, roles in PERSONAS:
        user = staff_create(actor=SETUP, username=username, first_name=first, last_name=last, title=title,
                            phone=phone, email=f"{username}@demo.tovholder.dk", password=password)
        demo.users[username] = user
        for unit_key, role in roles:
            membership_grant(actor=SETUP, user=user, unit=demo.units[unit_key], role=Membership.Role(role),
                             started_at=MEMBERS_SINCE)
    return demo
