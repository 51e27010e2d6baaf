"""Pages: query counts that do not grow with the rows, and the case page's section."""

from __future__ import annotations

import pytest

from tests.consultation.helpers import actor, consented_case
from tovholder.access import ConsultationBasis
from tovholder.consultation import demo as consultation_demo
from tovholder.consultation import services as svc


def many(world, n=6):
    case = consented_case(world)
    consultation_demo.demo_samrum_publish(world.demo)
    for i in range(n):
        c = svc.consultation_ask(actor=actor(world, "lars", "706:school:0"), basis="lead",
                                 advising_unit=world.unit("bua"), asking_unit=world.unit("706:school:0"),
                                 target_group="adhd", subject=f"Spørgsmål {i}", text="Hvad gør vi?",
                                 case=case if i % 2 else None)
        svc.consultation_reply(actor=actor(world, "jonas"), basis=ConsultationBasis.ADVISOR, consultation=c,
                               text="Svar")
    consultation_demo.demo_consultation_answered(world.demo, case)
    return case


@pytest.mark.django_db
def test_it_lists_consultations_and_slots_in_a_fixed_number_of_queries(world, login, django_assert_max_num_queries):
    many(world)
    for username in ("lars", "jonas"):
        client = login(username)
        client.get("/sparring/")  # warm the session
        with django_assert_max_num_queries(14):
            assert client.get("/sparring/").status_code == 200
        with django_assert_max_num_queries(12):
            assert client.get("/sparring/tider/").status_code == 200


@pytest.mark.django_db
def test_it_shows_the_case_team_what_was_asked_and_referred(world, login):
    case = many(world, n=2)
    page = login("maria").get(f"/forloeb/{case.pk}/").content.decode()
    assert "Sparring og henvisning" in page and "Spørgsmål 1" in page and "Book sparringstid" in page
    assert "Spørgsmål 0" not in page  # the anonymous one is not linked to the case
    assert login("jonas").get(f"/forloeb/{case.pk}/").status_code == 404


@pytest.mark.django_db
def test_it_shows_the_advisor_the_question_and_its_attachment_but_not_the_case(world, login):
    case = consented_case(world)
    c = svc.consultation_ask(actor=actor(world, "lars", "706:school:0"), basis="lead", advising_unit=world.unit("bua"),
                             asking_unit=world.unit("706:school:0"), target_group="autism", subject="Overgange",
                             text="Svært ved skift mellem timer.", case=case,
                             uploads=[svc.Upload("observation.pdf", "application/pdf", b"%PDF-1.4 obs")])
    page = login("jonas").get(f"/sparring/{c.pk}/").content.decode()
    assert "Svært ved skift mellem timer." in page and "observation.pdf" in page
    assert case.child.full_name in page
    holder = case.child.custody_holders.first().name
    assert holder not in page and f"/forloeb/{case.pk}/" not in page
    attachment = c.messages.get().attachments.get()
    r = login("jonas").get(f"/sparring/{c.pk}/bilag/{attachment.pk}/")
    assert r.status_code == 200 and r.content == b"%PDF-1.4 obs" and r["Content-Disposition"].startswith("attachment")
