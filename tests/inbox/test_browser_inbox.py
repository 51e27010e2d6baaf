"""The inbox keeper's morning, in a real browser: a GP's MedCom referral in the inbox,
handled into a case with the parents linked and the receipt on its way."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.support.browser import browser_login, screenshot
from tovholder.cases.models import Case, Stage
from tovholder.inbox.demo import gp_referral
from tovholder.inbox.models import InboxItem, OutboundMessage
from tovholder.inbox.services import medcom_receive

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_inbox_keeper_opens_a_case_from_a_medcom_referral(world, page, live_server):
    import datetime as dt

    from tovholder.demo.families import synthetic_cpr

    cpr = synthetic_cpr(dt.date(2014, 6, 3), 61, "f")
    body, ctype = gp_referral(
        sender=world.unit("gp:0"), entry=world.unit("706:single_entry"), cpr=cpr, given="Sara", family="Holm",
        author="Anne Mortensen", text="Sara på 11 år har i tre måneder haft ondt i maven om morgenen og meget "
                                      "fravær. Forældrene ønsker en drøftelse i koordinationsudvalget.",
        attachments=(("Skema over fravær", "application/pdf", b"%PDF-1.4\n% demo\n"),))
    medcom_receive(body=body, content_type=ctype, channel="http")

    browser_login(page, live_server, "ida")
    page.get_by_role("link", name="Indgang", exact=True).click()
    expect(page.get_by_role("heading", name="Den fælles indgang")).to_be_visible()
    expect(page.get_by_role("cell", name=re.compile("0 hverdage"))).to_be_visible()
    screenshot(page, "inbox-1-list")

    page.get_by_role("link", name="Sara Holm").click()
    expect(page.get_by_role("heading", name="Henvendelse: Sara Holm")).to_be_visible()
    expect(page.get_by_text("Sara på 11 år har i tre måneder")).to_be_visible()
    expect(page.get_by_role("link", name="Skema over fravær")).to_be_visible()
    assert page.get_by_label("Barnets CPR-nummer").input_value() == cpr
    page.get_by_label("Forældremyndighedsindehaver 1: navn").fill("Mette Holm")
    page.locator("#id_holder1_email").fill("mette@example.dk")
    page.get_by_label("Forældremyndighedsindehaver 2: navn").fill("Jens Holm")
    page.get_by_label("Skole").select_option(label="Rønde Skole")
    screenshot(page, "inbox-2-item")

    page.get_by_role("button", name="Opret forløb og send kvittering").click()
    page.wait_for_load_state("networkidle")
    expect(page.get_by_role("heading", name=re.compile("Sara Holm"))).to_be_visible()
    expect(page.get_by_text("Forløbet er oprettet")).to_be_visible()
    expect(page.get_by_role("heading", name="Henvendelsen og svarene til henviseren")).to_be_visible()
    screenshot(page, "inbox-3-case")

    case = Case.objects.get(child__cpr=cpr)
    assert case.stage == Stage.AWAITING_CONSENT and case.child.school == world.unit("706:school:0")
    assert [h.name for h in case.child.custody_holders.all()] == ["Mette Holm", "Jens Holm"]
    assert InboxItem.objects.get().status == InboxItem.Status.OPENED
    assert OutboundMessage.objects.get(reason="receipt").text.startswith("Kære Anne Mortensen")

    page.goto(f"{live_server.url}/indgang/")
    expect(page.get_by_text("Indgangen er tom")).to_be_visible()
