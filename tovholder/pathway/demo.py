"""Demo data for the joint pathway, made with the real services (wired in by the demo loader).

    demo_pathway_start(demo, case, *, lead="lars", at=None) -> Case
        A consented case (awaiting the committee) put in a joint pathway with `lead` as lead
        professional — what the committee does when it decides on a joint pathway.
    demo_start_meeting(demo, case, *, days_ago=21) -> PlanVersion
        Calls and holds the start meeting `days_ago` days ago: plan version 1 with goals,
        agreements for school, parents and PPR, and an assessing PPR intervention.
    demo_follow_up(demo, case, *, days_ago=0) -> PlanVersion
        Calls and holds a follow-up meeting: the child rates the goals again (progress shows),
        an agreement is done, a new one starts; plan version 2 (or the next).
    demo_schedule_next(demo, case) -> Meeting
        Calls the next meeting on the date agreed in the latest plan version.
    demo_full_pathway(demo, case, *, lead="lars") -> list[PlanVersion]
        All of the above for a case awaiting the committee: versions 1 and 2 and the next
        meeting called — a lead professional's typical case.

`demo` is the DemoRegion of tovholder/demo/region.py; the case's custody holders get the
invitations and plan PDFs as letters through the letters app.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from tovholder.audit.actor import Actor
from tovholder.cases.models import Case
from tovholder.deadlines.workdays import COPENHAGEN
from tovholder.pathway.models import (
    Meeting,
    MeetingKind,
    ParentsAgree,
    Pathway,
    PlanVersion,
    RatedBy,
    Sector,
)
from tovholder.pathway.services import (
    ExternalParticipant,
    MeetingRecord,
    NewAgreement,
    intervention_add,
    meeting_record,
    meeting_schedule,
    pathway_start,
)

COMMITTEE = Actor(system="demo:committee")


def _lead(pathway: Pathway) -> Actor:
    return Actor(user=pathway.lead_user, unit=pathway.lead_unit)


def _at(day: dt.date, hour: int = 14) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, 0, tzinfo=COPENHAGEN)


def demo_pathway_start(demo, case: Case, *, lead: str = "lars", at: dt.datetime | None = None) -> Case:
    user = demo.users[lead]
    unit = user.memberships.first().unit
    return pathway_start(actor=COMMITTEE, basis="committee", case=case, lead_user=user, lead_unit=unit, at=at)


def _schedule(demo, case: Case, kind: str, day: dt.date) -> Meeting:
    pathway = Pathway.objects.get(case=case)
    staff = [(u, u.memberships.first().unit) for u in (demo.users.get("maria"),) if u and u != pathway.lead_user]
    return meeting_schedule(
        actor=_lead(pathway), basis="lead", case=case, kind=kind, starts_at=_at(day), ends_at=_at(day, 15),
        place=f"{pathway.lead_unit.name}, mødelokale 2", staff=staff,
        external=[ExternalParticipant(name="Anne Mortensen", title="Praktiserende læge", sector=Sector.GP)],
        idempotency_key=f"demo-{kind}-{day.isoformat()}",
    )


def demo_start_meeting(demo, case: Case, *, days_ago: int = 21) -> PlanVersion:
    today = timezone.localdate()
    day = today - dt.timedelta(days=days_ago)
    meeting = _schedule(demo, case, MeetingKind.START, day)
    pathway = Pathway.objects.get(case=case)
    intervention_add(actor=_lead(pathway), basis="lead", case=case, sector=Sector.PPR,
                     unit=demo.units.get(f"{case.municipality.code}:ppr"),
                     description="Psykologisk vurdering og samtaleforløb hos PPR (6 samtaler)",
                     kind="assessing", step=2, start_on=day + dt.timedelta(days=14), status="active")
    intervention_add(actor=_lead(pathway), basis="lead", case=case, sector=Sector.SCHOOL,
                     unit=pathway.lead_unit, description="Fast voksen om morgenen og pauserum",
                     kind="supporting", step=1, start_on=day, status="active")
    return meeting_record(actor=_lead(pathway), basis="lead", meeting=meeting, record=MeetingRecord(
        held_on=day, parents_agree=ParentsAgree.YES, child_voice="present",
        child_voice_text=f"{case.child.given_name} fortalte, at frikvartererne er det sværeste, og at "
                         "det hjælper at vide, hvad dagen skal indeholde.",
        what_works="Idræt og værkstedsfag. God kontakt til klasselæreren. Fast aftensrutine derhjemme.",
        what_is_hard="At komme af sted om morgenen. Frikvartererne. Ondt i maven søndag aften.",
        expectations="PPR har cirka 4 ugers ventetid på den første samtale. Skolen starter morgenaftalen "
                     "med det samme. Familien kontakter den indsatsansvarlige, hvis fraværet stiger.",
        next_meeting_on=day + dt.timedelta(weeks=5),
        new_goals=[("Jeg vil gerne være i skole hele dagen", "Fremmøde over 90 % inden jul", 3, RatedBy.CHILD),
                   ("Have nogen at være sammen med i frikvarteret", "Tryghed i pauserne", 2, RatedBy.CHILD)],
        new_agreements=[
            NewAgreement(what="Morgenaftale", how="Klasselæreren tager imod ved døren kl. 7.55",
                         responsible=Sector.SCHOOL, responsible_name=pathway.lead_user.get_full_name(),
                         due_on=day + dt.timedelta(days=3)),
            NewAgreement(what="Søndagssamtale om ugen", how="Gennemgå skemaet sammen søndag aften",
                         responsible=Sector.PARENTS),
            NewAgreement(what="Første samtale hos PPR", how="PPR indkalder familien",
                         responsible=Sector.PPR, responsible_name="Maria Vestergaard",
                         due_on=day + dt.timedelta(weeks=4)),
        ],
        needs_assessment=True,
    ))


def demo_follow_up(demo, case: Case, *, days_ago: int = 0) -> PlanVersion:
    pathway = Pathway.objects.get(case=case)
    day = timezone.localdate() - dt.timedelta(days=days_ago)
    meeting = _schedule(demo, case, MeetingKind.FOLLOW_UP, day)
    goals = list(pathway.goals.filter(ended_in__isnull=True))
    agreements = list(pathway.agreements.filter(status="open"))
    return meeting_record(actor=_lead(pathway), basis="lead", meeting=meeting, record=MeetingRecord(
        held_on=day, parents_agree=ParentsAgree.PARTLY, child_voice="statement",
        child_voice_text="Barnet ville ikke med til mødet, men skrev til sin lærer: »Morgenerne er blevet bedre.«",
        what_works="Morgenaftalen virker: fremmødet er steget. Samtalerne hos PPR er i gang.",
        what_is_hard="Frikvartererne er stadig svære. Matematik giver uro.",
        expectations="PPR afslutter vurderingen inden næste møde. Forældrene ønsker hurtigere afklaring af, "
                     "om der skal henvises til BUA; det tages op med BUA ved sparring.",
        parents_comment="Vi er enige i planen, men bekymrede for ventetiden.",
        next_meeting_on=day + dt.timedelta(weeks=6),
        ratings={g.pk: (6 if i == 0 else 4, RatedBy.CHILD) for i, g in enumerate(goals)},
        agreement_status={a.pk: ("done" if i == 0 else "open") for i, a in enumerate(agreements)},
        new_agreements=[NewAgreement(what="Pausevenner", how="To faste makkere og et roligt rum i 10-frikvarteret",
                                     responsible=Sector.SCHOOL, due_on=day + dt.timedelta(weeks=2)),
                        NewAgreement(what="Sparring med BUA (Samrum)", how="Anonym drøftelse af om henvisning er relevant",
                                     responsible=Sector.PPR, due_on=day + dt.timedelta(weeks=3))],
    ))


def demo_schedule_next(demo, case: Case) -> Meeting:
    pathway = Pathway.objects.get(case=case)
    return _schedule(demo, case, MeetingKind.FOLLOW_UP, pathway.next_meeting_on)


def demo_full_pathway(demo, case: Case, *, lead: str = "lars") -> list[PlanVersion]:
    decided = timezone.now() - dt.timedelta(weeks=10)
    case = demo_pathway_start(demo, case, lead=lead, at=decided)
    versions = [demo_start_meeting(demo, case, days_ago=42), demo_follow_up(demo, case, days_ago=3)]
    demo_schedule_next(demo, case)
    return versions
