"""In the browser: a GP's referral is opened from the inbox; a parent opens the letter's
link, reads and gives consent; the second parent refuses; the case closes and the GP's
receipt thread gets the reply."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

from tests.consent.helpers import deliver
from tests.support.browser import browser_login, screenshot
from tovholder.audit.actor import Actor
from tovholder.cases.models import Case, Stage
from tovholder.letters.models import Letter

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def delivered(letter: Letter) -> dict:
    return json.loads((Path(settings.OUTBOX_DIR) / "letters" / f"{letter.pk}.json").read_text(encoding="utf-8"))


def referral_opened_from_the_inbox(world, client) -> Case:
    """Anne's practice sends a MedCom referral; Ida opens the case from the inbox."""
    inbox = pytest.importorskip("tovholder.inbox.services", reason="needs the single entry (issue 3)")
    import datetime as dt

    from tovholder.demo.families import synthetic_cpr
    from tovholder.inbox.demo import gp_referral
    from tovholder.inbox.models import InboxItem

    cpr = synthetic_cpr(dt.date(2013, 8, 21), 77, "f")
    body, ctype = gp_referral(sender=world.unit("gp:0"), entry=world.unit("706:single_entry"), cpr=cpr,
                              given="Asta", family="Holm", text="Asta har ondt i maven og meget fravær.",
                              author="Anne Mortensen")
    assert client.generic("POST", "/api/medcom/messages", body, content_type=ctype).status_code == 200
    item = InboxItem.objects.get(thread__patient_cpr=cpr)
    ida = Actor(user=world.user("ida"), unit=world.unit("706:single_entry"))
    return inbox.inbox_item_open_case(
        actor=ida, item=item, cpr=cpr, given_name="Asta", family_name="Holm",
        custody_holders=[inbox.CustodyHolderInput(name="Mette Holm", relation="mother", email="mette@example.dk"),
                         inbox.CustodyHolderInput(name="Jonas Holm", relation="father", email="jonas@example.dk")],
        school=world.unit("706:school:0"))


def test_a_parent_gives_consent_the_other_refuses_and_the_gp_hears_in_the_thread(world, client, page,
                                                                                   live_server, settings):
    settings.SITE_URL = live_server.url
    case = referral_opened_from_the_inbox(world, client)
    deliver()
    mother, father = (Letter.objects.get(case=case, reason="consent_request", custody_holder__name=name)
                      for name in ("Mette Holm", "Jonas Holm"))

    # The mother opens the letter in her digital mailbox (the local outbox's read link).
    page.goto(delivered(mother)["read_url"])
    expect(page.get_by_role("heading", name="Samtykke: henvendelse om Asta Holm")).to_be_visible()
    expect(page.get_by_text("Kære Mette Holm")).to_be_visible()
    screenshot(page, "consent-1-letter")
    page.get_by_role("link", name=re.compile(r"samtykke.[A-Za-z0-9_-]{40}")).click()
    expect(page.get_by_role("heading", name="Samtykke om Asta Holm")).to_be_visible()
    expect(page.get_by_text("Hvem må udveksle oplysningerne?")).to_be_visible()
    expect(page.get_by_text("Egen læge", exact=False).first).to_be_visible()
    screenshot(page, "consent-2-declaration")
    page.get_by_role("button", name="Ja, jeg giver samtykke").click()
    expect(page.get_by_text("Tak. Dit svar er registreret.")).to_be_visible()
    expect(page.get_by_role("button", name="Træk mit samtykke tilbage")).to_be_visible()
    screenshot(page, "consent-3-given")
    assert Case.objects.get(pk=case.pk).stage == Stage.AWAITING_CONSENT

    # The father follows the link in his letter and says no.
    link = re.search(r"https?://\S+/samtykke/[A-Za-z0-9_-]+/", delivered(father)["body"]).group(0)
    page.goto(link)
    page.get_by_role("button", name="Nej, jeg giver ikke samtykke").click()
    expect(page.get_by_text("Dit nej er registreret.")).to_be_visible()
    screenshot(page, "consent-4-refused")

    case.refresh_from_db()
    assert (case.stage, case.closed_reason) == (Stage.CLOSED, "consent_refused")
    from tovholder.inbox.models import OutboundMessage

    replies = list(OutboundMessage.objects.filter(case=case).order_by("pk"))
    assert [m.reason for m in replies] == ["receipt", "no_consent"]
    assert replies[1].thread_id == replies[0].thread_id  # the GP's receipt thread
    assert replies[1].thread_identifier == replies[0].thread_identifier
    assert "ikke modtaget samtykke" in replies[1].text

    # The inbox keeper sees it on the case page; the GP sees the reply in the thread.
    browser_login(page, live_server, "ida")
    page.goto(f"{live_server.url}/forloeb/{case.pk}/")
    expect(page.get_by_role("heading", name="Samtykke")).to_be_visible()
    expect(page.get_by_text("Afvist", exact=True).first).to_be_visible()
    screenshot(page, "consent-5-case-page")
    page.context.clear_cookies()
    browser_login(page, live_server, "anne")
    page.goto(f"{live_server.url}/indgang/traad/{replies[0].thread_id}/")
    expect(page.get_by_text("ikke modtaget samtykke", exact=False).first).to_be_visible()
    screenshot(page, "consent-6-gp-thread")


def test_the_inbox_keeper_registers_a_paper_answer_with_the_scan(world, page, live_server, tmp_path):
    from tests.consent.helpers import open_case

    case = open_case(world, parents=1, digital_post=False)
    deliver()
    browser_login(page, live_server, "ida")
    page.goto(f"{live_server.url}/samtykke/afventer/")
    expect(page.get_by_role("heading", name="Forløb der afventer samtykke")).to_be_visible()
    screenshot(page, "consent-7-waiting-list")
    page.get_by_role("link", name=case.child.full_name).click()
    page.get_by_role("link", name=re.compile("Registrér papirsvar")).click()
    page.get_by_label("Ja — samtykke givet").check()
    scan = tmp_path / "erklaering.pdf"
    scan.write_bytes(b"%PDF-1.4 underskrevet erklaering")
    page.get_by_label(re.compile("Scannet erklæring")).set_input_files(str(scan))
    screenshot(page, "consent-8-paper-form")
    page.get_by_role("button", name="Registrér svaret").click()
    expect(page.get_by_text("Papirsvaret fra")).to_be_visible()
    expect(page.get_by_text("registreret af Ida Bach", exact=False)).to_be_visible()
    screenshot(page, "consent-9-paper-registered")
    assert Case.objects.get(pk=case.pk).stage == Stage.AWAITING_COMMITTEE
    page.get_by_role("link", name="Se brevene til familien").click()
    expect(page.get_by_role("heading", name="Breve til familien")).to_be_visible()
    screenshot(page, "letters-1-case-letters")
