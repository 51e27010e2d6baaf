"""Reads of cases for pages and the API."""

from __future__ import annotations

from django.db.models import F, OuterRef, QuerySet, Subquery

from tovholder.access import team_cases
from tovholder.cases.models import Case, CaseTeamMember, Notice, TeamRole
from tovholder.organisations.models import User


def my_cases(*, user: User, include_closed: bool = False) -> QuerySet[Case]:
    """The staff home page: cases I have a role in, most urgent first."""
    my_role = CaseTeamMember.objects.filter(case=OuterRef("pk"), user=user, ended_at__isnull=True)
    lead = CaseTeamMember.objects.filter(case=OuterRef("pk"), role=TeamRole.LEAD, ended_at__isnull=True)
    qs = (
        team_cases(user)
        .select_related("child", "municipality")
        .annotate(
            my_role=Subquery(my_role.values("role")[:1]),
            lead_first=Subquery(lead.values("user__first_name")[:1]),
            lead_last=Subquery(lead.values("user__last_name")[:1]),
        )
        .order_by(F("next_deadline").asc(nulls_last=True), "opened_at", "pk")
    )
    if not include_closed:
        qs = qs.exclude(stage="closed")
    return qs


def case_team(*, case: Case) -> QuerySet[CaseTeamMember]:
    return case.team.filter(ended_at__isnull=True).select_related("user", "unit").order_by("role", "started_at")


def unread_notices(*, user: User) -> QuerySet[Notice]:
    return Notice.objects.filter(user=user, read_at__isnull=True).select_related("case__child")
