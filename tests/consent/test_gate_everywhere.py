"""A gate test for every service that acts on a case.

The services are found in the code, not listed by hand: every public function in
tovholder/ (outside consent) that calls `require_processing_allowed`, directly or through a
helper in its own module. Each must have a scenario below; a new gated service without
one fails `test_every_gated_service_has_a_gate_test`.

Each scenario builds what the service needs while consent is valid, then lets consent
lapse (the round's end date reached — the case itself unchanged, so only the gate stands
in the way): the call must raise ConsentRequired and write nothing. Then, with consent
valid again, the very same call goes through — so it was the gate that stopped it.
"""

from __future__ import annotations

import ast
import contextlib
import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from django.utils import timezone

from tests.support.world import SYSTEM, make_case
from tovholder.audit.actor import Actor
from tovholder.audit.models import AuditEvent
from tovholder.cases.models import Case, Stage
from tovholder.consent.gate import ConsentRequired
from tovholder.consent.models import ConsentRound

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2] / "tovholder"
GATE = "require_processing_allowed"


def gated_services() -> list[str]:
    """'app.module:function' for every public function that reaches the gate in its module."""
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT.parent)
        if "migrations" in rel.parts or rel.parts[1] == "consent":
            continue
        source = path.read_text(encoding="utf-8")
        if GATE not in source:
            continue
        functions = {n.name: n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.FunctionDef)}
        calls = {
            name: {c.func.id for c in ast.walk(fn) if isinstance(c, ast.Call) and isinstance(c.func, ast.Name)}
            for name, fn in functions.items()
        }
        reach = {name for name, called in calls.items() if GATE in called}
        while True:
            more = {name for name, called in calls.items() if called & reach} - reach
            if not more:
                break
            reach |= more
        module = ".".join(rel.with_suffix("").parts[1:])
        found += [f"{module}:{name}" for name in sorted(reach) if not name.startswith("_")]
    return found


# --- Building blocks (the real services) ------------------------------------------------------

def staff(world, username: str, unit: str) -> Actor:
    return Actor(user=world.user(username), unit=world.unit(unit))


def consented(world, at: dt.datetime | None = None) -> Case:
    return make_case(world.demo, stage=Stage.AWAITING_COMMITTEE, lead=None, at=at)


def pathway(world, at: dt.datetime | None = None) -> Case:
    from tovholder.pathway.services import pathway_start

    case = pathway_start(actor=SYSTEM, basis="committee", case=consented(world, at=at),
                         lead_user=world.user("lars"), lead_unit=world.unit("706:school:0"), at=at)
    from tovholder.cases.services import case_team_add

    case_team_add(actor=SYSTEM, basis="committee", case=case, user=world.user("maria"), unit=world.unit("706:ppr"))
    return Case.objects.get(pk=case.pk)


def lars(world) -> Actor:
    return staff(world, "lars", "706:school:0")


def karen(world) -> Actor:
    return staff(world, "karen", "706:committee")


def agenda_item(case: Case):
    from tovholder.committee.models import AgendaItem
    from tovholder.committee.services import agenda_sync

    agenda_sync(municipality=case.municipality)
    return AgendaItem.objects.get(case=case, state=AgendaItem.State.PENDING)


def todays_meeting(world):
    """An extra meeting at noon today (the tests run at 10:00 on a working day)."""
    from tovholder.committee.services import meeting_add

    return meeting_add(actor=karen(world), municipality=world.syddjurs, day=timezone.localdate(),
                       starts_at=dt.time(12, 0), ends_at=dt.time(13, 0))


def decided(world, case: Case):
    from tovholder.committee.models import DecisionKind, Minute
    from tovholder.committee.services import decision_record

    item, meeting = agenda_item(case), todays_meeting(world)
    decision_record(actor=karen(world), basis="committee", item=item, meeting=meeting, kind=DecisionKind.PATHWAY,
                    conclusion="Fælles forløb med Lars som tovholder.", lead_user=world.user("lars"),
                    lead_unit=world.unit("706:school:0"))
    return meeting, Minute.objects.get(item=item)


def scheduled(world, case: Case, *, hours: float = 24):
    from tovholder.pathway.services import meeting_schedule

    at = timezone.now() + dt.timedelta(hours=hours)
    return meeting_schedule(actor=lars(world), basis="lead", case=case, kind="start", starts_at=at,
                            ends_at=at + dt.timedelta(hours=1), place="Rønde Skole")


def proposed_handover(world, case: Case):
    from tovholder.pathway.services import handover_propose

    return handover_propose(actor=lars(world), basis="lead", case=case, to_user=world.user("maria"),
                            to_unit=world.unit("706:ppr"), note="Maria overtager; PPR står for det meste nu.")


def complete_referral(world, case: Case):
    from tovholder.consultation import referrals as ref

    r = ref.referral_prepare(actor=lars(world), basis="lead", case=case, receiver_unit=world.unit("bua"))
    return ref.referral_update(
        actor=lars(world), basis="lead", referral=r, expected_version=r.version,
        question="Mistanke om ADHD; vi beder om udredning.", tried="Struktur i klassen: lidt bedre.",
        ppr_assessment="PPV: markante vanskeligheder med opmærksomhed.")


def sent_referral(world, case: Case):
    from tovholder.consultation import referrals as ref

    return ref.referral_send(actor=lars(world), basis="lead", referral=complete_referral(world, case))


def asked(world, case: Case):
    from tovholder.access import ConsultationBasis
    from tovholder.consultation import services as svc

    return svc.consultation_ask(actor=lars(world), basis=ConsultationBasis.ASKER, advising_unit=world.unit("bua"),
                                asking_unit=world.unit("706:school:0"), target_group="adhd", subject="Uro i timerne",
                                text="Hvad kan vi gøre i klassen?", case=case)


# --- One scenario per gated service: build → (case, the call) ---------------------------------

Scenario = Callable[[object], tuple[Case, Callable[[], object]]]


def _committee(name: str) -> Scenario:
    def build(world):
        from tovholder.committee import services as c
        from tovholder.committee.models import DecisionKind, ExemptionGround

        if name == "committee_return_case":
            case = pathway(world)
            return case, lambda: c.committee_return_case(actor=lars(world), case=case, reason="Forløbet går i stå.")
        case = consented(world)
        if name in ("minute_update", "minute_approve", "meeting_minutes_approve"):
            meeting, minute = decided(world, case)
            return case, {
                "minute_update": lambda: c.minute_update(actor=karen(world), basis="committee", minute=minute,
                                                         text="Fælles forløb. Lars Nielsen er tovholder."),
                "minute_approve": lambda: c.minute_approve(actor=karen(world), basis="committee", minute=minute),
                "meeting_minutes_approve": lambda: c.meeting_minutes_approve(actor=karen(world), meeting=meeting),
            }[name]
        item = agenda_item(case)
        if name == "unit_note_save":
            return case, lambda: c.unit_note_save(actor=staff(world, "karen", "706:ppr"), basis="committee",
                                                  item=item, unit=world.unit("706:ppr"), text="PPR kender barnet.")
        if name == "case_exempt_from_deadlines":
            return case, lambda: c.case_exempt_from_deadlines(actor=karen(world), basis="committee", item=item,
                                                              ground=ExemptionGround.MEDICAL, reason="Indlagt.")
        meeting = todays_meeting(world)
        if name == "decision_record":
            return case, lambda: c.decision_record(
                actor=karen(world), basis="committee", item=item, meeting=meeting, kind=DecisionKind.PATHWAY,
                conclusion="Fælles forløb.", lead_user=world.user("lars"), lead_unit=world.unit("706:school:0"))
        if name == "item_postpone":
            return case, lambda: c.item_postpone(actor=karen(world), basis="committee", item=item, meeting=meeting,
                                                 reason="Vi mangler skolens beskrivelse.")
        raise KeyError(name)

    return build


def _pathway(name: str) -> Scenario:
    def build(world):
        from tests.pathway.helpers import record
        from tovholder.pathway import services as p
        from tovholder.pathway.models import Intervention, Sector

        if name == "pathway_start":
            case = consented(world)
            return case, lambda: p.pathway_start(actor=SYSTEM, basis="committee", case=case,
                                                 lead_user=world.user("lars"), lead_unit=world.unit("706:school:0"))
        if name == "deadline_explain":
            case = pathway(world, at=timezone.now() - dt.timedelta(days=40))
            from tovholder.deadlines.milestones import case_milestones

            due = next(m.due for m in case_milestones(case, timezone.localdate()) if m.clock == "start_meeting")
            return case, lambda: p.deadline_explain(actor=lars(world), basis="lead", case=case, clock="start_meeting",
                                                    due_on=due, text="Familien var bortrejst i fire uger.")
        case = pathway(world)
        maria = staff(world, "maria", "706:ppr")
        if name in ("handover_accept", "handover_decline", "handover_withdraw"):
            handover = proposed_handover(world, case)
            return case, {
                "handover_accept": lambda: p.handover_accept(actor=maria, handover=handover),
                "handover_decline": lambda: p.handover_decline(actor=maria, handover=handover, note="Ikke nu."),
                "handover_withdraw": lambda: p.handover_withdraw(actor=lars(world), basis="lead", handover=handover),
            }[name]
        if name == "handover_propose":
            return case, lambda: proposed_handover(world, case)
        if name == "meeting_schedule":
            return case, lambda: scheduled(world, case)
        if name in ("meeting_cancel", "child_statement_record"):
            meeting = scheduled(world, case)
            return case, {
                "meeting_cancel": lambda: p.meeting_cancel(actor=lars(world), basis="lead", meeting=meeting,
                                                           reason="Barnet er sygt."),
                "child_statement_record": lambda: p.child_statement_record(
                    actor=lars(world), basis="lead", meeting=meeting, text="Jeg vil gerne have mere ro."),
            }[name]
        if name == "meeting_record":
            meeting = scheduled(world, case, hours=-2)
            return case, lambda: p.meeting_record(actor=lars(world), basis="lead", meeting=meeting, record=record())
        if name in ("intervention_add", "intervention_update"):
            def add():
                return p.intervention_add(actor=lars(world), basis="lead", case=case, sector=Sector.PPR,
                                          description="Samtaler med PPR", kind=Intervention.Kind.SUPPORTING, step=1)
            if name == "intervention_add":
                return case, add
            iv = add()
            return case, lambda: p.intervention_update(
                actor=lars(world), basis="lead", intervention=iv, expected_version=iv.version,
                status=Intervention.Status.ACTIVE, start_on=timezone.localdate(), end_on=None)
        if name == "agreement_add":
            return case, lambda: p.agreement_add(actor=lars(world), basis="lead", case=case,
                                                 what="Sparring med BUA", responsible=Sector.PPR)
        raise KeyError(name)

    return build


def _consultation(name: str) -> Scenario:
    def build(world):
        from tovholder.access import ConsultationBasis
        from tovholder.consultation import referrals as ref
        from tovholder.consultation import services as svc

        case = pathway(world)
        if name == "consultation_ask":
            return case, lambda: asked(world, case)
        if name == "consultation_reply":
            c = asked(world, case)
            return case, lambda: svc.consultation_reply(actor=staff(world, "jonas", "bua"),
                                                        basis=ConsultationBasis.ADVISOR, consultation=c,
                                                        text="Prøv faste pauser.")
        if name == "slot_book":
            series = svc.slot_series_publish(
                actor=staff(world, "jonas", "bua"), advising_unit=world.unit("bua"), target_group="adhd",
                first_starts_at=timezone.now() + dt.timedelta(days=2), duration_minutes=60, occurrences=1,
                capacity=2, video_link="https://video.example.dk/samrum")
            slot = series.slots.get()
            return case, lambda: svc.slot_book(actor=lars(world), basis=ConsultationBasis.ASKER, slot=slot,
                                               asking_unit=world.unit("706:school:0"), subject="Drøftelse",
                                               text="Skal vi henvise?", case=case)
        if name == "referral_prepare":
            return case, lambda: ref.referral_prepare(actor=lars(world), basis="lead", case=case,
                                                      receiver_unit=world.unit("bua"))
        if name == "referral_send":
            r = complete_referral(world, case)
            return case, lambda: ref.referral_send(actor=lars(world), basis="lead", referral=r)
        if name == "referral_answer_record":
            r = sent_referral(world, case)
            return case, lambda: ref.referral_answer_record(actor=lars(world), basis="lead", referral=r,
                                                            outcome="accepted", expected_wait_weeks=12)
        if name == "rejection_follow_up_complete":
            r = sent_referral(world, case)
            answer = ref.referral_answer_record(actor=lars(world), basis="lead", referral=r, outcome="rejected",
                                                reason="municipal_efforts", text="Beskriv skolens indsats.")
            return case, lambda: ref.rejection_follow_up_complete(actor=lars(world), basis="lead",
                                                                  follow_up=answer.follow_up,
                                                                  next_steps="Aftalt med familien.")
        if name == "referral_update":
            r = ref.referral_prepare(actor=lars(world), basis="lead", case=case, receiver_unit=world.unit("bua"))
            return case, lambda: ref.referral_update(actor=lars(world), basis="lead", referral=r,
                                                     expected_version=None, question="Mistanke om angst.")
        if name == "admission_discharge":
            a = ref.admission_record(actor=lars(world), basis="lead", case=case, unit=world.unit("bua"),
                                     admitted_on=timezone.localdate())
            return case, lambda: ref.admission_discharge(actor=lars(world), basis="lead", admission=a,
                                                         discharged_on=timezone.localdate())
        if name == "admission_record":
            return case, lambda: ref.admission_record(actor=lars(world), basis="lead", case=case,
                                                      unit=world.unit("bua"), admitted_on=timezone.localdate())
        raise KeyError(name)

    return build


def scenario_for(service: str) -> Scenario | None:
    module, name = service.split(":")
    app = module.split(".")[0]
    factory = {"committee": _committee, "pathway": _pathway, "consultation": _consultation}.get(app)
    return factory(name) if factory else None


KNOWN = {
    "committee": {"unit_note_save", "decision_record", "item_postpone", "case_exempt_from_deadlines",
                  "minute_update", "minute_approve", "meeting_minutes_approve", "committee_return_case"},
    "pathway": {"pathway_start", "handover_propose", "handover_accept", "handover_decline", "handover_withdraw",
                "meeting_schedule", "meeting_cancel", "child_statement_record", "meeting_record",
                "intervention_add", "intervention_update", "deadline_explain", "agreement_add"},
    "consultation": {"consultation_ask", "consultation_reply", "slot_book", "referral_prepare", "referral_send",
                     "referral_answer_record", "rejection_follow_up_complete", "admission_record",
                     "referral_update", "admission_discharge"},
}


@contextlib.contextmanager
def consent_lapsed(case: Case):
    """Every complete consent round of the case reaches its end date today."""
    rounds = ConsentRound.objects.filter(case=case, status=ConsentRound.Status.COMPLETE)
    saved = list(rounds.values_list("pk", "expires_on"))
    assert saved, "the scenario's case has no consent to let lapse"
    rounds.update(expires_on=timezone.localdate())
    try:
        yield
    finally:
        for pk, expires_on in saved:
            ConsentRound.objects.filter(pk=pk).update(expires_on=expires_on)


def writes(case: Case) -> int:
    return AuditEvent.objects.filter(case=case).exclude(action__in=["view", "search", "export"]).count()


def test_every_gated_service_has_a_gate_test():
    services = gated_services()
    assert len(services) >= 20, services  # the discovery itself works
    missing = [s for s in services if s.split(":")[1] not in KNOWN.get(s.split(".")[0], set())]
    assert not missing, f"gated services without a gate test in {__file__}: {missing}"


@pytest.fixture
def working_morning():
    """10:00 on the next working day (after the world was built, so memberships hold)."""
    import time_machine

    from tovholder.deadlines.workdays import COPENHAGEN, DEFAULT_CALENDAR

    day = DEFAULT_CALENDAR.next_working_day(timezone.localdate())
    with time_machine.travel(dt.datetime.combine(day, dt.time(10, 0), tzinfo=COPENHAGEN), tick=False):
        yield


@pytest.mark.parametrize("service", gated_services())
def test_the_service_refuses_without_valid_consent_and_works_with_it(service, world, working_morning, told):
    build = scenario_for(service)
    assert build is not None, f"no scenario for {service}"
    case, call = build(world)
    before = writes(case)
    with consent_lapsed(case):
        refused = None
        try:
            call()
        except ConsentRequired as exc:
            refused = exc
        except Exception as exc:  # noqa: BLE001 - shown in the failure
            # A referral names every missing item, consent among them, before it sends.
            if not (type(exc).__name__ == "IncompleteReferral" and "samtykke" in str(exc)):
                raise
            refused = exc
        assert refused is not None, f"{service} acted on a case without valid consent"
    assert writes(case) == before, f"{service} wrote to the case although it was refused"
    call()  # with valid consent the same call goes through
