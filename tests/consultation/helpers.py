"""Helpers for the consultation tests: consented cases and actors, built with the real services."""

from __future__ import annotations

import datetime as dt

from tests.support.world import SYSTEM, make_case, make_child
from tovholder.audit.actor import Actor
from tovholder.cases.models import Stage, TeamRole
from tovholder.cases.services import case_team_add, case_transition


def actor(world, username: str, unit_key: str | None = None) -> Actor:
    user = world.user(username)
    unit = world.unit(unit_key) if unit_key else user.memberships.first().unit
    return Actor(user=user, unit=unit)


def consented_case(world, *, lead: str = "lars", participants=("maria",), municipality: str = "706",
                   child=None, at: dt.datetime | None = None):
    """A case whose custody holders gave consent through the consent services, put in a joint
    pathway by the committee (pathway_start) with `lead` and `participants` on the team."""
    child = child or make_child(world.demo, municipality=municipality)
    try:
        from tovholder.consent.models import ConsentRequest
        from tovholder.consent.services import consent_answer, consent_request_start
    except ImportError:  # pragma: no cover - the consent app is part of the project
        case = make_case(world.demo, stage=Stage.AWAITING_COMMITTEE, lead=None, child=child,
                         municipality=municipality, at=at)
    else:
        case = make_case(world.demo, stage=Stage.AWAITING_CONSENT, lead=None, child=child,
                         municipality=municipality, at=at)
        consent_request_start(actor=SYSTEM, case=case)
        for request in ConsentRequest.objects.filter(case=case):
            consent_answer(actor=SYSTEM, request=request, give=True, at=at)
        case.refresh_from_db()
    assert case.stage == Stage.AWAITING_COMMITTEE, case.stage
    user = world.user(lead)
    try:
        from tovholder.pathway.services import pathway_start
    except ImportError:  # pragma: no cover
        case = case_transition(actor=SYSTEM, basis="system", case=case, to=Stage.AWAITING_START, at=at)
        case_team_add(actor=SYSTEM, basis="system", case=case, user=user, unit=user.memberships.first().unit,
                      role=TeamRole.LEAD)
    else:
        case = pathway_start(actor=SYSTEM, basis="committee", case=case, lead_user=user,
                             lead_unit=user.memberships.first().unit, at=at)
    for name in participants:
        p = world.user(name)
        case_team_add(actor=SYSTEM, basis="committee", case=case, user=p, unit=p.memberships.first().unit)
    case.refresh_from_db()
    return case
