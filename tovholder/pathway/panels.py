"""The pathway's section of the case page: the lead professional and how to reach them,
the next meeting, the plan, and a nag for every missed deadline still without explanation."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import timezone

from tovholder.access import Scope
from tovholder.pathway.clocks import needs_explanation


def pathway_panel(request, case, grant) -> str | None:
    from tovholder.deadlines.milestones import case_milestones
    from tovholder.pathway.models import Meeting, Pathway

    if not grant.allows(Scope.CASE):
        return None
    pathway = Pathway.objects.select_related("lead_user", "lead_unit").filter(case=case).first()
    if pathway is None:
        return None
    today = timezone.localdate()
    missing = [m for m in case_milestones(case, today) if needs_explanation(m, today)]
    context = {
        "case": case,
        "pathway": pathway,
        "manage": grant.allows(Scope.MANAGE),
        "next_meeting": pathway.meetings.filter(status=Meeting.Status.SCHEDULED).first(),
        "latest": pathway.versions.order_by("-number").first(),
        "missing": missing,
        "open_handover": pathway.handovers.filter(status="proposed").select_related("to_user").first(),
    }
    return render_to_string("pathway/_panel.html", context, request=request)
