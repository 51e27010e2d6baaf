"""Every pathway URL with who may reach it (tests/foundation/test_access_matrix.py walks them)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from tests.support.routes import Route, everyone

# A pathway case in Syddjurs: lead lars (teacher), participant maria (PPR), the child at
# pia's school, referred by anne's practice. Readers: the team, the committee, the principal.
READERS = {"lars": 200, "maria": 200, "karen": 200, "mads": 200, "pia": 200}
LEAD = {"lars": 200}


def state(w):
    """Built once per world: a pathway with versions 1 and 2, a scheduled follow-up, an
    intervention and a handover waiting for maria's answer."""
    if getattr(w, "_pathway_state", None) is None:
        from tovholder.cases import notify

        # Until the letters and inbox apps register their transports, stand in for them.
        for kind in ("family", "referrer"):
            notify._handlers.setdefault(kind, lambda **kwargs: [])
        from tests.pathway.helpers import hold, lead_actor, pathway_case, schedule
        from tovholder.pathway.models import MeetingKind
        from tovholder.pathway.services import handover_propose, intervention_add

        case = pathway_case(w)
        past = timezone.now() - dt.timedelta(hours=3)
        v1 = hold(w, case, schedule(w, case, at=past))
        hold(w, case, schedule(w, case, kind=MeetingKind.FOLLOW_UP, at=past + dt.timedelta(hours=1)),
             new_goals=[], ratings={v1.pathway.goals.get().pk: (5, "child")})
        meeting = schedule(w, case, kind=MeetingKind.FOLLOW_UP, at=timezone.now() + dt.timedelta(days=7))
        intervention = intervention_add(actor=lead_actor(w), basis="lead", case=case, sector="ppr",
                                        description="Samtaleforløb hos PPR", kind="assessing", step=2)
        handover = handover_propose(actor=lead_actor(w), basis="lead", case=case, to_user=w.user("maria"),
                                    to_unit=w.unit("706:ppr"), note="Forslag")
        w._pathway_state = {"case": case, "meeting": meeting, "intervention": intervention, "handover": handover}
    return w._pathway_state


CASE = lambda w: {"case_id": state(w)["case"].pk}  # noqa: E731
MEETING = lambda w: {"case_id": state(w)["case"].pk, "meeting_id": state(w)["meeting"].pk}  # noqa: E731
VERSION = lambda w: {"case_id": state(w)["case"].pk, "number": 1}  # noqa: E731
INTERVENTION = lambda w: {"case_id": state(w)["case"].pk, "intervention_id": state(w)["intervention"].pk}  # noqa: E731
OVERVIEW = {"karen": 200, "mads": 200, "ole": 200, "pia": 200, "henrik": 200}

ROUTES = [
    Route("pathway:overview", allowed=OVERVIEW),
    Route("pathway:digest", allowed=everyone(200)),
    Route("pathway:handover", lambda w: {"handover_id": state(w)["handover"].pk}, allowed={"maria": 200}),
    Route("pathway:detail", CASE, allowed=READERS),
    Route("pathway:meeting_new", CASE, allowed=LEAD),
    Route("pathway:meeting", MEETING, allowed=READERS),
    Route("pathway:meeting_ics", MEETING, allowed=READERS),
    Route("pathway:meeting_cancel", MEETING, method="POST", allowed={"lars": 302}),
    Route("pathway:child_statement", MEETING, method="POST", allowed={"lars": 302}),
    Route("pathway:meeting_record", MEETING, allowed=LEAD),
    Route("pathway:plan", CASE, allowed=READERS),
    Route("pathway:plan_compare", CASE, allowed=READERS),
    Route("pathway:plan_version", VERSION, allowed=READERS),
    Route("pathway:plan_pdf", VERSION, allowed=READERS),
    Route("pathway:intervention_new", CASE, allowed=LEAD),
    Route("pathway:intervention_edit", INTERVENTION, allowed=LEAD),
    Route("pathway:explain", CASE, allowed=LEAD),
    Route("pathway:handover_new", CASE, allowed=LEAD),
]

ROUTES += [
    Route("GET /api/pathways/{case_id}", CASE, allowed=READERS),
    Route("GET /api/pathways/{case_id}/plan/{number}", VERSION, allowed=READERS),
    # lars gets 422: nothing is overdue in this world, so there is nothing to explain.
    Route("POST /api/pathways/{case_id}/explanations", CASE, method="POST", allowed={"lars": 422},
          content_type="application/json",
          data=lambda w: {"clock": "start_meeting", "due_on": "2030-01-01", "text": "Forklaring på fristen"}),
    # The family's link from a meeting invitation: no login; a wrong or expired token is a 404.
    Route("pathway:child_voice", lambda w: {"token": "x" * 43}, public=True, anonymous=404),
]
