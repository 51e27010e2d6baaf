"""The demo functions the lead wires into the demo loader run on the demo region."""

from __future__ import annotations

import pytest

from tests.committee.helpers import consented_case, local
from tovholder.cases.models import Stage
from tovholder.committee.demo import (
    committee_demo_agenda,
    committee_demo_past_meeting,
    committee_demo_schedule,
)
from tovholder.committee.models import CommitteeMeeting, Minute, UnitNote

pytestmark = pytest.mark.django_db


def test_it_gives_the_demo_a_schedule_an_agenda_and_a_past_meeting_with_sent_minutes(clock, world):
    clock.move_to(local(2026, 11, 2, 9))
    waiting = consented_case(world, at=local(2026, 11, 2, 9))
    decided = [consented_case(world, at=local(2026, 11, 2, 9)) for _ in range(3)]
    clock.move_to(local(2026, 11, 16, 9))
    committee_demo_schedule(world.demo)
    assert CommitteeMeeting.objects.filter(municipality=world.syddjurs, video_link__contains="video").count() >= 8
    assert CommitteeMeeting.objects.filter(municipality=world.norddjurs).exists()
    item = committee_demo_agenda(world.demo, waiting)
    assert UnitNote.objects.filter(item=item).count() == 2
    meeting = committee_demo_past_meeting(world.demo, decided)
    # A week back is Monday 9 November; the demo moves it to the committee's Wednesday.
    assert meeting.status == "held" and meeting.scheduled_on == local(2026, 11, 11).date()
    stages = []
    for case in decided:
        case.refresh_from_db()
        stages.append(case.stage)
    assert stages == [Stage.AWAITING_START, Stage.AWAITING_START, Stage.CLOSED]
    assert Minute.objects.filter(meeting=meeting, status="sent").count() == 3
