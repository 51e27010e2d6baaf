"""The one access policy: who may see or do what on a case.

Every page, API path, export and attachment goes through `case_grant` (usually via
`require_case`). No grant means 404, never 403: an outsider must not learn that a case
exists. Access is computed from the database on every request, so a role that ends
loses access on the next request.

Bases of access (DOMAIN.md, issue 2):
- team: the lead professional and named participants (open CaseTeamMember rows);
- committee: members of the coordination committee of the case's municipality, only for
  cases that reached the committee (consent complete) or were decided by it;
- principal: the leader of the child's school, only for own pupil's case on the agenda;
- inbox: the inbox keepers of the case's municipality, intake data only;
- referrer: staff of the unit that referred the case, what they sent and the replies;
- administrator: configuration only, never case content.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from tovholder.audit.actor import Actor
from tovholder.audit.models import AuditEvent
from tovholder.audit.services import audit_record
from tovholder.cases.models import Case, CaseTeamMember, TeamRole
from tovholder.organisations.models import Membership, Unit, User


class Scope:
    """What a grant lets its holder see. Views ask for the scope they show."""

    CASE = "case"  # the case content: child, plan, meetings, notes
    INTAKE = "intake"  # the child's identity, custody holders, referral, consent status
    THREAD = "thread"  # the referral messages and the replies to the referrer
    AUDIT = "audit"  # the case's audit trail
    MANAGE = "manage"  # act as lead professional: meetings, plan, handover


class Basis:
    LEAD = "lead"
    TEAM = "team"
    COMMITTEE = "committee"
    PRINCIPAL = "principal"
    INBOX = "inbox"
    REFERRER = "referrer"
    ADMINISTRATOR = "administrator"
    SYSTEM = "system"


BASIS_LABELS = {
    Basis.LEAD: _("indsatsansvarlig"),
    Basis.TEAM: _("deltager i forløbet"),
    Basis.COMMITTEE: _("koordinationsudvalget"),
    Basis.PRINCIPAL: _("skoleleder for barnets skole"),
    Basis.INBOX: _("postkasseansvarlig"),
    Basis.REFERRER: _("henviser"),
    Basis.ADMINISTRATOR: _("administrator"),
    Basis.SYSTEM: _("systemet"),
}


def basis_label(basis: str) -> str:
    return str(BASIS_LABELS.get(basis, basis))


SCOPES: dict[str, frozenset[str]] = {
    Basis.LEAD: frozenset({Scope.CASE, Scope.INTAKE, Scope.THREAD, Scope.AUDIT, Scope.MANAGE}),
    Basis.TEAM: frozenset({Scope.CASE, Scope.INTAKE, Scope.THREAD, Scope.AUDIT}),
    Basis.COMMITTEE: frozenset({Scope.CASE, Scope.INTAKE, Scope.THREAD, Scope.AUDIT}),
    Basis.PRINCIPAL: frozenset({Scope.CASE, Scope.INTAKE}),
    Basis.INBOX: frozenset({Scope.INTAKE, Scope.THREAD}),
    Basis.REFERRER: frozenset({Scope.THREAD}),
}


@dataclass(frozen=True)
class Grant:
    basis: str
    unit: Unit | None

    def allows(self, scope: str) -> bool:
        return scope in SCOPES.get(self.basis, frozenset())

    @property
    def label(self) -> str:
        return basis_label(self.basis)

    def actor(self, user: User) -> Actor:
        return Actor(user=user, unit=self.unit)


def _memberships(user: User) -> QuerySet[Membership]:
    return Membership.objects.active().filter(user=user).select_related("unit")


def reached_committee(case: Case) -> bool:
    return case.consent_completed_at is not None or case.committee_decided_at is not None


def case_grants(user: User, case: Case) -> list[Grant]:
    """Every basis on which `user` may access `case`, strongest first."""
    if not user.is_authenticated or not user.is_active:
        return []
    grants: list[Grant] = []
    for member in CaseTeamMember.objects.filter(case=case, user=user, ended_at__isnull=True).select_related("unit"):
        grants.append(Grant(Basis.LEAD if member.role == TeamRole.LEAD else Basis.TEAM, member.unit))
    for membership in _memberships(user):
        unit = membership.unit
        if unit.kind == Unit.Kind.COMMITTEE and unit.municipality_id == case.municipality_id:
            if membership.role in (Membership.Role.COMMITTEE_MEMBER, Membership.Role.COMMITTEE_CHAIR):
                if reached_committee(case):
                    grants.append(Grant(Basis.COMMITTEE, unit))
        elif unit.kind == Unit.Kind.SCHOOL and membership.role == Membership.Role.LEADER:
            if case.child.school_id == unit.pk and reached_committee(case) and case.is_open:
                grants.append(Grant(Basis.PRINCIPAL, unit))
        elif unit.kind == Unit.Kind.SINGLE_ENTRY and membership.role == Membership.Role.INBOX_KEEPER:
            if unit.municipality_id == case.municipality_id:
                grants.append(Grant(Basis.INBOX, unit))
        if case.referrer_unit_id is not None and unit.pk == case.referrer_unit_id:
            grants.append(Grant(Basis.REFERRER, unit))
    order = [Basis.LEAD, Basis.TEAM, Basis.COMMITTEE, Basis.PRINCIPAL, Basis.INBOX, Basis.REFERRER]
    grants.sort(key=lambda g: order.index(g.basis))
    return grants


def case_grant(user: User, case: Case, scope: str = Scope.CASE) -> Grant | None:
    for grant in case_grants(user, case):
        if grant.allows(scope):
            return grant
    return None


def require_case(
    user: User,
    case_id: int,
    *,
    scope: str = Scope.CASE,
    audit: str | None = AuditEvent.Action.VIEW,
    summary: str = "Forløbet vist",
) -> tuple[Case, Grant]:
    """Fetch a case the user may see in `scope`, or raise 404. Audits the read."""
    case = (
        Case.objects.select_related("child", "municipality", "referrer_unit", "child__school")
        .filter(pk=case_id)
        .first()
    )
    if case is None:
        raise Http404
    grant = case_grant(user, case, scope)
    if grant is None:
        raise Http404
    if audit:
        audit_record(actor=grant.actor(user), action=audit, basis=grant.basis, case=case, obj=case,
                     summary=summary)
    return case, grant


def team_cases(user: User) -> QuerySet[Case]:
    """Cases where the user has an open role on the team ("Mine forløb")."""
    return Case.objects.filter(
        Exists(CaseTeamMember.objects.filter(case=OuterRef("pk"), user=user, ended_at__isnull=True))
    )


def municipalities_where(user: User, *, unit_kind: str, roles: tuple[str, ...]) -> list[int]:
    return list(
        _memberships(user)
        .filter(unit__kind=unit_kind, role__in=roles)
        .values_list("unit__municipality_id", flat=True)
    )


def inbox_municipalities(user: User) -> list[int]:
    return municipalities_where(user, unit_kind=Unit.Kind.SINGLE_ENTRY, roles=(Membership.Role.INBOX_KEEPER,))


def committee_municipalities(user: User, *, chair_only: bool = False) -> list[int]:
    roles = (Membership.Role.COMMITTEE_CHAIR,) if chair_only else (
        Membership.Role.COMMITTEE_MEMBER, Membership.Role.COMMITTEE_CHAIR)
    return municipalities_where(user, unit_kind=Unit.Kind.COMMITTEE, roles=roles)


def is_administrator(user: User) -> bool:
    return user.is_authenticated and (
        user.is_superuser or _memberships(user).filter(role=Membership.Role.ADMINISTRATOR).exists()
    )


def visible_cases_q(user: User) -> Q:
    """SQL filter matching `case_grants` for lists and search (any scope)."""
    memberships = list(_memberships(user))
    q = Q(Exists(CaseTeamMember.objects.filter(case=OuterRef("pk"), user=user, ended_at__isnull=True)))
    reached = Q(consent_completed_at__isnull=False) | Q(committee_decided_at__isnull=False)
    for m in memberships:
        u = m.unit
        if u.kind == Unit.Kind.COMMITTEE and m.role in (Membership.Role.COMMITTEE_MEMBER, Membership.Role.COMMITTEE_CHAIR):
            q |= Q(municipality_id=u.municipality_id) & reached
        elif u.kind == Unit.Kind.SCHOOL and m.role == Membership.Role.LEADER:
            q |= Q(child__school_id=u.pk) & reached & ~Q(stage="closed")
        elif u.kind == Unit.Kind.SINGLE_ENTRY and m.role == Membership.Role.INBOX_KEEPER:
            q |= Q(municipality_id=u.municipality_id)
        q |= Q(referrer_unit_id=u.pk)
    return q


# --- Consultation (advising units) ---
# A consultation (tovholder.consultation) is read on one of three bases; none of them opens
# anything else of a case (Grant.allows() is False for every case scope):
# - consultation_asker: the professional who asked, while a member of the asking unit and,
#   for a consultation about a child, while they may see the case;
# - consultation_team: those who may see the case of an identified consultation (the lead
#   professional turns the advice into a plan agreement or a referral);
# - consultation_advisor: staff of the advising unit — the question and what was attached.
# An anonymous consultation has no link to a child at all: only its asker and the advising
# unit can open it.


class ConsultationBasis:
    ASKER = "consultation_asker"
    TEAM = "consultation_team"
    ADVISOR = "consultation_advisor"


BASIS_LABELS.update({
    ConsultationBasis.ASKER: _("spørger i en sparring"),
    ConsultationBasis.TEAM: _("forløbets team (sparring)"),
    ConsultationBasis.ADVISOR: _("rådgivende enhed i en sparring"),
})


def consultation_grant(user: User, consultation) -> Grant | None:
    """The basis on which `user` may read `consultation`, or None (then 404)."""
    from tovholder.consultation.models import ConsultationSubject

    if not user.is_authenticated or not user.is_active:
        return None
    units = {m.unit_id: m.unit for m in _memberships(user)}
    link = ConsultationSubject.objects.filter(consultation_id=consultation.pk).select_related("case").first()
    case = link.case if link else None
    case_access = case_grant(user, case, Scope.CASE) if case is not None else None
    if consultation.asked_by_id == user.pk and consultation.asking_unit_id in units:
        if case is None or case_access is not None:
            return Grant(ConsultationBasis.ASKER, units[consultation.asking_unit_id])
    if case_access is not None:
        return Grant(ConsultationBasis.TEAM, case_access.unit)
    if consultation.advising_unit_id in units:
        return Grant(ConsultationBasis.ADVISOR, units[consultation.advising_unit_id])
    return None


def require_consultation(
    user: User, consultation_id: int, *, audit: str | None = AuditEvent.Action.VIEW,
    summary: str = "Sparring vist",
):
    """(consultation, grant, case or None) for a consultation the user may read, else 404.
    The read is audited, on the case when the consultation is about an identified child."""
    from tovholder.consultation.models import Consultation, ConsultationSubject

    consultation = (Consultation.objects.select_related("advising_unit", "asking_unit", "asked_by", "municipality")
                    .filter(pk=consultation_id).first())
    if consultation is None:
        raise Http404
    grant = consultation_grant(user, consultation)
    if grant is None:
        raise Http404
    link = (ConsultationSubject.objects.filter(consultation=consultation)
            .select_related("case__child", "case__municipality").first())
    case = link.case if link else None
    if audit:
        audit_record(actor=grant.actor(user), action=audit, basis=grant.basis, case=case, obj=consultation,
                     summary=f"{summary} ({consultation.reference})")
    return consultation, grant, case


def advising_units(user: User) -> list[Unit]:
    """Units in which the user gives advice and publishes consultation times."""
    from tovholder.consultation.models import ADVISING_KINDS

    return list({m.unit_id: m.unit for m in _memberships(user).filter(unit__kind__in=ADVISING_KINDS)}.values())


# --- The single entry (inbox items) ---
# Inbox items, their threads and attachments, and quarantined messages (tovholder.inbox):
# - inbox: the inbox keepers of the receiving municipality see all that came in there. A
#   quarantined message whose municipality could not be told (unreadable, or addressed to
#   a receiver we do not know) is region-wide: every inbox keeper sees it, so nothing
#   waits for nobody;
# - referrer: staff of the referring unit see what they sent and the replies;
# - a grant on the thread's case with the THREAD scope (team, committee) sees its threads.
# Everyone else gets 404.


def inbox_keeper_unit(user: User, municipality_id: int | None) -> Unit | None:
    """The user's single entry in that municipality (any, for None) if they keep its inbox."""
    for m in _memberships(user).filter(unit__kind=Unit.Kind.SINGLE_ENTRY, role=Membership.Role.INBOX_KEEPER):
        if municipality_id is None or m.unit.municipality_id == municipality_id:
            return m.unit
    return None


def thread_grant(user: User, thread) -> Grant | None:
    """The basis on which `user` may read an inbox thread (and its item), or None."""
    if not user.is_authenticated or not user.is_active:
        return None
    keeper = inbox_keeper_unit(user, thread.municipality_id)
    if keeper is not None:
        return Grant(Basis.INBOX, keeper)
    if thread.referrer_unit_id is not None:
        member = _memberships(user).filter(unit_id=thread.referrer_unit_id).first()
        if member is not None:
            return Grant(Basis.REFERRER, member.unit)
    if thread.case_id is not None:
        return case_grant(user, thread.case, Scope.THREAD)
    return None


def inbox_item_grant(user: User, item) -> Grant | None:
    return thread_grant(user, item.thread)


def require_thread(user: User, thread_id: int, *, summary: str = "Henvendelse vist"):
    """(thread, grant) for a thread the user may read, else 404. Audits the read."""
    from tovholder.inbox.models import Thread

    thread = (Thread.objects.select_related("municipality", "entry", "referrer_unit", "case__child",
                                            "case__municipality").filter(pk=thread_id).first())
    grant = thread_grant(user, thread) if thread is not None else None
    if grant is None:
        raise Http404
    audit_record(actor=grant.actor(user), action=AuditEvent.Action.VIEW, basis=grant.basis, case=thread.case,
                 obj=thread, summary=summary)
    return thread, grant


def require_inbox_item(user: User, item_id: int, *, keeper_only: bool = True, audit: bool = True,
                       summary: str = "Henvendelse vist"):
    """(item, grant) for an inbox item; `keeper_only`: only its municipality's inbox keepers
    (handling is theirs). Else 404. Audits the read."""
    from tovholder.inbox.models import InboxItem

    item = (InboxItem.objects.select_related("thread__municipality", "thread__entry", "thread__referrer_unit",
                                             "thread__case__child", "municipality", "case__child")
            .filter(pk=item_id).first())
    grant = inbox_item_grant(user, item) if item is not None else None
    if grant is None or (keeper_only and grant.basis != Basis.INBOX):
        raise Http404
    if audit:
        audit_record(actor=grant.actor(user), action=AuditEvent.Action.VIEW, basis=grant.basis,
                     case=item.case or item.thread.case, obj=item, summary=summary)
    return item, grant


def arrival_grant(user: User, arrival) -> Grant | None:
    """Quarantined and logged deliveries: the inbox keepers of their municipality, or every
    inbox keeper when the municipality is unknown (region-wide quarantine)."""
    if not user.is_authenticated or not user.is_active:
        return None
    keeper = inbox_keeper_unit(user, arrival.municipality_id)
    return Grant(Basis.INBOX, keeper) if keeper is not None else None


def require_arrival(user: User, arrival_id: int, *, audit: bool = True, summary: str = "Modtaget besked vist"):
    from tovholder.inbox.models import Arrival

    arrival = Arrival.objects.filter(pk=arrival_id).defer("body").first()
    grant = arrival_grant(user, arrival) if arrival is not None else None
    if grant is None:
        raise Http404
    if audit:
        audit_record(actor=grant.actor(user), action=AuditEvent.Action.VIEW, basis=grant.basis, obj=arrival,
                     summary=summary)
    return arrival, grant


def member_unit_ids(user: User) -> list[int]:
    """The units the user is an active member of (what they referred from)."""
    return list(_memberships(user).values_list("unit_id", flat=True))
