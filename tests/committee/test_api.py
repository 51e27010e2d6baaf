"""The committee's JSON API calls the same services as the pages."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.committee.helpers import consented_case, local, meeting_on, plan
from tovholder.cases.models import Stage
from tovholder.committee import services
from tovholder.committee.models import AgendaItem, Minute

pytestmark = pytest.mark.django_db
JSON = "application/json"


@pytest.fixture
def ready(clock, world):
    clock.move_to(local(2026, 11, 16, 10))
    ronde = consented_case(world, at=local(2026, 11, 16, 10), school=0)
    hornslet = consented_case(world, at=local(2026, 11, 13, 15, 30), school=1)  # a Friday afternoon
    plan(world)
    services.agenda_sync()
    clock.move_to(local(2026, 11, 18, 8, 40))
    return ronde, hornslet, meeting_on(world, dt.date(2026, 11, 18))


def item(case) -> AgendaItem:
    return AgendaItem.objects.get(case=case, state="pending")


def test_it_lists_the_agenda_by_deadline_with_the_next_meeting(ready, login):
    ronde, hornslet, meeting = ready
    body = login("karen").get("/api/committee/agenda").json()
    assert body["role"] == "chair" and body["next_meeting"]["id"] == meeting.pk
    assert [i["case_id"] for i in body["items"]] == [hornslet.pk, ronde.pk]
    assert [i["due"] for i in body["items"]] == ["2026-11-25", "2026-11-26"]
    assert body["items"][0]["invited"] == [{"name": "Henrik Dahl", "role": "principal"}]
    pia = login("pia").get("/api/committee/agenda").json()
    assert pia["role"] == "guest" and [i["case_id"] for i in pia["items"]] == [ronde.pk]


def test_it_records_a_decision_once_and_approves_the_minutes(ready, world, login, sent):
    ronde, hornslet, meeting = ready
    client = login("karen")
    url = f"/api/committee/meetings/{meeting.pk}/items/{item(ronde).pk}/decision"
    data = {"kind": "pathway", "conclusion": "PPR er tovholder.", "lead_user_id": world.user("maria").pk,
            "lead_unit_id": world.unit("706:ppr").pk}
    first = client.post(url, data, content_type=JSON)
    assert first.status_code == 201, first.content
    assert first.json()["lead"] == "Maria Vestergaard" and first.json()["lead_phone"] == "87 53 50 15"
    assert client.post(url, data, content_type=JSON).json()["id"] == first.json()["id"]
    ronde.refresh_from_db()
    assert ronde.stage == Stage.AWAITING_START
    refused = client.post(f"/api/committee/meetings/{meeting.pk}/items/{item(hornslet).pk}/decision",
                          {"kind": "ordinary_route", "conclusion": "x"}, content_type=JSON)
    assert refused.status_code == 400 and "enhed" in refused.json()["detail"]
    assert client.post(f"/api/committee/meetings/{meeting.pk}/approve", content_type=JSON).json() == {"sent": 1}
    assert Minute.objects.get(item__case=ronde).status == "sent"
    assert len(sent.family) == 1 and len(sent.referrer) == 1
    detail = client.get(f"/api/committee/items/{AgendaItem.objects.get(case=ronde).pk}").json()
    assert detail["compliance"] == "met" and detail["decisions"][0]["kind"] == "pathway"


def test_it_exempts_and_adds_a_meeting_for_the_chair_only(ready, world, login):
    ronde, hornslet, meeting = ready
    url = f"/api/committee/items/{item(hornslet).pk}/exemption"
    data = {"ground": "medical", "reason": "Indlagt."}
    assert login("mads").post(url, data, content_type=JSON).status_code == 400  # between meetings: the chair
    assert login("karen").post(url, data, content_type=JSON).status_code == 201
    hornslet.refresh_from_db()
    assert hornslet.exempt_from_deadlines
    new = login("karen").post("/api/committee/meetings", {"day": "2026-11-24", "starts_at": "12:00",
                                                          "ends_at": "13:00"}, content_type=JSON)
    assert new.status_code == 201 and new.json()["kind"] == "extra"
    assert login("mads").post("/api/committee/meetings", {"day": "2026-11-24", "starts_at": "12:00",
                                                          "ends_at": "13:00"}, content_type=JSON).status_code == 404


def test_it_lets_the_lead_return_the_case(ready, world, login):
    case = world.case
    assert login("maria").post(f"/api/committee/cases/{case.pk}/return", {"reason": "x"},
                               content_type=JSON).status_code == 404
    done = login("lars").post(f"/api/committee/cases/{case.pk}/return", {"reason": "Skolen kan ikke alene."},
                              content_type=JSON)
    assert done.status_code == 201 and done.json()["origin"] == "returned"
    assert done.json()["invited"][-1] == {"name": "Lars Nielsen", "role": "lead"}
