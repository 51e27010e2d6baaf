"""Setting up who holds which role: the committee's members and its one chair, the inbox
keepers. Done by the administrator, through the same services the demo uses."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from tovholder.access import committee_municipalities
from tovholder.audit.actor import Actor
from tovholder.audit.models import AuditEvent
from tovholder.organisations.models import Membership
from tovholder.organisations.services import membership_end, membership_grant

pytestmark = pytest.mark.django_db
ADMIN = Actor(system="test")


def seat(world, username, role="committee_member"):
    return Membership.objects.filter(user=world.user(username), unit=world.unit("706:committee"), role=role,
                                     ended_at__isnull=True)


def test_it_seats_a_new_committee_member_who_then_sees_the_agenda(world, login):
    assert login("maria").get(reverse("committee:agenda")).status_code == 404
    membership_grant(actor=ADMIN, user=world.user("maria"), unit=world.unit("706:committee"), role="committee_member")
    assert login("maria").get(reverse("committee:agenda")).status_code == 200


def test_a_committee_has_one_chair_and_appointing_a_new_one_ends_the_old_seat(world):
    membership_grant(actor=ADMIN, user=world.user("mads"), unit=world.unit("706:committee"), role="committee_chair")
    chairs = Membership.objects.active().filter(unit=world.unit("706:committee"), role="committee_chair")
    assert [m.user.username for m in chairs] == ["mads"]
    assert committee_municipalities(world.user("karen"), chair_only=True) == []
    ended = Membership.objects.get(user=world.user("karen"), role="committee_chair")
    assert ended.ended_at is not None
    assert AuditEvent.objects.filter(object_id=str(ended.pk), action="change").exists()


def test_granting_a_role_twice_grants_it_once(world):
    first = membership_grant(actor=ADMIN, user=world.user("maria"), unit=world.unit("706:committee"),
                             role="committee_member")
    again = membership_grant(actor=ADMIN, user=world.user("maria"), unit=world.unit("706:committee"),
                             role="committee_member")
    assert first.pk == again.pk and seat(world, "maria").count() == 1


@pytest.mark.parametrize("role,unit", [("committee_member", "706:ppr"), ("committee_chair", "706:school:0"),
                                       ("inbox_keeper", "706:committee")])
def test_it_refuses_a_role_on_the_wrong_kind_of_unit_and_writes_nothing(world, role, unit):
    before = Membership.objects.count(), AuditEvent.objects.count()
    with pytest.raises(ValidationError) as exc:
        membership_grant(actor=ADMIN, user=world.user("maria"), unit=world.unit(unit), role=role)
    assert "hører til en enhed af typen" in str(exc.value)
    assert (Membership.objects.count(), AuditEvent.objects.count()) == before


def test_ending_a_role_twice_changes_nothing_the_second_time(world):
    membership = seat(world, "sofie").get()
    membership_end(actor=ADMIN, membership=membership)
    audits = AuditEvent.objects.count()
    membership_end(actor=ADMIN, membership=membership)
    assert AuditEvent.objects.count() == audits


def test_the_administrator_gives_and_ends_a_committee_seat_through_the_pages(world, login):
    admin = login("admin")
    page = admin.get(reverse("web:configuration")).content.decode()
    assert reverse("web:membership_add") in page
    response = admin.post(reverse("web:membership_add"), {
        "user": world.user("maria").pk, "unit": world.unit("706:committee").pk, "role": "committee_member"})
    assert response.status_code == 302
    membership = seat(world, "maria").get()
    event = AuditEvent.objects.filter(object_id=str(membership.pk)).latest("id")
    assert event.user == world.user("admin") and event.basis == "administrator"
    assert admin.post(reverse("web:membership_end", args=[membership.pk])).status_code == 302
    assert not seat(world, "maria").exists()


def test_the_form_says_what_is_wrong_when_the_role_does_not_fit_the_unit(world, login):
    response = login("admin").post(reverse("web:membership_add"), {
        "user": world.user("maria").pk, "unit": world.unit("706:ppr").pk, "role": "committee_chair"})
    html = response.content.decode()
    assert response.status_code == 200 and 'role="alert"' in html and "hører til en enhed af typen" in html
    assert not Membership.objects.filter(user=world.user("maria"), role="committee_chair").exists()
