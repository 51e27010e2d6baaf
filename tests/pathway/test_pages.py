"""The pages: scheduling, the record form, plan versions compared, the calendar file, the
overview's query count, the API."""

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.pathway.helpers import hold, pathway_case, schedule
from tovholder.pathway.ics import escape_text, fold, meeting_ics
from tovholder.pathway.models import Meeting, MeetingKind, PlanVersion

pytestmark = pytest.mark.django_db


def test_it_schedules_a_meeting_once_however_often_the_form_is_sent(world, login, sent):
    case = pathway_case(world)
    client = login("lars")
    page = client.get(f"/handleplan/forloeb/{case.pk}/moede/nyt/").content.decode()
    key = re.search(r'name="idempotency_key" value="(\w+)"', page).group(1)
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    data = {"kind": "start", "date": tomorrow.isoformat(), "start": "14:00", "end": "15:00",
            "place": "Rønde Skole, lokale 2", "video_link": "", "invite_child": "on", "invite_custody_holders": "on",
            "staff": [f"{world.user('maria').pk}:{world.unit('706:ppr').pk}"], "idempotency_key": key,
            "ext_name_1": "Anne Mortensen", "ext_title_1": "Praktiserende læge", "ext_sector_1": "gp"}
    first = client.post(f"/handleplan/forloeb/{case.pk}/moede/nyt/", data)
    second = client.post(f"/handleplan/forloeb/{case.pk}/moede/nyt/", data)
    assert first.status_code == second.status_code == 302
    meeting = Meeting.objects.get(pathway__case=case)
    names = list(meeting.participants.values_list("name", flat=True))
    assert "Maria Vestergaard" in names and "Anne Mortensen" in names and case.child.full_name in names
    assert sent.family_reasons().count("invitation") == 1
    assert sent.family[0]["attachments"][0][0] == "moede.ics"


def test_it_refuses_a_meeting_without_place_or_video(world, login):
    case = pathway_case(world)
    response = login("lars").post(f"/handleplan/forloeb/{case.pk}/moede/nyt/", {
        "kind": "start", "date": (timezone.localdate() + dt.timedelta(days=1)).isoformat(), "start": "14:00",
        "end": "13:00"})
    body = response.content.decode()
    assert response.status_code == 200 and 'role="alert"' in body
    assert "Angiv et mødested eller et videolink" in body and "Mødet skal slutte efter det begynder" in body


def _record_data(meeting, form_page: str, **extra) -> dict:
    data = {"held_on": timezone.localdate().isoformat(), "child_voice": "present", "what_works": "Idræt",
            "what_is_hard": "Morgener", "expectations": "Ventetid hos PPR", "parents_agree": "yes",
            "version": re.search(r'name="version" value="(\d+)"', form_page).group(1),
            "goal_child_1": "Komme i skole", "goal_ours_1": "Fremmøde", "goal_score_1": "3", "goal_by_1": "child",
            "new_what_1": "Morgenaftale", "new_who_1": "school", "new_name_1": "Lars"}
    for p in meeting.participants.all():
        data[f"attended_{p.pk}"] = "on"
    data.update(extra)
    return data


def test_the_record_form_requires_the_next_meeting_date_and_then_makes_version_1(world, login):
    case = pathway_case(world)
    meeting = schedule(world, case, at=timezone.now() - dt.timedelta(hours=1))
    client = login("lars")
    url = f"/handleplan/forloeb/{case.pk}/moede/{meeting.pk}/handleplan/"
    page = client.get(url).content.decode()
    response = client.post(url, _record_data(meeting, page))
    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode() and "Dato for næste møde" in response.content.decode()
    assert not PlanVersion.objects.exists()
    next_date = (timezone.localdate() + dt.timedelta(weeks=5)).isoformat()
    response = client.post(url, _record_data(meeting, page, next_meeting_on=next_date))
    assert response.status_code == 302
    assert PlanVersion.objects.get().number == 1


def test_the_record_form_refuses_a_stale_version(world, login):
    case = pathway_case(world)
    meeting = schedule(world, case, at=timezone.now() - dt.timedelta(hours=1))
    client = login("lars")
    url = f"/handleplan/forloeb/{case.pk}/moede/{meeting.pk}/handleplan/"
    data = _record_data(meeting, client.get(url).content.decode(),
                        next_meeting_on=(timezone.localdate() + dt.timedelta(weeks=5)).isoformat())
    data["version"] = "0"
    response = client.post(url, data)
    assert "ændret af en anden" in response.content.decode()
    assert not PlanVersion.objects.exists()


def test_it_compares_two_versions_readably(world, login):
    case = pathway_case(world)
    past = timezone.now() - dt.timedelta(hours=3)
    v1 = hold(world, case, schedule(world, case, at=past))
    hold(world, case, schedule(world, case, kind=MeetingKind.FOLLOW_UP, at=past + dt.timedelta(hours=1)),
         what_works="Frikvartererne med Emil og idræt.", new_goals=[], ratings={v1.pathway.goals.get().pk: (7, "child")})
    body = login("maria").get(f"/handleplan/forloeb/{case.pk}/plan/sammenlign/?fra=1&til=2").content.decode()
    assert "<ins>og idræt.</ins>" in body or "<ins>" in body
    assert "3/10" in body and "7/10" in body and "Ændret" in body


def test_the_calendar_file_is_rfc_5545(world):
    case = pathway_case(world)
    at = dt.datetime(2026, 10, 24, 20, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    meeting = schedule(world, case, at=at, place="Rønde Skole; lokale 2, 1. sal",
                       video_link="https://video.example.dk/rum/" + "x" * 80)
    ics = meeting_ics(meeting).decode()
    lines = ics.split("\r\n")
    assert lines[0] == "BEGIN:VCALENDAR" and ics.endswith("END:VCALENDAR\r\n")
    assert "DTSTART:20261024T180000Z" in lines and "DTEND:20261024T190000Z" in lines
    assert any(line.startswith("UID:") and line.endswith("@tovholder") for line in lines)
    assert any(re.fullmatch(r"DTSTAMP:\d{8}T\d{6}Z", line) for line in lines)
    assert r"LOCATION:Rønde Skole\; lokale 2\, 1. sal" in ics
    assert all(len(line.encode()) <= 75 for line in lines)
    assert escape_text("a\\b;c,d\ne") == "a\\\\b\\;c\\,d\\ne"
    folded = fold("X" * 74 + "æøå" * 10)
    assert all(len(part.encode()) <= 75 for part in folded.split("\r\n"))
    assert folded.replace("\r\n ", "") == "X" * 74 + "æøå" * 10


def test_professionals_download_the_calendar_file(world, login):
    case = pathway_case(world)
    meeting = schedule(world, case)
    response = login("maria").get(f"/handleplan/forloeb/{case.pk}/moede/{meeting.pk}/kalender.ics")
    assert response["Content-Type"].startswith("text/calendar")
    assert b"BEGIN:VEVENT" in response.content


def test_the_case_page_shows_the_lead_and_how_to_reach_them(world, login):
    case = pathway_case(world)
    body = login("pia").get(f"/forloeb/{case.pk}/").content.decode()
    assert "Fælles forløb og handleplan" in body and "Lars Nielsen" in body and "87 53 50 20" in body


def _overview_queries(login) -> int:
    client = login("karen")
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/handleplan/")
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_the_overview_does_not_grow_in_queries_with_the_number_of_pathways(world, login, django_assert_max_num_queries):
    for _ in range(2):
        pathway_case(world, participants=())
    few = _overview_queries(login)
    for _ in range(6):
        schedule(world, pathway_case(world, participants=()))
    assert _overview_queries(login) == few
    with django_assert_max_num_queries(16):
        login("karen").get("/handleplan/")
    body = login("karen").get("/handleplan/").content.decode()
    assert body.count("Lars Nielsen") >= 8


def test_the_overview_shows_a_principal_only_their_own_pupils(world, login):
    case = pathway_case(world)
    other = pathway_case(world, participants=())
    from tovholder.children.models import Child

    Child.objects.filter(pk=other.child_id).update(school=world.unit("706:school:1"))
    pia = login("pia").get("/handleplan/").content.decode()
    assert case.child.full_name in pia and other.child.full_name not in pia
    assert login("ida").get("/handleplan/").status_code == 404


def test_the_api_gives_the_lead_and_the_milestones(world, login):
    case = pathway_case(world)
    data = login("maria").get(f"/api/pathways/{case.pk}").json()
    assert data["lead"]["name"] == "Lars Nielsen"
    assert data["milestones"][0]["clock"] == "start_meeting"
