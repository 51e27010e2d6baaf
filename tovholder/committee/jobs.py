"""The committee's background job: the agenda and the meeting schedule keep themselves."""

from __future__ import annotations

import datetime as dt

from django.db.models import Max, Q
from django.utils import timezone

from tovholder.committee.models import CommitteeSettings
from tovholder.committee.services import JOB, agenda_sync, meetings_generate
from tovholder.organisations.models import Municipality, Unit


def committee_schedule() -> int:
    """Put newly consented cases on the agenda; plan standing meetings when the last one
    planned is less than `weeks_ahead` weeks away. Cheap when there is nothing to do."""
    done = agenda_sync(actor=JOB)
    today = timezone.localdate()
    weeks = dict(CommitteeSettings.objects.values_list("municipality_id", "weeks_ahead"))
    rows = Municipality.objects.filter(units__kind=Unit.Kind.COMMITTEE).annotate(
        last=Max("committee_meetings__scheduled_on", filter=Q(committee_meetings__kind="scheduled")))
    for m in rows:
        horizon = today + dt.timedelta(days=7 * weeks.get(m.pk, 8) - 7)
        if m.last is None or m.last < horizon:
            done += len(meetings_generate(actor=JOB, municipality=m))
    return done
