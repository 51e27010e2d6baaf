"""Need-to-know access and the audit trail."""

import datetime as dt

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from tests.support.world import make_case
from tovholder.audit.actor import Actor
from tovholder.audit.models import AuditEvent
from tovholder.cases.models import CaseTeamMember, Stage
from tovholder.cases.services import case_team_end
from tovholder.organisations.models import Membership
from tovholder.organisations.services import membership_end, membership_grant

pytestmark = pytest.mark.django_db


def test_it_writes_an_audit_row_when_a_case_is_viewed(world, login):
    before = AuditEvent.objects.filter(case=world.case, action="view").count()
    response = login("lars").get(reverse("cases:detail", args=[world.case.pk]))
    assert response.status_code == 200
    event = AuditEvent.objects.filter(case=world.case, action="view").latest("id")
    assert AuditEvent.objects.filter(case=world.case, action="view").count() == before + 1
    assert event.user == world.user("lars")
    assert event.basis == "lead"
    assert event.unit == world.unit("706:school:0")
    assert event.child_id == world.case.child_id


def test_it_gives_an_outsider_404_and_writes_nothing_about_the_child(world, login):
    before = AuditEvent.objects.count()
    assert login("stranger").get(reverse("cases:detail", args=[world.case.pk])).status_code == 404
    assert login("stranger").get(reverse("cases:detail", args=[999999])).status_code == 404
    assert AuditEvent.objects.count() == before


def test_a_role_that_ends_loses_access_on_the_next_request(world, login):
    client = login("maria")
    url = reverse("cases:detail", args=[world.case.pk])
    assert client.get(url).status_code == 200
    member = CaseTeamMember.objects.get(case=world.case, user=world.user("maria"), ended_at__isnull=True)
    case_team_end(actor=Actor(system="test"), basis="lead", member=member)
    assert client.get(url).status_code == 404


def test_a_membership_that_ends_loses_committee_access_on_the_next_request(world, login):
    client = login("mads")
    url = reverse("cases:detail", args=[world.case.pk])
    assert client.get(url).status_code == 200
    membership = Membership.objects.get(user=world.user("mads"), role="committee_member")
    membership_end(actor=Actor(system="test"), membership=membership)
    assert client.get(url).status_code == 404


def test_a_membership_counts_from_its_start_and_the_demo_staff_hold_theirs_from_2020(world):
    jonas = world.user("jonas")
    assert Membership.objects.active(at=dt.datetime(2020, 1, 2, tzinfo=dt.UTC)).filter(user=jonas).exists()
    assert not Membership.objects.active(at=dt.datetime(2019, 12, 31, tzinfo=dt.UTC)).filter(user=jonas).exists()
    new = membership_grant(actor=Actor(system="test"), user=world.user("stranger"), unit=world.unit("bua"),
                           role="staff")
    assert new.started_at <= timezone.now()
    assert not Membership.objects.active(at=timezone.now() - dt.timedelta(days=1)).filter(pk=new.pk).exists()


def test_the_committee_sees_a_case_only_once_consent_is_complete(world, login):
    waiting = make_case(world.demo, stage=Stage.AWAITING_CONSENT)
    assert login("karen").get(reverse("cases:detail", args=[waiting.pk])).status_code == 404
    assert login("ida").get(reverse("cases:detail", args=[waiting.pk])).status_code == 200


def test_the_inbox_keeper_sees_intake_data_but_not_the_case_content(world, login):
    response = login("ida").get(reverse("cases:detail", args=[world.case.pk]))
    assert response.status_code == 200
    assert "Teamet" not in response.content.decode()
    assert login("ida").get(reverse("cases:audit", args=[world.case.pk])).status_code == 404


def test_the_audit_trail_is_append_only_in_the_database(world):
    event = AuditEvent.objects.filter(case=world.case).first()
    with pytest.raises(RuntimeError):
        event.save()
    with pytest.raises(DatabaseError):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("UPDATE audit_auditevent SET summary = 'changed' WHERE id = %s", [event.pk])
    if connection.vendor == "postgresql":
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [event.pk])
    event.refresh_from_db()
    assert event.summary != "changed"


def test_services_audit_their_changes_with_who_and_why(world):
    events = AuditEvent.objects.filter(case=world.case).order_by("id")
    summaries = [e.summary for e in events]
    assert summaries[0].startswith("Forløb oprettet")
    assert all(e.actor and e.basis and e.at <= timezone.now() for e in events)


def test_the_audit_page_shows_who_looked(world, login):
    login("maria").get(reverse("cases:detail", args=[world.case.pk]))
    page = login("lars").get(reverse("cases:audit", args=[world.case.pk])).content.decode()
    assert "Maria Vestergaard" in page and "Forløbet vist" in page


def test_the_home_page_lists_my_cases_most_urgent_first_and_not_others(world, login):
    first = make_case(world.demo, stage=Stage.AWAITING_START, lead="lars")
    second = make_case(world.demo, stage=Stage.AWAITING_START, lead="lars")
    from tovholder.cases.models import Case

    Case.objects.filter(pk=first.pk).update(next_deadline=dt.date(2030, 1, 1))
    Case.objects.filter(pk=second.pk).update(next_deadline=dt.date(2029, 1, 1))
    page = login("lars").get(reverse("cases:home")).content.decode()
    assert page.index(second.child.full_name) < page.index(first.child.full_name)
    other = make_case(world.demo, stage=Stage.AWAITING_START, lead="maria")
    assert other.child.full_name not in page


@pytest.mark.parametrize("n", [1, 12])
def test_the_home_page_query_count_does_not_grow_with_cases(world, login, n, django_assert_max_num_queries):
    for _ in range(n):
        make_case(world.demo, stage=Stage.AWAITING_START, lead="lars")
    client = login("lars")
    with django_assert_max_num_queries(13):  # 12 + today's digest (one query, whatever the count)
        assert client.get(reverse("cases:home")).status_code == 200
