import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_the_menu_marks_only_the_most_specific_section_as_current(world, login):
    page = login("ida").get(reverse("inbox:directory")).content.decode()
    directory = reverse("inbox:directory")
    inbox = reverse("inbox:inbox")
    assert f'href="{directory}" aria-current="page"' in page
    assert f'href="{inbox}" aria-current="page"' not in page


def test_a_gp_finds_their_referrals_from_the_menu_and_the_empty_home_page(world, login):
    client = login("anne")
    home = client.get(reverse("cases:home")).content.decode()
    referrals = reverse("inbox:my_referrals")
    assert home.count(f'href="{referrals}"') == 2  # the menu, and the home page's pointer
    assert "Mine henvisninger" in home


@pytest.mark.parametrize("username", ["admin", "stranger"])
def test_who_works_in_no_referring_unit_has_no_referrals_section(world, login, username):
    page = login(username).get(reverse("cases:home")).content.decode()
    assert reverse("inbox:my_referrals") not in page
