"""The inbox keeper's work and the other ways in.

Handling an item: identify or create the child (CPR), link the custody holders, and open
the case (stage: awaiting consent) — or attach the item to the child's open case (a
re-referral), reject it with a reason, or forward it to the municipality where the child
lives. Each ends with an answer to the referrer in the item's thread (the receipt is
wording from seed 001, appendix 2).

The other ways in — the web referral form for professionals without MedCom, and a letter
or phone call registered by the inbox keeper — make the same kind of item: a thread with
segments, and an `InboxItem`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from tovholder.audit.actor import Actor
from tovholder.audit.models import AuditEvent
from tovholder.audit.services import audit_record
from tovholder.cases.models import Case, ReferralChannel, Stage
from tovholder.cases.services import case_open, lock_case
from tovholder.children.cpr import cpr_parse, normalise_cpr, validate_cpr
from tovholder.children.services import child_get_or_create, custody_holder_add
from tovholder.inbox import texts
from tovholder.inbox.models import (
    Arrival,
    AttachmentData,
    EntryAlias,
    InboxItem,
    OutboundMessage,
    Segment,
    Thread,
)
from tovholder.inbox.services.outbox import author_for, thread_forward, thread_reply
from tovholder.medcom import clean_text
from tovholder.medcom.codes import ALLOWED_CONTENT_TYPES
from tovholder.organisations.models import Municipality, Unit, User

INBOX = "inbox"
MAX_UPLOAD_BYTES = 20 * 1024 * 1024

# Which referral channel a sender's kind of unit means (the keeper may choose another,
# e.g. "parents via GP", which no address can tell).
CHANNEL_OF_UNIT_KIND = {
    Unit.Kind.GP_PRACTICE: ReferralChannel.GP,
    Unit.Kind.SCHOOL: ReferralChannel.SCHOOL,
    Unit.Kind.PAEDIATRIC_WARD: ReferralChannel.HOSPITAL,
    Unit.Kind.BUA: ReferralChannel.BUA,
}
# Units whose staff may use the web referral form.
REFERRING_KINDS = frozenset({
    Unit.Kind.SCHOOL, Unit.Kind.BUA, Unit.Kind.PAEDIATRIC_WARD, Unit.Kind.GP_PRACTICE, Unit.Kind.PPR,
    Unit.Kind.HEALTH_VISITORS, Unit.Kind.FAMILY_COUNSELLING,
})


@dataclass(frozen=True)
class CustodyHolderInput:
    name: str
    relation: str
    cpr: str = ""
    email: str = ""
    phone: str = ""
    address: str = ""
    has_digital_post: bool = True


@dataclass(frozen=True)
class Upload:
    name: str
    content_type: str
    data: bytes


def default_channel(item: InboxItem) -> str:
    unit = item.thread.referrer_unit
    if unit is not None:
        return CHANNEL_OF_UNIT_KIND.get(unit.kind, ReferralChannel.OTHER)
    return ReferralChannel.OTHER


def referrer_name(thread: Thread) -> str:
    """Who to greet in an answer: the web referrer, or the author of the first text we got."""
    if thread.referrer_person:
        return thread.referrer_person
    first = (Segment.objects.filter(thread=thread, outgoing=False, kind=Segment.Kind.TEXT)
             .exclude(author_name="").order_by("timestamp", "pk").values_list("author_name", flat=True).first())
    return first or thread.counterpart_name


def started_by_us(thread: Thread) -> bool:
    """A thread we began (a referral onwards, or a forward to another entry): what arrives
    in it is an answer to us, not a new referral."""
    return OutboundMessage.objects.filter(
        Q(thread=thread, activity="new-message") | Q(thread_identifier=thread.identifier, activity="forward-message")
    ).exists()


def _lock_new(item: InboxItem) -> InboxItem:
    item = (InboxItem.objects.select_for_update(of=("self",)).select_related("thread__entry__municipality",
                                                                 "thread__referrer_unit", "municipality")
            .get(pk=item.pk))
    if item.status != InboxItem.Status.NEW:
        raise ValidationError("Henvendelsen er allerede behandlet.")
    return item


def _done(item: InboxItem, actor: Actor, status: str, **fields) -> None:
    item.status = status
    item.handled_at = timezone.now()
    item.handled_by = actor.user
    for name, value in fields.items():
        setattr(item, name, value)
    item.full_clean()
    item.save()


@transaction.atomic
def inbox_item_open_case(
    *, actor: Actor, basis: str = INBOX, item: InboxItem, cpr: str, given_name: str, family_name: str,
    custody_holders: Sequence[CustodyHolderInput] = (), school: Unit | None = None,
    referral_channel: str | None = None, birth_date: dt.date | None = None,
) -> Case:
    """Open the case for the item's child (stage: awaiting consent), start the consent
    request and send the receipt to the referrer. `birth_date` only for a replacement CPR
    number that does not carry one (see `_child_for`)."""
    item = _lock_new(item)
    municipality = item.municipality
    if school is not None and school.municipality_id != municipality.pk:
        raise ValidationError("Skolen ligger ikke i kommunen.")
    child = _child_for(actor, basis, item, cpr=cpr, given_name=given_name, family_name=family_name,
                       school=school, birth_date=birth_date)
    if child.municipality_id != municipality.pk:
        raise ValidationError(
            f"Barnet bor i {child.municipality} og hører til den fælles indgang dér: videresend henvendelsen.")
    if Case.objects.filter(child=child).exclude(stage=Stage.CLOSED).exists():
        raise ValidationError("Barnet har allerede et åbent forløb: knyt henvendelsen til det i stedet.")
    is_re_referral = Case.objects.filter(child=child).exists()
    _custody_holders_add(actor, basis, child, custody_holders)
    channel = referral_channel or default_channel(item)
    if channel not in ReferralChannel.values:
        raise ValidationError("Ukendt henvisningsvej.")
    case = case_open(actor=actor, basis=basis, municipality=municipality, child=child, referral_channel=channel,
                     referrer_unit=item.thread.referrer_unit, is_re_referral=is_re_referral,
                     opened_at=timezone.now())
    Thread.objects.filter(pk=item.thread_id, case__isnull=True).update(case=case)
    item.thread.case = case
    _done(item, actor, InboxItem.Status.OPENED, case=case, is_re_referral=is_re_referral)
    audit_record(actor=actor, action=AuditEvent.Action.CHANGE, basis=basis, case=case, obj=item,
                 summary="Henvendelse behandlet: forløb oprettet" + (" (genhenvisning)" if is_re_referral else ""))
    from tovholder.consent.services import consent_request_start

    consent_request_start(actor=actor, case=case)
    thread_reply(actor=actor, thread=item.thread, case=case, basis=basis, reason=OutboundMessage.Reason.RECEIPT,
                 text=texts.receipt(referrer=referrer_name(item.thread), child=child.full_name,
                                    municipality=municipality.name))
    return case


def _child_for(actor: Actor, basis: str, item: InboxItem, *, cpr: str, given_name: str, family_name: str,
               school: Unit | None, birth_date: dt.date | None):
    """The item's child, found or registered. An ordinary CPR number gives its own birth date.
    A replacement number may not: the date given, else the MedCom message's, else the
    number's (the children service refuses, on the birth date field, if there is none)."""
    from tovholder.inbox.selectors import patient_birth_date

    thread = item.thread
    number = normalise_cpr(cpr)
    same = bool(number) and number == normalise_cpr(thread.patient_cpr or "")
    marked = same and thread.patient_is_replacement  # the sender's replacement system says so
    try:
        parsed = cpr_parse(number, replacement=marked)
    except ValidationError as exc:
        raise ValidationError({"cpr": exc.messages}) from None
    if not parsed.is_replacement:
        if birth_date and birth_date != parsed.birth_date:
            raise ValidationError({"birth_date": "Fødselsdatoen passer ikke med CPR-nummeret. Lad feltet være "
                                                 "tomt: et almindeligt CPR-nummer giver selv fødselsdatoen."})
        replacement_args = {}
    else:
        replacement_args = {"replacement": marked,
                            "birth_date": birth_date or (patient_birth_date(thread=thread) if same else None)}
    child, _ = child_get_or_create(actor=actor, basis=basis, cpr=number, given_name=given_name,
                                   family_name=family_name, municipality=item.municipality, school=school,
                                   **replacement_args)
    return child


def _custody_holders_add(actor: Actor, basis: str, child, holders: Sequence[CustodyHolderInput]) -> None:
    present = list(child.custody_holders.filter(ended_at__isnull=True))
    for holder in holders:
        if not holder.name.strip():
            continue
        cpr = normalise_cpr(holder.cpr)
        if any(p.name.strip().lower() == holder.name.strip().lower() or (cpr and p.cpr == cpr) for p in present):
            continue
        present.append(custody_holder_add(
            actor=actor, basis=basis, child=child, name=holder.name, relation=holder.relation, cpr=cpr,
            email=holder.email, phone=holder.phone, address=holder.address,
            has_digital_post=holder.has_digital_post))


@transaction.atomic
def inbox_item_attach(*, actor: Actor, basis: str = INBOX, item: InboxItem, case: Case) -> InboxItem:
    """Put the item on the child's open case: a re-referral, counted as such."""
    item = _lock_new(item)
    case = lock_case(case)
    if case.municipality_id != item.municipality_id or not case.is_open:
        raise ValidationError("Henvendelsen kan kun knyttes til et åbent forløb i kommunen.")
    Thread.objects.filter(pk=item.thread_id, case__isnull=True).update(case=case)
    _done(item, actor, InboxItem.Status.ATTACHED, case=case, is_re_referral=True)
    audit_record(actor=actor, action=AuditEvent.Action.CHANGE, basis=basis, case=case, obj=item,
                 summary="Henvendelse knyttet til forløbet (genhenvisning)")
    thread_reply(actor=actor, thread=item.thread, case=case, basis=basis, reason=OutboundMessage.Reason.RECEIPT,
                 text=texts.attached_receipt(referrer=referrer_name(item.thread), child=case.child.full_name,
                                             municipality=item.municipality.name))
    return item


@transaction.atomic
def inbox_item_reject(*, actor: Actor, basis: str = INBOX, item: InboxItem, reason: str) -> InboxItem:
    """Reject with a reason; the referrer is told why (only they can catch the ball)."""
    item = _lock_new(item)
    reason = reason.strip()
    if not reason:
        raise ValidationError("Skriv hvorfor henvendelsen afvises; begrundelsen sendes til henviseren.")
    _done(item, actor, InboxItem.Status.REJECTED, reject_reason=reason[:1000])
    audit_record(actor=actor, action=AuditEvent.Action.CHANGE, basis=basis, case=item.case, obj=item,
                 summary="Henvendelse afvist")
    thread_reply(actor=actor, thread=item.thread, basis=basis, reason=OutboundMessage.Reason.REJECTION,
                 text=texts.rejection(referrer=referrer_name(item.thread), child=item.thread.patient_name,
                                      municipality=item.municipality.name, reason=reason))
    return item


@transaction.atomic
def inbox_item_forward(*, actor: Actor, basis: str = INBOX, item: InboxItem, to: Municipality,
                       note: str = "") -> InboxItem:
    """Send the item to the entry of the municipality where the child lives. A MedCom item
    goes as a MedCom forward (delivered in-house when that entry is one of ours); an item
    that came another way is filed in that entry's inbox as the same kind of item."""
    item = _lock_new(item)
    if to.pk == item.municipality_id:
        raise ValidationError("Henvendelsen er allerede i denne kommunes indgang.")
    to_entry = Unit.objects.filter(kind=Unit.Kind.SINGLE_ENTRY, municipality=to).first()
    if to_entry is None:
        raise ValidationError(f"{to} har ingen fælles indgang registreret.")
    here = item.municipality.name
    if item.thread.channel == Thread.Channel.MEDCOM:
        thread_forward(actor=actor, thread=item.thread, to_entry=to_entry, basis=basis,
                       note=texts.forward_note(municipality=here, to=to.name, note=note))
    else:
        _copy_item(actor, item, to_entry, note)
    _done(item, actor, InboxItem.Status.FORWARDED, forwarded_to=to)
    audit_record(actor=actor, action=AuditEvent.Action.CHANGE, basis=basis, case=item.case, obj=item,
                 summary=f"Henvendelse videresendt til {to}")
    thread_reply(actor=actor, thread=item.thread, basis=basis, reason=OutboundMessage.Reason.FORWARD_NOTICE,
                 text=texts.forwarded(referrer=referrer_name(item.thread), child=item.thread.patient_name,
                                      municipality=here, to=to.name))
    return item


def _copy_item(actor: Actor, item: InboxItem, to_entry: Unit, note: str) -> InboxItem:
    source = item.thread
    thread = Thread.objects.create(
        municipality=to_entry.municipality, entry=to_entry, channel=source.channel,
        identifier=f"urn:uuid:{uuid.uuid4()}", counterpart_name=source.counterpart_name,
        referrer_unit=source.referrer_unit, referrer_user=source.referrer_user,
        referrer_person=source.referrer_person, referrer_phone=source.referrer_phone,
        referrer_email=source.referrer_email, patient_cpr=source.patient_cpr, patient_given=source.patient_given,
        patient_family=source.patient_family, category=source.category, topic=source.topic,
    )
    for segment in Segment.objects.filter(thread=source, outgoing=False).select_related("data"):
        blob = getattr(segment, "data", None)
        segment.pk, segment.thread, segment.identifier = None, thread, f"urn:uuid:{uuid.uuid4()}"
        segment.save()
        if blob is not None:
            AttachmentData.objects.create(segment=segment, data=blob.data)
    name, role, phone = author_for(actor, item.thread.entry)
    Segment.objects.create(thread=thread, identifier=f"urn:uuid:{uuid.uuid4()}", kind=Segment.Kind.TEXT,
                           timestamp=timezone.now(), author_name=name, author_role=role, author_phone=phone,
                           organisation=item.thread.entry.name, author_user=actor.user,
                           text=texts.forward_note(municipality=item.municipality.name,
                                                   to=to_entry.municipality.name, note=note))
    return InboxItem.objects.create(municipality=to_entry.municipality, thread=thread, kind=item.kind,
                                    received_at=timezone.now(), summary=item.summary)


@transaction.atomic
def inbox_item_note(*, actor: Actor, basis: str = INBOX, item: InboxItem) -> InboxItem:
    """A message in a thread already handled (e.g. a reply on an open case): seen."""
    item = _lock_new(item)
    if item.thread.case_id is None and item.case_id is None and not started_by_us(item.thread):
        raise ValidationError("En ny henvendelse skal behandles: opret eller knyt et forløb, afvis eller videresend.")
    _done(item, actor, InboxItem.Status.NOTED, case=item.case or item.thread.case)
    audit_record(actor=actor, action=AuditEvent.Action.VIEW, basis=basis, case=item.case, obj=item,
                 summary="Ny besked i tråden set")
    return item


# --------------------------------------------------------------------------- other ways in


def _clean_uploads(uploads: Sequence[Upload]) -> list[Upload]:
    cleaned = []
    for upload in uploads:
        content_type = upload.content_type.split(";")[0].strip().lower()
        if content_type not in ALLOWED_CONTENT_TYPES:
            raise ValidationError(f"{upload.name}: kun PDF og billeder (GIF, JPEG, PNG, TIFF, BMP) kan vedhæftes.")
        if len(upload.data) > MAX_UPLOAD_BYTES:
            raise ValidationError(f"{upload.name} er for stor (højst {MAX_UPLOAD_BYTES // (1024 * 1024)} MB).")
        cleaned.append(Upload(name=upload.name, content_type=content_type, data=upload.data))
    return cleaned


def _new_thread_with_text(
    *, actor: Actor, entry: Unit, channel: str, text: str, when: dt.datetime, author: tuple[str, str, str],
    organisation: str, uploads: Sequence[Upload], **fields,
) -> Thread:
    thread = Thread(municipality=entry.municipality, entry=entry, channel=channel,
                    identifier=f"urn:uuid:{uuid.uuid4()}", started_at=when, last_activity_at=when,
                    category="psychiatry-social-disability", **fields)
    thread.full_clean()
    thread.save()
    name, role, phone = author
    Segment.objects.create(thread=thread, identifier=f"urn:uuid:{uuid.uuid4()}", kind=Segment.Kind.TEXT,
                           timestamp=when, author_name=name[:200], author_role=role[:200], author_phone=phone[:40],
                           organisation=organisation[:200], text=clean_text(text).strip(),
                           author_user=actor.user)
    for upload in uploads:
        title = upload.name.rsplit(".", 1)[0][:300] or "Bilag"
        segment = Segment.objects.create(
            thread=thread, identifier=f"urn:uuid:{uuid.uuid4()}", kind=Segment.Kind.ATTACHMENT, timestamp=when,
            title=title, content_type=upload.content_type, size=len(upload.data), organisation=organisation[:200],
            author_user=actor.user)
        AttachmentData.objects.create(segment=segment, data=upload.data)
    return thread


def _child_fields(cpr: str, given_name: str, family_name: str, *, required: bool) -> dict:
    cpr = normalise_cpr(cpr)
    if cpr or required:
        validate_cpr(cpr)
    if required and not (given_name.strip() and family_name.strip()):
        raise ValidationError("Skriv barnets fornavn og efternavn.")
    return {"patient_cpr": cpr, "patient_given": given_name.strip()[:200], "patient_family": family_name.strip()[:200]}


@transaction.atomic
def web_referral_submit(
    *, actor: Actor, referrer_unit: Unit, municipality: Municipality, cpr: str, given_name: str,
    family_name: str, text: str, phone: str, email: str = "", uploads: Sequence[Upload] = (),
) -> InboxItem:
    """A referral by a professional without MedCom (school, BUA, a hospital ward…), signed
    in as themselves, to the entry of the municipality where the child lives."""
    user: User = actor.user
    if user is None or not user.memberships.active().filter(unit=referrer_unit).exists():
        raise ValidationError("Du kan kun henvise på vegne af en enhed, du er tilknyttet.")
    if referrer_unit.kind not in REFERRING_KINDS:
        raise ValidationError("Din enhed kan ikke henvise via formularen.")
    entry = Unit.objects.filter(kind=Unit.Kind.SINGLE_ENTRY, municipality=municipality).first()
    if entry is None:
        raise ValidationError(f"{municipality} har ingen fælles indgang registreret.")
    if not text.strip():
        raise ValidationError("Beskriv hvad henvendelsen drejer sig om.")
    if not phone.strip():
        raise ValidationError("Skriv et telefonnummer, koordinationsudvalget kan ringe til.")
    now = timezone.now()
    name = user.get_full_name() or user.get_username()
    thread = _new_thread_with_text(
        actor=actor, entry=entry, channel=Thread.Channel.WEB, text=text, when=now,
        author=(name, user.title or "Henviser", phone.strip()), organisation=referrer_unit.name,
        uploads=_clean_uploads(uploads), referrer_unit=referrer_unit, referrer_user=user,
        referrer_person=name[:200], referrer_phone=phone.strip()[:40], referrer_email=email.strip(),
        counterpart_name=referrer_unit.name[:200], topic="Henvisning via webformular",
        **_child_fields(cpr, given_name, family_name, required=True),
    )
    item = InboxItem.objects.create(municipality=municipality, thread=thread, kind=InboxItem.Kind.WEB,
                                    received_at=now, summary=" ".join(text.split())[:300])
    audit_record(actor=actor, action=AuditEvent.Action.CREATE, basis="referrer", obj=item,
                 summary=f"Henvisning sendt via webformular til {entry}")
    return item


@transaction.atomic
def contact_register(
    *, actor: Actor, basis: str = INBOX, entry: Unit, kind: str, received_at: dt.datetime, referrer_name: str,
    referrer_organisation: str, referrer_phone: str = "", referrer_email: str = "",
    referrer_unit: Unit | None = None, cpr: str = "", given_name: str = "", family_name: str = "",
    text: str, uploads: Sequence[Upload] = (),
) -> InboxItem:
    """A letter or a phone call, registered by the inbox keeper as an item like any other."""
    if kind not in (InboxItem.Kind.LETTER, InboxItem.Kind.PHONE):
        raise ValidationError("Vælg brev eller telefon.")
    if received_at > timezone.now() + dt.timedelta(minutes=5):
        raise ValidationError("Tidspunktet for henvendelsen kan ikke ligge i fremtiden.")
    if not referrer_name.strip():
        raise ValidationError("Skriv hvem henvendelsen kom fra.")
    if not text.strip():
        raise ValidationError("Skriv hvad henvendelsen drejer sig om.")
    thread = _new_thread_with_text(
        actor=actor, entry=entry, channel=kind, text=text, when=received_at,
        author=(referrer_name.strip(), "Henviser", referrer_phone.strip()),
        organisation=referrer_organisation.strip() or (referrer_unit.name if referrer_unit else ""),
        uploads=_clean_uploads(uploads), referrer_unit=referrer_unit, referrer_person=referrer_name.strip()[:200],
        referrer_phone=referrer_phone.strip()[:40], referrer_email=referrer_email.strip(),
        counterpart_name=(referrer_organisation.strip() or (referrer_unit.name if referrer_unit else ""))[:200],
        topic="Brev" if kind == InboxItem.Kind.LETTER else "Telefonopkald",
        **_child_fields(cpr, given_name, family_name, required=False),
    )
    item = InboxItem.objects.create(municipality=entry.municipality, thread=thread, kind=kind,
                                    received_at=received_at, registered_by=actor.user,
                                    summary=" ".join(text.split())[:300])
    audit_record(actor=actor, action=AuditEvent.Action.CREATE, basis=basis, obj=item,
                 summary=f"{item.get_kind_display()} registreret i indgangen")
    return item


# --------------------------------------------------------------------------- quarantine and aliases


@transaction.atomic
def quarantine_resolve(*, actor: Actor, basis: str = INBOX, arrival: Arrival, note: str) -> Arrival:
    """Close a quarantined message after a person has dealt with it (e.g. phoned the sender)."""
    arrival = Arrival.objects.select_for_update().get(pk=arrival.pk)
    if arrival.state != Arrival.State.QUARANTINED or arrival.resolved_at is not None:
        raise ValidationError("Beskeden er ikke i karantæne.")
    if not note.strip():
        raise ValidationError("Skriv hvad der er gjort ved beskeden.")
    arrival.resolved_at, arrival.resolved_by, arrival.resolution_note = timezone.now(), actor.user, note.strip()[:500]
    arrival.save(update_fields=["resolved_at", "resolved_by", "resolution_note"])
    audit_record(actor=actor, action=AuditEvent.Action.CHANGE, basis=basis, obj=arrival,
                 summary="Besked i karantæne afsluttet")
    return arrival


def quarantine_retry(*, actor: Actor, basis: str = INBOX, arrival: Arrival):
    """Read a quarantined message again (e.g. after an alias for its receiver was added).
    Not atomic: the intake commits its own steps. Returns the new reception."""
    from tovholder.inbox.services.intake import arrival_process

    with transaction.atomic():
        locked = Arrival.objects.select_for_update().get(pk=arrival.pk)
        if locked.state != Arrival.State.QUARANTINED or locked.resolved_at is not None:
            raise ValidationError("Beskeden er ikke i karantæne.")
        Arrival.objects.filter(pk=locked.pk).update(state=Arrival.State.RECEIVED, ack_json=None)
        audit_record(actor=actor, action=AuditEvent.Action.CHANGE, basis=basis, obj=locked,
                     summary="Besked i karantæne behandlet igen")
    locked.refresh_from_db()
    return arrival_process(arrival=locked)


@transaction.atomic
def entry_alias_add(*, actor: Actor, entry: Unit, name: str, sor_id: str = "", gln: str = "",
                    note: str = "") -> EntryAlias:
    if entry.kind != Unit.Kind.SINGLE_ENTRY:
        raise ValidationError("Et alias skal pege på en fælles indgang.")
    alias = EntryAlias(entry=entry, name=name.strip(), sor_id=sor_id.strip(), gln=gln.strip(), note=note.strip())
    alias.full_clean()
    alias.save()
    audit_record(actor=actor, action=AuditEvent.Action.CREATE, basis="administrator", obj=alias,
                 summary=f"Alias for {entry}: {alias.name}")
    return alias
