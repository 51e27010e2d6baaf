"""What the single entry adds to the case page, and its clock (the inbox emptied)."""

from __future__ import annotations

import datetime as dt

from django.template.loader import render_to_string

from tovholder.access import Scope
from tovholder.deadlines.clocks import Clock, Rules
from tovholder.deadlines.milestones import Milestone
from tovholder.deadlines.workdays import local_date


def thread_panel(request, case, grant) -> str | None:
    """The referral and the replies to the referrer, for those whose grant shows threads."""
    if not grant.allows(Scope.THREAD):
        return None
    from tovholder.inbox.models import Thread
    from tovholder.inbox.selectors import thread_outbound, thread_segments

    threads = list(Thread.objects.filter(case=case).select_related("referrer_unit").order_by("started_at"))
    if not threads:
        return None
    sections = [{"thread": t, "segments": list(thread_segments(thread=t)), "outbound": list(thread_outbound(thread=t))}
                for t in threads]
    return render_to_string("inbox/_case_panel.html", {"sections": sections, "case": case}, request=request)


def inbox_milestone(case, rules: Rules, today: dt.date) -> list[Milestone]:
    """The inbox is emptied every working day: the item that opened the case was due the
    working day after it arrived."""
    from tovholder.inbox.models import InboxItem

    item = (InboxItem.objects.filter(case=case, status=InboxItem.Status.OPENED)
            .values("received_at", "handled_at").order_by("handled_at").first())
    if item is None or item["handled_at"] is None:
        return []
    return [Milestone(clock=Clock.INBOX, due=rules.inbox_due(item["received_at"]),
                      met_on=local_date(item["handled_at"]))]
