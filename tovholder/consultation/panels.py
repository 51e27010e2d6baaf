"""The case page's section on consultation, referrals onwards, follow-up after a
rejection, and admissions."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import timezone

from tovholder.access import Basis, Scope
from tovholder.consultation import selectors


def consultation_panel(request, case, grant) -> str | None:
    if not grant.allows(Scope.CASE):
        return None
    worker = grant.basis in (Basis.LEAD, Basis.TEAM)
    return render_to_string("consultation/panel.html", {
        "case": case,
        "consultations": list(selectors.case_consultations(case=case)[:20]),
        "referrals": list(selectors.case_referrals(case=case)[:20]),
        "follow_ups": list(selectors.case_follow_ups(case=case)),
        "admissions": list(selectors.case_admissions(case=case)[:20]),
        "worker": worker and case.is_open,
        "is_lead": grant.basis == Basis.LEAD,
        "today": timezone.localdate(),
    }, request=request)
