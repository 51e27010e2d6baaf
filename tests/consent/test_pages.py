"""The family's link pages and the staff's pages."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.consent.helpers import consent_link, family_actor_give, local, open_case, requests_of
from tests.support.world import make_case
from tovholder.cases.models import Case, Stage
from tovholder.consent.models import ConsentLink, ConsentRequest
from tovholder.letters.models import Letter

pytestmark = pytest.mark.django_db


def test_the_link_shows_what_the_person_consents_to_and_records_their_yes(world, client):
    case = open_case(world, parents=2)
    first, _second = requests_of(case)
    token = consent_link(first)
    page = client.get(reverse("consent:link", args=[token]))
    html = page.content.decode()
    assert page.status_code == 200
    assert case.child.full_name in html and first.person_name in html
    assert "Børne- og Ungdomspsykiatrisk Afdeling" in html and "Tekstversion 1" in html
    assert case.child.cpr not in html
    assert page["Referrer-Policy"] == "strict-origin" and page["Cache-Control"] == "no-store"
    response = client.post(reverse("consent:link_answer", args=[token]), {"answer": "give"}, follow=True)
    assert "Tak. Dit svar er registreret." in response.content.decode()
    assert "Du gav samtykke den" in response.content.decode()
    first.refresh_from_db()
    assert (first.status, first.answered_how) == ("given", "digital_link")


def test_a_link_is_unguessable_single_purpose_and_stored_only_as_a_hash(world):
    case = open_case(world, parents=1)
    (request,) = requests_of(case)
    token = consent_link(request)
    assert len(token) >= 43  # 32 random bytes, URL-safe: 256 bits
    link = ConsentLink.objects.get(request=request)
    assert link.token_hash == hashlib.sha256(token.encode()).hexdigest()
    letter = Letter.objects.get(case=case, reason="consent_request")
    assert token not in letter.body and "[[LINK]]" in letter.body
    assert not Letter.objects.filter(body__contains=token).exists()
    assert not ConsentLink.objects.filter(token_hash=token).exists()


def test_a_wrong_or_expired_link_shows_a_friendly_404_and_nothing_else(world, client):
    case = open_case(world, parents=1)
    (request,) = requests_of(case)
    token = consent_link(request)
    for bad in ["x" * 43, token[:-1] + ("A" if token[-1] != "A" else "B"), "kort"]:
        response = client.get(reverse("consent:link", args=[bad]))
        assert response.status_code == 404
        assert "Linket virker ikke" in response.content.decode()
        assert case.child.given_name not in response.content.decode()
    expires = ConsentLink.objects.get(request=request).expires_at
    with time_machine.travel(expires + dt.timedelta(minutes=1), tick=False):
        response = client.get(reverse("consent:link", args=[token]))
        assert response.status_code == 404 and case.child.family_name not in response.content.decode()
        response = client.post(reverse("consent:link_answer", args=[token]), {"answer": "give"})
        assert response.status_code == 404
    request.refresh_from_db()
    assert request.status == "pending"


def test_the_link_after_the_case_closed_says_so_and_takes_no_answer(world, client, told):
    case = open_case(world, parents=2)
    first, second = requests_of(case)
    token = consent_link(first)
    from tovholder.consent.services import consent_answer, family_actor

    consent_answer(actor=family_actor(second), request=second, give=False)
    html = client.get(reverse("consent:link", args=[token])).content.decode()
    assert "Sagen er afsluttet" in html and "Ja, jeg giver samtykke" not in html
    response = client.post(reverse("consent:link_answer", args=[token]), {"answer": "give"}, follow=True)
    assert "Sagen er afsluttet" in response.content.decode()
    first.refresh_from_db()
    assert first.status == "cancelled"


def test_the_case_page_shows_consent_per_person_and_the_paper_form_to_staff(world, login):
    case = open_case(world, parents=2, digital_post=False)
    first, second = requests_of(case)
    html = login("ida").get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert "Samtykke" in html and first.person_name in html and second.person_name in html
    assert "Afventer svar" in html and "Registrér papirsvar" in html and "Intet gyldigt samtykke" in html

    url = reverse("consent:paper_answer", args=[first.pk])
    assert login("ida").get(url).status_code == 200
    bad = login("ida").post(url, {"answer": "give", "signed_on": dt.date.today().isoformat(), "version": 1})
    assert bad.status_code == 200 and 'role="alert"' in bad.content.decode()
    scan = SimpleUploadedFile("erklaering.pdf", b"%PDF-1.4 scanned", content_type="application/pdf")
    response = login("ida").post(url, {"answer": "give", "signed_on": dt.date.today().isoformat(),
                                       "version": first.version, "scan": scan})
    assert response.status_code == 302
    first.refresh_from_db()
    assert (first.status, first.answered_how, first.registered_by) == ("given", "paper", world.user("ida"))
    html = login("ida").get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert "registreret af Ida Bach" in html and "Scannet erklæring" in html
    scan_page = login("ida").get(reverse("consent:scan", args=[first.pk]))
    assert scan_page.status_code == 200 and scan_page.content == b"%PDF-1.4 scanned"


def test_a_principal_sees_the_status_but_cannot_act(world, login):
    case = make_case(world.demo, stage=Stage.AWAITING_COMMITTEE, lead=None)
    html = login("pia").get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert "Gyldigt samtykke" in html
    assert "Træk tilbage efter anmodning" not in html
    request = ConsentRequest.objects.filter(case=case).first()
    assert login("pia").get(reverse("consent:staff_withdraw", args=[request.pk])).status_code == 404


def test_the_inbox_keeper_sees_cases_waiting_for_consent_with_days_left(clock, world, login,
                                                                        django_assert_max_num_queries):
    with time_machine.travel(local(2025, 3, 3), tick=False) as travel:
        soon = open_case(world, parents=2)
        family_actor_give(requests_of(soon)[0])
        travel.move_to(local(2025, 3, 10))
        later = open_case(world, parents=1)
        for _ in range(3):
            open_case(world, parents=2)
        travel.move_to(local(2025, 3, 12))
        client = login("ida")
        with django_assert_max_num_queries(14):
            response = client.get(reverse("consent:waiting"))
    html = response.content.decode()
    assert response.status_code == 200
    assert html.index(soon.child.full_name) < html.index(later.child.full_name)
    assert "1 af 2" in html
    row = html[html.index(soon.child.full_name):]
    assert "17. marts 2025" in row[:600] and ">5<" in row[:600].replace(" ", "")
    assert login("nora").get(reverse("consent:waiting")).status_code == 200
    assert soon.child.full_name not in login("nora").get(reverse("consent:waiting")).content.decode()
    assert login("lars").get(reverse("consent:waiting")).status_code == 404


def test_the_api_gives_the_same_status(world, login):
    case = open_case(world, parents=2)
    family_actor_give(requests_of(case)[0])
    data = login("ida").get(f"/api/cases/{case.pk}/consent").json()
    assert data["processing_allowed"] is False
    assert [p["status"] for p in data["rounds"][0]["people"]] == ["given", "pending"]
    waiting = login("ida").get("/api/consent/waiting").json()
    assert any(w["case_id"] == case.pk and w["given"] == 1 and w["required"] == 2 for w in waiting)
    assert login("lars").get("/api/consent/waiting").status_code == 404


def test_staff_can_send_the_request_again_to_someone_added_later(world, login):
    from tests.support.world import SYSTEM
    from tovholder.children.services import custody_holder_add

    case = open_case(world, parents=1)
    custody_holder_add(actor=SYSTEM, basis="system", child=case.child, name="Sen Forælder", relation="father")
    html = login("ida").get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert "Mangler anmodning" in html and "Sen Forælder" in html
    login("ida").post(reverse("consent:request_start", args=[case.pk]))
    assert len(requests_of(case)) == 2
    assert Case.objects.get(pk=case.pk).stage == Stage.AWAITING_CONSENT


def test_the_administrator_publishes_a_new_version_of_the_text(world, login):
    from tovholder.consent.services import consent_text_current

    url = reverse("consent:text_edit", args=["706"])
    page = login("admin").get(url)
    assert page.status_code == 200 and "Gældende version: 1" in page.content.decode()
    current = consent_text_current(municipality=world.syddjurs)
    data = {"body_template": current.body_template + "\nSpørgsmål? Ring til os.", "contact": "PPR, tlf. 87 53 50 00",
            "valid_from": dt.date.today().isoformat(), "party_committee": "on",
            "label_committee": "Koordinationsudvalget i Syddjurs", "party_gp_practice": "on", "label_gp_practice": "Egen læge"}
    assert login("admin").post(url, data).status_code == 302
    new = consent_text_current(municipality=world.syddjurs)
    assert new.version == 2 and new.party_kinds == {"committee", "gp_practice"}
    bad = login("admin").post(url, {**data, "body_template": "Ingen navn her"})
    assert bad.status_code == 200 and 'role="alert"' in bad.content.decode()
    assert login("karen").get(url).status_code == 404
