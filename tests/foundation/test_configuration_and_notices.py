import pytest
from django.urls import reverse

from tovholder.audit.actor import Actor
from tovholder.audit.models import AuditEvent
from tovholder.cases.models import Notice
from tovholder.cases.services import notice_send
from tovholder.deadlines.clocks import Rules

pytestmark = pytest.mark.django_db


def test_an_administrator_sets_a_municipalitys_clocks_and_it_is_audited(world, login):
    url = reverse("web:municipality_settings", args=["706"])
    data = {"committee_working_days": 10, "start_meeting_weeks": 5, "intervention_weeks": 4,
            "first_follow_up_weeks": 6, "consent_answer_days": 14, "consent_reminder_days": 7,
            "consent_validity_days": 365, "closed_constitution_day": "on", "closed_christmas_eve": "on"}
    assert login("admin").post(url, data).status_code == 302
    world.syddjurs.refresh_from_db()
    assert Rules.for_municipality(world.syddjurs).committee_working_days == 10
    assert not world.syddjurs.closed_new_years_eve
    event = AuditEvent.objects.filter(object_type="organisations.Municipality").latest("id")
    assert event.user == world.user("admin") and "committee_working_days: 8 → 10" in event.summary


def test_the_configuration_page_shows_no_case_content(world, login):
    page = login("admin").get(reverse("web:configuration")).content.decode()
    assert "Syddjurs" in page and world.case.child.full_name not in page


def test_a_notice_shows_on_the_home_page_until_read(world, login):
    notice_send(actor=Actor(system="test"), case=world.case, users=[world.user("lars")], text="Samtykke trukket tilbage")
    client = login("lars")
    assert "Samtykke trukket tilbage" in client.get(reverse("cases:home")).content.decode()
    notice = Notice.objects.get(user=world.user("lars"))
    client.post(reverse("cases:notice_read", args=[notice.pk]))
    assert "Samtykke trukket tilbage" not in client.get(reverse("cases:home")).content.decode()
    # Another person's notice cannot be touched.
    assert login("maria").post(reverse("cases:notice_read", args=[notice.pk])).status_code == 404
