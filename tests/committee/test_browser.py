"""A meeting of the coordination committee in the browser: the chair takes three cases,
appoints two lead professionals, sends one case to the ordinary municipal route, and
approves the minutes; each custody holder (and the 15-year-old) gets a letter and the GP
a MedCom reply in the referral's thread."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.committee.helpers import referred_case
from tests.support.browser import browser_login, screenshot
from tovholder.cases.models import CaseTeamMember, ClosedReason, Stage, TeamRole
from tovholder.committee.models import AgendaItem, CommitteeMeeting, Minute

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_runs_a_committee_meeting_from_agenda_to_minutes(world, page, live_server, sent):
    emil = referred_case(world, given="Emil", family="Skovgaard", school=0)
    nora = referred_case(world, given="Nora", family="Bak", school=1, birth=dt.date(2010, 6, 1), parents=("mother",))
    sigurd = referred_case(world, given="Sigurd", family="Holt", school=0)
    now = timezone.now()
    # The meeting in session now (made directly: the test may run on any day of the week).
    meeting = CommitteeMeeting.objects.create(
        municipality=world.syddjurs, kind="extra", scheduled_on=timezone.localdate(),
        starts_at=now - dt.timedelta(minutes=5), ends_at=now + dt.timedelta(minutes=55),
        video_link="https://video.example.dk/udvalg")

    browser_login(page, live_server, "karen")
    page.get_by_role("navigation", name="Hovedmenu").get_by_role("link", name="Koordinationsudvalget").click()
    expect(page.get_by_role("heading", name="Dagsorden")).to_be_visible()
    for case in (emil, nora, sigurd):
        expect(page.get_by_role("link", name=case.child.full_name)).to_be_visible()
    screenshot(page, "committee-agenda")
    page.get_by_role("link", name="Åbn mødet").click()
    page.get_by_label("Karen Holm").check()
    page.get_by_label("Mads Lund").check()
    page.get_by_label("Øvrige deltagere").fill("Jonas Berg, BUA (video)")
    page.get_by_role("button", name="Gem fremmøde").click()
    expect(page.get_by_text("Fremmødet er gemt.")).to_be_visible()
    screenshot(page, "committee-meeting")

    page.get_by_role("link", name=f"Tag sagen: {emil.child.full_name}").click()
    page.get_by_label("Det ved PPR Syddjurs").fill("Kendt af PPR siden 2. klasse; læsevanskeligheder.")
    page.get_by_role("button", name="Gem (PPR Syddjurs)").click()
    expect(page.get_by_role("article").get_by_text("Kendt af PPR siden 2. klasse")).to_be_visible()
    page.get_by_label("Fælles forpligtende forløb", exact=True).check()
    page.get_by_label("Indsatsansvarlig (person og enhed)").select_option(
        label="Lars Nielsen, Lærer, Rønde Skole — Rønde Skole")
    page.get_by_label("Kort konklusion (står i referatet)").fill("Skolen er tovholder; PPR deltager.")
    screenshot(page, "committee-take-case")
    page.get_by_role("button", name="Registrér afgørelsen").click()

    # On to the next case by itself: the earliest deadline first, all three the same day here.
    expect(page.get_by_role("heading", level=1)).not_to_contain_text(emil.child.full_name)
    heading = page.get_by_role("heading", level=1).inner_text()
    assert nora.child.full_name in heading or sigurd.child.full_name in heading
    second, third = (nora, sigurd) if nora.child.full_name in heading else (sigurd, nora)
    page.get_by_label("Fælles forpligtende forløb", exact=True).check()
    page.get_by_label("Indsatsansvarlig (person og enhed)").select_option(
        label="Maria Vestergaard, Psykolog, PPR — PPR Syddjurs")
    page.get_by_label("Kort konklusion (står i referatet)").fill("PPR er tovholder.")
    page.get_by_role("button", name="Registrér afgørelsen").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text(third.child.full_name)
    page.get_by_label("Almindelig kommunal sagsbehandling", exact=True).check()
    page.get_by_label("Enheden, der overtager").select_option(label="Familierådgivningen Syddjurs")
    page.get_by_label("Kort konklusion (står i referatet)").fill("Familierådgivningen overtager sagen.")
    page.get_by_role("button", name="Registrér afgørelsen").click()

    expect(page.get_by_role("heading", name="Referater")).to_be_visible()
    page.get_by_role("link", name=emil.child.full_name).last.click()
    text = page.get_by_label("Referat").input_value()
    assert "Lars Nielsen" in text and "87 53 50 20" in text and "igangsætningsmøde" in text
    page.get_by_label("Referat").fill(text + "\n\nSkolen ringer til jer i denne uge.")
    screenshot(page, "committee-minute")
    page.get_by_role("button", name="Gem referatet").click()
    page.get_by_role("button", name="Godkend og send 3 referater og afslut mødet").click()
    expect(page.get_by_text("3 referat(er) er godkendt og sendt")).to_be_visible()
    screenshot(page, "committee-minutes-sent")

    for case in (emil, second):
        case.refresh_from_db()
        assert case.stage == Stage.AWAITING_START
    assert CaseTeamMember.objects.get(case=emil, role=TeamRole.LEAD, ended_at__isnull=True).user.username == "lars"
    assert CaseTeamMember.objects.get(case=second, role=TeamRole.LEAD, ended_at__isnull=True).user.username == "maria"
    third.refresh_from_db()
    assert (third.stage, third.closed_reason) == (Stage.CLOSED, ClosedReason.ORDINARY_ROUTE)
    assert set(AgendaItem.objects.filter(case__in=[emil, nora, sigurd]).values_list("compliance", flat=True)) == {"met"}
    assert Minute.objects.filter(meeting=meeting, status="sent").count() == 3
    meeting.refresh_from_db()
    assert meeting.status == "held" and meeting.guests == "Jonas Berg, BUA (video)"
    assert Minute.objects.get(item__case=emil).text.endswith("Skolen ringer til jer i denne uge.")

    # Every recipient, through the real transports (tovholder.letters, tovholder.inbox): the
    # custody holders and Nora (16) by letter, the GP by a MedCom reply in the referral's thread.
    assert sent.real_family and sent.real_referrer
    assert len(sent.family) == 3 and len(sent.referrer) == 3
    from tovholder.inbox.models import OutboundMessage
    from tovholder.letters.models import Letter

    for case in (emil, nora, sigurd):
        got = sorted(Letter.objects.filter(case=case, reason="minutes").values_list("recipient_name", flat=True))
        want = sorted([h.name for h in case.child.custody_holders.all()]
                      + ([case.child.full_name] if case.child.age >= 15 else []))
        assert got == want, case
        reply = OutboundMessage.objects.get(case=case, reason="minutes")
        assert reply.thread.case_id == case.pk
    assert Letter.objects.filter(case=nora, reason="minutes", child=nora.child).exists()


def test_it_brings_a_stalled_pathway_back_to_the_committee_with_the_lead_invited(world, page, live_server):
    case = world.case  # awaiting its start meeting; lead lars (Rønde Skole), the child at pia's school
    browser_login(page, live_server, "lars")
    page.goto(f"{live_server.url}/forloeb/{case.pk}/")
    page.get_by_role("link", name="Send forløbet tilbage til koordinationsudvalget").click()
    page.get_by_role("button", name="Send tilbage til udvalget").click()
    expect(page.get_by_role("alert")).to_be_visible()  # a reason is required
    page.get_by_label("Hvorfor er forløbet gået i stå").fill(
        "Familien er ikke mødt op til igangsætningsmødet to gange; skolen kan ikke løfte det alene.")
    page.get_by_role("button", name="Send tilbage til udvalget").click()
    expect(page.get_by_text("Forløbet er på udvalgets dagsorden")).to_be_visible()
    expect(page.get_by_text("Sendt tilbage af den indsatsansvarlige")).to_be_visible()
    screenshot(page, "committee-case-panel-returned")

    page.context.clear_cookies()
    browser_login(page, live_server, "karen")
    page.goto(f"{live_server.url}/udvalg/")
    row = page.get_by_role("row").filter(has_text=case.child.full_name)
    assert "Sendt tilbage af den indsatsansvarlige" in row.inner_text()
    assert "Lars Nielsen" in row.inner_text() and "indsatsansvarlig" in row.inner_text()
    row.get_by_role("link", name=case.child.full_name).click()
    expect(page.get_by_text("Familien er ikke mødt op")).to_be_visible()
    screenshot(page, "committee-item-returned")

    page.context.clear_cookies()
    browser_login(page, live_server, "pia")
    page.goto(f"{live_server.url}/udvalg/")
    expect(page.get_by_role("link", name=case.child.full_name)).to_be_visible()
    screenshot(page, "committee-agenda-principal")
