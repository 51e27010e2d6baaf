"""Referral onwards (to BUA or the paediatric ward): prepare, check, send, answer.

More than 30 % of GPs' referrals to BUA were rejected in 2019 — missing information on
what the municipality had tried, PPR not involved, child outside the target group — and
only the referrer heard of it (seed 001 #A, seed 003). So:

- a referral is prepared from the case, and a completeness check refuses to send it
  while anything the receiver needs is missing, naming each missing item;
- it goes as a MedCom CareCommunication (category `regarding-referral`) that must pass
  our own validator (`tovholder.medcom.interpret`) before it leaves;
- a rejection is told to the whole case team and the family, and gives the lead
  professional a task with a deadline: agree the next steps with the family within
  5 working days.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from tovholder import medcom
from tovholder.audit.actor import Actor
from tovholder.audit.models import AuditEvent
from tovholder.audit.services import audit_record
from tovholder.cases import notify
from tovholder.cases.models import Case, CaseTeamMember, TeamRole
from tovholder.cases.services import lock_case
from tovholder.consent.gate import processing_allowed, require_processing_allowed
from tovholder.consultation.models import (
    REFERRAL_RECEIVER_KINDS,
    Admission,
    Consultation,
    Priority,
    Referral,
    ReferralAnswer,
    ReferralMessage,
    RejectionFollowUp,
    RejectionReason,
)
from tovholder.deadlines.services import case_refresh_deadline
from tovholder.deadlines.workdays import calendar_for
from tovholder.organisations.models import Unit, User

REJECTION_CLOCK = "referral_rejection_next_steps"
REJECTION_CLOCK_LABEL = "Næste skridt aftalt med familien efter afvist henvisning"
FOLLOW_UP_WORKING_DAYS = 5
# Hospital departments take referrals from physicians: the child's own GP is the formal referrer.
GP_REQUIRED_FOR = frozenset({"bua", "paediatric_ward"})
RECEIVER_LABELS = {"bua": "Børne- og Ungdomspsykiatrien", "paediatric_ward": "børne- og ungeafdelingen"}
EDITABLE_FIELDS = ("priority", "question", "tried", "ppr_assessment", "ppr_missing_reason",
                   "formal_referrer_unit", "formal_referrer_name")


class IncompleteReferral(ValidationError):
    """The referral lacks what the receiver needs; `missing` names each item in Danish."""

    def __init__(self, missing: list[str]):
        self.missing = missing
        super().__init__(["Henvisningen kan ikke sendes. Der mangler:"] + [f"– {m}" for m in missing],
                         code="incomplete")


class StaleReferral(ValidationError):
    pass


def _lock_referral(referral: Referral | int) -> tuple[Case, Referral]:
    pk = referral.pk if isinstance(referral, Referral) else referral
    case = lock_case(Referral.objects.values_list("case_id", flat=True).get(pk=pk))
    referral = Referral.objects.select_for_update(of=("self",)).select_related(
        "receiver_unit", "formal_referrer_unit", "prepared_unit", "prepared_by").get(pk=pk)
    return case, referral


def _check_version(referral: Referral, expected_version: int | None) -> None:
    if expected_version is not None and referral.version != expected_version:
        raise StaleReferral("Henvisningen er ændret af en anden, mens du arbejdede. Indlæs siden igen; "
                            "dine ændringer er ikke gemt, så kopiér dem gerne først.")


def _bump(referral: Referral, *fields: str) -> None:
    referral.version += 1
    referral.save(update_fields=[*fields, "version"])


def detail_url(referral: Referral) -> str:
    return reverse("consultation:referral_detail", args=[referral.case_id, referral.pk])


def open_team(case: Case) -> list[User]:
    return [m.user for m in CaseTeamMember.objects.filter(case=case, ended_at__isnull=True).select_related("user")]


def catchers(case: Case) -> list[User]:
    """Who must hear of an answer: the whole open team — or, should the case have nobody on
    it, the inbox keepers of its municipality, so a rejection never lands with no one."""
    team = open_team(case)
    if team:
        return team
    from tovholder.organisations.models import Membership

    return [m.user for m in Membership.objects.active().filter(
        unit__kind=Unit.Kind.SINGLE_ENTRY, unit__municipality_id=case.municipality_id,
        role=Membership.Role.INBOX_KEEPER).select_related("user")]


def lead_member(case: Case) -> CaseTeamMember | None:
    return (CaseTeamMember.objects.filter(case=case, role=TeamRole.LEAD, ended_at__isnull=True)
            .select_related("user", "unit").first())


def municipal_entry(case: Case) -> Unit | None:
    """The municipality's single entry: the MedCom address referrals onwards are sent from."""
    return Unit.objects.filter(kind=Unit.Kind.SINGLE_ENTRY, municipality_id=case.municipality_id).first()


@transaction.atomic
def referral_prepare(
    *, actor: Actor, basis: str, case: Case, receiver_unit: Unit, from_consultation: Consultation | None = None,
    idempotency_key: str = "",
) -> Referral:
    """A draft referral, prefilled from the case: the plan's interventions (what has been
    tried), the GP who referred the child, and the advice from a consultation."""
    from tovholder.consultation.selectors import municipal_efforts_text

    user = actor.user
    if user is None or actor.unit is None:
        raise ValidationError("En henvisning forberedes af en fagperson.")
    case = lock_case(case)
    if not case.is_open:
        raise ValidationError("Forløbet er afsluttet.")
    require_processing_allowed(case)
    if idempotency_key:
        existing = Referral.objects.filter(prepared_by=user, idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing
    if receiver_unit.kind not in REFERRAL_RECEIVER_KINDS:
        raise ValidationError({"receiver_unit": "Vælg Børne- og Ungdomspsykiatrien eller en børne- og ungeafdeling."})
    pending = Referral.objects.filter(case=case, receiver_unit=receiver_unit,
                                      status__in=[Referral.Status.DRAFT, Referral.Status.SENT,
                                                  Referral.Status.MORE_INFO]).first()
    if pending is not None:
        return pending
    question = ""
    if from_consultation is not None:
        answers = from_consultation.messages.filter(kind="answer").order_by("created_at")
        advice = "\n".join(m.text for m in answers)
        question = (f"Drøftet i sparring med {from_consultation.advising_unit} "
                    f"({timezone.localtime(from_consultation.asked_at):%d.%m.%Y}), {from_consultation.reference}.\n"
                    f"Rådgivningen: {advice}\n\nSpørgsmål til modtageren: ")
    gp = case.referrer_unit if case.referrer_unit and case.referrer_unit.kind == Unit.Kind.GP_PRACTICE else None
    referral = Referral(
        case=case, receiver_unit=receiver_unit, from_consultation=from_consultation, question=question,
        tried=municipal_efforts_text(case), formal_referrer_unit=gp, prepared_by=user, prepared_unit=actor.unit,
        idempotency_key=idempotency_key[:64],
    )
    referral.full_clean()
    referral.save()
    audit_record(actor=actor, action=AuditEvent.Action.CREATE, basis=basis, case=case, obj=referral,
                 summary=f"Henvisning til {receiver_unit} forberedt")
    return referral


@transaction.atomic
def referral_update(*, actor: Actor, basis: str, referral: Referral | int, expected_version: int | None,
                    **fields) -> Referral:
    """Change the draft (or answer the receiver's request for more information)."""
    case, referral = _lock_referral(referral)
    require_processing_allowed(case)
    _check_version(referral, expected_version)
    if not referral.is_editable:
        raise ValidationError("Henvisningen er sendt og kan ikke ændres.")
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"not editable: {sorted(unknown)}")
    for name, value in fields.items():
        setattr(referral, name, value.strip() if isinstance(value, str) else value)
    if referral.formal_referrer_unit is not None and referral.formal_referrer_unit.kind != Unit.Kind.GP_PRACTICE:
        raise ValidationError({"formal_referrer_unit": "Den formelle henviser skal være en lægepraksis."})
    referral.full_clean()
    _bump(referral, *fields)
    audit_record(actor=actor, action=AuditEvent.Action.CHANGE, basis=basis, case=case, obj=referral,
                 summary=f"Henvisning til {referral.receiver_unit} ændret")
    return referral


def _author(actor: Actor) -> tuple[str, str, str]:
    user = actor.user
    name = user.get_full_name() if user else ""
    role = (user.title if user else "") or (actor.unit.get_kind_display() if actor.unit else "")
    phone = (user.phone if user else "") or (actor.unit.phone if actor.unit else "")
    return name, role, phone


def referral_missing(referral: Referral, *, actor: Actor | None = None) -> list[str]:
    """What the receiver needs and the referral lacks, each item named in Danish. Empty:
    complete. `actor` (the one who would send it) adds the sender's own contact details."""
    case = referral.case
    receiver = referral.receiver_unit
    missing: list[str] = []
    if not referral.question.strip():
        missing.append("Henvisningsårsag og spørgsmål til modtageren")
    if not referral.tried.strip():
        missing.append("Hvad kommunen har afprøvet (indsatserne) og med hvilken effekt")
    if not (referral.ppr_assessment.strip() or referral.ppr_missing_reason.strip()):
        missing.append("PPR's vurdering – eller en begrundelse for, at der ikke er en")
    if not processing_allowed(case, party=receiver.kind):
        missing.append(f"Gyldigt samtykke fra familien, der dækker {RECEIVER_LABELS.get(receiver.kind, receiver)}")
    if receiver.kind in GP_REQUIRED_FOR and referral.formal_referrer_unit is None:
        missing.append("Egen læge som formel henviser")
    if not (receiver.sor_id and receiver.gln):
        missing.append(f"Modtagerens MedCom-adresse (SOR-id og EAN-nummer for {receiver})")
    entry = municipal_entry(case)
    if entry is None or not (entry.sor_id and entry.gln):
        missing.append("Kommunens MedCom-adresse (indgangens SOR-id og EAN-nummer)")
    if actor is not None:
        name, role, phone = _author(actor)
        if not phone:
            missing.append("Telefonnummer på dig eller din enhed (modtageren skal kunne ringe tilbage)")
        if not name:
            missing.append("Dit navn")
    return missing


def _org(unit: Unit) -> medcom.Org:
    return medcom.Org(name=unit.name, sor=unit.sor_id, ean=unit.gln or None)


def _endpoint(unit: Unit) -> str:
    from tovholder.medcom.codes import SOR_ENDPOINT_PREFIX

    return SOR_ENDPOINT_PREFIX + unit.sor_id


def referral_text(referral: Referral) -> str:
    """The referral as the receiver reads it (one MedCom text segment)."""
    case = referral.case
    lead = lead_member(case)
    gp = referral.formal_referrer_unit
    parts = [
        f"Henvisning fra {case.municipality} Kommune (fælles forpligtende forløb {case.reference}).",
        f"Prioritet: {referral.get_priority_display()}.",
        "",
        "Henvisningsårsag og spørgsmål:",
        referral.question.strip(),
        "",
        "Hvad kommunen har afprøvet, og med hvilken effekt:",
        referral.tried.strip(),
        "",
        "PPR's vurdering:",
        referral.ppr_assessment.strip() or f"Der er ingen PPR-vurdering: {referral.ppr_missing_reason.strip()}",
        "",
        f"Samtykke: forældremyndighedsindehaverne har givet samtykke til udveksling af oplysninger med "
        f"{RECEIVER_LABELS.get(referral.receiver_unit.kind, referral.receiver_unit)}.",
    ]
    if gp is not None:
        parts.append(f"Formel henviser: {referral.formal_referrer_name or 'egen læge'}, {gp.name}"
                     + (f" (SOR {gp.sor_id})" if gp.sor_id else "") + ".")
    if lead is not None:
        phone = lead.user.phone or lead.unit.phone
        parts.append(f"Indsatsansvarlig (tovholder): {lead.user.get_full_name()}, {lead.unit}"
                     + (f", tlf. {phone}" if phone else "") + ".")
    if referral.from_consultation_id:
        parts.append(f"Forudgående sparring: {referral.from_consultation.reference}.")
    return "\n".join(parts)


def referral_bundle(*, actor: Actor, referral: Referral, now: dt.datetime, thread_uuid: str, header_uuid: str,
                    bundle_uuid: str) -> dict:
    """The CareCommunication bundle (FHIR JSON dict), checked by our own validator.

    Raises ValidationError when our validator refuses it: nothing invalid leaves."""
    case = referral.case
    child = case.child
    entry = municipal_entry(case)
    name, role, phone = _author(actor)
    try:
        bundle = medcom.build_care_communication(
            activity="new-message",
            sender=_org(entry),
            receiver=_org(referral.receiver_unit),
            sender_endpoint=_endpoint(entry),
            receiver_endpoint=_endpoint(referral.receiver_unit),
            patient=medcom.Patient(cpr=child.cpr, is_replacement_cpr=False, family=child.family_name,
                                   given=tuple(child.given_name.split())),
            thread_id=f"urn:uuid:{thread_uuid}",
            category="regarding-referral",
            topic=f"Henvisning: {case.reference}",
            priority=referral.priority,
            new_segments=[referral_text(referral)],
            bundle_id=bundle_uuid,
            header_id=header_uuid,
            now=now,
            author_name=name,
            author_role=role,
            author_phone=phone,
        )
    except ValueError as exc:
        raise ValidationError(f"MedCom-beskeden kunne ikke dannes: {exc}") from None
    body = medcom.serialize(bundle, "json")
    try:
        medcom.interpret(medcom.parse_bundle(body, medcom.content_type_for("json")))
    except medcom.MessageRejected as exc:
        problems = "; ".join(p.text for p in getattr(exc, "problems", [])[:5]) or str(exc)
        raise ValidationError(f"MedCom-beskeden bestod ikke vores egen validering: {problems}") from None
    return bundle


def _hand_to_outbox(*, actor: Actor, referral: Referral, bundle: dict) -> str:
    """Give the message to the inbox's MedCom outbox, when it offers one.

    Interface expected from tovholder.inbox: `outbound_referral_send(*, actor, case,
    entry, receiver, bundle) -> OutboundMessage` (queued inside our transaction, delivered
    by the worker). Returns the outbox row's id, or "" when the inbox has no such service
    (the bundle is then kept on the ReferralMessage)."""
    try:
        from tovholder.inbox import services as inbox_services
    except ImportError:
        return ""
    send = getattr(inbox_services, "outbound_referral_send", None)
    if send is None:
        return ""
    row = send(actor=actor, case=referral.case, entry=municipal_entry(referral.case),
               receiver=referral.receiver_unit, bundle=bundle)
    return str(getattr(row, "pk", "") or "")


@transaction.atomic
def referral_send(*, actor: Actor, basis: str, referral: Referral | int,
                  expected_version: int | None = None) -> Referral:
    """Send the referral, if complete, as a MedCom CareCommunication to the receiver."""
    case, referral = _lock_referral(referral)
    _check_version(referral, expected_version)
    if not referral.is_editable:
        raise ValidationError("Henvisningen er allerede sendt.")
    missing = referral_missing(referral, actor=actor)
    if missing:
        raise IncompleteReferral(missing)
    require_processing_allowed(case, party=referral.receiver_unit.kind)
    now = timezone.now()
    thread_uuid, header_uuid, bundle_uuid = (str(uuid.uuid4()) for _ in range(3))
    bundle = referral_bundle(actor=actor, referral=referral, now=now, thread_uuid=thread_uuid,
                             header_uuid=header_uuid, bundle_uuid=bundle_uuid)
    outbox_ref = _hand_to_outbox(actor=actor, referral=referral, bundle=bundle)
    ReferralMessage.objects.create(referral=referral, direction=ReferralMessage.Direction.OUT,
                                   thread_id=f"urn:uuid:{thread_uuid}", header_id=header_uuid,
                                   bundle_id=bundle_uuid, bundle=bundle, outbox_ref=outbox_ref, at=now)
    resent = referral.status == Referral.Status.MORE_INFO
    referral.status = Referral.Status.SENT
    referral.sent_at = now
    referral.sent_by = actor.user
    _bump(referral, "status", "sent_at", "sent_by")
    audit_record(actor=actor, action=AuditEvent.Action.EXPORT, basis=basis, case=case, obj=referral,
                 summary=f"Henvisning {'sendt igen' if resent else 'sendt'} til {referral.receiver_unit} (MedCom)")
    notify.tell_staff(actor=actor, case=case, users=[u for u in open_team(case) if u != actor.user],
                      text=f"Henvisning til {referral.receiver_unit} er sendt.", url=detail_url(referral))
    return referral


def long_date(day: dt.date) -> str:
    """«5. april 2027»: how a letter to a family writes a date."""
    from django.utils import formats, translation

    with translation.override("da"):
        return formats.date_format(day, "j. F Y")


def _family_letter(case: Case, referral: Referral, answer: ReferralAnswer,
                   follow_up: RejectionFollowUp | None) -> tuple[str, str]:
    child = case.child.given_name
    receiver = RECEIVER_LABELS.get(referral.receiver_unit.kind, str(referral.receiver_unit))
    lead = lead_member(case)
    contact = ""
    if lead is not None:
        phone = lead.user.phone or lead.unit.phone
        contact = f"{lead.user.get_full_name()} ({lead.unit})" + (f", telefon {phone}" if phone else "")
    if answer.outcome == ReferralAnswer.Outcome.REJECTED:
        subject = f"Henvisningen af {child} til {receiver} er ikke taget imod"
        lines = [
            f"{receiver[:1].upper()}{receiver[1:]} har svaret, at de ikke tager imod henvisningen af {child}.",
            f"Begrundelsen er: {answer.get_reason_display().lower()}.",
        ]
        if answer.text:
            lines.append(f"De skriver: {answer.text}")
        lines += ["", f"I står ikke alene med det. Alle i {child}s team har fået besked."]
        if follow_up is not None and contact:
            lines.append(f"{contact} kontakter jer senest {long_date(follow_up.due_on)} for at aftale de næste "
                         "skridt sammen med jer.")
        elif follow_up is not None:
            lines.append(f"Vi kontakter jer senest {long_date(follow_up.due_on)} for at aftale de næste skridt.")
    else:
        subject = f"Henvisningen af {child} til {receiver} er taget imod"
        wait = (f" Den forventede ventetid er cirka {answer.expected_wait_weeks} uger."
                if answer.expected_wait_weeks is not None else "")
        lines = [f"{receiver[:1].upper()}{receiver[1:]} har taget imod henvisningen af {child}.{wait}",
                 "I hører direkte fra dem om tid og sted."]
        if contact:
            lines.append(f"Har I spørgsmål imens, kan I kontakte {contact}.")
    return subject, "\n".join(lines)


@transaction.atomic
def referral_answer_record(
    *, actor: Actor, basis: str, referral: Referral | int, outcome: str, reason: str = "", text: str = "",
    expected_wait_weeks: int | None = None, answered_on: dt.date | None = None,
    source: str = ReferralAnswer.Source.FORM, medcom_header_id: str = "",
) -> ReferralAnswer:
    """The receiver's answer, recorded on the case. A rejection reaches the whole team and
    the family and gives the lead professional a task due in 5 working days."""
    case, referral = _lock_referral(referral)
    if medcom_header_id:
        existing = ReferralAnswer.objects.filter(medcom_header_id=medcom_header_id).first()
        if existing is not None:
            return existing
    if referral.status not in (Referral.Status.SENT, Referral.Status.MORE_INFO):
        if referral.status in (Referral.Status.ACCEPTED, Referral.Status.REJECTED):
            raise ValidationError("Svaret på henvisningen er allerede registreret.", code="answered")
        raise ValidationError("Henvisningen er ikke sendt endnu.")
    require_processing_allowed(case)
    today = timezone.localdate()
    answered_on = answered_on or today
    text = (text or "").strip()
    if outcome not in ReferralAnswer.Outcome.values:
        raise ValidationError({"outcome": "Vælg svaret."})
    if outcome == ReferralAnswer.Outcome.REJECTED and reason not in RejectionReason.values:
        raise ValidationError({"reason": "Vælg årsagen til afvisningen."})
    if outcome != ReferralAnswer.Outcome.REJECTED:
        reason = ""
    if outcome == ReferralAnswer.Outcome.ACCEPTED and expected_wait_weeks is None:
        raise ValidationError({"expected_wait_weeks": "Skriv den forventede ventetid i uger."})
    if outcome == ReferralAnswer.Outcome.MORE_INFO and not text:
        raise ValidationError({"text": "Skriv, hvilke oplysninger modtageren beder om."})
    if answered_on > today or answered_on < timezone.localtime(referral.sent_at).date():
        raise ValidationError({"answered_on": "Svardatoen skal ligge mellem afsendelsen og i dag."})
    answer = ReferralAnswer(referral=referral, outcome=outcome, reason=reason, text=text,
                            expected_wait_weeks=expected_wait_weeks if outcome == "accepted" else None,
                            answered_on=answered_on, source=source, medcom_header_id=medcom_header_id,
                            registered_by=actor.user)
    answer.full_clean()
    try:
        with transaction.atomic():
            answer.save()
    except IntegrityError:
        raise ValidationError("Svaret på henvisningen er allerede registreret.", code="answered") from None
    referral.status = outcome
    referral.answered_at = timezone.now()
    _bump(referral, "status", "answered_at")
    receiver = referral.receiver_unit
    url = detail_url(referral)
    follow_up = None
    if outcome == ReferralAnswer.Outcome.REJECTED:
        lead = lead_member(case)
        # The clock starts when we learn of the rejection, not on the date the receiver wrote it.
        due = calendar_for(case.municipality).add_working_days(today, FOLLOW_UP_WORKING_DAYS)
        follow_up = RejectionFollowUp(answer=answer, case=case, assigned_to=lead.user if lead else None, due_on=due)
        follow_up.full_clean()
        follow_up.save()
        who = lead.user.get_full_name() if lead else "Den indsatsansvarlige"
        notify.tell_staff(
            actor=actor, case=case, users=catchers(case), url=url,
            text=f"Henvisningen til {receiver} er afvist ({answer.get_reason_display().lower()}). "
                 f"{who} aftaler de næste skridt med familien senest {due:%d.%m.%Y}.")
    elif outcome == ReferralAnswer.Outcome.ACCEPTED:
        notify.tell_staff(actor=actor, case=case, users=catchers(case), url=url,
                          text=f"Henvisningen til {receiver} er accepteret; forventet ventetid "
                               f"{expected_wait_weeks} uger.")
    else:
        lead = lead_member(case)
        users = {u.pk: u for u in ([lead.user] if lead else []) + [referral.prepared_by]}.values()
        notify.tell_staff(actor=actor, case=case, users=list(users), url=url,
                          text=f"{receiver} beder om flere oplysninger til henvisningen.")
    if outcome in (ReferralAnswer.Outcome.REJECTED, ReferralAnswer.Outcome.ACCEPTED):
        subject, body = _family_letter(case, referral, answer, follow_up)
        notify.tell_family(actor=actor, case=case, subject=subject, body=body, reason=f"referral_{outcome}")
    audit_record(actor=actor, action=AuditEvent.Action.CREATE, basis=basis, case=case, obj=answer,
                 summary=f"Svar på henvisning til {receiver}: {answer.get_outcome_display()}"
                 + (f" ({answer.get_reason_display()})" if reason else ""))
    case_refresh_deadline(case=case)
    return answer


@transaction.atomic
def referral_reply_received(*, thread_id: str, header_id: str, text: str, received_at: dt.datetime | None = None,
                            sender: str = "") -> Referral | None:
    """Hook for the inbox: a MedCom message arrived in the thread of a referral we sent.

    Returns None when the thread is not one of ours. The reply is kept on the referral and
    the lead professional (and the one who prepared it) is asked to register the outcome:
    the receiver's free text is not read by machine."""
    sent = ReferralMessage.objects.filter(thread_id=thread_id, direction=ReferralMessage.Direction.OUT).first()
    if sent is None:
        return None
    case, referral = _lock_referral(sent.referral_id)
    try:
        with transaction.atomic():
            ReferralMessage.objects.create(referral=referral, direction=ReferralMessage.Direction.IN,
                                           thread_id=thread_id, header_id=header_id, bundle_id="",
                                           bundle={"text": text[:20000], "sender": sender[:200]},
                                           at=received_at or timezone.now())
    except IntegrityError:
        return referral  # the same message again
    actor = Actor(system="medcom")
    lead = lead_member(case)
    users = {u.pk: u for u in ([lead.user] if lead else []) + [referral.prepared_by]}.values()
    notify.tell_staff(actor=actor, case=case, users=list(users), url=detail_url(referral),
                      text=f"Svar fra {referral.receiver_unit} på henvisningen er modtaget. Registrér udfaldet.")
    audit_record(actor=actor, action=AuditEvent.Action.CREATE, basis="system", case=case, obj=referral,
                 summary=f"MedCom-svar modtaget på henvisning til {referral.receiver_unit}")
    return referral


@transaction.atomic
def rejection_follow_up_complete(*, actor: Actor, basis: str, follow_up: RejectionFollowUp | int,
                                 next_steps: str) -> RejectionFollowUp:
    """The lead professional has agreed the next steps with the family."""
    pk = follow_up.pk if isinstance(follow_up, RejectionFollowUp) else follow_up
    case = lock_case(RejectionFollowUp.objects.values_list("case_id", flat=True).get(pk=pk))
    follow_up = RejectionFollowUp.objects.select_for_update().get(pk=pk)
    if follow_up.done_on is not None:
        return follow_up
    next_steps = (next_steps or "").strip()
    if not next_steps:
        raise ValidationError({"next_steps": "Skriv, hvad I har aftalt med familien."})
    require_processing_allowed(case)
    follow_up.done_on = timezone.localdate()
    follow_up.done_by = actor.user
    follow_up.next_steps = next_steps
    follow_up.full_clean()
    follow_up.save(update_fields=["done_on", "done_by", "next_steps"])
    notify.tell_staff(actor=actor, case=case, users=[u for u in open_team(case) if u != actor.user],
                      text="Næste skridt efter den afviste henvisning er aftalt med familien.",
                      url=reverse("cases:detail", args=[case.pk]))
    audit_record(actor=actor, action=AuditEvent.Action.CHANGE, basis=basis, case=case, obj=follow_up,
                 summary="Næste skridt efter afvist henvisning aftalt med familien")
    case_refresh_deadline(case=case)
    return follow_up


@transaction.atomic
def admission_record(*, actor: Actor, basis: str, case: Case, unit: Unit, admitted_on: dt.date,
                     discharged_on: dt.date | None = None, referral: Referral | None = None) -> Admission:
    """An admission to BUA or a hospital ward (the trial counted them)."""
    case = lock_case(case)
    require_processing_allowed(case)
    if unit.kind not in REFERRAL_RECEIVER_KINDS:
        raise ValidationError({"unit": "Vælg Børne- og Ungdomspsykiatrien eller en børne- og ungeafdeling."})
    if admitted_on > timezone.localdate():
        raise ValidationError({"admitted_on": "Indlæggelsesdatoen kan ikke ligge i fremtiden."})
    if referral is not None and referral.case_id != case.pk:
        raise ValidationError("Henvisningen hører til et andet forløb.")
    existing = Admission.objects.filter(case=case, unit=unit, admitted_on=admitted_on).first()
    if existing is not None:
        return existing
    admission = Admission(case=case, unit=unit, admitted_on=admitted_on, discharged_on=discharged_on,
                          referral=referral, recorded_by=actor.user)
    admission.full_clean()
    admission.save()
    audit_record(actor=actor, action=AuditEvent.Action.CREATE, basis=basis, case=case, obj=admission,
                 summary=f"Indlæggelse registreret: {unit}, {admitted_on:%d.%m.%Y}")
    return admission


@transaction.atomic
def admission_discharge(*, actor: Actor, basis: str, admission: Admission | int, discharged_on: dt.date) -> Admission:
    pk = admission.pk if isinstance(admission, Admission) else admission
    case = lock_case(Admission.objects.values_list("case_id", flat=True).get(pk=pk))
    require_processing_allowed(case)
    admission = Admission.objects.select_for_update().get(pk=pk)
    if discharged_on < admission.admitted_on or discharged_on > timezone.localdate():
        raise ValidationError({"discharged_on": "Udskrivningsdatoen skal ligge mellem indlæggelsen og i dag."})
    admission.discharged_on = discharged_on
    admission.save(update_fields=["discharged_on"])
    audit_record(actor=actor, action=AuditEvent.Action.CHANGE, basis=basis, case=case, obj=admission,
                 summary=f"Udskrivning registreret: {discharged_on:%d.%m.%Y}")
    return admission


def _committee_chairs(case: Case) -> list[User]:
    from tovholder.organisations.models import Membership

    return [m.user for m in Membership.objects.active().filter(
        unit__kind=Unit.Kind.COMMITTEE, unit__municipality_id=case.municipality_id,
        role=Membership.Role.COMMITTEE_CHAIR).select_related("user")]


@transaction.atomic
def _follow_up_remind(pk: int, now: dt.datetime) -> int:
    if RejectionFollowUp.objects.filter(pk=pk, reminded_at__isnull=True, done_on__isnull=True).update(
            reminded_at=now) != 1:
        return 0  # another worker took it, or the lead was quicker
    follow_up = RejectionFollowUp.objects.select_related("case", "answer__referral__receiver_unit").get(pk=pk)
    case = follow_up.case
    lead = lead_member(case)
    users = [lead.user] if lead else catchers(case)
    notify.tell_staff(actor=Actor.job("consultation_follow_up"), case=case, users=users,
                      url=reverse("consultation:follow_up_done", args=[case.pk, pk]),
                      text=f"Husk: aftal de næste skridt med familien efter den afviste henvisning til "
                           f"{follow_up.answer.referral.receiver_unit} senest {follow_up.due_on:%d.%m.%Y}.")
    return 1


@transaction.atomic
def _follow_up_escalate(pk: int, now: dt.datetime) -> int:
    if RejectionFollowUp.objects.filter(pk=pk, escalated_at__isnull=True, done_on__isnull=True).update(
            escalated_at=now) != 1:
        return 0
    follow_up = RejectionFollowUp.objects.select_related("case").get(pk=pk)
    case = follow_up.case
    lead = lead_member(case)
    users = {u.pk: u for u in _committee_chairs(case) + ([lead.user] if lead else [])}.values()
    notify.tell_staff(actor=Actor.job("consultation_follow_up"), case=case, users=list(users),
                      url=reverse("cases:detail", args=[case.pk]),
                      text=f"Fristen {follow_up.due_on:%d.%m.%Y} for at aftale de næste skridt med familien efter "
                           f"en afvist henvisning er overskredet ({case.reference}).")
    return 1


def rejection_follow_up_sweep(*, limit: int = 200) -> int:
    """Background job: remind the lead the day before the follow-up after a rejection is due,
    and tell the committee's chair when it is overdue — each once, however many workers run."""
    today = timezone.localdate()
    now = timezone.now()
    open_ones = RejectionFollowUp.objects.filter(done_on__isnull=True)
    handled = 0
    for pk in open_ones.filter(reminded_at__isnull=True, due_on__lte=today + dt.timedelta(days=1)).order_by(
            "due_on").values_list("pk", flat=True)[:limit]:
        handled += _follow_up_remind(pk, now)
    for pk in open_ones.filter(escalated_at__isnull=True, due_on__lt=today).order_by(
            "due_on").values_list("pk", flat=True)[:limit]:
        handled += _follow_up_escalate(pk, now)
    return handled


def rejection_milestones(case: Case, rules, today: dt.date) -> list:
    """Milestone provider (registered in ConsultationConfig.ready): each rejection's
    follow-up task, due 5 working days after we learnt of it."""
    from tovholder.deadlines.milestones import Milestone

    return [Milestone(clock=REJECTION_CLOCK, due=due, met_on=done, exempt=False)
            for due, done in RejectionFollowUp.objects.filter(case_id=case.pk).values_list("due_on", "done_on")]


__all__ = [
    "FOLLOW_UP_WORKING_DAYS", "IncompleteReferral", "Priority", "REJECTION_CLOCK", "StaleReferral",
    "admission_discharge", "admission_record", "referral_answer_record", "referral_missing", "referral_prepare",
    "referral_reply_received", "referral_send", "referral_update", "rejection_follow_up_complete",
    "rejection_follow_up_sweep", "rejection_milestones",
]
