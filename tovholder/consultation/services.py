"""State changes of consultations ("sparring"), fixed consultation times ("Samrum"),
referrals onwards, their answers, the lead's follow-up after a rejection, admissions.

Every function here is the one way its change happens: the pages, the API and the
demo call them. Referral services live in `referrals.py` beside this module.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from tovholder.audit.actor import Actor
from tovholder.audit.models import AuditEvent
from tovholder.audit.services import audit_record
from tovholder.cases import notify
from tovholder.cases.models import Case
from tovholder.cases.services import lock_case
from tovholder.children.cpr import CPR_PATTERN
from tovholder.consent.gate import require_processing_allowed
from tovholder.consultation.models import (
    ADVISING_KINDS,
    AdviceAgreement,
    Consultation,
    ConsultationAttachment,
    ConsultationMessage,
    ConsultationNotice,
    ConsultationSlot,
    ConsultationSubject,
    Recommendation,
    SlotBooking,
    SlotSeries,
    TargetGroup,
)
from tovholder.deadlines.workdays import COPENHAGEN
from tovholder.organisations.models import Membership, Municipality, Unit, User

# Attachments: what a professional typically has (PDF reports, scanned pages, photos).
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
MAX_ATTACHMENTS = 5
ATTACHMENT_TYPES = frozenset({"application/pdf", "image/jpeg", "image/png", "image/gif", "image/tiff"})

ANONYMOUS_CPR = ("Teksten indeholder noget, der ligner et CPR-nummer. En anonym sparring må ikke indeholde "
                 "CPR-nummer, navn eller andet, der kan identificere barnet.")
ANONYMOUS_NAME = ("Teksten nævner et barn, som du har et forløb med. En anonym sparring må ikke indeholde "
                  "barnets navn; spørg i stedet med forløbet (kræver samtykke, der dækker modtageren).")
ANONYMOUS_ATTACHMENT = ("En anonym sparring kan ikke have bilag: et bilag kan ikke kontrolleres for navne "
                        "og CPR-numre. Beskriv det vigtige i teksten uden at identificere barnet.")


@dataclass(frozen=True)
class Upload:
    """A file to attach: (original name, content type, bytes)."""

    filename: str
    content_type: str
    data: bytes


def consent_party(unit: Unit) -> str | None:
    """The party the consent gate checks for data going to `unit`: none inside the
    municipality (the committee and the team), else the unit's kind ("bua", …)."""
    return None if unit.kind in Unit.MUNICIPAL_KINDS else unit.kind


def is_member(user: User, unit: Unit) -> bool:
    return Membership.objects.active().filter(user=user, unit=unit).exists()


def _check_text(text: str, field: str = "text") -> str:
    text = (text or "").strip()
    if not text:
        raise ValidationError({field: "Skriv en tekst."})
    return text


def _check_anonymous(*, user: User, texts: Sequence[str]) -> None:
    """Refuse what obviously identifies a child: a CPR-like number, or the full name of a
    child on one of the asker's own cases. Anything else is the asker's responsibility
    (the form says so)."""
    from tovholder.access import team_cases

    joined = "\n".join(texts)
    if CPR_PATTERN.search(joined):
        raise ValidationError(ANONYMOUS_CPR, code="anonymous_cpr")
    lowered = joined.casefold()
    names = team_cases(user).values_list("child__given_name", "child__family_name")
    for given, family in names:
        full = f"{given} {family}".casefold()
        if re.search(rf"(?<!\w){re.escape(full)}(?!\w)", lowered):
            raise ValidationError(ANONYMOUS_NAME, code="anonymous_name")


def _check_uploads(uploads: Sequence[Upload]) -> None:
    if len(uploads) > MAX_ATTACHMENTS:
        raise ValidationError(f"Højst {MAX_ATTACHMENTS} bilag.")
    for up in uploads:
        if up.content_type not in ATTACHMENT_TYPES:
            raise ValidationError(f"Bilaget «{up.filename[:60]}» har en filtype, der ikke kan modtages "
                                  "(PDF eller billede).")
        if len(up.data) > MAX_ATTACHMENT_BYTES:
            raise ValidationError(f"Bilaget «{up.filename[:60]}» er større end 10 MB.")
        if not up.data:
            raise ValidationError(f"Bilaget «{up.filename[:60]}» er tomt.")


def _save_uploads(message: ConsultationMessage, uploads: Sequence[Upload]) -> None:
    for up in uploads:
        attachment = ConsultationAttachment(message=message, filename=up.filename[:200] or "bilag",
                                            content_type=up.content_type, size=len(up.data))
        attachment.file.save("upload", ContentFile(up.data), save=False)
        attachment.full_clean()
        attachment.save()


def consultation_case(consultation: Consultation) -> Case | None:
    link = ConsultationSubject.objects.filter(consultation=consultation).select_related(
        "case__child", "case__municipality").first()
    return link.case if link else None


def _audit(*, actor: Actor, basis: str, consultation: Consultation, case: Case | None, summary: str,
           action: str = AuditEvent.Action.CREATE) -> None:
    # Anonymous consultations are audited without case and child: there are none to name.
    audit_record(actor=actor, action=action, basis=basis, case=case, obj=consultation, summary=summary)


def detail_url(consultation: Consultation) -> str:
    return reverse("consultation:detail", args=[consultation.pk])


def _check_asker(*, actor: Actor, asking_unit: Unit, advising_unit: Unit) -> User:
    user = actor.user
    if user is None:
        raise ValidationError("Kun en fagperson kan spørge om sparring.")
    if not is_member(user, asking_unit):
        raise ValidationError("Du er ikke tilknyttet den enhed, du spørger fra.")
    if advising_unit.kind not in ADVISING_KINDS:
        raise ValidationError("Den valgte enhed giver ikke sparring.")
    if advising_unit.pk == asking_unit.pk:
        raise ValidationError("Vælg en anden enhed end din egen.")
    return user


def _new_consultation(
    *, actor: Actor, basis: str, advising_unit: Unit, asking_unit: Unit, target_group: str, subject: str,
    text: str, case: Case | None, municipality: Municipality | None, uploads: Sequence[Upload],
    idempotency_key: str,
) -> tuple[Consultation, bool]:
    """Create the thread and its first message. Returns (consultation, created)."""
    user = _check_asker(actor=actor, asking_unit=asking_unit, advising_unit=advising_unit)
    if idempotency_key:
        existing = Consultation.objects.filter(asked_by=user, idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing, False
    subject = (subject or "").strip()
    text = _check_text(text)
    if not subject:
        raise ValidationError({"subject": "Skriv et kort emne."})
    if target_group not in TargetGroup.values:
        raise ValidationError({"target_group": "Vælg en målgruppe."})
    uploads = list(uploads)
    if case is not None:
        case = lock_case(case)
        # Data about an identified child leave the municipality only with consent that covers them.
        require_processing_allowed(case, party=consent_party(advising_unit))
        municipality = case.municipality
    else:
        if uploads:
            raise ValidationError(ANONYMOUS_ATTACHMENT, code="anonymous_attachment")
        _check_anonymous(user=user, texts=[subject, text])
        municipality = municipality or asking_unit.municipality
        if municipality is None:
            raise ValidationError({"municipality": "Vælg den kommune, barnet bor i."})
    _check_uploads(uploads)
    consultation = Consultation(
        advising_unit=advising_unit, asking_unit=asking_unit, asked_by=user, municipality=municipality,
        is_anonymous=case is None, target_group=target_group, subject=subject[:200],
        idempotency_key=idempotency_key[:64],
    )
    consultation.full_clean()
    try:
        with transaction.atomic():
            consultation.save()
    except IntegrityError:
        # The same form sent twice at once: the first one won.
        return Consultation.objects.get(asked_by=user, idempotency_key=idempotency_key), False
    if case is not None:
        ConsultationSubject.objects.create(consultation=consultation, case=case)
    message = ConsultationMessage(consultation=consultation, kind=ConsultationMessage.Kind.QUESTION,
                                  author=user, author_unit=asking_unit, text=text)
    message.full_clean()
    message.save()
    _save_uploads(message, uploads)
    return consultation, True


@transaction.atomic
def consultation_ask(
    *, actor: Actor, basis: str, advising_unit: Unit, asking_unit: Unit, target_group: str, subject: str,
    text: str, case: Case | None = None, municipality: Municipality | None = None,
    uploads: Sequence[Upload] = (), idempotency_key: str = "",
) -> Consultation:
    """A written question to an advising unit: about a child on `case` (only with consent
    covering the advising unit), or anonymously when `case` is None (no consent needed, no
    attachments, nothing identifying stored)."""
    consultation, created = _new_consultation(
        actor=actor, basis=basis, advising_unit=advising_unit, asking_unit=asking_unit,
        target_group=target_group, subject=subject, text=text, case=case, municipality=municipality,
        uploads=uploads, idempotency_key=idempotency_key)
    if created:
        _audit(actor=actor, basis=basis, consultation=consultation, case=case,
               summary=f"Sparring {consultation.reference} sendt til {advising_unit}"
               + (" (anonym)" if case is None else ""))
    return consultation


# --------------------------------------------------------------------------- fixed times


def _occurrences(first: dt.datetime, every_weeks: int, count: int) -> list[dt.datetime]:
    """Same local wall-clock time every N weeks (a slot at 08:30 stays at 08:30 across DST)."""
    local = first.astimezone(COPENHAGEN)
    wall = local.replace(tzinfo=None)
    return [(wall + dt.timedelta(weeks=every_weeks * i)).replace(tzinfo=COPENHAGEN) for i in range(count)]


@transaction.atomic
def slot_series_publish(
    *, actor: Actor, advising_unit: Unit, target_group: str, first_starts_at: dt.datetime, duration_minutes: int,
    occurrences: int, capacity: int, video_link: str, every_weeks: int = 1, idempotency_key: str = "",
) -> SlotSeries:
    """Publish recurring fixed consultation times for a target group ("Samrum")."""
    user = actor.user
    if user is None or not is_member(user, advising_unit) or advising_unit.kind not in ADVISING_KINDS:
        raise ValidationError("Kun medarbejdere i en rådgivende enhed kan udbyde sparringstider.")
    if idempotency_key:
        existing = SlotSeries.objects.filter(published_by=user, idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing
    if first_starts_at <= timezone.now():
        raise ValidationError({"first_starts_at": "Første gang skal ligge i fremtiden."})
    if not 15 <= duration_minutes <= 240:
        raise ValidationError({"duration_minutes": "Varigheden skal være mellem 15 og 240 minutter."})
    if not 1 <= capacity <= 20:
        raise ValidationError({"capacity": "Antal pladser skal være mellem 1 og 20."})
    series = SlotSeries(
        advising_unit=advising_unit, target_group=target_group, first_starts_at=first_starts_at,
        duration_minutes=duration_minutes, every_weeks=every_weeks, occurrences=occurrences, capacity=capacity,
        video_link=video_link, published_by=user, idempotency_key=idempotency_key[:64],
    )
    series.full_clean()
    series.save()
    taken = set(ConsultationSlot.objects.filter(
        advising_unit=advising_unit, target_group=target_group, cancelled_at__isnull=True,
    ).values_list("starts_at", flat=True))
    slots = []
    for start in _occurrences(first_starts_at, every_weeks, occurrences):
        if start in taken:
            continue
        slot = ConsultationSlot(series=series, advising_unit=advising_unit, target_group=target_group,
                                starts_at=start, ends_at=start + dt.timedelta(minutes=duration_minutes),
                                capacity=capacity, video_link=video_link)
        slot.full_clean()
        slots.append(slot)
    ConsultationSlot.objects.bulk_create(slots)
    audit_record(actor=actor, action=AuditEvent.Action.CREATE, basis="consultation_advisor", obj=series,
                 summary=f"{len(slots)} sparringstider udbudt ({series.get_target_group_display()})")
    return series


def _open_bookings(slot: ConsultationSlot):
    return SlotBooking.objects.filter(slot=slot, cancelled_at__isnull=True)


@transaction.atomic
def slot_book(
    *, actor: Actor, basis: str, slot: ConsultationSlot | int, asking_unit: Unit, subject: str, text: str,
    case: Case | None = None, municipality: Municipality | None = None, uploads: Sequence[Upload] = (),
    idempotency_key: str = "",
) -> Consultation:
    """Book a seat at a fixed consultation time, with the question to discuss.

    The slot row is locked while its seats are counted, and a seat can be held by one
    open booking only (a unique constraint), so a double click or two people at once
    cannot overbook it."""
    slot_id = slot.pk if isinstance(slot, ConsultationSlot) else slot
    slot = ConsultationSlot.objects.select_for_update(of=("self",)).select_related("advising_unit").get(pk=slot_id)
    if actor.user is not None and idempotency_key:
        existing = Consultation.objects.filter(asked_by=actor.user, idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing
    if slot.is_cancelled:
        raise ValidationError("Sparringstiden er aflyst.")
    if slot.starts_at <= timezone.now():
        raise ValidationError("Sparringstiden er begyndt eller forbi.")
    held = set(_open_bookings(slot).values_list("seat", flat=True))
    free = [seat for seat in range(1, slot.capacity + 1) if seat not in held]
    if not free:
        raise ValidationError("Sparringstiden er fuldt booket. Vælg en anden tid.", code="slot_full")
    consultation, created = _new_consultation(
        actor=actor, basis=basis, advising_unit=slot.advising_unit, asking_unit=asking_unit,
        target_group=slot.target_group, subject=subject, text=text, case=case, municipality=municipality,
        uploads=uploads, idempotency_key=idempotency_key)
    if not created:
        return consultation
    booking = SlotBooking(slot=slot, seat=free[0], consultation=consultation, booked_by=actor.user)
    try:
        with transaction.atomic():
            booking.save()
    except IntegrityError:
        # Only reachable without row locks (SQLite serialises writers anyway).
        raise ValidationError("Den sidste plads blev netop booket af en anden. Vælg en anden tid.",
                              code="slot_full") from None
    _audit(actor=actor, basis=basis, consultation=consultation, case=consultation_case(consultation),
           summary=f"Sparringstid booket {timezone.localtime(slot.starts_at):%d.%m.%Y %H:%M} "
           f"({slot.get_target_group_display()}), {consultation.reference}")
    return consultation


@transaction.atomic
def booking_cancel(*, actor: Actor, basis: str, consultation: Consultation | int) -> Consultation:
    """Cancel a booked consultation time: the seat is free again at once."""
    pk = consultation.pk if isinstance(consultation, Consultation) else consultation
    booking = SlotBooking.objects.filter(consultation_id=pk).first()
    if booking is None:
        raise ValidationError("Sparringen har ingen booket tid.")
    # Lock in the order slot_book and slot_cancel use: the slot first.
    ConsultationSlot.objects.select_for_update().filter(pk=booking.slot_id).first()
    consultation = Consultation.objects.select_for_update().get(pk=pk)
    booking = SlotBooking.objects.select_for_update().get(pk=booking.pk)
    if booking.cancelled_at is not None:
        return consultation
    if consultation.status == Consultation.Status.ANSWERED:
        raise ValidationError("Sparringen er holdt og besvaret; den kan ikke aflyses.")
    booking.cancelled_at = timezone.now()
    booking.cancelled_by = actor.user
    booking.save(update_fields=["cancelled_at", "cancelled_by"])
    consultation.status = Consultation.Status.CANCELLED
    consultation.version += 1
    consultation.save(update_fields=["status", "version"])
    _audit(actor=actor, basis=basis, consultation=consultation, case=consultation_case(consultation),
           action=AuditEvent.Action.CHANGE, summary=f"Booket sparringstid aflyst ({consultation.reference})")
    return consultation


@transaction.atomic
def slot_cancel(*, actor: Actor, slot: ConsultationSlot | int) -> ConsultationSlot:
    """The advising unit cancels a fixed time; everyone who booked it is told."""
    pk = slot.pk if isinstance(slot, ConsultationSlot) else slot
    slot = ConsultationSlot.objects.select_for_update(of=("self",)).select_related("advising_unit").get(pk=pk)
    if actor.user is None or not is_member(actor.user, slot.advising_unit):
        raise ValidationError("Kun den rådgivende enhed kan aflyse sine sparringstider.")
    if slot.is_cancelled:
        return slot
    now = timezone.now()
    slot.cancelled_at = now
    slot.save(update_fields=["cancelled_at"])
    when = f"{timezone.localtime(slot.starts_at):%d.%m.%Y kl. %H:%M}"
    for booking in _open_bookings(slot).select_related("consultation"):
        booking.cancelled_at = now
        booking.cancelled_by = actor.user
        booking.save(update_fields=["cancelled_at", "cancelled_by"])
        c = booking.consultation
        c.status = Consultation.Status.CANCELLED
        c.version += 1
        c.save(update_fields=["status", "version"])
        _tell_asker(actor=actor, consultation=c,
                    text=f"{slot.advising_unit} har aflyst sparringstiden {when}. Book en ny tid eller send "
                    "spørgsmålet skriftligt.")
    audit_record(actor=actor, action=AuditEvent.Action.CHANGE, basis="consultation_advisor", obj=slot,
                 summary=f"Sparringstid {when} aflyst")
    return slot


# --------------------------------------------------------------------------- the thread


def _tell_asker(*, actor: Actor, consultation: Consultation, text: str) -> None:
    case = consultation_case(consultation)
    if case is not None:
        notify.tell_staff(actor=actor, case=case, users=[consultation.asked_by], text=text,
                          url=detail_url(consultation))
    else:
        ConsultationNotice.objects.create(user=consultation.asked_by, consultation=consultation, text=text[:300])


@transaction.atomic
def consultation_reply(
    *, actor: Actor, basis: str, consultation: Consultation | int, text: str, uploads: Sequence[Upload] = (),
    recommendation: str = "", idempotency_key: str = "",
) -> ConsultationMessage:
    """A message in the thread. From the advising unit it is the answer (the advice given,
    also after a fixed consultation time) and the asker is told; from the asker's side it
    is a follow-up question and the thread is open again."""
    from tovholder.access import ConsultationBasis

    pk = consultation.pk if isinstance(consultation, Consultation) else consultation
    user = actor.user
    if user is None:
        raise ValidationError("Kun en fagperson kan skrive i en sparring.")
    case = None
    link = ConsultationSubject.objects.filter(consultation_id=pk).first()
    if link is not None:
        case = lock_case(link.case_id)
    consultation = Consultation.objects.select_for_update(of=("self",)).select_related("advising_unit", "asking_unit").get(pk=pk)
    if idempotency_key:
        existing = consultation.messages.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing
    if consultation.status == Consultation.Status.CANCELLED:
        raise ValidationError("Sparringen er aflyst.")
    text = _check_text(text)
    uploads = list(uploads)
    if basis == ConsultationBasis.ADVISOR:
        kind, unit = ConsultationMessage.Kind.ANSWER, consultation.advising_unit
    elif basis in (ConsultationBasis.ASKER, ConsultationBasis.TEAM):
        kind, unit = ConsultationMessage.Kind.FOLLOW_UP, consultation.asking_unit
    else:
        raise ValidationError("Du kan ikke skrive i denne sparring.")
    if case is not None:
        require_processing_allowed(case, party=consent_party(consultation.advising_unit))
    else:
        if uploads:
            raise ValidationError(ANONYMOUS_ATTACHMENT, code="anonymous_attachment")
        if kind == ConsultationMessage.Kind.FOLLOW_UP:
            _check_anonymous(user=user, texts=[text])
        elif CPR_PATTERN.search(text):
            raise ValidationError(ANONYMOUS_CPR, code="anonymous_cpr")
    _check_uploads(uploads)
    if recommendation and (kind != ConsultationMessage.Kind.ANSWER or recommendation not in Recommendation.values):
        raise ValidationError({"recommendation": "Ugyldig anbefaling."})
    message = ConsultationMessage(consultation=consultation, kind=kind, author=user, author_unit=unit, text=text,
                                  idempotency_key=idempotency_key[:64])
    message.full_clean()
    message.save()
    _save_uploads(message, uploads)
    fields = ["status", "version"]
    if kind == ConsultationMessage.Kind.ANSWER:
        consultation.status = Consultation.Status.ANSWERED
        consultation.answered_at = timezone.now()
        fields.append("answered_at")
        if recommendation:
            consultation.recommendation = recommendation
            fields.append("recommendation")
    else:
        consultation.status = Consultation.Status.OPEN
    consultation.version += 1
    consultation.save(update_fields=fields)
    if kind == ConsultationMessage.Kind.ANSWER:
        _tell_asker(actor=actor, consultation=consultation,
                    text=f"{consultation.advising_unit} har svaret på sparringen «{consultation.subject[:80]}» "
                    f"({consultation.reference}).")
    _audit(actor=actor, basis=basis, consultation=consultation, case=case,
           summary=f"{message.get_kind_display()} i sparring {consultation.reference}")
    return message


@transaction.atomic
def consultation_notices_read(*, actor: Actor, consultation: Consultation) -> int:
    if actor.user is None:
        return 0
    return ConsultationNotice.objects.filter(user=actor.user, consultation=consultation,
                                             read_at__isnull=True).update(read_at=timezone.now())


def attachment_read(*, actor: Actor, basis: str, attachment: ConsultationAttachment) -> bytes:
    """The file's bytes, with the read audited (attachments hold personal data)."""
    consultation = attachment.message.consultation
    _audit(actor=actor, basis=basis, consultation=consultation, case=consultation_case(consultation),
           action=AuditEvent.Action.EXPORT, summary=f"Bilag hentet fra sparring {consultation.reference}")
    with attachment.file.open("rb") as f:
        return f.read()


# --------------------------------------------------------------------------- advice → plan


def _pathway_agreement_add():
    """The pathway's service for an agreement added to the plan between meetings.

    Interface expected from tovholder.pathway.services: `agreement_add(*, actor, basis,
    case, what, how, responsible, responsible_name, due_on) -> Agreement`."""
    try:
        from tovholder.pathway import services as pathway_services
    except ImportError:  # pragma: no cover
        return None
    return getattr(pathway_services, "agreement_add", None)


def plan_accepts_agreements() -> bool:
    return _pathway_agreement_add() is not None


def agreement_sectors() -> list[tuple[str, str]]:
    """Who can answer for an agreement (the plan's own list, Bilag 1)."""
    try:
        from tovholder.pathway.models import Sector
    except ImportError:  # pragma: no cover
        return [("school", "Skole"), ("parents", "Forældre"), ("ppr", "PPR")]
    return list(Sector.choices)


@transaction.atomic
def advice_to_agreement(
    *, actor: Actor, basis: str, consultation: Consultation | int, what: str, how: str, responsible: str,
    responsible_name: str = "", due_on: dt.date | None = None,
) -> AdviceAgreement:
    """The lead professional adds an agreement to the plan from the advice given. Once per
    consultation: a second click returns the agreement already added."""
    pk = consultation.pk if isinstance(consultation, Consultation) else consultation
    link = ConsultationSubject.objects.filter(consultation_id=pk).first()
    if link is None:
        raise ValidationError("En anonym sparring hører ikke til et forløb.")
    case = lock_case(link.case_id)
    consultation = Consultation.objects.select_for_update().get(pk=pk)
    existing = AdviceAgreement.objects.filter(consultation=consultation).first()
    if existing is not None:
        return existing
    if consultation.status != Consultation.Status.ANSWERED:
        raise ValidationError("Sparringen er ikke besvaret endnu.")
    add = _pathway_agreement_add()
    if add is None:
        raise ValidationError("Handleplanen kan endnu ikke tage imod aftaler mellem møderne.")
    how = (how or "").strip()
    source = f"Fra sparring med {consultation.advising_unit} ({consultation.reference})."
    agreement = add(actor=actor, basis=basis, case=case, what=what.strip(), how=f"{how}\n\n{source}".strip(),
                    responsible=responsible, responsible_name=responsible_name.strip(), due_on=due_on)
    link_row = AdviceAgreement.objects.create(consultation=consultation, agreement_id=agreement.pk,
                                              added_by=actor.user)
    _audit(actor=actor, basis=basis, consultation=consultation, case=case,
           summary=f"Aftale i handleplanen fra sparring {consultation.reference}")
    return link_row
