"""A teacher who is lead professional (lars) calls and holds the start meeting, then a
follow-up: plan versions 1 and 2, compared; the family's PDF exists and is kept for looking."""

import datetime as dt
import shutil
import subprocess

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.pathway.helpers import pathway_case
from tests.support.browser import SCREENSHOTS, browser_login, screenshot
from tovholder.pathway.models import PlanVersion

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _schedule(page, live_server, case, *, start: str, end: str):
    page.goto(f"{live_server.url}/handleplan/forloeb/{case.pk}/")
    page.get_by_role("link", name="Indkald til").click()
    page.locator("#id_date").fill(timezone.localdate().isoformat())
    page.locator("#id_start").fill(start)
    page.locator("#id_end").fill(end)
    page.get_by_label("Sted").fill("Rønde Skole, mødelokale 2")
    page.get_by_label("Maria Vestergaard, Psykolog, PPR — PPR Syddjurs").check()
    page.locator("#id_ext_name_1").fill("Anne Mortensen")
    page.locator("#id_ext_title_1").fill("Praktiserende læge")
    page.locator("#id_ext_sector_1").select_option("gp")
    page.get_by_role("button", name="Indkald og send invitationer").click()
    page.wait_for_load_state("networkidle")


def _record(page, *, goal_score: str, next_meeting: dt.date, first: bool):
    page.get_by_role("link", name="Mødet er holdt: skriv handleplanen").click()
    page.get_by_label("Barnet deltog i mødet").check()
    page.get_by_label("Hvad fungerer?").fill("Idræt og værkstedsfag. God kontakt til klasselæreren.")
    page.get_by_label("Hvad er svært?").fill("At komme af sted om morgenen. Frikvartererne.")
    if first:
        page.locator("#id_goal_child_1").fill("Jeg vil gerne være i skole hele dagen")
        page.locator("#id_goal_ours_1").fill("Fremmøde over 90 % inden jul")
        page.locator("#id_goal_score_1").fill(goal_score)
        page.locator("#id_new_what_1").fill("Morgenaftale")
        page.locator("#id_new_how_1").fill("Klasselæreren tager imod ved døren kl. 7.55")
        page.locator("#id_new_who_1").select_option("school")
        page.locator("#id_new_name_1").fill("Lars Nielsen")
        page.locator("#id_new_what_2").fill("Søndagssamtale om ugens skema")
        page.locator("#id_new_who_2").select_option("parents")
    else:
        page.locator("input[id^=id_rating_]").first.fill(goal_score)
        page.locator("select[id^=id_agreement_]").first.select_option("done")
        page.locator("#id_new_what_1").fill("Pausevenner i 10-frikvarteret")
        page.locator("#id_new_who_1").select_option("school")
    page.get_by_label("Forventningsafstemning").fill("PPR har cirka 4 ugers ventetid på den første samtale.")
    page.get_by_label("Ja", exact=True).check()
    page.get_by_label("Dato for næste møde").fill(next_meeting.isoformat())
    screenshot(page, f"pathway-record-form-{'start' if first else 'follow-up'}")
    page.get_by_role("button", name="Gem handleplanen og send den til familien").click()
    page.wait_for_load_state("networkidle")


def test_a_teacher_lead_holds_start_and_follow_up_and_compares_the_plan(world, page, live_server, sent):
    case = pathway_case(world)
    browser_login(page, live_server, "lars")
    page.goto(f"{live_server.url}/forloeb/{case.pk}/")
    expect(page.get_by_role("heading", name="Fælles forløb og handleplan")).to_be_visible()
    page.get_by_role("link", name="Åbn forløbet").click()
    screenshot(page, "pathway-1-detail")

    today = timezone.localdate()
    _schedule(page, live_server, case, start="08:00", end="09:00")
    expect(page.get_by_role("heading", name="Igangsætningsmøde")).to_be_visible()
    screenshot(page, "pathway-2-meeting")
    _record(page, goal_score="3", next_meeting=today + dt.timedelta(weeks=6), first=True)
    expect(page.get_by_text("Version 1").first).to_be_visible()
    screenshot(page, "pathway-3-plan-v1")

    _schedule(page, live_server, case, start="10:00", end="11:00")
    expect(page.get_by_role("heading", name="Opfølgningsmøde")).to_be_visible()
    _record(page, goal_score="6", next_meeting=today + dt.timedelta(weeks=12), first=False)
    screenshot(page, "pathway-4-plan-v2")

    page.get_by_role("link", name="Sammenlign versioner").click()
    expect(page.get_by_role("heading", name="Handleplanen: version 1 og 2 sammenlignet")).to_be_visible()
    expect(page.get_by_text("Pausevenner i 10-frikvarteret").first).to_be_visible()
    screenshot(page, "pathway-5-compare")

    assert list(PlanVersion.objects.filter(pathway__case=case).values_list("number", flat=True)) == [1, 2]
    plans = [s for s in sent.family if s["reason"] == "plan"]
    assert len(plans) == 2
    name, content_type, pdf = plans[-1]["attachments"][0]
    assert name == "handleplan-v2.pdf" and content_type == "application/pdf" and pdf.startswith(b"%PDF")
    assert "Lars Nielsen" in plans[-1]["body"] and "87 53 50 20" in plans[-1]["body"]
    if sent.real_family:
        from tovholder.letters.models import LetterAttachment

        assert LetterAttachment.objects.filter(letter__case=case, filename="handleplan-v2.pdf").count() == 2
    # Kept for a person to look at (var/screenshots/pathway-family-plan-*.png).
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    target = SCREENSHOTS / "pathway-family-plan.pdf"
    target.write_bytes(pdf)
    if shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-r", "80", "-png", str(target), str(SCREENSHOTS / "pathway-family-plan")],
                       check=True, timeout=60)

    # The staff download is the same document.
    page.goto(f"{live_server.url}/handleplan/forloeb/{case.pk}/plan/2/handleplan.pdf")
