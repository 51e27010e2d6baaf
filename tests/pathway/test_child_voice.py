"""The child's voice before a meeting: the invitation letter carries each family member's
own link to write to the meeting; what they write reaches the lead, is never shown back
through a link, is audited, and the link dies when the meeting begins."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from tests.consent.helpers import deliver, delivered
from tests.pathway.helpers import pathway_case, schedule
from tovholder.audit.models import AuditEvent
from tovholder.letters.models import Letter
from tovholder.pathway.models import ChildVoiceLink, Meeting

pytestmark = pytest.mark.django_db
LINK = re.compile(r"https?://\S+(/handleplan/stemme/[A-Za-z0-9_-]{40,}/)")


def invited(world):
    case = pathway_case(world)
    meeting = schedule(world, case, at=timezone.now() + dt.timedelta(days=3))
    deliver()
    letters = list(Letter.objects.filter(case=case, reason="invitation"))
    assert letters, "the family was invited"
    paths = [LINK.search(delivered(letter)["body"]).group(1) for letter in letters]
    return case, meeting, paths


def test_each_family_member_gets_their_own_link_in_the_invitation(world):
    case, meeting, paths = invited(world)
    assert len(set(paths)) == len(paths) == ChildVoiceLink.objects.filter(meeting=meeting).count()
    assert all("[[LINK]]" not in letter.body or letter.link_kind == "child_voice"
               for letter in Letter.objects.filter(case=case, reason="invitation"))


def test_what_the_family_writes_reaches_the_meeting_and_is_added_not_replaced(world, client, login):
    case, meeting, paths = invited(world)
    page = client.get(paths[0])
    assert page.status_code == 200 and page["Cache-Control"] == "no-store"
    assert case.child.given_name in page.content.decode()
    assert client.post(paths[0], {"text": "Jeg vil gerne have en fast voksen i frikvarteret."}).status_code == 302
    client.post(paths[-1], {"text": "Morgenerne er det sværeste."})
    meeting.refresh_from_db()
    assert "fast voksen" in meeting.child_statement and "Morgenerne" in meeting.child_statement
    again = client.get(paths[0]).content.decode()
    assert "fast voksen" not in again  # nothing already written is shown through a link
    assert AuditEvent.objects.filter(case=case, basis="family", summary__contains="udtalelse").count() == 2
    lead_page = login("lars").get(reverse("pathway:meeting", args=[case.pk, meeting.pk])).content.decode()
    assert "fast voksen" in lead_page


def test_an_empty_text_is_refused_with_words_and_changes_nothing(world, client):
    case, meeting, paths = invited(world)
    response = client.post(paths[0], {"text": "   "})
    assert response.status_code == 200 and 'role="alert"' in response.content.decode()
    assert Meeting.objects.get(pk=meeting.pk).child_statement == ""


def test_the_link_dies_when_the_meeting_begins_and_a_wrong_link_says_nothing(world, client):
    case, meeting, paths = invited(world)
    with time_machine.travel(meeting.starts_at + dt.timedelta(minutes=1)):
        response = client.get(paths[0])
        assert response.status_code == 404 and case.child.given_name not in response.content.decode()
    assert client.get(reverse("pathway:child_voice", args=["A" * 43])).status_code == 404
