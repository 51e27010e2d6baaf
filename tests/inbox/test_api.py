"""The JSON API of the single entry: the same services as the pages."""

from __future__ import annotations

import pytest

from tests.inbox.helpers import ack_header, ack_of, content_type_of, sample
from tovholder.cases.models import Case
from tovholder.inbox.models import InboxItem, OutboundMessage

pytestmark = pytest.mark.django_db


def test_the_message_endpoint_needs_no_session_and_no_csrf(world, aliases, settings):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    path = sample("R-A-new")
    response = client.post("/api/medcom/messages", path.read_bytes(), content_type=content_type_of(path))
    assert response.status_code == 200 and ack_header(ack_of(response))["response"]["code"] == "ok"


def test_the_message_endpoint_is_described_in_the_openapi_document(client):
    schema = client.get("/api/openapi.json").json()
    operation = schema["paths"]["/api/medcom/messages"]["post"]
    assert {"application/fhir+json", "application/fhir+xml"} <= set(operation["requestBody"]["content"])


def test_the_keeper_lists_and_reads_items(world, gp_message, post, login):
    post(*gp_message(given="Ada", family="Holm", text="Ada har ondt i maven."))
    items = login("ida").get("/api/inbox/items").json()
    assert [(i["child_name"], i["kind"], i["status"], i["age_working_days"]) for i in items] == [
        ("Ada Holm", "medcom", "new", 0)]
    assert login("nora").get("/api/inbox/items").json() == []
    detail = login("ida").get(f"/api/inbox/items/{items[0]['id']}").json()
    assert detail["thread"]["segments"][0]["text"] == "Ada har ondt i maven."
    assert detail["referrer"].endswith("Lægehuset Ebeltoft")
    assert login("anne").get(f"/api/inbox/items/{items[0]['id']}").status_code == 200, "the referrer"
    assert login("peter").get(f"/api/inbox/items/{items[0]['id']}").status_code == 404


def test_the_keeper_opens_a_case_through_the_api(world, gp_message, post, login):
    post(*gp_message(given="Ada", family="Holm"))
    item = InboxItem.objects.get()
    response = login("ida").post(f"/api/inbox/items/{item.pk}/open-case", {
        "cpr": item.thread.patient_cpr, "given_name": "Ada", "family_name": "Holm",
        "custody_holders": [{"name": "Mette Holm", "relation": "mother"}],
        "school_id": world.unit("706:school:1").pk}, content_type="application/json")
    assert response.status_code == 200, response.content
    body = response.json()
    case = Case.objects.get(pk=body["case_id"])
    assert body["stage"] == "awaiting_consent" and case.child.school == world.unit("706:school:1")
    assert OutboundMessage.objects.get().reason == "receipt"
    again = login("ida").post(f"/api/inbox/items/{item.pk}/open-case", {
        "cpr": item.thread.patient_cpr, "given_name": "Ada", "family_name": "Holm"}, content_type="application/json")
    assert again.status_code == 400 and "allerede behandlet" in again.json()["detail"]
    thread = login("anne").get(f"/api/inbox/threads/{item.thread_id}").json()
    assert [s["outgoing"] for s in thread["segments"]] == [False, True]
    assert thread["outbound"][0]["status"] == "pending"


def test_rejecting_and_forwarding_through_the_api(world, gp_message, post, login):
    post(*gp_message(given="Ada"))
    post(*gp_message(given="Bo"))
    ada, bo = InboxItem.objects.order_by("pk")
    client = login("ida")
    assert client.post(f"/api/inbox/items/{ada.pk}/reject", {"reason": ""},
                       content_type="application/json").status_code == 400
    assert client.post(f"/api/inbox/items/{ada.pk}/reject", {"reason": "Over 18 år."},
                       content_type="application/json").json()["status"] == "rejected"
    assert client.post(f"/api/inbox/items/{bo.pk}/forward", {"municipality_code": "999"},
                       content_type="application/json").status_code == 400
    assert client.post(f"/api/inbox/items/{bo.pk}/forward", {"municipality_code": "707"},
                       content_type="application/json").json()["status"] == "forwarded"
    assert login("nora").post(f"/api/inbox/items/{bo.pk}/reject", {"reason": "x"},
                              content_type="application/json").status_code == 404


def test_quarantine_through_the_api(world, post, login):
    post(b"{", "application/fhir+json")
    rows = login("nora").get("/api/inbox/quarantine").json()
    assert len(rows) == 1 and rows[0]["region_wide"] and "JSON" in rows[0]["problems"][0]
    assert login("anne").get("/api/inbox/quarantine").json() == []


def test_a_referral_through_the_api(world, login):
    from tests.support.world import make_child

    child = make_child(world.demo, parents=0)
    response = login("jonas").post("/api/inbox/referrals", {
        "unit_id": world.unit("bua").pk, "municipality_code": "706", "cpr": child.cpr,
        "given_name": child.given_name, "family_name": child.family_name, "text": "Henvises fra BUA's rådgivning.",
        "phone": "78471000"}, content_type="application/json")
    assert response.status_code == 200
    item = InboxItem.objects.get(pk=response.json()["item_id"])
    assert item.kind == "web" and item.thread.referrer_unit == world.unit("bua")
    refused = login("jonas").post("/api/inbox/referrals", {
        "unit_id": world.unit("706:school:0").pk, "municipality_code": "706", "cpr": child.cpr,
        "given_name": "A", "family_name": "B", "text": "x", "phone": "1"}, content_type="application/json")
    assert refused.status_code == 404, "only for one's own unit"
