"""What the entry sends: replies in a referrer's thread, forwards, and their delivery.

A message is written to the outbox inside the caller's transaction (nothing leaves before
it commits) as a complete CareCommunication bundle, built by `tovholder.medcom` and
therefore valid by our own inbound rules. The background loop delivers it:

- `outbox_deliver` claims due rows with a conditional UPDATE, records the send, and hands
  the bundle to the transport (setting MEDCOM_TRANSPORT; default files in
  OUTBOX_DIR/medcom). A message addressed to one of our own entries (a forward to another
  municipality here) is delivered in-house through the same intake as everything else.
- `outbox_resend_due`: no acknowledgement after 30 minutes → send again with a new
  Bundle.id and timestamp (same MessageHeader.id, as MedCom requires), at most twice;
  then the message is flagged for a person on the inbox page.
- `outbound_acknowledge` matches an Acknowledgement by response.identifier.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from tovholder.audit.actor import Actor
from tovholder.audit.models import AuditEvent
from tovholder.audit.services import audit_record
from tovholder.inbox import conf
from tovholder.inbox.models import AttachmentData, OutboundMessage, ReceivedMessage, Segment, Thread
from tovholder.inbox.routing import entry_endpoint, entry_org, route
from tovholder.inbox.transport import Delivery, TransportError, get_transport
from tovholder.medcom import (
    AcknowledgementInfo,
    AttachmentSegment,
    Identifier,
    MessageProvenance,
    Org,
    Patient,
    TextSegment,
    build_care_communication,
    clean_text,
    content_type_for,
    serialize,
)
from tovholder.medcom.codes import CATEGORY_REGARDING_REFERRAL
from tovholder.medcom.validate import parse_datetime
from tovholder.organisations.models import Membership, Unit

log = logging.getLogger(__name__)

TRANSPORT_RETRY = dt.timedelta(minutes=5)
STALE_CLAIM = dt.timedelta(minutes=10)


def _urn() -> str:
    return f"urn:uuid:{uuid.uuid4()}"


# --------------------------------------------------------------------------- writing


def author_for(actor: Actor, entry: Unit) -> tuple[str, str, str]:
    """Name, role and phone of who writes on behalf of the entry. A job writes as the
    committee; MedCom requires a phone number, so one of the entry's keepers' is used."""
    user = actor.user
    municipality = entry.municipality.name if entry.municipality else ""
    if user is not None:
        name = user.get_full_name() or user.get_username()
        role = user.title or "Postkasseansvarlig"
    else:
        name, role = f"Koordinationsudvalget {municipality} Kommune", "Fælles indgang"
    phone = (user.phone if user else "") or entry.phone
    if not phone:
        keeper_phones = (Membership.objects.active().filter(unit=entry, role=Membership.Role.INBOX_KEEPER)
                         .exclude(user__phone="").values_list("user__phone", flat=True))
        phone = next(iter(keeper_phones), "")
    if not phone:
        raise ValidationError(f"{entry} mangler et telefonnummer, som MedCom kræver i en besked.")
    return name[:200], role[:200], phone[:40]


@transaction.atomic
def thread_reply(
    *, actor: Actor, thread: Thread, text: str, reason: str, case=None, basis: str = "system"
) -> OutboundMessage | None:
    """Answer the referrer in their thread. A MedCom thread gets a CareCommunication reply
    through the outbox; a thread that came by web form, letter or phone gets the reply
    recorded, for the referrer to read on their page (and None is returned)."""
    thread = Thread.objects.select_for_update(of=("self",)).select_related("entry__municipality").get(pk=thread.pk)
    now = timezone.now()
    name, role, phone = author_for(actor, thread.entry)
    text = clean_text(text).strip()
    if not text:
        raise ValidationError("Svaret er tomt.")
    segment = Segment(
        thread=thread, identifier=_urn(), kind=Segment.Kind.TEXT, timestamp=now, outgoing=True,
        author_name=name, author_role=role, author_phone=phone, organisation=thread.entry.name[:200],
        organisation_sor=thread.entry.sor_id, organisation_gln=thread.entry.gln, text=text,
        author_user=actor.user,
    )
    outbound = None
    if thread.channel == Thread.Channel.MEDCOM:
        outbound = OutboundMessage(
            thread=thread, case=case, entry=thread.entry, reason=reason, activity="reply-message",
            thread_identifier=thread.identifier, previous_header_id=latest_header_id(thread),
            segment_identifier=segment.identifier, text=text, author_name=name, author_role=role,
            author_phone=phone, receiver_name=thread.counterpart_name, receiver_sor=thread.counterpart_sor,
            receiver_gln=thread.counterpart_gln, receiver_endpoint=thread.counterpart_endpoint,
            header_id=str(uuid.uuid4()), bundle_id=str(uuid.uuid4()), created_at=now, due_at=now,
        )
        outbound.body = serialize(_build(outbound, thread, now), "json")
        outbound.save()
        segment.outbound = outbound
    segment.save()
    Thread.objects.filter(pk=thread.pk).update(last_activity_at=now)
    audit_record(actor=actor, action=AuditEvent.Action.CREATE, basis=basis, case=case or thread.case,
                 obj=outbound or segment,
                 summary=f"Svar til henviser ({OutboundMessage.Reason(reason).label if reason in OutboundMessage.Reason.values else reason})")
    return outbound


@transaction.atomic
def thread_forward(*, actor: Actor, thread: Thread, to_entry: Unit, note: str, basis: str = "inbox") -> OutboundMessage:
    """Forward a MedCom thread to another entry as a MedCom forward: a new thread id, the
    earlier texts and attachments carried along, our note as the new segment."""
    thread = Thread.objects.select_for_update(of=("self",)).select_related("entry__municipality").get(pk=thread.pk)
    if not (to_entry.sor_id and to_entry.gln):
        raise ValidationError(f"{to_entry} har ikke både SOR-id og EAN-nummer og kan ikke modtage MedCom.")
    now = timezone.now()
    name, role, phone = author_for(actor, thread.entry)
    outbound = OutboundMessage(
        thread=thread, case=thread.case, entry=thread.entry, reason=OutboundMessage.Reason.FORWARD,
        activity="forward-message", thread_identifier=_urn(), previous_header_id=latest_header_id(thread),
        segment_identifier=_urn(), text=clean_text(note).strip(), author_name=name, author_role=role,
        author_phone=phone, receiver_name=to_entry.name[:200], receiver_sor=to_entry.sor_id,
        receiver_gln=to_entry.gln, receiver_endpoint=entry_endpoint(to_entry), header_id=str(uuid.uuid4()),
        bundle_id=str(uuid.uuid4()), created_at=now, due_at=now,
    )
    outbound.body = serialize(_build(outbound, thread, now), "json")
    outbound.save()
    audit_record(actor=actor, action=AuditEvent.Action.CREATE, basis=basis, case=thread.case, obj=outbound,
                 summary=f"Henvendelse videresendt til {to_entry}")
    return outbound


def latest_header_id(thread: Thread) -> str:
    """The MessageHeader.id of the newest message in the thread, theirs or ours."""
    theirs = ReceivedMessage.objects.filter(thread=thread).order_by("-sent_at", "-pk").values_list(
        "sent_at", "header_id").first()
    ours = OutboundMessage.objects.filter(thread=thread).exclude(activity="forward-message").order_by(
        "-created_at", "-pk").values_list("created_at", "header_id").first()
    candidates = [c for c in (theirs, ours) if c]
    if not candidates:
        raise ValidationError("Tråden har ingen MedCom-besked at svare på.")
    return max(candidates, key=lambda c: c[0])[1]


def _org(name: str, sor: str, gln: str) -> Org | None:
    return Org(name=name or None, sor=sor, ean=gln or None) if sor else None


def _earlier(thread: Thread, outbound: OutboundMessage) -> tuple[list, list[MessageProvenance]]:
    """The thread so far: its segments and the Provenances of every message in it."""
    forward = outbound.activity == "forward-message"
    segments = []
    rows = Segment.objects.filter(thread=thread).exclude(identifier=outbound.segment_identifier).order_by(
        "timestamp", "pk")
    data = {}
    if forward:
        data = dict(AttachmentData.objects.filter(segment__thread=thread).values_list("segment_id", "data"))
    for s in rows:
        org = _org(s.organisation, s.organisation_sor, s.organisation_gln)
        if s.kind == Segment.Kind.TEXT:
            segments.append(TextSegment(identifier=s.identifier, timestamp=s.timestamp,
                                        author_name=s.author_name or None, author_role=s.author_role or None,
                                        author_phone=s.author_phone or None, text=s.text, organization=org))
        else:
            blob = data.get(s.pk)
            segments.append(AttachmentSegment(
                identifier=s.identifier, timestamp=s.timestamp, title=s.title,
                content_type=(s.content_type or None) if (blob is not None or not forward) else None,
                data=bytes(blob) if blob is not None else None, url=s.url or None, organization=org))
    provenances: dict[str, MessageProvenance] = {}
    for stored in ReceivedMessage.objects.filter(thread=thread).order_by("sent_at").values_list(
            "provenances", flat=True):
        for p in stored:
            provenances.setdefault(p["header_id"], provenance_from_json(p))
    sender = entry_org(thread.entry)
    for o in OutboundMessage.objects.filter(thread=thread).exclude(activity="forward-message").exclude(pk=outbound.pk):
        if o.provenance:
            provenances.setdefault(o.header_id, provenance_from_json(o.provenance))
            continue
        provenances.setdefault(o.header_id, MessageProvenance(
            header_id=o.header_id, activity=o.activity, occurred=o.created_at, agent=sender,
            new_segment_ids=(o.segment_identifier,), previous_header_id=o.previous_header_id or None))
    return segments, list(provenances.values())


def _build(outbound: OutboundMessage, thread: Thread, now: dt.datetime) -> dict:
    sender = entry_org(thread.entry)
    segments, provenances = _earlier(thread, outbound)
    new = TextSegment(identifier=outbound.segment_identifier, timestamp=outbound.created_at,
                      author_name=outbound.author_name, author_role=outbound.author_role,
                      author_phone=outbound.author_phone, text=outbound.text, organization=sender)
    given = tuple(thread.patient_given.split())
    patient = Patient(cpr=thread.patient_cpr, is_replacement_cpr=thread.patient_is_replacement,
                      family=thread.patient_family or None, given=given,
                      cpr_system=thread.patient_cpr_system or None)
    try:
        return build_care_communication(
            activity=outbound.activity, sender=sender,
            receiver=Org(name=outbound.receiver_name or None, sor=outbound.receiver_sor,
                         ean=outbound.receiver_gln or None),
            sender_endpoint=entry_endpoint(thread.entry), receiver_endpoint=outbound.receiver_endpoint,
            patient=patient, thread_id=outbound.thread_identifier, category=thread.category or "other",
            topic=thread.topic or ("Henvendelse" if (thread.category or "other") == "other" else None),
            priority=(thread.priority or None) if thread.category == CATEGORY_REGARDING_REFERRAL else None,
            new_segments=[new], earlier_segments=segments, earlier_provenances=provenances,
            previous_header_id=outbound.previous_header_id or None, bundle_id=outbound.bundle_id,
            header_id=outbound.header_id, now=now,
            episode_of_care_ids=[Identifier(system=i.get("system"), value=i["value"])
                                 for i in thread.episode_of_care_ids],
        )
    except ValueError as exc:
        # Our own data cannot make a valid message (e.g. the entry lacks an EAN number).
        raise ValidationError(f"MedCom-beskeden kan ikke dannes: {exc}") from None


def provenance_from_json(p: dict) -> MessageProvenance:
    agent = p.get("agent")
    return MessageProvenance(
        header_id=p["header_id"], activity=p["activity"], occurred=parse_datetime(p.get("occurred")),
        agent=Org(name=agent.get("name"), sor=agent["sor"], ean=agent.get("ean")) if agent else None,
        new_segment_ids=tuple(p.get("new_segment_ids") or ()), previous_header_id=p.get("previous_header_id"),
    )


# --------------------------------------------------------------------------- delivering


def outbox_deliver(*, limit: int = 20) -> int:
    """Send what is due. Each row is claimed by a conditional UPDATE that must change
    exactly one row, so several workers never send the same message twice at once."""
    now = timezone.now()
    due = (OutboundMessage.objects.filter(status=OutboundMessage.Status.PENDING, due_at__lte=now,
                                          claimed_at__isnull=True)
           .order_by("due_at", "pk").values_list("pk", flat=True)[:limit])
    sent = 0
    for pk in list(due):
        claimed = OutboundMessage.objects.filter(
            pk=pk, status=OutboundMessage.Status.PENDING, claimed_at__isnull=True).update(claimed_at=now)
        if claimed != 1:
            continue
        if _deliver_one(pk, now):
            sent += 1
    return sent


def _deliver_one(pk: int, claimed_at: dt.datetime) -> bool:
    msg = OutboundMessage.objects.get(pk=pk)
    now = timezone.now()
    bundle = json.loads(bytes(msg.body))
    # A resend is the same message (same MessageHeader.id) in a new envelope.
    bundle_id = msg.bundle_id if msg.attempts == 0 else str(uuid.uuid4())
    bundle["id"] = bundle_id
    bundle["timestamp"] = now.isoformat(timespec="seconds")
    fmt = conf.outbound_format()
    wire = serialize(bundle, fmt)
    # Record the send before it leaves, so an acknowledgement that comes back at once finds it.
    OutboundMessage.objects.filter(pk=pk, claimed_at=claimed_at).update(
        status=OutboundMessage.Status.SENT, bundle_id=bundle_id, attempts=F("attempts") + 1, sent_at=now,
        due_at=now + dt.timedelta(minutes=conf.ack_wait_minutes()),
        body=json.dumps(bundle, ensure_ascii=False, indent=2).encode(), last_error="")
    try:
        _hand_over(msg, wire, fmt, bundle_id)
    except TransportError as exc:
        OutboundMessage.objects.filter(pk=pk, status=OutboundMessage.Status.SENT).update(
            status=OutboundMessage.Status.PENDING, attempts=F("attempts") - 1, due_at=now + TRANSPORT_RETRY,
            last_error=str(exc)[:500], claimed_at=None)
        log.warning("MedCom outbound %s: transport failed; will retry", pk)
        return False
    OutboundMessage.objects.filter(pk=pk).update(claimed_at=None)
    log.info("MedCom outbound %s sent (attempt %s)", pk, msg.attempts + 1)
    return True


def _hand_over(msg: OutboundMessage, wire: bytes, fmt: str, bundle_id: str) -> None:
    if route(msg.receiver_sor, msg.receiver_gln).found:
        # One of our own entries: deliver in-house, through the same intake as any sender,
        # and take its acknowledgement back the same way.
        from tovholder.inbox.services.intake import medcom_receive

        reception = medcom_receive(body=wire, content_type=content_type_for(fmt), channel="local",
                                   source=f"udgående besked {msg.pk}")
        if reception.body:
            medcom_receive(body=reception.body, content_type=reception.content_type, channel="local",
                           source=f"kvittering for udgående besked {msg.pk}")
        return
    get_transport().send(Delivery(
        kind="message", name=bundle_id, body=wire, content_type=content_type_for(fmt),
        receiver_sor=msg.receiver_sor, receiver_gln=msg.receiver_gln, receiver_endpoint=msg.receiver_endpoint,
    ))


def outbox_resend_due(*, now: dt.datetime | None = None) -> int:
    """No acknowledgement in time: send again (at most MEDCOM_MAX_RESENDS times), then flag
    the message for a person."""
    now = now or timezone.now()
    # A worker that died while sending leaves a claim behind: release it.
    OutboundMessage.objects.filter(claimed_at__lt=now - STALE_CLAIM).update(claimed_at=None)
    changed = 0
    waiting = (OutboundMessage.objects.filter(status=OutboundMessage.Status.SENT, due_at__lte=now,
                                              claimed_at__isnull=True)
               .values_list("pk", "attempts")[:200])
    for pk, attempts in list(waiting):
        still = OutboundMessage.objects.filter(pk=pk, status=OutboundMessage.Status.SENT, attempts=attempts)
        if attempts <= conf.max_resends():
            changed += still.update(status=OutboundMessage.Status.PENDING, due_at=now)
        else:
            changed += still.update(status=OutboundMessage.Status.UNANSWERED, flagged_at=now)
            log.warning("MedCom outbound %s: no acknowledgement after %s sends; flagged", pk, attempts)
    return changed


def outbound_acknowledge(*, info: AcknowledgementInfo) -> OutboundMessage | None:
    """Record an acknowledgement of a message we sent (matched by response.identifier)."""
    with transaction.atomic():
        msg = (OutboundMessage.objects.select_for_update(of=("self",)).select_related("entry")
               .filter(header_id=info.acknowledged_id).first())
        if msg is None:
            return None
        if msg.status in (OutboundMessage.Status.ACKED, OutboundMessage.Status.REJECTED):
            return msg  # a repeated acknowledgement: already recorded
        now = timezone.now()
        msg.ack_code = info.code
        msg.ack_text = "\n".join(info.texts)[:5000]
        fields = ["ack_code", "ack_text"]
        if info.code == "ok":
            msg.status, msg.acked_at = OutboundMessage.Status.ACKED, now
            fields += ["status", "acked_at"]
            if msg.flagged_at and not msg.flag_resolved_at:
                msg.flag_resolved_at = now  # it arrived after all
                fields.append("flag_resolved_at")
        elif info.code == "fatal-error":
            msg.status, msg.acked_at, msg.flagged_at = OutboundMessage.Status.REJECTED, now, now
            fields += ["status", "acked_at", "flagged_at"]
        # transient-error: the receiver asks us to try again; the resend schedule does.
        msg.save(update_fields=fields)
        return msg


@transaction.atomic
def outbound_flag_resolve(*, actor: Actor, outbound: OutboundMessage, resend: bool, basis: str = "inbox") -> OutboundMessage:
    """A person has looked at a flagged message: send it again (a fresh round of tries) or
    close the flag (e.g. the referrer was phoned instead)."""
    msg = OutboundMessage.objects.select_for_update().get(pk=outbound.pk)
    if msg.flagged_at is None or msg.flag_resolved_at is not None:
        raise ValidationError("Beskeden venter ikke på en person.")
    now = timezone.now()
    msg.flag_resolved_at, msg.flag_resolved_by = now, actor.user
    fields = ["flag_resolved_at", "flag_resolved_by"]
    if resend:
        msg.status, msg.attempts, msg.due_at, msg.flagged_at = OutboundMessage.Status.PENDING, 0, now, None
        msg.flag_resolved_at = None
        msg.bundle_id = str(uuid.uuid4())
        fields += ["status", "attempts", "due_at", "flagged_at", "bundle_id"]
    msg.save(update_fields=fields)
    audit_record(actor=actor, action=AuditEvent.Action.CHANGE, basis=basis, case=msg.case, obj=msg,
                 summary="Udgående besked sendes igen" if resend else "Udgående besked håndteret af en person")
    return msg


def flagged_q() -> Q:
    return Q(flagged_at__isnull=False, flag_resolved_at__isnull=True)


def referrer_tell(*, actor: Actor, case, text: str, reason: str) -> OutboundMessage | None:
    """The `notify.tell_referrer` handler: answer in the thread of the referral that opened
    the case. MedCom threads get a reply through the outbox; web, letter and phone threads
    get it recorded for the referrer's page (None is returned). A case that came in
    without any thread (e.g. registered before the entry existed) gets nothing."""
    from tovholder.inbox.models import InboxItem

    opening = (InboxItem.objects.filter(case=case, status=InboxItem.Status.OPENED)
               .order_by("handled_at", "pk").values_list("thread_id", flat=True).first())
    thread = Thread.objects.filter(pk=opening).first() if opening else (
        Thread.objects.filter(case=case).order_by("started_at", "pk").first())
    if thread is None:
        return None
    return thread_reply(actor=actor, thread=thread, text=text, reason=reason, case=case)


@transaction.atomic
def outbound_referral_send(*, actor: Actor, case, entry: Unit, receiver: Unit, bundle: dict,
                           reason: str = "referral") -> OutboundMessage:
    """Queue a CareCommunication another part of the domain wrote from the entry (e.g. a
    referral onwards to BUA, tovholder.consultation). It must pass our own inbound
    validator; it starts (or continues) a thread of ours, so the receiver's replies land
    there — and reach the thread's listeners (see `tovholder.inbox.hooks`)."""
    from tovholder.inbox.services.intake import provenance_to_json
    from tovholder.medcom import MessageRejected, interpret

    try:
        msg = interpret(bundle)
    except MessageRejected as exc:
        raise ValidationError("MedCom-beskeden er ikke gyldig: " + "; ".join(p.text for p in exc.problems[:5])) from None
    if msg.sender.sor != entry.sor_id or entry.municipality_id != case.municipality_id:
        raise ValidationError("Beskeden skal sendes fra forløbets kommunes fælles indgang.")
    texts = [s for s in msg.new_segments if isinstance(s, TextSegment)]
    if not texts:
        raise ValidationError("Beskeden skal have en ny tekst.")
    now = timezone.now()
    patient = msg.patient
    thread, _ = Thread.objects.get_or_create(
        municipality_id=entry.municipality_id, identifier=msg.thread_id,
        defaults=dict(
            entry=entry, channel=Thread.Channel.MEDCOM, counterpart_name=(msg.receiver.name or receiver.name)[:200],
            counterpart_sor=msg.receiver.sor, counterpart_gln=msg.receiver.ean or "",
            counterpart_endpoint=msg.destination_endpoint[:300], patient_cpr=patient.cpr,
            patient_cpr_system=patient.cpr_system or "", patient_is_replacement=patient.is_replacement_cpr,
            patient_given=" ".join(patient.given)[:200], patient_family=(patient.family or "")[:200],
            category=msg.category[:60], topic=(msg.topic or "")[:300], priority=msg.priority or "",
            case=case, started_at=now, last_activity_at=now,
        ),
    )
    first = texts[0]
    outbound = OutboundMessage.objects.create(
        thread=thread, case=case, entry=entry, reason=reason[:30], activity=msg.activity,
        thread_identifier=msg.thread_id, previous_header_id=msg.previous_header_id or "",
        segment_identifier=first.identifier, text=first.text, author_name=(first.author_name or "")[:200],
        author_role=(first.author_role or "")[:200], author_phone=(first.author_phone or "")[:40],
        receiver_name=(msg.receiver.name or "")[:200], receiver_sor=msg.receiver.sor,
        receiver_gln=msg.receiver.ean or "", receiver_endpoint=msg.destination_endpoint[:300],
        header_id=msg.header_id, bundle_id=msg.bundle_id, created_at=now, due_at=now,
        body=serialize(bundle, "json"),
        provenance=next((provenance_to_json(p) for p in msg.provenances if p.header_id == msg.header_id), None),
    )
    known = set(Segment.objects.filter(thread=thread).values_list("identifier", flat=True))
    for seg in msg.segments:
        if seg.identifier in known:
            continue
        org = seg.organization
        row = Segment(thread=thread, identifier=seg.identifier, timestamp=seg.timestamp, outgoing=True,
                      outbound=outbound if seg.identifier in msg.new_segment_ids else None,
                      organisation=((org.name or "") if org else "")[:200], organisation_sor=org.sor if org else "",
                      organisation_gln=(org.ean or "") if org else "", author_user=actor.user)
        if isinstance(seg, TextSegment):
            row.kind, row.text = Segment.Kind.TEXT, seg.text
            row.author_name, row.author_role = (seg.author_name or "")[:200], (seg.author_role or "")[:200]
            row.author_phone = (seg.author_phone or "")[:40]
        else:
            row.kind, row.title, row.content_type = Segment.Kind.ATTACHMENT, seg.title[:300], seg.content_type or ""
            row.url, row.size = (seg.url or "")[:1000], len(seg.data) if seg.data else 0
        row.save()
        if isinstance(seg, AttachmentSegment) and seg.data:
            AttachmentData.objects.create(segment=row, data=seg.data)
    audit_record(actor=actor, action=AuditEvent.Action.CREATE, basis="system", case=case, obj=outbound,
                 summary=f"MedCom-besked i udbakken til {receiver}")
    return outbound
