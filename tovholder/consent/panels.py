"""The case page's consent section: status per person, and the staff's actions."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import timezone

from tovholder.access import Scope, inbox_municipalities
from tovholder.cases.models import Stage
from tovholder.consent.models import ConsentRequest, ConsentRound
from tovholder.consent.selectors import MANAGE_BASES, case_consent, manage_grant, request_state

RENEW_BY_HAND_DAYS = 60


def consent_panel(request, case, grant) -> str | None:
    if not grant.allows(Scope.INTAKE):
        return None
    today = timezone.localdate()
    consent = case_consent(case=case, today=today)
    may_manage = grant.basis in MANAGE_BASES or manage_grant(request.user, case) is not None
    rounds = []
    for consent_round in reversed(consent.rounds):
        rows = [(r, *request_state(r, today)) for r in consent_round.requests.all()]
        rounds.append((consent_round, rows))
    has_open = any(r.status == ConsentRound.Status.OPEN for r in consent.rounds)
    # Renewal by hand makes sense near the end date or after it (the sweep asks 30 days before).
    latest_end = max((r.expires_on for r in consent.rounds if r.status == ConsentRound.Status.COMPLETE),
                     default=None)
    renewal_due = latest_end is None or (latest_end - today).days <= RENEW_BY_HAND_DAYS
    context = {
        "case": case,
        "consent": consent,
        "rounds": rounds,
        "may_manage": may_manage,
        "case_open": case.is_open,
        "can_request": may_manage and case.stage == Stage.AWAITING_CONSENT and bool(consent.missing),
        "can_renew": (may_manage and case.is_open and case.stage != Stage.AWAITING_CONSENT and not has_open
                      and renewal_due),
        "show_waiting_link": bool(inbox_municipalities(request.user)),
        "Pending": ConsentRequest.Status.PENDING,
        "Given": ConsentRequest.Status.GIVEN,
        "live": (ConsentRound.Status.OPEN, ConsentRound.Status.COMPLETE),
    }
    return render_to_string("consent/panel.html", context, request=request)
