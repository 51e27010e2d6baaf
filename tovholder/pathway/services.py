"""Pathway services. (Interface stub — the pathway engineer replaces the body, keeping the signature.)"""

from __future__ import annotations

from django.db import transaction

from tovholder.audit.actor import Actor
from tovholder.cases.models import Case, Stage, TeamRole
from tovholder.cases.services import case_team_add, case_transition
from tovholder.organisations.models import Unit, User


@transaction.atomic
def pathway_start(*, actor: Actor, basis: str, case: Case, lead_user: User, lead_unit: Unit, at=None) -> Case:
    """The committee decided on a joint pathway: appoint the lead professional and move the
    case to "awaiting start meeting". Called by tovholder.committee."""
    case = case_transition(actor=actor, basis=basis, case=case, to=Stage.AWAITING_START, at=at,
                           summary="Fælles forløb besluttet")
    case_team_add(actor=actor, basis=basis, case=case, user=lead_user, unit=lead_unit, role=TeamRole.LEAD)
    return case
