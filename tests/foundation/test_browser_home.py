import pytest
from playwright.sync_api import expect

from tests.support.browser import browser_login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_signs_in_and_shows_my_cases_most_urgent_first(world, page, live_server):
    browser_login(page, live_server, "lars")
    expect(page.get_by_role("heading", name="Mine forløb")).to_be_visible()
    expect(page.get_by_role("link", name=world.case.child.full_name)).to_be_visible()
    screenshot(page, "foundation-home")
    page.get_by_role("link", name=world.case.child.full_name).click()
    expect(page.get_by_role("heading", name="Teamet")).to_be_visible()
    screenshot(page, "foundation-case")
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")


def test_it_refuses_a_wrong_password_with_a_clear_message(world, page, live_server):
    browser_login(page, live_server, "lars", password="wrong")
    expect(page.get_by_role("alert")).to_be_visible()
