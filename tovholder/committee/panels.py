"""The committee's section of the case page: where the case stands with the committee,
the decision and its compliance with the 8-working-day clock, and for the lead
professional the way back to the committee when the pathway stalls."""

from __future__ import annotations

from django.template.loader import render_to_string

from tovholder.access import Basis
from tovholder.cases.models import Stage
from tovholder.committee.models import AgendaItem, CommitteeDecision


def committee_panel(request, case, grant) -> str | None:
    if grant.basis not in (Basis.LEAD, Basis.TEAM, Basis.COMMITTEE, Basis.PRINCIPAL):
        return None
    items = list(AgendaItem.objects.filter(case=case).select_related("returned_by").order_by("created_at", "pk"))
    decisions: dict[int, CommitteeDecision] = {}
    for d in CommitteeDecision.objects.filter(item__case=case).select_related("lead_user", "unit", "meeting"):
        if d.is_final:
            decisions[d.item_id] = d
    pending = next((i for i in items if i.state == AgendaItem.State.PENDING), None)
    may_return = grant.basis == Basis.LEAD and case.stage in (Stage.AWAITING_START, Stage.ACTIVE) and pending is None
    if not items and not may_return:
        return None
    rows = [(i, decisions.get(i.pk)) for i in items]
    may_open = grant.basis in (Basis.COMMITTEE, Basis.PRINCIPAL, Basis.LEAD)
    return render_to_string("committee/_case_panel.html", {
        "case": case, "rows": rows, "pending": pending, "may_return": may_return, "may_open": may_open,
    }, request=request)
