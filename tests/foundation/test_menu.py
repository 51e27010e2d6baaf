import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_the_menu_marks_only_the_most_specific_section_as_current(world, login):
    page = login("ida").get(reverse("inbox:directory")).content.decode()
    directory = reverse("inbox:directory")
    inbox = reverse("inbox:inbox")
    assert f'href="{directory}" aria-current="page"' in page
    assert f'href="{inbox}" aria-current="page"' not in page
