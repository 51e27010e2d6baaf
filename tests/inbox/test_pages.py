"""The inbox keeper's pages, the other ways in (web form, letter, phone), the directory."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from tests.support.world import make_child
from tovholder.cases.models import Case, ReferralChannel
from tovholder.inbox.models import InboxItem, OutboundMessage, Segment, Thread

pytestmark = pytest.mark.django_db


def _receive(gp_message, post, *, at: dt.datetime, **kwargs) -> InboxItem:
    with time_machine.travel(at, tick=False):
        post(*gp_message(**kwargs))
    return InboxItem.objects.order_by("-pk").first()


def test_the_inbox_lists_new_items_oldest_first_with_age_in_working_days(world, gp_message, post, login,
                                                                          django_assert_max_num_queries):
    # A Thursday after the world was built, followed by an ordinary Friday, Monday, Tuesday.
    from tovholder.deadlines.workdays import COPENHAGEN, DEFAULT_CALENDAR

    day = timezone.localdate() + dt.timedelta(days=7)
    while day.weekday() != 3 or not all(DEFAULT_CALENDAR.is_working_day(day + dt.timedelta(days=d)) for d in (0, 1, 4, 5)):
        day += dt.timedelta(days=1)

    def at(days: int, hour: int) -> dt.datetime:
        return dt.datetime.combine(day + dt.timedelta(days=days), dt.time(hour), tzinfo=COPENHAGEN)

    old = _receive(gp_message, post, at=at(0, 10), given="Ældst")  # Thursday
    mid = _receive(gp_message, post, at=at(4, 10), given="Mellem")  # Monday
    new = _receive(gp_message, post, at=at(5, 9), given="Nyest")  # Tuesday
    with time_machine.travel(at(5, 12), tick=False):
        client = login("ida")  # signed in then: sessions end after 30 idle minutes
        with django_assert_max_num_queries(25):
            page = client.get("/indgang/").content.decode()
        from tovholder.inbox.selectors import new_items

        rows = new_items(user=world.user("ida"))
        nora_page = login("nora").get("/indgang/").content.decode()
    assert [r.item for r in rows] == [old, mid, new]
    assert [r.age_working_days for r in rows] == [3, 1, 0]
    assert [r.overdue for r in rows] == [True, False, False], "waiting more than one working day is flagged"
    assert page.index("Ældst") < page.index("Mellem") < page.index("Nyest")
    assert "1 henvendelse har ventet mere end én hverdag." in page
    assert "Over frist" in page
    assert "Ældst" not in nora_page and "Indgangen er tom" in nora_page


def test_the_keeper_opens_a_case_from_the_item_page(world, gp_message, post, login):
    post(*gp_message(given="Ada", family="Holm"))
    item = InboxItem.objects.get()
    client = login("ida")
    page = client.get(f"/indgang/henvendelse/{item.pk}/").content.decode()
    assert "Ada har det svært i skolen." in page and 'value="' + item.thread.patient_cpr + '"' in page
    response = client.post(f"/indgang/henvendelse/{item.pk}/opret-forloeb/", {
        "cpr": item.thread.patient_cpr, "given_name": "Ada", "family_name": "Holm", "school": "",
        "referral_channel": ReferralChannel.PARENTS_VIA_GP, "holder1_name": "Mette Holm", "holder1_relation": "mother",
        "holder1_email": "mette@example.dk", "holder1_digital_post": "on", "holder2_name": "",
        "holder2_relation": "father"})
    case = Case.objects.get(child__cpr=item.thread.patient_cpr)
    assert response.status_code == 302 and response["Location"] == f"/forloeb/{case.pk}/"
    assert case.referral_channel == ReferralChannel.PARENTS_VIA_GP
    case_page = client.get(response["Location"]).content.decode()
    assert "Henvendelsen og svarene til henviseren" in case_page and "Tak for henvisning af Ada Holm" in case_page


def test_a_wrong_cpr_shows_an_error_summary(world, gp_message, post, login):
    post(*gp_message())
    item = InboxItem.objects.get()
    response = login("ida").post(f"/indgang/henvendelse/{item.pk}/opret-forloeb/", {
        "cpr": "3299991234", "given_name": "A", "family_name": "B", "referral_channel": "gp",
        "holder1_relation": "mother", "holder2_relation": "father"})
    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()
    assert not Case.objects.filter(child__cpr="3299991234").exists()


def test_a_school_refers_by_the_web_form_and_sees_the_receipt(world, login):
    child = make_child(world.demo, parents=0)
    client = login("lars")
    form = client.get("/indgang/henvis/").content.decode()
    assert "Barnets bopælskommune" in form
    response = client.post("/indgang/henvis/", {
        "unit": world.unit("706:school:0").pk, "municipality": world.syddjurs.pk, "cpr": child.cpr,
        "given_name": child.given_name, "family_name": child.family_name,
        "text": "Eleven har meget fravær og virker trist.", "phone": "87 53 50 20", "email": ""})
    assert response.status_code == 302
    item = InboxItem.objects.get()
    assert item.kind == InboxItem.Kind.WEB and item.municipality == world.syddjurs
    assert item.thread.referrer_unit == world.unit("706:school:0") and item.thread.referrer_user == world.user("lars")
    assert "Eleven har meget fravær" in login("ida").get("/indgang/").content.decode()

    from tovholder.audit.actor import Actor
    from tovholder.inbox.services import inbox_item_open_case

    case = inbox_item_open_case(actor=Actor(user=world.user("ida")), item=item, cpr=child.cpr,
                                given_name=child.given_name, family_name=child.family_name)
    assert case.referral_channel == ReferralChannel.SCHOOL and case.referrer_unit == world.unit("706:school:0")
    assert not OutboundMessage.objects.exists(), "no MedCom for a web referral"
    receipt = Segment.objects.get(thread=item.thread, outgoing=True)
    assert receipt.text.startswith("Kære Lars Nielsen")
    mine = client.get("/indgang/mine-henvisninger/").content.decode()
    assert child.full_name in mine
    thread_page = client.get(f"/indgang/traad/{item.thread_id}/").content.decode()
    assert "Tak for henvisning af" in thread_page
    assert login("peter").get(f"/indgang/traad/{item.thread_id}/").status_code == 404


def test_the_web_form_refuses_an_impossible_cpr(world, login):
    response = login("lars").post("/indgang/henvis/", {
        "unit": world.unit("706:school:0").pk, "municipality": world.syddjurs.pk, "cpr": "3213991234",
        "given_name": "A", "family_name": "B", "text": "x", "phone": "1"})
    assert response.status_code == 400 and 'role="alert"' in response.content.decode()
    assert not InboxItem.objects.exists()


def test_the_keeper_registers_a_phone_call_and_a_letter(world, login):
    client = login("ida")
    assert client.get("/indgang/registrer/").status_code == 200
    when = timezone.localtime().replace(second=0, microsecond=0) - dt.timedelta(hours=2)
    response = client.post("/indgang/registrer/", {
        "kind": "phone", "received_at": when.strftime("%Y-%m-%dT%H:%M"), "referrer_name": "Hanne Juul",
        "referrer_organisation": "Børneafdelingen, Randers", "referrer_phone": "78420000",
        "text": "Ella var indlagt; foreslår drøftelse.", "given_name": "Ella", "family_name": "Nørgaard"})
    assert response.status_code == 302
    phone = InboxItem.objects.get()
    assert phone.kind == InboxItem.Kind.PHONE and phone.registered_by == world.user("ida")
    assert phone.received_at == when
    from django.core.files.uploadedfile import SimpleUploadedFile

    scan = SimpleUploadedFile("brev.pdf", b"%PDF-1.4 scan", content_type="application/pdf")
    response = client.post("/indgang/registrer/", {
        "kind": "letter", "received_at": when.strftime("%Y-%m-%dT%H:%M"), "referrer_name": "Skolen",
        "text": "Brev fra skolen.", "attachments": [scan]})
    assert response.status_code == 302
    letter = InboxItem.objects.get(kind=InboxItem.Kind.LETTER)
    attachment = Segment.objects.get(thread=letter.thread, kind="attachment")
    assert attachment.title == "brev" and bytes(attachment.data.data) == b"%PDF-1.4 scan"
    assert client.get(f"/indgang/bilag/{attachment.pk}/").content == b"%PDF-1.4 scan"
    assert login("nora").get(f"/indgang/bilag/{attachment.pk}/").status_code == 404


def test_the_directory_answers_where_a_referral_goes_for_every_municipality(world, client):
    page = client.get("/indgang/oversigt/").content.decode()
    for code in ("706", "707", "710"):
        entry = world.unit(f"{code}:single_entry")
        assert entry.name in page and entry.sor_id in page and entry.gln in page
    found = client.get("/indgang/oversigt/", {"kommune": "Norddjurs"}).content.decode()
    assert world.unit("707:single_entry").sor_id in found and world.unit("706:single_entry").sor_id not in found

    api = client.get("/api/directory", {"kommune": "707"}).json()
    assert api == [{
        "municipality": "Norddjurs", "code": "707", "region": "Region Midtjylland", "has_entry": True,
        "entry": world.unit("707:single_entry").name, "sor": world.unit("707:single_entry").sor_id,
        "ean": world.unit("707:single_entry").gln, "phone": "", "email": world.unit("707:single_entry").email,
    }]
    assert len(client.get("/api/directory").json()) == 3


def test_the_directory_tells_when_a_municipality_has_no_entry(world, client):
    from tests.support.world import SYSTEM
    from tovholder.organisations.services import municipality_create

    municipality_create(actor=SYSTEM, region=world.syddjurs.region, name="Samsø", code="741")
    rows = client.get("/api/directory", {"kommune": "Samsø"}).json()
    assert rows[0]["has_entry"] is False and rows[0]["sor"] == ""
    assert "Ingen fælles indgang registreret" in client.get("/indgang/oversigt/", {"kommune": "741"}).content.decode()


def test_quarantine_can_be_closed_with_a_note_and_retried_after_an_alias(world, post_sample, login):
    from tovholder.inbox.models import Arrival

    post_sample("S-C-new")  # addressed to a receiver we do not know yet
    arrival = Arrival.objects.get()
    client = login("ida")
    detail = client.get(f"/indgang/karantaene/{arrival.pk}/").content.decode()
    assert "ikke en fælles indgang" in detail and "Elmer" in detail, "the message as received is shown"
    from tovholder.inbox.demo import medcom_test_receivers_add

    medcom_test_receivers_add(entry=world.unit("706:single_entry"))
    response = client.post(f"/indgang/karantaene/{arrival.pk}/behandl-igen/")
    assert response.status_code == 302 and response["Location"] == "/indgang/"
    assert InboxItem.objects.count() == 1
    arrival.refresh_from_db()
    assert arrival.state == Arrival.State.ACCEPTED


def test_quarantine_resolve_needs_a_note(world, post, login):
    from tovholder.inbox.models import Arrival

    post(b"<nope", "application/fhir+xml")
    arrival = Arrival.objects.get()
    client = login("nora")  # region-wide: any inbox keeper
    assert client.post(f"/indgang/karantaene/{arrival.pk}/afslut/", {"note": ""}).status_code == 400
    assert client.post(f"/indgang/karantaene/{arrival.pk}/afslut/", {"note": "Afsender ringet op."}).status_code == 302
    arrival.refresh_from_db()
    assert arrival.resolved_by == world.user("nora") and arrival.resolution_note == "Afsender ringet op."
    assert f"/indgang/karantaene/{arrival.pk}/" not in client.get("/indgang/karantaene/").content.decode()


def test_a_keeper_writes_to_the_referrer_in_the_thread(world, gp_message, post, login):
    post(*gp_message())
    thread = Thread.objects.get()
    response = login("ida").post(f"/indgang/traad/{thread.pk}/svar/", {"text": "Har forældrene givet tilsagn?"})
    assert response.status_code == 302
    message = OutboundMessage.objects.get()
    assert message.reason == "reply" and message.author_name == "Ida Bach"
    assert login("anne").post(f"/indgang/traad/{thread.pk}/svar/", {"text": "x"}).status_code == 404


def test_the_item_page_says_when_the_child_is_known(world, gp_message, post, login):
    child = world.case.child
    post(*gp_message(cpr=child.cpr, given=child.given_name, family=child.family_name))
    item = InboxItem.objects.get()
    page = login("ida").get(f"/indgang/henvendelse/{item.pk}/").content.decode()
    assert f"Barnet er kendt: {child.full_name}" in page and world.case.reference in page
    assert "Knyt til barnets åbne forløb" in page
