"""Reads of the single entry for pages and the API."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils import timezone

from tovholder import access
from tovholder.cases.models import Case, Stage
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


def known_child(*, item: InboxItem):
    """The child with the item's CPR number, if we know them (with their cases)."""
    from tovholder.children.models import Child

    if not item.thread.patient_cpr or item.thread.patient_is_replacement:
        return None
    return (Child.objects.filter(cpr=item.thread.patient_cpr).select_related("municipality")
            .prefetch_related("cases").first())


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
