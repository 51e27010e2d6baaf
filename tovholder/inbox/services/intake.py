"""Receiving MedCom messages: store first, then read, then file — nothing lost, nothing twice.

1. `arrival_store` commits the body exactly as it came, in its own transaction, before a
   byte of it is interpreted. Whatever happens next, the message is on disk.
2. `arrival_process` reads it: unreadable, invalid or misaddressed → a `fatal-error`
   acknowledgement whose OperationOutcome says what to fix, and the arrival stays in
   quarantine for a person. An Acknowledgement of something we sent is matched to the
   outbox and never acknowledged.
3. The duplicate table (shared/medcom/README.md) is decided from the Bundle.id and
   MessageHeader.id of every message accepted so far. The guarantee is the database's:
   `ReceivedMessage` is unique on both, and the insert that loses a race (IntegrityError
   in a savepoint) returns the winner's acknowledgement instead. So identical deliveries
   at the same moment make one message, one thread entry and at most one inbox item.
4. The acknowledgement returned is stored with what it acknowledges — the accepted
   message (every arrival of it points there), or the quarantined arrival — so a replay
   gets the identical bytes. It is kept as FHIR JSON; XML is rendered from it,
   deterministically.

Logs carry arrival numbers and outcome codes only: never ids, names or numbers from a
message (which could be a CPR number).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
import traceback
import uuid
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from tovholder.audit.actor import Actor
from tovholder.audit.models import AuditEvent
from tovholder.audit.services import audit_record
from tovholder.inbox.hooks import thread_message_arrived
from tovholder.inbox.models import (
    Arrival,
    AttachmentData,
    InboxItem,
    OutboundMessage,
    ReceivedMessage,
    Segment,
    Thread,
)
from tovholder.inbox.routing import Route, route
from tovholder.medcom import (
    AttachmentSegment,
    CareCommunication,
    MessageIdentity,
    MessageRejected,
    Org,
    Problem,
    TextSegment,
    build_acknowledgement,
    check_gln,
    check_sor,
    content_type_for,
    format_for_content_type,
    identify,
    interpret,
    parse_bundle,
    read_acknowledgement,
    serialize,
)
from tovholder.medcom.codes import ACKNOWLEDGEMENT_EVENT
from tovholder.medcom.parse import MAX_BODY_BYTES
from tovholder.organisations.models import Unit

log = logging.getLogger(__name__)

MEDCOM = Actor(system="medcom")
# FHIR ids are at most 64 characters of [A-Za-z0-9-.]; we keep up to 200 in the log.
_FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
# How much of an over-size body we keep as evidence for the person who looks at it.
EVIDENCE_BYTES = 64 * 1024


@dataclass(frozen=True)
class Reception:
    """What to answer the sender: 200 with the acknowledgement, or 204 for an
    acknowledgement we received (an acknowledgement is never acknowledged)."""

    arrival: Arrival
    status: int
    body: bytes
    content_type: str
    ack_code: str


class _ThreadRace(Exception):
    """A concurrent delivery created the same new thread first: file again, into it."""


class _Quarantine(Exception):
    def __init__(self, problems: list[Problem], municipality_id: int | None = None):
        self.problems = problems
        self.municipality_id = municipality_id


# --------------------------------------------------------------------------- entry points


def medcom_receive(
    *, body: bytes, content_type: str, channel: str, source: str = "", size: int | None = None,
    truncated: bool = False,
) -> Reception:
    """Store one delivered body, then process it. Call outside any transaction, so the
    stored body is committed before it is read."""
    arrival = arrival_store(body=body, content_type=content_type, channel=channel, source=source,
                            size=size, truncated=truncated)
    return arrival_process(arrival=arrival)


def arrival_store(
    *, body: bytes, content_type: str, channel: str, source: str = "", size: int | None = None,
    truncated: bool = False,
) -> Arrival:
    """Commit the body as received. `truncated`: only the beginning of an over-size body
    was read (its full `size` is recorded, its content refused).

    One INSERT in autocommit mode is its own committed transaction (no BEGIN/COMMIT round
    trips); inside a caller's transaction it is part of that (tests, the demo)."""
    return Arrival.objects.create(
        channel=channel, source=source[:200], content_type=content_type[:200],
        size=size if size is not None else len(body), sha256=hashlib.sha256(body).hexdigest(),
        body=body, truncated=truncated,
    )


def arrival_process(*, arrival: Arrival) -> Reception:
    """Read a stored arrival and answer it. A failure of our own (not the message's) gives
    `transient-error`: the sender tries again, and the arrival stays for the retry job."""
    fmt = reply_format(arrival.content_type)
    try:
        return _process(arrival, fmt)
    except Exception as exc:
        # The exception text could quote the message (a CPR number): log where, not what.
        log.error("MedCom arrival %s failed with %s:\n%s", arrival.pk, type(exc).__name__,
                  "".join(traceback.format_tb(exc.__traceback__)))
        Arrival.objects.filter(pk=arrival.pk).update(
            state=Arrival.State.FAILED, attempts=arrival.attempts + 1, processed_at=timezone.now())
        try:  # name the message in the answer, if it can be read at all
            raw = parse_bundle(bytes(arrival.body), arrival.content_type)
        except Exception:  # noqa: BLE001
            raw = None
        ack = build_acknowledgement(
            raw, code="transient-error", our_org=_answering_org(identify(raw or {})), ack_id=str(uuid.uuid4()),
            ack_bundle_id=str(uuid.uuid4()), now=timezone.now(),
            problems=[Problem("transient", "Beskeden er gemt, men kunne ikke behandles lige nu. "
                                           "Send den venligst igen senere.")],
        )
        return _reception(arrival, compact_json(ack), fmt, "transient-error")


def reply_format(content_type: str) -> str:
    try:
        return format_for_content_type(content_type)
    except MessageRejected:
        return "json"


def compact_json(bundle: dict) -> bytes:
    """FHIR JSON as stored and answered: UTF-8, no indentation (a machine reads it)."""
    return json.dumps(bundle, ensure_ascii=False, separators=(",", ":")).encode()


def render_ack(ack_json: bytes, fmt: str) -> bytes:
    """The stored acknowledgement in the sender's format (identical bytes every time)."""
    return bytes(ack_json) if fmt == "json" else serialize(json.loads(bytes(ack_json)), "xml")


def _reception(arrival: Arrival, ack_json: bytes, fmt: str, code: str, ack: dict | None = None) -> Reception:
    """`ack`: the bundle `ack_json` was made from, when at hand (spares parsing it again)."""
    body = serialize(ack, "xml") if fmt == "xml" and ack is not None else render_ack(ack_json, fmt)
    return Reception(arrival=arrival, status=200, body=body, content_type=content_type_for(fmt), ack_code=code)


# --------------------------------------------------------------------------- the steps


def _process(arrival: Arrival, fmt: str) -> Reception:
    if arrival.truncated:
        problem = Problem(
            "too-costly",
            f"Beskeden fylder {arrival.size / (1024 * 1024):.1f} MB; en MedCom-besked må højst "
            f"fylde {MAX_BODY_BYTES // (1024 * 1024)} MB inklusive vedhæftede filer. Send store "
            f"bilag i flere beskeder.",
        )
        return _quarantine(arrival, fmt, [problem], raw=_sniffed_bundle(bytes(arrival.body)))
    try:
        bundle = parse_bundle(bytes(arrival.body), arrival.content_type)
    except MessageRejected as exc:
        return _quarantine(arrival, fmt, exc.problems, raw=None)

    identity = identify(bundle)
    if identity.event_code == ACKNOWLEDGEMENT_EVENT:
        return _acknowledgement(arrival, bundle)

    duplicate = _duplicate_table(arrival, bundle, identity, fmt)
    if duplicate is not None:
        return duplicate

    try:
        msg = interpret(bundle)
    except MessageRejected as exc:
        return _quarantine(arrival, fmt, exc.problems, raw=bundle, identity=identity)
    problems = [
        Problem("value", f"{what} '{value[:80]}' er ikke et gyldigt FHIR-id (højst 64 tegn: "
                         f"bogstaver, cifre, '-' og '.').", where)
        for what, value, where in (("Bundle.id", msg.bundle_id, "Bundle.id"),
                                   ("MessageHeader.id", msg.header_id, "MessageHeader.id"))
        if not _FHIR_ID.match(value)
    ]
    if problems:
        return _quarantine(arrival, fmt, problems, raw=bundle, identity=identity)
    referrer = _referrer_address(msg)
    routed = route(msg.receiver.sor, msg.receiver.ean, referrer=(referrer.sor, referrer.ean))
    if not routed.found:
        return _quarantine(arrival, fmt, [_unknown_receiver(msg.receiver, routed.conflict)], raw=bundle,
                           identity=identity)
    try:
        try:
            return _accept(arrival, msg, routed, fmt)
        except _ThreadRace:
            return _accept(arrival, msg, routed, fmt, look_first=True)  # the thread exists now
    except _Quarantine as exc:
        return _quarantine(arrival, fmt, exc.problems, raw=bundle, identity=identity,
                           municipality_id=exc.municipality_id)


def _unknown_receiver(receiver: Org, conflict: bool) -> Problem:
    who = f"{receiver.name or 'Modtageren'} (SOR {receiver.sor}, EAN {receiver.ean or 'ukendt'})"
    if conflict:
        return Problem("business-rule", f"Modtageren {who}: SOR-id og EAN-nummer hører til to forskellige "
                                        f"indgange. Ret modtageren, så begge hører til samme indgang.",
                       "MessageHeader.destination[0].receiver")
    return Problem(
        "not-found",
        f"Modtageren {who} er ikke en fælles indgang for børn og unge i mistrivsel, som denne "
        f"postkasse kender. Slå den rigtige indgang op under 'Hvor sender jeg hen?' (indgangsoversigten) "
        f"og send beskeden dertil.",
        "MessageHeader.destination[0].receiver",
    )


def _duplicate_table(arrival: Arrival, bundle: dict, identity: MessageIdentity, fmt: str) -> Reception | None:
    """Rows 2–4 of the duplicate table, decided before validation (row 1 is the rest)."""
    q = Q()
    if identity.bundle_id:
        q |= Q(bundle_id=identity.bundle_id)
    if identity.header_id:
        q |= Q(header_id=identity.header_id)
    if not q:
        return None
    if not ReceivedMessage.objects.filter(q).exists():
        return None  # the common case: new ids, one cheap query
    seen = list(ReceivedMessage.objects.filter(q).values("pk", "bundle_id", "header_id", "ack_json",
                                                          "thread__municipality_id"))
    same = next((s for s in seen if s["bundle_id"] == identity.bundle_id and s["header_id"] == identity.header_id), None)
    reused = next((s for s in seen if s["bundle_id"] == identity.bundle_id and s["header_id"] != identity.header_id), None)
    if same is None and reused is not None:
        problem = Problem(
            "duplicate",
            f"Bundle.id '{identity.bundle_id[:80]}' er allerede brugt til en anden besked. Et Bundle.id må "
            f"aldrig genbruges: giv beskeden et nyt Bundle.id (og ved genforsendelse samme MessageHeader.id).",
            "Bundle.id",
        )
        return _quarantine(arrival, fmt, [problem], raw=bundle, identity=identity,
                           municipality_id=reused["thread__municipality_id"])
    first = same or seen[0]  # new Bundle.id, seen MessageHeader.id: a resend
    kind = "genafspilning" if same else "genforsendelse"
    return _mark_duplicate(arrival, first, identity, fmt, kind)


def _mark_duplicate(arrival: Arrival, first: dict, identity: MessageIdentity, fmt: str, kind: str) -> Reception:
    Arrival.objects.filter(pk=arrival.pk).update(
        state=Arrival.State.DUPLICATE, message_id=first["pk"], ack_code="ok",
        processed_at=timezone.now(), bundle_id=(identity.bundle_id or "")[:200],
        header_id=(identity.header_id or "")[:200], municipality_id=first["thread__municipality_id"],
        problems=[{"code": "duplicate", "text": f"Dublet ({kind}) af en modtaget besked; ikke vist igen."}],
    )
    log.info("MedCom arrival %s: duplicate (%s)", arrival.pk, kind)
    return _reception(arrival, first["ack_json"], fmt, "ok")


def _accept(arrival: Arrival, msg: CareCommunication, routed: Route, fmt: str, *, look_first: bool = False) -> Reception:
    now = timezone.now()
    ack = build_acknowledgement(msg, code="ok", our_org=msg.receiver, ack_id=str(uuid.uuid4()),
                                ack_bundle_id=str(uuid.uuid4()), now=now)
    ack_json = compact_json(ack)
    with transaction.atomic():
        thread, created = _thread_for(msg, routed, look_first=look_first)
        try:
            with transaction.atomic():
                received = ReceivedMessage.objects.create(
                    arrival=arrival, bundle_id=msg.bundle_id, header_id=msg.header_id, thread=thread,
                    activity=msg.activity, previous_header_id=msg.previous_header_id or "",
                    sent_at=msg.bundle_timestamp, received_at=arrival.received_at,
                    sender_name=(msg.sender.name or "")[:200], sender_sor=msg.sender.sor,
                    sender_gln=msg.sender.ean or "", source_endpoint=msg.source_endpoint[:300],
                    receiver_sor=msg.receiver.sor, receiver_gln=msg.receiver.ean or "",
                    destination_endpoint=msg.destination_endpoint[:300],
                    provenances=[provenance_to_json(p) for p in msg.provenances], ack_json=ack_json,
                )
        except IntegrityError:
            # The same message, accepted a moment ago by a concurrent delivery: answer as it did.
            first = (ReceivedMessage.objects.filter(Q(bundle_id=msg.bundle_id) | Q(header_id=msg.header_id))
                     .values("pk", "bundle_id", "header_id", "ack_json", "thread__municipality_id").first())
            if first is None:
                raise
            identity = MessageIdentity(bundle_id=msg.bundle_id, header_id=msg.header_id)
            if first["bundle_id"] == msg.bundle_id and first["header_id"] != msg.header_id:
                raise _Quarantine([Problem("duplicate", f"Bundle.id '{msg.bundle_id[:80]}' er allerede brugt "
                                                        f"til en anden besked.", "Bundle.id")]) from None
            return _mark_duplicate(arrival, first, identity, fmt, "samtidig levering")
        _file_segments(thread, msg, received, new_thread=created)
        item = _item_for(thread, created, received, msg, arrival)
        if not created and OutboundMessage.objects.filter(thread=thread, activity="new-message").exists():
            # A thread we started (a referral onwards): tell whoever is waiting for the answer.
            thread_message_arrived(thread=thread, message=received,
                                   texts=[s.text for s in msg.new_segments if isinstance(s, TextSegment)])
        Arrival.objects.filter(pk=arrival.pk).update(
            state=Arrival.State.ACCEPTED, message=received, ack_code="ok", processed_at=now,
            bundle_id=msg.bundle_id, header_id=msg.header_id, municipality_id=thread.municipality_id,
        )
        audit_record(actor=MEDCOM, action=AuditEvent.Action.CREATE, basis="system", case=thread.case,
                     obj=item or received,
                     summary="Henvendelse modtaget via MedCom" if item else "MedCom-besked lagt i tråd")
    log.info("MedCom arrival %s accepted", arrival.pk)
    return _reception(arrival, ack_json, fmt, "ok", ack)


def _thread_for(msg: CareCommunication, routed: Route, *, look_first: bool = False) -> tuple[Thread, bool]:
    """The thread of this Communication.identifier in the entry's municipality, locked for
    the rest of the transaction (so messages of one thread are filed one at a time). A new
    message usually starts a thread, so it is inserted first and looked up only if it exists."""
    lookup = {"municipality_id": routed.municipality_id, "identifier": msg.thread_id}
    thread = None
    if look_first or msg.activity != "new-message":
        thread = Thread.objects.select_for_update().filter(**lookup).first()
    created = False
    if thread is None:
        patient = msg.patient
        try:
            # No savepoint of its own: losing this race (rare) rolls back the whole filing,
            # which the caller then repeats once — saving two round trips per message.
            thread = Thread.objects.create(
                **lookup, entry_id=routed.entry_id, channel=Thread.Channel.MEDCOM,
                counterpart_name=(msg.sender.name or "")[:200], counterpart_sor=msg.sender.sor,
                counterpart_gln=msg.sender.ean or "", counterpart_endpoint=msg.source_endpoint[:300],
                referrer_unit_id=routed.referrer_unit_id,
                patient_cpr=patient.cpr, patient_cpr_system=patient.cpr_system or "",
                patient_is_replacement=patient.is_replacement_cpr,
                patient_given=" ".join(patient.given)[:200], patient_family=(patient.family or "")[:200],
                category=msg.category[:60], topic=(msg.topic or "")[:300], priority=msg.priority or "",
                episode_of_care_ids=[{"system": i.system, "value": i.value} for i in msg.episode_of_care_ids],
                beginning_missing=msg.activity != "new-message",
                forwarded_from_header_id=(msg.previous_header_id or "") if msg.activity == "forward-message" else "",
                started_at=msg.bundle_timestamp, last_activity_at=msg.bundle_timestamp,
            )
            created = True
        except IntegrityError:
            raise _ThreadRace from None
    if not created:
        if thread.patient_cpr and thread.patient_cpr != msg.patient.cpr:
            raise _Quarantine([Problem(
                "business-rule",
                "Beskeden har samme tråd-id (Communication.identifier) som tidligere beskeder, men handler om "
                "en anden patient. En henvendelse om en anden patient skal have sit eget tråd-id.",
                "Communication.identifier",
            )], municipality_id=thread.municipality_id)
        changed = []
        if msg.bundle_timestamp > thread.last_activity_at:
            thread.last_activity_at = msg.bundle_timestamp
            changed.append("last_activity_at")
        if msg.bundle_timestamp < thread.started_at:
            thread.started_at = msg.bundle_timestamp
            changed.append("started_at")
        if msg.activity == "new-message" and thread.beginning_missing:
            thread.beginning_missing = False  # the beginning arrived after its answer
            changed.append("beginning_missing")
        if changed:
            thread.save(update_fields=changed)
    return thread, created


def _referrer_address(msg: CareCommunication) -> Org:
    """Who referred: the sender — or, for a forward, whoever wrote its first text (the GP
    whose referral another entry forwarded here). Looked up among our units with the route."""
    if msg.activity == "forward-message":
        first = next((s for s in msg.segments if isinstance(s, TextSegment) and s.organization), None)
        if first is not None and first.organization.sor != msg.sender.sor:
            return first.organization
    return msg.sender


def _file_segments(thread: Thread, msg: CareCommunication, received: ReceivedMessage, *, new_thread: bool) -> None:
    """Add the message's segments to the thread once each, by their own identifiers. A
    segment first known as carried by a later message becomes its own message's when
    that message arrives (out of order), and gains its data if it lacked it."""
    known = {} if new_thread else {s.identifier: s for s in Segment.objects.filter(thread=thread).only(
        "pk", "identifier", "carried_over", "message_id", "size", "kind")}
    own = set(msg.new_segment_ids)
    new: list[Segment] = []
    data: dict[str, bytes] = {}
    for seg in msg.segments:
        is_own = seg.identifier in own
        existing = known.get(seg.identifier)
        if existing is None:
            new.append(_segment_row(thread, seg, received if is_own else None))
            if isinstance(seg, AttachmentSegment) and seg.data:
                data[seg.identifier] = seg.data
            continue
        update: dict = {}
        if is_own and existing.carried_over:
            update.update(message=received, carried_over=False)
        if isinstance(seg, AttachmentSegment) and seg.data and existing.size == 0:
            update["size"] = len(seg.data)
            if seg.content_type:
                update["content_type"] = seg.content_type
            AttachmentData.objects.create(segment_id=existing.pk, data=seg.data)
        if update:
            Segment.objects.filter(pk=existing.pk).update(**update)
    if new:
        created = Segment.objects.bulk_create(new)
        if data:
            by_identifier = {s.identifier: s.pk for s in created if s.pk is not None}
            if len(by_identifier) < len(created):  # a database that cannot return ids
                by_identifier = dict(Segment.objects.filter(thread=thread, identifier__in=data)
                                     .values_list("identifier", "pk"))
            AttachmentData.objects.bulk_create(
                AttachmentData(segment_id=by_identifier[i], data=d) for i, d in data.items())


def _segment_row(thread: Thread, seg, received: ReceivedMessage | None) -> Segment:
    org = seg.organization
    common = dict(
        thread=thread, identifier=seg.identifier[:100], timestamp=seg.timestamp, message=received,
        carried_over=received is None, organisation=((org.name or "") if org else "")[:200],
        organisation_sor=org.sor[:20] if org else "", organisation_gln=(org.ean or "")[:13] if org else "",
    )
    if isinstance(seg, TextSegment):
        return Segment(**common, kind=Segment.Kind.TEXT, text=seg.text, author_name=(seg.author_name or "")[:200],
                       author_role=(seg.author_role or "")[:200], author_phone=(seg.author_phone or "")[:40])
    return Segment(**common, kind=Segment.Kind.ATTACHMENT, title=seg.title[:300],
                   content_type=(seg.content_type or "")[:60], url=(seg.url or "")[:1000],
                   size=len(seg.data) if seg.data else 0)


def _item_for(thread: Thread, created: bool, received: ReceivedMessage, msg: CareCommunication,
              arrival: Arrival) -> InboxItem | None:
    """A new thread is a new item. A later message in a thread becomes an item only when
    the thread has no unhandled one (a reply to a handled referral must be seen)."""
    if not created and InboxItem.objects.filter(thread=thread, status=InboxItem.Status.NEW).exists():
        return None
    texts = [s.text for s in msg.new_segments if isinstance(s, TextSegment)]
    return InboxItem.objects.create(
        municipality_id=thread.municipality_id, thread=thread, message=received, kind=InboxItem.Kind.MEDCOM,
        received_at=arrival.received_at, summary=" ".join((texts[0] if texts else "").split())[:300],
        case=thread.case,
    )


# --------------------------------------------------------------------------- quarantine


def _quarantine(
    arrival: Arrival, fmt: str, problems: list[Problem], *, raw: dict | None,
    identity: MessageIdentity | None = None, municipality_id: int | None = None,
) -> Reception:
    """Refuse with `fatal-error`, and keep the arrival for a person. The inbox keepers of
    the addressed municipality see it; when no municipality can be told, every inbox
    keeper does (region-wide quarantine)."""
    identity = identity or identify(raw or {})
    if municipality_id is None and identity.receiver is not None:
        municipality_id = route(identity.receiver.sor, identity.receiver.ean).municipality_id
    with transaction.atomic():
        earlier = (Arrival.objects.filter(state=Arrival.State.QUARANTINED, sha256=arrival.sha256,
                                          resolved_at__isnull=True, ack_json__isnull=False)
                   .exclude(pk=arrival.pk).order_by("pk").first())
        if earlier is not None:
            # The same broken message again: logged, answered as before, shown once.
            Arrival.objects.filter(pk=arrival.pk).update(
                state=Arrival.State.DUPLICATE, duplicate_of=earlier, ack_json=earlier.ack_json,
                ack_code="fatal-error", processed_at=timezone.now(), bundle_id=earlier.bundle_id,
                header_id=earlier.header_id, municipality_id=earlier.municipality_id, problems=earlier.problems)
            return _reception(arrival, earlier.ack_json, fmt, "fatal-error")
        ack = build_acknowledgement(
            raw, code="fatal-error", problems=problems, our_org=_answering_org(identity),
            ack_id=str(uuid.uuid4()), ack_bundle_id=str(uuid.uuid4()), now=timezone.now(),
        )
        ack_json = compact_json(ack)
        Arrival.objects.filter(pk=arrival.pk).update(
            state=Arrival.State.QUARANTINED, problems=[problem_to_json(p) for p in problems],
            municipality_id=municipality_id, ack_json=ack_json, ack_code="fatal-error",
            processed_at=timezone.now(), bundle_id=(identity.bundle_id or "")[:200],
            header_id=(identity.header_id or "")[:200],
        )
    log.info("MedCom arrival %s quarantined (%d problem(s))", arrival.pk, len(problems))
    return _reception(arrival, ack_json, fmt, "fatal-error")


def _answering_org(identity: MessageIdentity) -> Org:
    """We answer as the receiver the sender addressed, when it is a usable address."""
    receiver = identity.receiver
    if receiver is not None and check_sor(receiver.sor)[0] and check_gln(receiver.ean)[0]:
        return receiver
    return _fallback_org()


def _fallback_org() -> Org:
    """Who answers when the message does not say whom it was for: the first entry."""
    entry = (Unit.objects.filter(kind=Unit.Kind.SINGLE_ENTRY).exclude(sor_id="").exclude(gln="")
             .order_by("pk").first())
    if entry is None:
        return Org(name="Tovholder", sor="00000000000", ean="0000000000000")
    return Org(name=entry.name, sor=entry.sor_id, ean=entry.gln or None)


_SNIFF = {
    "Bundle": re.compile(rb'"resourceType"\s*:\s*"Bundle"|<Bundle[\s>]'),
    "MessageHeader": re.compile(rb'"resourceType"\s*:\s*"MessageHeader"|<MessageHeader[\s>]'),
}
_SNIFF_ID = re.compile(rb'"id"\s*:\s*"([A-Za-z0-9\-.]{1,64})"|<id\s+value="([A-Za-z0-9\-.]{1,64})"')


def _sniffed_bundle(prefix: bytes) -> dict | None:
    """Best effort for a body too large to read: the Bundle.id and MessageHeader.id from
    its beginning, so the sender can tell which message was refused."""
    found = {}
    for resource, pattern in _SNIFF.items():
        match = pattern.search(prefix)
        if match:
            near = _SNIFF_ID.search(prefix, match.end(), match.end() + 2000)
            if near:
                found[resource] = (near.group(1) or near.group(2)).decode()
    if "MessageHeader" not in found:
        return None
    return {"resourceType": "Bundle", "id": found.get("Bundle"),
            "entry": [{"resource": {"resourceType": "MessageHeader", "id": found["MessageHeader"]}}]}


# --------------------------------------------------------------------------- acknowledgements


def _acknowledgement(arrival: Arrival, bundle: dict) -> Reception:
    """An Acknowledgement of a message we sent: match it by response.identifier. It is
    never acknowledged; one we cannot match is kept for a person."""
    from tovholder.inbox.services.outbox import outbound_acknowledge

    problems: list[Problem] = []
    matched = None
    try:
        info = read_acknowledgement(bundle)
    except MessageRejected as exc:
        info, problems = None, exc.problems
    if info is not None:
        matched = outbound_acknowledge(info=info)
        if matched is None:
            problems = [Problem("not-found", f"Kvittering for en besked, som ikke er sendt herfra "
                                             f"(response.identifier '{info.acknowledged_id[:80]}').")]
    identity = identify(bundle)
    Arrival.objects.filter(pk=arrival.pk).update(
        state=Arrival.State.ACKNOWLEDGEMENT if matched else Arrival.State.QUARANTINED,
        problems=[problem_to_json(p) for p in problems], processed_at=timezone.now(),
        bundle_id=(identity.bundle_id or "")[:200], header_id=(identity.header_id or "")[:200],
        municipality_id=matched.entry.municipality_id if matched else None,
    )
    log.info("MedCom arrival %s: acknowledgement %s", arrival.pk, "matched" if matched else "not matched")
    return Reception(arrival=arrival, status=204, body=b"", content_type="", ack_code="")


# --------------------------------------------------------------------------- retry


def arrivals_retry(*, older_than: dt.timedelta = dt.timedelta(minutes=5), max_attempts: int = 3) -> int:
    """Process again what a crash or an error of ours left unprocessed. After
    `max_attempts` the arrival goes to quarantine for a person."""
    cutoff = timezone.now() - older_than
    stuck = Arrival.objects.filter(
        Q(state=Arrival.State.FAILED) | Q(state=Arrival.State.RECEIVED, received_at__lt=cutoff)
    ).filter(Q(processed_at__isnull=True) | Q(processed_at__lt=cutoff)).order_by("pk")
    done = 0
    for arrival in stuck[:20]:
        # Claim it: only one worker may take it.
        if not Arrival.objects.filter(pk=arrival.pk, state=arrival.state, attempts=arrival.attempts).update(
                attempts=arrival.attempts + 1, processed_at=timezone.now()):
            continue
        arrival.attempts += 1
        if arrival.attempts > max_attempts:
            Arrival.objects.filter(pk=arrival.pk).update(
                state=Arrival.State.QUARANTINED,
                problems=[{"code": "exception", "text": "Beskeden kunne ikke behandles efter flere forsøg "
                                                        "(teknisk fejl hos modtageren)."}])
        else:
            arrival_process(arrival=arrival)
        done += 1
    return done


# --------------------------------------------------------------------------- (de)serialising


def problem_to_json(problem: Problem) -> dict:
    return {"code": problem.code, "text": problem.text, "location": problem.location or ""}


def provenance_to_json(p) -> dict:
    return {
        "header_id": p.header_id, "activity": p.activity,
        "occurred": p.occurred.isoformat() if p.occurred else None,
        "agent": {"name": p.agent.name, "sor": p.agent.sor, "ean": p.agent.ean} if p.agent else None,
        "new_segment_ids": list(p.new_segment_ids), "previous_header_id": p.previous_header_id,
    }
