"""Reads of the single entry for pages and the API."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils import timezone

from tovholder import access
from tovholder.audit.actor import Actor
from tovholder.cases.models import Case, Stage
from tovholder.children.models import Child
from tovholder.deadlines.clocks import Rules
from tovholder.deadlines.workdays import calendar_for, local_date
from tovholder.inbox.models import Arrival, InboxItem, OutboundMessage, Segment, Thread
from tovholder.inbox.services.outbox import flagged_q
from tovholder.organisations.models import Municipality, Unit, User


@dataclass(frozen=True)
class ItemRow:
    item: InboxItem
    age_working_days: int
    due: dt.date
    overdue: bool  # unhandled for more than one working day


def item_age(item: InboxItem, today: dt.date, municipality: Municipality) -> ItemRow:
    calendar = calendar_for(municipality)
    arrived = local_date(item.received_at)
    due = Rules(calendar=calendar).inbox_due(item.received_at)
    return ItemRow(item=item, age_working_days=calendar.working_days_between(arrived, today), due=due,
                   overdue=today > due)


def new_items(*, user: User, today: dt.date | None = None) -> list[ItemRow]:
    """The inbox keeper's work: new items, oldest first, each with its age in working days
    and flagged when it has waited longer than one working day."""
    today = today or timezone.localdate()
    municipalities = access.inbox_municipalities(user)
    items = (InboxItem.objects.filter(municipality_id__in=municipalities, status=InboxItem.Status.NEW)
             .select_related("municipality", "thread", "thread__referrer_unit", "case")
             .order_by("received_at", "pk"))
    return [item_age(item, today, item.municipality) for item in items]


def handled_items(*, user: User, days: int = 14) -> QuerySet[InboxItem]:
    since = timezone.now() - dt.timedelta(days=days)
    return (InboxItem.objects.filter(municipality_id__in=access.inbox_municipalities(user), handled_at__gte=since)
            .exclude(status=InboxItem.Status.NEW)
            .select_related("thread", "case", "handled_by", "forwarded_to").order_by("-handled_at"))


def quarantine(*, user: User) -> QuerySet[Arrival]:
    """Quarantined deliveries the user may see: their municipalities' and the region-wide ones."""
    municipalities = access.inbox_municipalities(user)
    if not municipalities:
        return Arrival.objects.none()
    return (Arrival.objects.filter(state=Arrival.State.QUARANTINED, resolved_at__isnull=True)
            .filter(Q(municipality_id__in=municipalities) | Q(municipality__isnull=True))
            .defer("body", "ack_json").select_related("municipality").order_by("received_at", "pk"))


def flagged_outbound(*, user: User) -> QuerySet[OutboundMessage]:
    """Messages we sent that need a person: refused by the receiver, or never acknowledged."""
    return (OutboundMessage.objects.filter(flagged_q(), entry__municipality_id__in=access.inbox_municipalities(user))
            .defer("body").select_related("thread", "case").order_by("flagged_at"))


def thread_segments(*, thread: Thread) -> QuerySet[Segment]:
    """Texts and attachments in the order of their own timestamps (not of arrival)."""
    return (Segment.objects.filter(thread=thread).select_related("outbound", "message")
            .order_by("timestamp", "pk"))


def thread_outbound(*, thread: Thread) -> QuerySet[OutboundMessage]:
    return OutboundMessage.objects.filter(thread=thread).defer("body").order_by("created_at", "pk")


def thread_arrivals(*, thread: Thread) -> QuerySet[Arrival]:
    """Every delivery of the thread's messages, duplicates included (the arrival log)."""
    return (Arrival.objects.filter(message__thread=thread).defer("body", "ack_json")
            .select_related("message").order_by("received_at", "pk"))


def attach_candidates(*, item: InboxItem) -> QuerySet[Case]:
    """Open cases in the item's municipality for the same child (by CPR), for a re-referral."""
    qs = Case.objects.filter(municipality_id=item.municipality_id).exclude(stage=Stage.CLOSED)
    if item.thread.patient_cpr:
        qs = qs.filter(child__cpr=item.thread.patient_cpr)
    else:
        qs = qs.none()
    return qs.select_related("child")


@dataclass(frozen=True)
class KnownChild:
    """What the inbox keeper may learn of the item's child from our records: the child as
    known in the item's municipality and its cases there — nothing from elsewhere."""

    child: Child
    lives_here: bool
    cases: list[Case]


def known_child(*, item: InboxItem, actor: Actor) -> KnownChild | None:
    """The item's child if known in the item's own municipality (living there, or with a
    case there), with its cases there. A read of personal data by CPR number: audited as
    a search (the criterion names the source, never the number).

    A child known only in another municipality is NOT reported, not even by a neutral
    hint: that a child is in a mental-health pathway (or was) elsewhere is itself
    sensitive data about a minor, and the keeper has no need to know it to do the work —
    where the child lives comes from the referral, and forwarding to another entry needs
    no look into that municipality's records. Minimal disclosure is therefore nothing.
    """
    from tovholder.audit.models import AuditEvent
    from tovholder.audit.services import audit_record
    from tovholder.children.cpr import normalise_cpr

    cpr = normalise_cpr(item.thread.patient_cpr or "")
    if not cpr:
        return None
    here = item.municipality_id
    child = (Child.objects.filter(cpr=cpr).filter(Q(municipality_id=here) | Q(cases__municipality_id=here))
             .select_related("municipality").distinct().first())
    found = None
    if child is not None:
        cases = list(Case.objects.filter(child=child, municipality_id=here).order_by("opened_at", "pk"))
        found = KnownChild(child=child, lives_here=child.municipality_id == here, cases=cases)
    audit_record(actor=actor, action=AuditEvent.Action.SEARCH, basis=access.Basis.INBOX,
                 child=child, obj=item, criterion="CPR-nummeret i henvendelsen",
                 summary="Barnet slået op i kommunen ud fra henvendelsen"
                 + ("" if child is not None else " (ikke fundet)"))
    return found


def patient_birth_date(*, thread: Thread) -> dt.date | None:
    """The birth date the MedCom messages of the thread give for its patient
    (Patient.birthDate, a full date), newest message first; None if none does."""
    from tovholder.medcom import MessageRejected, normalize_cpr, parse_bundle

    if thread.channel != Thread.Channel.MEDCOM or not thread.patient_cpr:
        return None
    bodies = (Arrival.objects.filter(message__thread=thread, state=Arrival.State.ACCEPTED)
              .order_by("-received_at", "-pk").values_list("body", "content_type")[:5])
    for body, content_type in bodies:
        try:
            bundle = parse_bundle(bytes(body), content_type)
        except (MessageRejected, ValueError):
            continue
        for entry in bundle.get("entry") or ():
            resource = entry.get("resource") if isinstance(entry, dict) else None
            if not isinstance(resource, dict) or resource.get("resourceType") != "Patient":
                continue
            numbers = {normalize_cpr(i.get("value") or "") for i in resource.get("identifier") or ()
                       if isinstance(i, dict) and isinstance(i.get("value"), str)}
            if thread.patient_cpr not in numbers:
                continue
            value = resource.get("birthDate")
            if isinstance(value, str) and len(value) == 10:
                try:
                    return dt.date.fromisoformat(value)
                except ValueError:
                    pass
    return None


def my_referrals(*, user: User) -> QuerySet[Thread]:
    """Threads the user's units referred (or they wrote), newest first: what they sent and
    the replies."""
    return (Thread.objects.filter(Q(referrer_unit_id__in=access.member_unit_ids(user)) | Q(referrer_user=user))
            .select_related("municipality", "referrer_unit", "entry").order_by("-last_activity_at", "-pk"))


def referring_units(*, user: User) -> list[Unit]:
    from tovholder.inbox.services.handling import REFERRING_KINDS

    return [m.unit for m in user.memberships.active().select_related("unit").filter(unit__kind__in=REFERRING_KINDS)
            .order_by("unit__name")]


@dataclass(frozen=True)
class DirectoryEntry:
    municipality: str
    code: str
    region: str
    entry: str
    sor: str
    gln: str
    phone: str
    email: str
    has_entry: bool


def directory(*, query: str = "") -> list[DirectoryEntry]:
    """Where a referral about a child living in a municipality goes: its single entry."""
    municipalities = Municipality.objects.select_related("region").order_by("name")
    query = query.strip()
    if query:
        municipalities = municipalities.filter(Q(name__icontains=query) | Q(code=query))
    entries = {u.municipality_id: u for u in Unit.objects.filter(kind=Unit.Kind.SINGLE_ENTRY)}
    rows = []
    for m in municipalities:
        entry = entries.get(m.pk)
        rows.append(DirectoryEntry(
            municipality=m.name, code=m.code, region=m.region.name, entry=entry.name if entry else "",
            sor=entry.sor_id if entry else "", gln=entry.gln if entry else "", phone=entry.phone if entry else "",
            email=entry.email if entry else "", has_entry=entry is not None))
    return rows


def keeper_entries(*, user: User) -> list[Unit]:
    return list(Unit.objects.filter(kind=Unit.Kind.SINGLE_ENTRY, municipality_id__in=access.inbox_municipalities(user))
                .select_related("municipality").order_by("name"))
