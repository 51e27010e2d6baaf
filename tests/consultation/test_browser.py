"""In the browser: a teacher books a fixed consultation time for a case, BUA answers, the
lead turns the advice into a plan agreement; later a referral is refused while incomplete,
sent when complete, rejected — the team and the family see it, and the lead's task appears
with its deadline."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import expect

from tests.consultation.helpers import actor, consented_case
from tests.support.browser import browser_login, screenshot, wait_until
from tovholder.consultation import services as svc
from tovholder.consultation.models import AdviceAgreement, Consultation, Referral, RejectionFollowUp
from tovholder.consultation.referrals import long_date
from tovholder.deadlines.workdays import COPENHAGEN, calendar_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def family_read_url(case) -> str:
    """The path of a custody holder's own link to the rejection letter, once the letters app
    delivered it ("" without the letters app)."""
    try:
        from tovholder.letters.models import Letter
        from tovholder.letters.services import letters_deliver
    except ImportError:  # pragma: no cover
        return ""
    letters_deliver()
    letter = Letter.objects.filter(case=case, reason="referral_rejected", recipient_kind="custody_holder").first()
    copy = json.loads((Path(settings.OUTBOX_DIR) / "letters" / f"{letter.pk}.json").read_text())
    return copy["read_url"][len(settings.SITE_URL.rstrip("/")):]


def as_user(page, live_server, username):
    # Leave the page first: a request still under way (the favicon of a 404 page) would put
    # the old session cookie back after the cookies are cleared.
    page.goto("about:blank")
    page.context.clear_cookies()
    browser_login(page, live_server, username)


def test_it_books_advises_plans_and_catches_a_rejected_referral(world, page, live_server, family_letters):
    page.set_default_timeout(30000)  # the CI machine has two cores shared with other suites
    case = consented_case(world, participants=("maria", "ida"))
    child = case.child.full_name
    start = (timezone.localtime() + dt.timedelta(days=2)).replace(hour=8, minute=30, second=0, microsecond=0)
    svc.slot_series_publish(actor=actor(world, "jonas"), advising_unit=world.unit("bua"), target_group="adhd",
                            first_starts_at=start.astimezone(COPENHAGEN), duration_minutes=60, occurrences=4,
                            capacity=3, video_link="https://video.rm.dk/samrum-adhd")

    # The teacher (lead professional) books a fixed time for the case.
    as_user(page, live_server, "lars")
    page.get_by_role("link", name=child).click()
    page.get_by_role("link", name="Book sparringstid").click()
    page.get_by_label("Målgruppe").select_option("adhd")
    page.get_by_role("button", name="Vis").click()
    page.get_by_role("link", name=re.compile("^Book tiden")).first.click()
    page.get_by_label("Emne").fill("Uro og koncentration — skal vi henvise?")
    page.get_by_label("Hvad vil du drøfte?").fill("Uro i timerne siden 2. klasse. Struktur har hjulpet lidt.")
    screenshot(page, "consultation-1-book")
    page.get_by_role("button", name="Book tiden").click()
    expect(page.get_by_text("Tiden er booket.")).to_be_visible()
    assert page.get_by_role("link", name="Videolink").get_attribute("href") == "https://video.rm.dk/samrum-adhd"
    consultation = Consultation.objects.get()
    assert consultation.booking.seat == 1

    # BUA's advisory unit sees the question (and only that) and records the advice.
    as_user(page, live_server, "jonas")
    page.get_by_role("link", name="Sparring", exact=True).click()
    page.get_by_role("link", name="Uro og koncentration — skal vi henvise?").click()
    expect(page.get_by_text(child).first).to_be_visible()
    page.get_by_label("Besked").fill("Prøv fast visuel dagsplan og aftalte pauser i 4 uger, og få PPR til at "
                                     "lave en PPV. Er der ikke bedring, anbefaler vi henvisning.")
    page.get_by_label("Anbefaling").select_option("referral")
    screenshot(page, "consultation-2-bua-answers")
    page.get_by_role("button", name="Send svaret").click()
    expect(page.get_by_text("Beskeden er sendt.")).to_be_visible()
    assert page.goto(f"{live_server.url}/forloeb/{case.pk}/").status == 404  # nothing else of the case

    # The lead is told, and turns the advice into an agreement in the plan.
    as_user(page, live_server, "lars")
    expect(page.get_by_text("har svaret på sparringen")).to_be_visible()
    page.goto(f"{live_server.url}/sparring/{consultation.pk}/")
    page.get_by_role("link", name="Tilføj en aftale til handleplanen").click()
    screenshot(page, "consultation-3-to-agreement")
    assert svc.plan_accepts_agreements()
    page.get_by_label("Hvad aftaler vi?").fill("Fast visuel dagsplan og aftalte pauser")
    page.get_by_label("Hvem er ansvarlig?").select_option("school")
    page.get_by_role("button", name="Tilføj aftalen").click()
    expect(page.get_by_text("Aftalen er tilføjet handleplanen.")).to_be_visible()
    assert AdviceAgreement.objects.filter(consultation=consultation).exists()
    # The agreement is in the living plan, for every party to see.
    page.goto(f"{live_server.url}/handleplan/forloeb/{case.pk}/plan/")
    expect(page.get_by_role("rowheader", name="Fast visuel dagsplan og aftalte pauser")).to_be_visible()

    # Later: a referral to BUA from the advice. Incomplete, it is refused with the missing items named.
    page.goto(f"{live_server.url}/sparring/{consultation.pk}/")
    page.get_by_role("link", name="Forbered en henvisning").click()
    page.get_by_label("Modtager").select_option(str(world.unit("bua").pk))
    page.get_by_role("button", name="Forbered henvisningen").click()
    page.get_by_label("Hvad kommunen har afprøvet, og med hvilken effekt").fill("")
    page.get_by_role("button", name="Gem").click()
    page.get_by_role("button", name="Send henvisningen (MedCom)").click()
    alert = page.get_by_role("alert")
    assert "ikke er komplet" in alert.inner_text()
    assert "Hvad kommunen har afprøvet (indsatserne) og med hvilken effekt" in alert.inner_text()
    assert "PPR's vurdering – eller en begrundelse for, at der ikke er en" in alert.inner_text()
    screenshot(page, "consultation-4-referral-incomplete")
    referral = Referral.objects.get()
    assert referral.status == Referral.Status.DRAFT
    page.get_by_label("Henvisningsårsag og spørgsmål til modtageren").fill(
        "Vi beder om udredning for ADHD; drøftet i Samrum, hvor henvisning blev anbefalet.")
    page.get_by_label("Hvad kommunen har afprøvet, og med hvilken effekt").fill(
        "- Fast visuel dagsplan i 4 uger: lidt roligere i timerne.\n- Aftalte pauser: ingen varig effekt.")
    page.get_by_label("PPR's vurdering", exact=True).fill("PPV: normal begavelse, markante opmærksomhedsvanskeligheder.")
    page.get_by_role("button", name="Gem").click()
    expect(page.get_by_text("Ja. Alt, modtageren har brug for, er med.")).to_be_visible()
    page.get_by_role("button", name="Send henvisningen (MedCom)").click()
    expect(page.get_by_text("som MedCom-korrespondance")).to_be_visible()
    referral.refresh_from_db()
    assert referral.status == Referral.Status.SENT

    # A team member registers BUA's rejection.
    as_user(page, live_server, "maria")
    page.goto(f"{live_server.url}/sparring/forloeb/{case.pk}/henvisning/{referral.pk}/svar/")
    page.get_by_label("Afvist").check()
    page.get_by_label("Årsag til afvisning").select_option("municipal_efforts")
    page.get_by_label("Modtagerens begrundelse eller besked").fill("Beskriv indsatserne over mindst 8 uger.")
    page.get_by_role("button", name="Registrér svaret").click()
    screenshot(page, "consultation-5a-answer-registered")
    due = calendar_for(case.municipality).add_working_days(timezone.localdate(), 5)
    assert RejectionFollowUp.objects.get().due_on == due

    # The whole team sees it: on their home page and on the case page.
    for username in ("maria", "ida"):
        as_user(page, live_server, username)
        expect(page.get_by_text("Henvisningen til").first).to_be_visible()
        expect(page.get_by_text(f"senest {due:%d.%m.%Y}").first).to_be_visible()
    page.get_by_role("link", name=child).first.click()
    expect(page.get_by_text("Henvisningen er afvist")).to_be_visible()
    screenshot(page, "consultation-5-team-sees-rejection")

    # The family gets a letter in plain language, and reads it through their own link.
    letter = family_letters[-1]
    assert letter["reason"] == "referral_rejected" and f"senest {long_date(due)}" in letter["body"]
    read_url = family_read_url(case)
    if read_url:
        page.goto("about:blank")
        page.context.clear_cookies()
        page.goto(live_server.url + read_url)
        expect(page.get_by_text("I står ikke alene med det.")).to_be_visible()
        expect(page.get_by_text(f"senest {long_date(due)}").first).to_be_visible()
        screenshot(page, "consultation-5b-family-reads-the-letter")

    # The lead's task appears with its deadline: on the case page and as the home page's next deadline.
    as_user(page, live_server, "lars")
    row = page.get_by_role("row").filter(has_text=child)
    expect(row.get_by_text("Næste skridt aftalt med familien efter afvist henvisning")).to_be_visible()
    screenshot(page, "consultation-6a-lead-home")
    page.get_by_role("link", name=child).first.click()
    deadlines = page.get_by_role("row").filter(has_text="Næste skridt aftalt med familien efter afvist henvisning")
    expect(deadlines.get_by_text(f"{due.day}.").first).to_be_visible()
    screenshot(page, "consultation-6-lead-task")
    page.get_by_role("link", name="Registrér de næste skridt").first.click()
    page.get_by_label("Hvad har I aftalt med familien?").fill("Skolen beskriver indsatserne; ny henvisning om 8 uger.")
    page.get_by_role("button", name="Registrér").click()
    assert wait_until(lambda: RejectionFollowUp.objects.get().done_on == timezone.localdate())
