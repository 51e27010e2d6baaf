from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from tovholder.access import Basis, Scope, require_case
from tovholder.audit.actor import Actor
from tovholder.audit.models import AuditEvent
from tovholder.audit.selectors import audit_for_case
from tovholder.audit.services import audit_record_many
from tovholder.cases.models import Notice
from tovholder.cases.selectors import case_team, my_cases, unread_notices
from tovholder.cases.services import notice_mark_read
from tovholder.deadlines.clocks import CLOCK_LABELS
from tovholder.deadlines.milestones import case_milestones
from tovholder.pathway.selectors import todays_digest


@login_required
def home(request):
    cases = list(my_cases(user=request.user))
    if cases:
        # The list shows children's names: that is a read of personal data, audited per case.
        audit_record_many(actor=Actor(user=request.user), action=AuditEvent.Action.SEARCH,
                          basis=Basis.TEAM, cases=cases, criterion="Mine forløb", summary="Vist i Mine forløb")
    today = timezone.localdate()
    rows = [
        {
            "case": c,
            "deadline_label": CLOCK_LABELS.get(c.next_deadline_kind, ""),
            "overdue": c.next_deadline is not None and c.next_deadline < today,
            "days_left": (c.next_deadline - today).days if c.next_deadline else None,
        }
        for c in cases
    ]
    notices = list(unread_notices(user=request.user)[:20])
    return render(request, "cases/home.html", {"rows": rows, "today": today, "notices": notices,
                                               "digest": todays_digest(user=request.user, today=today),
                                               "referrals_url": reverse("inbox:my_referrals")})


@login_required
@require_POST
def notice_read(request, notice_id: int):
    notice = get_object_or_404(Notice, pk=notice_id, user=request.user)
    notice_mark_read(actor=Actor(user=request.user), notice=notice)
    return redirect(notice.url or "cases:home")


@login_required
def case_detail(request, case_id: int):
    case, grant = require_case(request.user, case_id, scope=Scope.INTAKE)
    today = timezone.localdate()
    milestones = case_milestones(case, today) if grant.allows(Scope.CASE) else []
    context = {
        "case": case,
        "grant": grant,
        "full": grant.allows(Scope.CASE),
        "team": case_team(case=case),
        "custody_holders": case.child.custody_holders.filter(ended_at__isnull=True),
        "milestones": [(m, m.status(today), m.status_label(today)) for m in milestones],
        "today": today,
        "may_audit": grant.allows(Scope.AUDIT),
        "sections": case_sections(request, case, grant),
    }
    return render(request, "cases/detail.html", context)


def case_sections(request, case, grant) -> list:
    """Panels other parts of the domain add to the case page (consent, plan, …)."""
    from tovholder.cases.panels import render_panels

    return render_panels(request, case, grant)


@login_required
def case_audit(request, case_id: int):
    case, grant = require_case(request.user, case_id, scope=Scope.AUDIT, summary="Revisionsspor vist")
    page = Paginator(audit_for_case(case_id=case.pk), 100).get_page(request.GET.get("side"))
    return render(request, "cases/audit.html", {"case": case, "page": page})
