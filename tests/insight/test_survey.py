"""The relational coordination survey: rounds, one response per respondent, partner group
and round, results per question and partner group like the trial report's charts."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
import time_machine
from openpyxl import load_workbook

from tests.insight.htmltables import page_tables
from tovholder.audit.actor import Actor
from tovholder.insight.models import SurveyAnswer, SurveyResponse, SurveyRound
from tovholder.insight.services import survey_round_close, survey_round_open
from tovholder.insight.trial import STAFF_FROM, _at, _World, trial_survey_load

pytestmark = pytest.mark.django_db


@pytest.fixture
def survey_round(world):
    return survey_round_open(actor=Actor(user=world.user("karen")), municipality=world.syddjurs, kind="baseline",
                             opens_on=dt.date(2022, 4, 4))


def _answers(value: int) -> dict:
    return {"gruppe": "ppr", **{d: str(value) for d in ["shared_goals", "shared_knowledge", "mutual_respect",
                                                        "frequent", "timely", "accurate", "problem_solving"]}}


def test_it_keeps_one_response_per_respondent_partner_and_round_and_edits_it(world, survey_round, login):
    client = login("lars")
    url = f"/indsigt/relationel-koordinering/besvar/{survey_round.pk}/"
    assert client.post(url, _answers(2)).status_code == 302
    assert client.post(url, _answers(2)).status_code == 302  # a double click
    assert client.post(url, _answers(4)).status_code == 302  # second thoughts: edits the same response
    response = SurveyResponse.objects.get()
    assert (response.respondent, response.partner_group.key, response.version) == (world.user("lars"), "ppr", 3)
    assert set(SurveyAnswer.objects.values_list("value", flat=True)) == {4}
    assert response.respondent_kind == "school"
    page = client.get(url, {"gruppe": "ppr"}).content.decode()
    assert re.search(r'name="shared_goals" value="4"[^>]*checked', page)


def test_it_refuses_answers_to_a_closed_round_and_to_other_municipalities(world, survey_round, login):
    survey_round_close(actor=Actor(user=world.user("karen")), survey_round=survey_round)
    assert login("lars").post(f"/indsigt/relationel-koordinering/besvar/{survey_round.pk}/",
                              _answers(3)).status_code == 404
    other = survey_round_open(actor=Actor(user=world.user("ole")), municipality=world.norddjurs, kind="baseline",
                              opens_on=dt.date(2022, 4, 4))
    assert login("lars").get(f"/indsigt/relationel-koordinering/besvar/{other.pk}/").status_code == 404
    assert not SurveyResponse.objects.exists()


def test_it_shows_each_question_as_stacked_bars_per_round_like_the_trial_report(world, login):
    with time_machine.travel(_at(STAFF_FROM, 8), tick=False):
        _World().hire()
    trial_survey_load()
    html = login("karen").get("/indsigt/relationel-koordinering/", {"omraade": "706", "gruppe": "bua"}).content.decode()
    rows = {r[0]: r[1:] for r in page_tables(html)["rk-shared_goals"][1:]}
    # Seed 001: BUA shares my goals — baseline 75 % neither/nor, 25 % partly agree; final 50/25/25.
    assert rows["Baselinemåling, april 2022"][:6] == ["0", "0", "3", "1", "0", "4"]
    assert rows["Afsluttende måling, november 2022"][:6] == ["0", "0", "2", "1", "1", "4"]
    assert ">75 %</text>" in html and ">25 %</text>" in html
    assert html.count('<svg class="chart"') == 7
    html = login("karen").get("/indsigt/relationel-koordinering/",
                              {"omraade": "706", "gruppe": "family_counselling"}).content.decode()
    rows = {r[0]: r[1:] for r in page_tables(html)["rk-accurate"][1:]}
    # Baseline 33 % fully disagree, 50 % partly disagree, 17 % neither; final half fully agree.
    assert rows["Baselinemåling, april 2022"][:6] == ["2", "3", "1", "0", "0", "6"]
    assert rows["Afsluttende måling, november 2022"][:6] == ["0", "1", "1", "1", "3", "6"]
    change = {r[0]: r[1:] for r in page_tables(html)["rk-udvikling"][1:]}
    assert change["Familierådgivningen: Præcis kommunikation"][3] == "2,2"  # 1,83 → 4,00


def test_it_does_not_show_a_partner_group_with_fewer_than_three_answers(world, survey_round, login):
    login("lars").post(f"/indsigt/relationel-koordinering/besvar/{survey_round.pk}/", _answers(5))
    login("maria").post(f"/indsigt/relationel-koordinering/besvar/{survey_round.pk}/", _answers(1))
    html = login("karen").get("/indsigt/relationel-koordinering/", {"omraade": "706", "gruppe": "ppr"}).content.decode()
    row = page_tables(html)["rk-shared_goals"][1]
    assert row[1:6] == ["—"] * 5 and row[6] == "2"
    assert "for få svar" in html


def test_it_lets_the_chair_change_the_wording_without_changing_a_round_already_open(world, survey_round, login):
    client = login("karen")
    data = {"action": "wording", **{d: f"Udsagn om {d} og {{gruppe}} i kommunen" for d in [
        "shared_goals", "shared_knowledge", "mutual_respect", "frequent", "timely", "accurate", "problem_solving"]}}
    assert client.post("/indsigt/relationel-koordinering/opsaetning/?omraade=706", data).status_code == 302
    assert "Udsagn om shared_goals" not in SurveyRound.objects.get(pk=survey_round.pk).questions["shared_goals"]
    later = client.post("/indsigt/relationel-koordinering/opsaetning/?omraade=706",
                        {"action": "open", "kind": "midway", "opens_on": "2022-09-12", "title": ""})
    assert later.status_code == 302
    midway = SurveyRound.objects.get(kind="midway")
    assert midway.questions["shared_goals"] == "Udsagn om shared_goals og {gruppe} i kommunen"
    page = login("lars").get(f"/indsigt/relationel-koordinering/besvar/{midway.pk}/", {"gruppe": "bua"})
    assert "Udsagn om shared_goals og Børne- og Ungdomspsykiatrien (BUA) i kommunen" in page.content.decode()
    assert login("mads").post("/indsigt/relationel-koordinering/opsaetning/?omraade=706", data).status_code == 404


def test_it_exports_the_survey_tables(world, login):
    with time_machine.travel(_at(STAFF_FROM, 8), tick=False):
        _World().hire()
    trial_survey_load()
    client = login("karen")
    response = client.get("/indsigt/relationel-koordinering/eksport/rk_udvikling.csv", {"omraade": "706"})
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert any(r and r[0] == "Børne- og Ungdomspsykiatrien (BUA): Fælles mål" for r in rows)
    book = load_workbook(io.BytesIO(client.get("/indsigt/relationel-koordinering/eksport/alle.xlsx",
                                               {"omraade": "706"}).content))
    assert len(book.sheetnames) == 1 + 6 * 7
