"""The insight page and the survey in a real browser: the charts are there, labelled in
Danish, with a title, a description and a table each (screenshots in var/screenshots/)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.support.browser import SCREENSHOTS, browser_login, screenshot
from tovholder.insight.trial import TRIAL_END, TRIAL_START, trial_load

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _shot(page, selector: str, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.locator(selector).screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def test_it_draws_the_trials_figures_as_accessible_charts(world, page, live_server):
    trial_load()
    browser_login(page, live_server, "karen")
    page.goto(f"{live_server.url}/indsigt/?omraade=706&fra={TRIAL_START:%Y-%m-%d}&til={TRIAL_END:%Y-%m-%d}")
    expect(page.get_by_role("heading", name="Nøgletal som i forsøgets evaluering")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "insight-top.png"))
    charts = page.locator("svg.chart")
    assert charts.count() >= 13
    for i in range(charts.count()):
        chart = charts.nth(i)
        assert chart.get_attribute("role") == "img"
        title, desc = chart.locator("title"), chart.locator("desc")
        assert title.count() == 1 and desc.count() == 1 and title.text_content() and desc.text_content()
        labelled = chart.get_attribute("aria-labelledby").split()
        assert labelled == [title.get_attribute("id"), desc.get_attribute("id")]
    # The funnel and the follow-up waits, as a person reads them.
    funnel = page.locator("#tragt")
    expect(funnel.get_by_role("img", name="Fra henvendelse til afslutning")).to_be_visible()
    assert "Henvendelse modtaget" in funnel.inner_text()
    expect(funnel.locator("table")).to_be_visible()
    screenshot(page, "insight-trial-page")
    for key in ("noegletal", "tragt", "henvendelser", "rettidighed", "rettidighed_over_tid", "ventetid_follow_up",
                "alder"):
        _shot(page, f"#{key}", f"insight-{key}")

    page.goto(f"{live_server.url}/indsigt/relationel-koordinering/?omraade=706&gruppe=bua")
    expect(page.get_by_role("heading", name="Fælles mål: Børne- og Ungdomspsykiatrien (BUA)")).to_be_visible()
    assert page.locator("svg.chart").count() == 7
    _shot(page, "#rk-shared_goals", "insight-survey-bua-shared-goals")
    page.goto(f"{live_server.url}/indsigt/relationel-koordinering/?omraade=706&gruppe=family_counselling")
    _shot(page, "#rk-accurate", "insight-survey-family-accurate")


def test_it_lets_a_staff_member_answer_the_survey_with_the_keyboard_labels(world, page, live_server):
    import datetime as dt

    from tovholder.audit.actor import Actor
    from tovholder.insight.models import SurveyResponse
    from tovholder.insight.services import survey_round_open

    survey_round_open(actor=Actor(user=world.user("karen")), municipality=world.syddjurs, kind="baseline",
                      opens_on=dt.date.today())
    browser_login(page, live_server, "anne")
    page.goto(f"{live_server.url}/indsigt/relationel-koordinering/besvar/")
    page.get_by_role("link", name="Besvar").click()
    legend = page.locator("fieldset").first
    legend.get_by_label("Delvis enig").check()
    screenshot(page, "insight-survey-answer")
    page.get_by_role("button", name="Gem svar").click()
    expect(page.get_by_role("status")).to_be_visible()
    assert SurveyResponse.objects.filter(respondent=world.user("anne")).count() == 1
