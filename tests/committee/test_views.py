"""The committee's pages: who sees which cases, that every read is audited, that the
agenda costs the same number of queries for 2 cases as for 12, and the form flows."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.committee.helpers import consented_case, local, meeting_on, plan
from tovholder.audit.models import AuditEvent
from tovholder.cases.models import CaseTeamMember, Stage, TeamRole
from tovholder.committee import services
from tovholder.committee.models import AgendaItem, CommitteeDecision, Minute

pytestmark = pytest.mark.django_db

MONDAY = local(2026, 11, 16, 10)


@pytest.fixture
def agenda(clock, world):
    """Two pupils on the Syddjurs agenda (Rønde Skole, Hornslet Skole), one in Norddjurs."""
    clock.move_to(MONDAY)
    ronde = consented_case(world, at=MONDAY, school=0)
    hornslet = consented_case(world, at=MONDAY, school=1)
    grenaa = consented_case(world, at=MONDAY, municipality="707", school=0)
    plan(world)
    plan(world, "707")
    services.agenda_sync()
    clock.move_to(local(2026, 11, 18, 8, 35))
    return ronde, hornslet, grenaa


def item(case) -> AgendaItem:
    return AgendaItem.objects.get(case=case, state="pending")


def test_it_shows_members_their_municipalitys_agenda_ordered_by_deadline(agenda, world, login):
    ronde, hornslet, grenaa = agenda
    page = login("karen").get(reverse("committee:agenda")).content.decode()
    assert ronde.child.full_name in page and hornslet.child.full_name in page
    assert grenaa.child.full_name not in page
    assert "Næste møde" in page and "26. november 2026" in page
    assert "Pia Skov" in page  # the principal invited for her pupil
    page = login("ole").get(reverse("committee:agenda")).content.decode()
    assert grenaa.child.full_name in page and ronde.child.full_name not in page


def test_it_shows_a_principal_only_their_own_pupils_cases(agenda, world, login):
    ronde, hornslet, _ = agenda
    pia = login("pia").get(reverse("committee:agenda")).content.decode()
    assert ronde.child.full_name in pia and hornslet.child.full_name not in pia
    henrik = login("henrik").get(reverse("committee:agenda")).content.decode()
    assert hornslet.child.full_name in henrik and ronde.child.full_name not in henrik
    assert login("pia").get(reverse("committee:item", args=[item(ronde).pk])).status_code == 200
    meeting = meeting_on(world, dt.date(2026, 11, 18))
    page = login("pia").get(reverse("committee:meeting", args=[meeting.pk])).content.decode()
    assert ronde.child.full_name in page and hornslet.child.full_name not in page
    assert "Fremmøde" not in page and "Referater" not in page


def test_it_answers_404_on_the_agenda_cases_to_anyone_not_invited(agenda, world, login):
    """ole chairs another municipality's committee, henrik leads another school."""
    ronde = agenda[0]
    meeting = meeting_on(world, dt.date(2026, 11, 18))
    for outsider in ["ole", "henrik", "lars", "ida", "anne", "jonas", "stranger"]:
        client = login(outsider)
        for url in (reverse("committee:item", args=[item(ronde).pk]),
                    reverse("committee:take", args=[meeting.pk, item(ronde).pk]),
                    reverse("api:get_item", args=[item(ronde).pk])):
            assert client.get(url).status_code == 404, (outsider, url)
    assert login("ole").get(reverse("committee:meeting", args=[meeting.pk])).status_code == 404
    henrik = login("henrik").get(reverse("committee:meeting", args=[meeting.pk])).content.decode()
    assert agenda[1].child.full_name in henrik and ronde.child.full_name not in henrik  # his own pupil only


def test_it_audits_every_read_of_the_agenda_and_of_a_case(agenda, world, login):
    ronde, hornslet, _ = agenda
    before = AuditEvent.objects.count()
    login("mads").get(reverse("committee:agenda"))
    listed = AuditEvent.objects.filter(pk__gt=0, action="search", user=world.user("mads"))
    assert {e.case_id for e in listed} == {ronde.pk, hornslet.pk}
    login("pia").get(reverse("committee:agenda"))
    assert set(AuditEvent.objects.filter(action="search", user=world.user("pia")).values_list("case_id", "basis")) == {
        (ronde.pk, "principal")}
    login("pia").get(reverse("committee:item", args=[item(ronde).pk]))
    read = AuditEvent.objects.filter(action="view", user=world.user("pia"), case=ronde).get()
    assert read.basis == "principal" and read.object_type == "committee.AgendaItem"
    login("karen").get(reverse("committee:item", args=[item(hornslet).pk]))
    assert AuditEvent.objects.filter(action="view", user=world.user("karen"), case=hornslet, basis="committee").exists()
    assert AuditEvent.objects.count() > before


def test_it_lists_the_agenda_in_a_fixed_number_of_queries(agenda, world, login, clock, django_assert_max_num_queries):
    client = login("karen")
    url = reverse("committee:agenda")
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    clock.move_to(MONDAY)
    for n in range(10):
        consented_case(world, at=MONDAY, school=n % 2)
    services.agenda_sync()
    clock.move_to(local(2026, 11, 18, 8, 35))
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(url)
    assert page.content.decode().count('scope="row"') == 12
    assert len(few.captured_queries) <= 30


def test_it_shows_a_meeting_in_a_fixed_number_of_queries(agenda, world, login, clock, django_assert_max_num_queries):
    client = login("karen")
    url = reverse("committee:meeting", args=[meeting_on(world, dt.date(2026, 11, 18)).pk])
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    clock.move_to(MONDAY)
    for n in range(10):
        consented_case(world, at=MONDAY, school=n % 2)
    services.agenda_sync()
    clock.move_to(local(2026, 11, 18, 8, 35))
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(url)
    assert page.content.decode().count('aria-label="Tag sagen') == 12


def test_it_flags_a_case_the_next_meeting_would_miss(agenda, world, login, clock):
    clock.move_to(local(2026, 11, 18, 10))
    services.meeting_minutes_approve(actor=_karen(world), meeting=meeting_on(world, dt.date(2026, 11, 18)))
    services.meeting_cancel(actor=_karen(world), meeting=meeting_on(world, dt.date(2026, 11, 25)), reason="Kursus")
    page = login("karen").get(reverse("committee:agenda")).content.decode()
    assert "Frist i fare" in page and "Næste møde ligger efter fristen" in page
    assert "Tilføj et ekstra møde" in page


def _karen(world):
    from tests.committee.helpers import actor

    return actor(world, "karen")


def test_it_takes_the_decision_through_the_meeting_page_and_moves_to_the_next_case(agenda, world, login):
    ronde, hornslet, _ = agenda
    meeting = meeting_on(world, dt.date(2026, 11, 18))
    client = login("karen")
    first, second = item(ronde), item(hornslet)
    url = reverse("committee:take", args=[meeting.pk, first.pk])
    page = client.get(url).content.decode()
    assert "Udvalgets afgørelse" in page and "Sag 1 af 2" in page
    bad = client.post(url, {"kind": "pathway", "conclusion": "Forløb.", "version": first.version})
    assert bad.status_code == 200 and 'role="alert"' in bad.content.decode()
    assert "Udpeg den indsatsansvarlige" in bad.content.decode()
    lars = world.user("lars").memberships.get(unit=world.unit("706:school:0"))
    done = client.post(url, {"kind": "pathway", "lead": lars.pk, "conclusion": "Skolen er tovholder.",
                             "version": first.version})
    assert done.status_code == 302 and done.url == reverse("committee:take", args=[meeting.pk, second.pk])
    ronde.refresh_from_db()
    assert ronde.stage == Stage.AWAITING_START
    assert CaseTeamMember.objects.filter(case=ronde, role=TeamRole.LEAD, user=world.user("lars")).exists()
    again = client.post(url, {"kind": "pathway", "lead": lars.pk, "conclusion": "Skolen er tovholder.",
                              "version": first.version})
    assert again.status_code == 302  # a double click changes nothing
    assert CommitteeDecision.objects.filter(item=first).count() == 1
    done = client.post(reverse("committee:take", args=[meeting.pk, second.pk]),
                       {"kind": "postpone", "reason": "Afventer skolens beskrivelse.", "version": second.version})
    assert done.url == reverse("committee:meeting", args=[meeting.pk])
    page = client.get(done.url).content.decode()
    assert "Godkend og send 1 referat og afslut mødet" in page
    minute = Minute.objects.get(item=first)
    client.post(reverse("committee:minute", args=[minute.pk]), {"action": "save", "text": minute.text + " Tak.",
                                                                "version": minute.version})
    assert client.post(reverse("committee:approve", args=[meeting.pk])).status_code == 302
    minute.refresh_from_db()
    assert minute.status == "sent" and minute.text.endswith("Tak.")


def test_it_lets_members_write_what_their_unit_knows(agenda, world, login):
    ronde = agenda[0]
    it = item(ronde)
    page = login("mads").get(reverse("committee:item", args=[it.pk])).content.decode()
    assert "Det ved Familierådgivningen Syddjurs" in page
    unit = world.unit("706:family_counselling")
    login("mads").post(reverse("committee:note", args=[it.pk]), {
        "unit": unit.pk, f"u{unit.pk}-unit": unit.pk, f"u{unit.pk}-text": "Kendt fra 2024: forældrekursus.",
        f"u{unit.pk}-version": 0})
    page = login("pia").get(reverse("committee:item", args=[it.pk])).content.decode()
    assert "Kendt fra 2024: forældrekursus." in page and "Det ved Rønde Skole" in page


def test_it_lets_the_lead_send_a_stalled_pathway_back_from_the_case_page(agenda, world, login):
    case = world.case  # awaiting its start meeting, lead lars
    page = login("lars").get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert reverse("committee:return", args=[case.pk]) in page
    assert reverse("committee:return", args=[case.pk]) not in login("maria").get(
        reverse("cases:detail", args=[case.pk])).content.decode()
    form = login("lars").post(reverse("committee:return", args=[case.pk]), {"reason": ""})
    assert 'role="alert"' in form.content.decode()
    done = login("lars").post(reverse("committee:return", args=[case.pk]), {"reason": "Familien udebliver."})
    assert done.status_code == 302
    returned = AgendaItem.objects.get(case=case, origin="returned")
    page = login("lars").get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert "Sendt tilbage af den indsatsansvarlige" in page
    assert login("lars").get(reverse("committee:agenda")).status_code == 200  # invited
    assert login("lars").get(reverse("committee:item", args=[returned.pk])).status_code == 200
    assert login("maria").get(reverse("committee:item", args=[returned.pk])).status_code == 404
    assert "Familien udebliver." in login("karen").get(reverse("committee:item", args=[returned.pk])).content.decode()


def test_it_shows_the_committees_compliance_on_the_case_page(agenda, world, login):
    ronde = agenda[0]
    meeting = meeting_on(world, dt.date(2026, 11, 18))
    services.decision_record(actor=_karen(world), basis="committee", item=item(ronde), meeting=meeting,
                             kind="everyday_support", conclusion="Råd til skolen.")
    page = login("karen").get(reverse("cases:detail", args=[ronde.pk])).content.decode()
    assert "Koordinationsudvalget" in page and "Frist overholdt" in page


def test_it_lets_only_the_chair_change_the_schedule(agenda, world, login):
    url = reverse("committee:settings")
    assert login("mads").get(url).status_code == 404
    page = login("karen").get(url).content.decode()
    assert "Mads Lund" in page and "Sofie Krogh" in page
    bad = login("karen").post(url, {"weekday": 2, "starts_at": "10:00", "ends_at": "09:00", "weeks_ahead": 8,
                                    "version": 1})
    assert 'role="alert"' in bad.content.decode()
    ok = login("karen").post(url, {"weekday": 3, "starts_at": "08:30", "ends_at": "09:30", "weeks_ahead": 8,
                                   "video_link": "https://video.example.dk/bua", "location": "Teams", "version": 1})
    assert ok.status_code == 302
    extra = login("karen").post(reverse("committee:meeting_add"), {"day": "2026-12-25", "starts_at": "08:30",
                                                                   "ends_at": "09:30"})
    assert "ikke en hverdag" in extra.content.decode()
