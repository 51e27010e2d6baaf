from __future__ import annotations

from django.utils import timezone

from tovholder.cases.models import Case, Stage
from tovholder.deadlines.milestones import case_milestones, next_open_milestone


def case_refresh_deadline(*, case: Case) -> Case:
    """Recompute and store the case's most urgent open deadline. Call inside the service's
    transaction after any fact a clock depends on has changed."""
    if case.stage == Stage.CLOSED:
        due, kind = None, ""
    else:
        upcoming = next_open_milestone(case_milestones(case, timezone.localdate()))
        due, kind = (upcoming.due, str(upcoming.clock)) if upcoming else (None, "")
    if (case.next_deadline, case.next_deadline_kind) != (due, kind):
        Case.objects.filter(pk=case.pk).update(next_deadline=due, next_deadline_kind=kind)
        case.next_deadline, case.next_deadline_kind = due, kind
    return case
