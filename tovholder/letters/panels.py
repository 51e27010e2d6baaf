"""The case page's link to the letters sent to the family."""

from __future__ import annotations

from django.template.loader import render_to_string

from tovholder.access import Scope
from tovholder.letters.models import Letter
from tovholder.letters.selectors import INTAKE_REASON_PREFIX


def letters_panel(request, case, grant) -> str | None:
    if not grant.allows(Scope.INTAKE):
        return None
    letters = Letter.objects.filter(case=case)
    if not grant.allows(Scope.CASE):
        letters = letters.filter(reason__startswith=INTAKE_REASON_PREFIX)
    counts = {"total": 0, "queued": 0, "failed": 0}
    for status in letters.values_list("status", flat=True):
        counts["total"] += 1
        if status in ("queued", "failed"):
            counts[status] += 1
    return render_to_string("letters/panel.html", {"case": case, "counts": counts}, request=request)
