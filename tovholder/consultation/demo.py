"""Demo data for consultation and referral onwards, made with the real services (the demo
loader wires these in).

    demo_samrum_publish(demo, *, weeks=8) -> list[SlotSeries]
        BUA's advisory unit (jonas) publishes fixed consultation times ("Samrum"):
        ADHD on Wednesdays 08:30–09:30 and anxiety/depression on Thursdays 13:00–14:00,
        3 seats each, for `weeks` weeks from next week, with a video link.
    demo_anonymous_consultation(demo) -> Consultation
        The health visitor (ida) asks BUA anonymously about a 12-year-old's eating; BUA
        answers (the asker sees "Nyt svar" on the Sparring page).
    demo_consultation_answered(demo, case) -> Consultation
        The case's lead professional books the next ADHD time for the case and BUA records
        the advice ("referral recommended"). Needs valid consent covering BUA and a lead.
    demo_referral_rejected(demo, case) -> Referral
        The lead prepares a referral to BUA from the case (what was tried, PPR's
        assessment, the GP as formal referrer), sends it as MedCom, and registers BUA's
        rejection: the team and family are told and the lead has 5 working days to agree
        the next steps with the family (shows in the case's deadlines).
    demo_referral_accepted(demo, case, *, admitted=True) -> Referral
        A referral to the paediatric ward accepted with 6 weeks' expected wait; with
        `admitted`, an admission recorded yesterday.

`demo` is the DemoRegion of tovholder/demo/region.py; `case` a Case in a joint pathway
(consent complete, lead professional appointed), e.g. after the pathway's demo functions.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from tovholder.audit.actor import Actor
from tovholder.cases.models import Case, CaseTeamMember, TeamRole
from tovholder.consultation import referrals as ref
from tovholder.consultation import services as svc
from tovholder.consultation.models import Consultation, Referral, SlotSeries
from tovholder.deadlines.workdays import COPENHAGEN

VIDEO = "https://video.rm.dk/samrum/{group}"


def _advisor(demo) -> Actor:
    return Actor(user=demo.users["jonas"], unit=demo.units["bua"])


def _lead(case: Case) -> Actor:
    member = CaseTeamMember.objects.select_related("user", "unit").get(case=case, role=TeamRole.LEAD,
                                                                       ended_at__isnull=True)
    return Actor(user=member.user, unit=member.unit)


def _next_weekday(weekday: int, hour: int, minute: int) -> dt.datetime:
    today = timezone.localdate()
    days = (weekday - today.weekday()) % 7 or 7
    day = today + dt.timedelta(days=days)
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=COPENHAGEN)


def demo_samrum_publish(demo, *, weeks: int = 8) -> list[SlotSeries]:
    out = []
    for group, weekday, hour, minute in (("adhd", 2, 8, 30), ("anxiety_depression", 3, 13, 0)):
        out.append(svc.slot_series_publish(
            actor=_advisor(demo), advising_unit=demo.units["bua"], target_group=group,
            first_starts_at=_next_weekday(weekday, hour, minute), duration_minutes=60, occurrences=weeks,
            capacity=3, video_link=VIDEO.format(group=group), idempotency_key=f"demo-samrum-{group}"))
    return out


def demo_anonymous_consultation(demo) -> Consultation:
    ida = Actor(user=demo.users["ida"], unit=demo.units["706:health_visitors"])
    consultation = svc.consultation_ask(
        actor=ida, basis="consultation_asker", advising_unit=demo.units["bua"],
        asking_unit=demo.units["706:health_visitors"], target_group="eating_disorders",
        subject="Spisning og vægttab, pige 12 år",
        text="En pige på 12 år har tabt sig over sommeren og springer frokosten over i skolen. Forældrene er "
             "bekymrede. Hvornår bør vi tænke spiseforstyrrelse, og hvad kan sundhedsplejen gøre nu?",
        idempotency_key="demo-anonymous-1")
    if consultation.status == Consultation.Status.OPEN:
        svc.consultation_reply(
            actor=_advisor(demo), basis="consultation_advisor", consultation=consultation,
            text="Vej og mål hende, og tal med pigen alene om mad og krop. Ved vægttab over 10 % eller "
                 "ophørt menstruation: egen læge samme uge. Ellers opfølgning hos sundhedsplejen om 3 uger.",
            recommendation="municipal", idempotency_key="demo-anonymous-1-answer")
    consultation.refresh_from_db()
    return consultation


def demo_consultation_answered(demo, case: Case) -> Consultation:
    lead = _lead(case)
    from tovholder.consultation.selectors import upcoming_slots

    slot = upcoming_slots(target_group="adhd", advising_unit=demo.units["bua"]).filter(free__gt=0).first()
    if slot is None:
        demo_samrum_publish(demo)
        slot = upcoming_slots(target_group="adhd", advising_unit=demo.units["bua"]).filter(free__gt=0).first()
    consultation = svc.slot_book(
        actor=lead, basis="lead", slot=slot, asking_unit=lead.unit, case=case,
        subject="Uro og koncentration — skal vi henvise?",
        text="Uro i timerne og konflikter i frikvartererne siden 2. klasse. Struktur og pauser har hjulpet lidt. "
             "Er en henvisning til udredning relevant, eller er der mere, skolen og PPR kan prøve først?",
        idempotency_key=f"demo-samrum-case-{case.pk}")
    if consultation.status == Consultation.Status.OPEN:
        svc.consultation_reply(
            actor=_advisor(demo), basis="consultation_advisor", consultation=consultation,
            text="Billedet passer med ADHD. Prøv fast visuel dagsplan og aftalte pauser i 4 uger, og få PPR til at "
                 "lave en PPV. Er der ikke bedring, anbefaler vi henvisning til udredning med PPV og skolens "
                 "beskrivelse af indsatserne.",
            recommendation="referral", idempotency_key=f"demo-samrum-case-{case.pk}-answer")
    consultation.refresh_from_db()
    return consultation


def _complete_referral(case: Case, receiver, *, key: str) -> Referral:
    lead = _lead(case)
    referral = ref.referral_prepare(actor=lead, basis="lead", case=case, receiver_unit=receiver,
                                    idempotency_key=key)
    if not referral.is_editable:
        return referral
    tried = referral.tried or "- Fast visuel dagsplan og aftalte pauser (skolen)."
    tried = tried.replace("Effekt: ", "Effekt: lidt bedre i timerne, fortsat konflikter i frikvartererne.")
    referral = ref.referral_update(
        actor=lead, basis="lead", referral=referral, expected_version=referral.version,
        question="Vi beder om udredning for ADHD. Vanskelighederne har stået på i to år trods indsatserne.",
        tried=tried, ppr_assessment="PPV: normal begavelse; markante vanskeligheder med opmærksomhed og impulsstyring.",
        formal_referrer_name=referral.formal_referrer_name or "Anne Mortensen")
    return ref.referral_send(actor=lead, basis="lead", referral=referral)


def demo_referral_rejected(demo, case: Case) -> Referral:
    referral = _complete_referral(case, demo.units["bua"], key=f"demo-referral-bua-{case.pk}")
    if referral.status == Referral.Status.SENT:
        ref.referral_answer_record(
            actor=_lead(case), basis="lead", referral=referral, outcome="rejected", reason="municipal_efforts",
            text="Beskriv skolens indsatser og deres effekt over mindst 8 uger, og henvis derefter igen.")
    referral.refresh_from_db()
    return referral


def demo_referral_accepted(demo, case: Case, *, admitted: bool = True) -> Referral:
    referral = _complete_referral(case, demo.units["paediatric"], key=f"demo-referral-ward-{case.pk}")
    if referral.status == Referral.Status.SENT:
        ref.referral_answer_record(actor=_lead(case), basis="lead", referral=referral, outcome="accepted",
                                   expected_wait_weeks=6)
    if admitted:
        ref.admission_record(actor=_lead(case), basis="lead", case=case, unit=demo.units["paediatric"],
                             admitted_on=timezone.localdate() - dt.timedelta(days=1), referral=referral)
    referral.refresh_from_db()
    return referral
