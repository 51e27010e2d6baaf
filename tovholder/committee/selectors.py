"""Reads for the committee's pages and API: who sits where, the schedule, the agenda."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from tovholder.cases.models import CaseTeamMember, Stage, TeamRole
from tovholder.committee.models import (
    AgendaItem,
    CommitteeDecision,
    CommitteeMeeting,
    CommitteeSettings,
    DecisionKind,
    Minute,
)
from tovholder.deadlines.clocks import DUE_SOON_DAYS, Rules
from tovholder.organisations.models import Membership, Municipality, Unit, User

# Units whose people can be appointed lead professional or take a case over.
TAKEOVER_KINDS = (Unit.Kind.SCHOOL, Unit.Kind.PPR, Unit.Kind.HEALTH_VISITORS, Unit.Kind.FAMILY_COUNSELLING)


class SeatRole:
    CHAIR = "chair"
    MEMBER = "member"
    GUEST = "guest"  # a principal for own pupils, a lead for a case they brought back


@dataclass(frozen=True)
class Seat:
    """The signed-in person's place at one municipality's committee."""

    user: User
    municipality: Municipality
    role: str
    unit: Unit | None  # the committee unit for members; None for guests
    school_ids: tuple[int, ...] = ()

    @property
    def is_member(self) -> bool:
        return self.role in (SeatRole.CHAIR, SeatRole.MEMBER)

    @property
    def is_chair(self) -> bool:
        return self.role == SeatRole.CHAIR

    def item_filter(self) -> Q:
        """Members see every item of their municipality; a guest only their own pupil's
        items (principal) or the cases they lead that came back to the committee."""
        if self.is_member:
            return Q(municipality=self.municipality)
        return Q(municipality=self.municipality) & guest_q(self.user, self.school_ids)


def guest_q(user: User, school_ids: tuple[int, ...]) -> Q:
    leads = CaseTeamMember.objects.filter(case=OuterRef("case"), user=user, role=TeamRole.LEAD,
                                          ended_at__isnull=True)
    q = Q(origin=AgendaItem.Origin.RETURNED) & Q(Exists(leads))
    if school_ids:
        q |= Q(case__child__school_id__in=school_ids) & ~Q(case__stage=Stage.CLOSED)
    return q


def _committee_memberships(user: User) -> list[Membership]:
    return list(
        Membership.objects.active().filter(
            user=user, unit__kind=Unit.Kind.COMMITTEE,
            role__in=(Membership.Role.COMMITTEE_CHAIR, Membership.Role.COMMITTEE_MEMBER),
        ).select_related("unit__municipality").order_by("unit__municipality__name")
    )


def led_school_ids(user: User) -> list[int]:
    return list(
        Membership.objects.active().filter(user=user, unit__kind=Unit.Kind.SCHOOL, role=Membership.Role.LEADER)
        .values_list("unit_id", flat=True)
    )


def committee_seats(user: User) -> list[Seat]:
    """Every committee the user is a member or chair of (chair wins when both)."""
    if not user.is_authenticated:
        return []
    seats: dict[int, Seat] = {}
    for m in _committee_memberships(user):
        role = SeatRole.CHAIR if m.role == Membership.Role.COMMITTEE_CHAIR else SeatRole.MEMBER
        current = seats.get(m.unit.municipality_id)
        if current is None or role == SeatRole.CHAIR:
            seats[m.unit.municipality_id] = Seat(user=user, municipality=m.unit.municipality, role=role, unit=m.unit)
    return list(seats.values())


def seat_for(user: User, municipality: Municipality | int | None = None) -> Seat | None:
    """The user's seat at a committee, or None (then the page is a 404).

    Members sit at their own municipality's committee. Anyone else is a guest only
    while the agenda has an item for them: a principal's pupil, a lead's returned case."""
    if not user.is_authenticated or not user.is_active:
        return None
    mid = municipality.pk if isinstance(municipality, Municipality) else municipality
    for seat in committee_seats(user):
        if mid is None or seat.municipality.pk == mid:
            return seat
    schools = tuple(led_school_ids(user))
    items = AgendaItem.objects.filter(guest_q(user, schools), state=AgendaItem.State.PENDING)
    if mid is not None:
        items = items.filter(municipality_id=mid)
    found = items.select_related("municipality").order_by("municipality__name").first()
    if found is None:
        return None
    return Seat(user=user, municipality=found.municipality, role=SeatRole.GUEST, unit=None, school_ids=schools)


def settings_for(municipality: Municipality) -> CommitteeSettings:
    """The municipality's schedule; the model's default (Wednesday 08:30–09:30) until set."""
    found = CommitteeSettings.objects.filter(municipality=municipality).first()
    return found or CommitteeSettings(municipality=municipality)


def committee_members(municipality: Municipality) -> list[Membership]:
    return list(
        Membership.objects.active().filter(
            unit__kind=Unit.Kind.COMMITTEE, unit__municipality=municipality,
            role__in=(Membership.Role.COMMITTEE_CHAIR, Membership.Role.COMMITTEE_MEMBER),
        ).select_related("user", "unit").order_by("role", "user__first_name")
    )


def represented_units(user: User, municipality: Municipality) -> list[Unit]:
    """The units a person speaks for at the committee: their own municipal units (PPR,
    family counselling, health visitors, a school) in that municipality."""
    return list(
        Unit.objects.filter(
            memberships__in=Membership.objects.active().filter(user=user),
            municipality=municipality, kind__in=TAKEOVER_KINDS,
        ).distinct().order_by("name")
    )


def lead_candidates(municipality: Municipality) -> QuerySet[Membership]:
    """Who can be appointed lead professional: staff of the municipality's own units."""
    return (
        Membership.objects.active()
        .filter(unit__municipality=municipality, unit__kind__in=TAKEOVER_KINDS,
                role__in=(Membership.Role.STAFF, Membership.Role.LEADER), user__is_active=True)
        .select_related("user", "unit").order_by("user__first_name", "user__last_name", "unit__name")
    )


def takeover_units(municipality: Municipality) -> QuerySet[Unit]:
    return Unit.objects.filter(municipality=municipality, kind__in=TAKEOVER_KINDS).order_by("kind", "name")


def upcoming_meetings(municipality: Municipality, *, today: dt.date | None = None, limit: int = 8) -> list[CommitteeMeeting]:
    today = today or timezone.localdate()
    return list(
        CommitteeMeeting.objects.filter(municipality=municipality, scheduled_on__gte=today)
        .exclude(status=CommitteeMeeting.Status.HELD).order_by("starts_at")[:limit]
    )


def past_meetings(municipality: Municipality, *, today: dt.date | None = None, limit: int = 10) -> list[CommitteeMeeting]:
    today = today or timezone.localdate()
    return list(
        CommitteeMeeting.objects.filter(municipality=municipality)
        .filter(Q(status=CommitteeMeeting.Status.HELD) | Q(scheduled_on__lt=today))
        .exclude(status=CommitteeMeeting.Status.CANCELLED)
        .annotate(n_decisions=Count("decisions", filter=Q(decisions__kind__in=[
            DecisionKind.PATHWAY, DecisionKind.ORDINARY_ROUTE, DecisionKind.EVERYDAY_SUPPORT,
            DecisionKind.REFERRED_ON, DecisionKind.CONTINUE])))
        .order_by("-starts_at")[:limit]
    )


def next_meeting(municipality: Municipality, *, today: dt.date | None = None) -> CommitteeMeeting | None:
    """The next meeting that will sit: planned, today or later (today's may be in progress)."""
    today = today or timezone.localdate()
    return (
        CommitteeMeeting.objects.filter(municipality=municipality, status=CommitteeMeeting.Status.PLANNED,
                                        scheduled_on__gte=today)
        .order_by("starts_at").first()
    )


def item_due(item: AgendaItem, rules: Rules) -> dt.date:
    """The 8-working-day promise, from consent (or from the day the lead brought the case back)."""
    return rules.committee_due(item.ready_at)


@dataclass
class AgendaRow:
    item: AgendaItem
    due: dt.date
    status: str  # on_time / due_soon / overdue / exempt — shared with the deadline badges
    status_label: str
    # The next meeting that will sit lies after the deadline (or none is planned before it).
    misses_deadline: bool
    invited: list[Invitee] = field(default_factory=list)
    notes: int = 0
    postponements: int = 0

    @property
    def case(self):
        return self.item.case


STATUS_LABELS = {"on_time": "Rettidig", "due_soon": "Frist nærmer sig", "overdue": "Overskredet",
                 "exempt": "Undtaget"}


def _status(due: dt.date, today: dt.date, exempt: bool) -> str:
    if exempt:
        return "exempt"
    if today > due:
        return "overdue"
    if (due - today).days <= DUE_SOON_DAYS:
        return "due_soon"
    return "on_time"


def agenda_items(seat: Seat) -> QuerySet[AgendaItem]:
    """The pending items the seat may see, with what the agenda shows, in a fixed number of queries."""
    return (
        AgendaItem.objects.filter(seat.item_filter(), state=AgendaItem.State.PENDING)
        .exclude(case__stage=Stage.CLOSED)
        .select_related("case__child__school", "case__municipality", "case__referrer_unit", "returned_by",
                        "returned_unit", "municipality")
        .annotate(
            n_notes=Count("notes", distinct=True),
            n_postponed=Count("decisions", filter=Q(decisions__kind=DecisionKind.POSTPONE), distinct=True),
        )
    )


def planned_meetings(municipality: Municipality, *, today: dt.date | None = None) -> list[CommitteeMeeting]:
    """The meetings that will (or may still) sit: planned, today or later, in order."""
    today = today or timezone.localdate()
    return list(CommitteeMeeting.objects.filter(municipality=municipality, status=CommitteeMeeting.Status.PLANNED,
                                                scheduled_on__gte=today).order_by("starts_at"))


def meeting_for(item: AgendaItem, meetings: list[CommitteeMeeting]) -> CommitteeMeeting | None:
    """The first of `meetings` that can take the item: it ends after the item was ready."""
    return next((m for m in meetings if m.ends_at >= item.ready_at), None)


def agenda_rows(
    items: list[AgendaItem], *, municipality: Municipality, today: dt.date | None = None,
    meetings: list[CommitteeMeeting] | None = None,
) -> list[AgendaRow]:
    """Rows ordered by deadline, each flagged when the meeting that will take it (the next
    planned one that ends after the case was ready; or the one given) misses the deadline,
    or when no meeting is planned for it at all."""
    today = today or timezone.localdate()
    rules = Rules.for_municipality(municipality)
    if meetings is None:
        meetings = planned_meetings(municipality, today=today)
    invited = invited_people(items)
    rows = []
    for item in items:
        due = item_due(item, rules)
        exempt = item.case.exempt_from_deadlines
        status = _status(due, today, exempt)
        taking = meeting_for(item, meetings)
        misses = not exempt and item.state == AgendaItem.State.PENDING and (
            taking is None or taking.scheduled_on > due)
        rows.append(AgendaRow(item=item, due=due, status=status, status_label=STATUS_LABELS[status],
                              misses_deadline=misses, invited=invited.get(item.pk, []),
                              notes=getattr(item, "n_notes", 0), postponements=getattr(item, "n_postponed", 0)))
    rows.sort(key=lambda r: (r.due, r.item.ready_at, r.item.pk))
    return rows


@dataclass(frozen=True)
class Invitee:
    user: User
    unit: Unit | None
    role: str  # "principal" or "lead" (MeetingAttendance.Role)


def invited_people(items: list[AgendaItem]) -> dict[int, list[Invitee]]:
    """Who joins the committee for each item besides its members: the child's school
    principal, and for a returned case its lead professional. Two queries for any number."""
    school_ids = {i.case.child.school_id for i in items if i.case.child.school_id}
    principals: dict[int, list[User]] = {}
    if school_ids:
        for m in Membership.objects.active().filter(unit_id__in=school_ids, role=Membership.Role.LEADER).select_related("user"):
            principals.setdefault(m.unit_id, []).append(m.user)
    returned = [i.case_id for i in items if i.origin == AgendaItem.Origin.RETURNED]
    leads: dict[int, CaseTeamMember] = {}
    if returned:
        for member in CaseTeamMember.objects.filter(case_id__in=returned, role=TeamRole.LEAD,
                                                    ended_at__isnull=True).select_related("user", "unit"):
            leads[member.case_id] = member
    out: dict[int, list[Invitee]] = {}
    for i in items:
        school = i.case.child.school
        people = [Invitee(user=u, unit=school, role="principal") for u in principals.get(i.case.child.school_id, [])]
        lead = leads.get(i.case_id) if i.origin == AgendaItem.Origin.RETURNED else None
        if lead is not None and all(p.user.pk != lead.user_id for p in people):
            people.append(Invitee(user=lead.user, unit=lead.unit, role="lead"))
        out[i.pk] = people
    return out


def meeting_items(meeting: CommitteeMeeting, seat: Seat | None = None) -> list[AgendaItem]:
    """What the meeting takes: while it is open, everything pending plus what it already
    decided; once held, what it decided or postponed. Without a seat: all of it."""
    handled = CommitteeDecision.objects.filter(item=OuterRef("pk"), meeting=meeting)
    base = AgendaItem.objects.filter(seat.item_filter() if seat else Q(municipality_id=meeting.municipality_id))
    if meeting.is_open:
        # A case that became ready after the meeting ended waits for the next one.
        waiting = Q(state=AgendaItem.State.PENDING, ready_at__lte=meeting.ends_at) & ~Q(case__stage=Stage.CLOSED)
        base = base.filter(waiting | Q(Exists(handled)))
    else:
        base = base.filter(Exists(handled))
    return list(
        base.select_related("case__child__school", "case__municipality", "case__referrer_unit", "returned_by",
                            "returned_unit", "municipality")
        .annotate(n_notes=Count("notes", distinct=True),
                  n_postponed=Count("decisions", filter=Q(decisions__kind=DecisionKind.POSTPONE), distinct=True))
    )


@dataclass(frozen=True)
class Attendee:
    user: User
    unit: Unit | None
    role: str  # MeetingAttendance.Role


def expected_attendees(meeting: CommitteeMeeting, items: list[AgendaItem] | None = None) -> list[Attendee]:
    """The members, then the principals and leads invited for the meeting's cases."""
    out: dict[int, Attendee] = {}
    members = committee_members(meeting.municipality)
    chairs = {m.user_id for m in members if m.role == Membership.Role.COMMITTEE_CHAIR}
    represented: dict[int, Unit] = {}
    for m in Membership.objects.active().filter(
            user_id__in=[m.user_id for m in members], unit__municipality_id=meeting.municipality_id,
            unit__kind__in=TAKEOVER_KINDS).select_related("unit").order_by("unit__name"):
        represented.setdefault(m.user_id, m.unit)
    for m in members:
        role = "chair" if m.user_id in chairs else "member"
        out.setdefault(m.user_id, Attendee(user=m.user, unit=represented.get(m.user_id), role=role))
    items = meeting_items(meeting) if items is None else items
    for invitees in invited_people(items).values():
        for p in invitees:
            out.setdefault(p.user.pk, Attendee(user=p.user, unit=p.unit, role=p.role))
    return list(out.values())


def decisions_at(meeting: CommitteeMeeting) -> dict[int, CommitteeDecision]:
    """The final decision (or postponement) each item got at this meeting."""
    out: dict[int, CommitteeDecision] = {}
    for d in meeting.decisions.select_related("lead_user", "unit").order_by("decided_at", "pk"):
        if d.kind != DecisionKind.EXEMPT:
            out[d.item_id] = d
    return out


def meeting_minutes(meeting: CommitteeMeeting) -> list[Minute]:
    return list(meeting.minutes.select_related("item__case__child", "decision", "approved_by").order_by("pk"))


def item_history(item: AgendaItem) -> list[CommitteeDecision]:
    return list(item.decisions.select_related("meeting", "decided_by", "lead_user", "unit").order_by("decided_at", "pk"))


def final_decision(item: AgendaItem) -> CommitteeDecision | None:
    return next((d for d in item_history(item) if d.is_final), None)


@dataclass(frozen=True)
class ComplianceSummary:
    decided: int
    met: int
    missed: int
    exempt: int


def compliance_summary(municipality: Municipality, *, since: dt.date | None = None) -> ComplianceSummary:
    """The trial's measure: consented cases discussed within 8 working days (seed 001)."""
    qs = AgendaItem.objects.filter(municipality=municipality, origin=AgendaItem.Origin.CONSENT,
                                   state=AgendaItem.State.DECIDED)
    if since:
        qs = qs.filter(decided_on__gte=since)
    counts = dict(qs.values_list("compliance").annotate(n=Count("pk")))
    met, missed, exempt = (counts.get(k, 0) for k in ("met", "missed", "exempt"))
    return ComplianceSummary(decided=met + missed + exempt, met=met, missed=missed, exempt=exempt)


def case_committee_items(case_id: int) -> list[AgendaItem]:
    return list(AgendaItem.objects.filter(case_id=case_id).select_related("returned_by").order_by("created_at", "pk"))


def committee_late_explanation(case_id: int) -> str:
    """The written explanation kept when the committee missed the 8-working-day clock on the
    case's consented referral ("" when met, exempt or not yet decided). For the case's own
    committee milestone (`Milestone.explanation`), so it is not a second provider."""
    return (AgendaItem.objects.filter(case_id=case_id, origin=AgendaItem.Origin.CONSENT,
                                      compliance=AgendaItem.Compliance.MISSED)
            .values_list("late_explanation", flat=True).first() or "")
