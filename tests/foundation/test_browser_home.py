import pytest

from tests.support.browser import browser_login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_signs_in_and_shows_my_cases_most_urgent_first(world, page, live_server):
    browser_login(page, live_server, "lars")
    assert page.get_by_role("heading", name="Mine forløb").is_visible()
    assert page.get_by_role("link", name=world.case.child.full_name).is_visible()
    screenshot(page, "foundation-home")
    page.get_by_role("link", name=world.case.child.full_name).click()
    assert page.get_by_role("heading", name="Teamet").is_visible()
    screenshot(page, "foundation-case")
    page.get_by_role("button", name="English").click()
    assert page.locator("html").get_attribute("lang") == "en"


def test_it_refuses_a_wrong_password_with_a_clear_message(world, page, live_server):
    browser_login(page, live_server, "lars", password="wrong")
    assert page.get_by_role("alert").is_visible()
