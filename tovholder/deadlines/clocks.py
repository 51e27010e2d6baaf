"""The model's clocks (DOMAIN.md, "Deadlines"): when each milestone is due, and its status.

Deadlines are derived from facts (the dates events happened) and rules (the
municipality's clock settings). Nothing here touches the database.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

from tovholder.deadlines.workdays import WorkingCalendar, calendar_for, local_date

if TYPE_CHECKING:
    from tovholder.organisations.models import Municipality

# A milestone is "due soon" this many calendar days before its deadline.
DUE_SOON_DAYS = 7


class Clock(StrEnum):
    INBOX = "inbox"
    CONSENT_ANSWER = "consent_answer"
    COMMITTEE = "committee"
    START_MEETING = "start_meeting"
    INTERVENTION = "intervention"
    FIRST_FOLLOW_UP = "first_follow_up"
    NEXT_FOLLOW_UP = "next_follow_up"
    CONSENT_EXPIRY = "consent_expiry"


CLOCK_LABELS = {
    Clock.INBOX: _("Postkassen tømt"),
    Clock.CONSENT_ANSWER: _("Svar på samtykke"),
    Clock.COMMITTEE: _("Drøftelse i koordinationsudvalget"),
    Clock.START_MEETING: _("Igangsætningsmøde"),
    Clock.INTERVENTION: _("Udredende/behandlende indsats i gang"),
    Clock.FIRST_FOLLOW_UP: _("Første opfølgningsmøde"),
    Clock.NEXT_FOLLOW_UP: _("Næste opfølgningsmøde"),
    Clock.CONSENT_EXPIRY: _("Samtykket udløber"),
}


class Status(StrEnum):
    ON_TIME = "on_time"  # not yet due, not soon
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"
    MET = "met"
    MET_LATE = "met_late"
    EXEMPT = "exempt"


STATUS_LABELS = {
    Status.ON_TIME: _("Rettidig"),
    Status.DUE_SOON: _("Frist nærmer sig"),
    Status.OVERDUE: _("Overskredet"),
    Status.MET: _("Overholdt"),
    Status.MET_LATE: _("Overholdt for sent"),
    Status.EXEMPT: _("Undtaget"),
}


@dataclass(frozen=True)
class Rules:
    """One municipality's clock settings, read once."""

    calendar: WorkingCalendar
    committee_working_days: int = 8
    start_meeting_weeks: int = 4
    intervention_weeks: int = 4
    first_follow_up_weeks: int = 6
    consent_answer_days: int = 14
    consent_reminder_days: int = 7
    consent_validity_days: int = 365

    @classmethod
    def for_municipality(cls, municipality: Municipality) -> Rules:
        return cls(
            calendar=calendar_for(municipality),
            committee_working_days=municipality.committee_working_days,
            start_meeting_weeks=municipality.start_meeting_weeks,
            intervention_weeks=municipality.intervention_weeks,
            first_follow_up_weeks=municipality.first_follow_up_weeks,
            consent_answer_days=municipality.consent_answer_days,
            consent_reminder_days=municipality.consent_reminder_days,
            consent_validity_days=municipality.consent_validity_days,
        )

    # Each function takes the moment the clock starts and returns the last allowed date.
    def inbox_due(self, arrived_at: dt.datetime) -> dt.date:
        return self.calendar.next_working_day(local_date(arrived_at))

    def committee_due(self, consent_completed_at: dt.datetime) -> dt.date:
        return self.calendar.add_working_days(local_date(consent_completed_at), self.committee_working_days)

    def start_meeting_due(self, decided_at: dt.datetime) -> dt.date:
        return local_date(decided_at) + dt.timedelta(weeks=self.start_meeting_weeks)

    def intervention_due(self, start_meeting_on: dt.date) -> dt.date:
        return start_meeting_on + dt.timedelta(weeks=self.intervention_weeks)

    def first_follow_up_due(self, start_meeting_on: dt.date) -> dt.date:
        return start_meeting_on + dt.timedelta(weeks=self.first_follow_up_weeks)

    def consent_answer_due(self, requested_at: dt.datetime) -> dt.date:
        return local_date(requested_at) + dt.timedelta(days=self.consent_answer_days)

    def consent_reminder_due(self, reminded_at: dt.datetime) -> dt.date:
        return local_date(reminded_at) + dt.timedelta(days=self.consent_reminder_days)

    def consent_expires(self, given_at: dt.datetime) -> dt.date:
        return local_date(given_at) + dt.timedelta(days=self.consent_validity_days)


def milestone_status(
    *, due: dt.date | None, met_on: dt.date | None, today: dt.date, exempt: bool = False
) -> Status:
    if exempt:
        return Status.EXEMPT
    if met_on is not None:
        return Status.MET if due is None or met_on <= due else Status.MET_LATE
    if due is None:
        return Status.ON_TIME
    if today > due:
        return Status.OVERDUE
    if (due - today).days <= DUE_SOON_DAYS:
        return Status.DUE_SOON
    return Status.ON_TIME
