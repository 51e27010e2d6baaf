"""A child identified by a replacement CPR number ("erstatnings-CPR") gets a case: from a
MedCom message (with the Patient's birthDate when it has one), from the web referral form
and from a registered phone call or letter. Wrong input gives a clear error on the form,
never a server error, and writes nothing."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from django.db import IntegrityError
from django.utils import timezone

from tovholder.audit.models import AuditEvent
from tovholder.cases.models import Case
from tovholder.children.models import Child
from tovholder.inbox.models import InboxItem
from tovholder.medcom import Org, Patient, TextSegment, build_care_communication, serialize
from tovholder.medcom.codes import SOR_ENDPOINT_PREFIX

pytestmark = pytest.mark.django_db

D = dt.date


def _replacement_message(world, cpr: str, *, birth_date: str | None = None, given: str = "Bruno",
                         family: str = "Elmer") -> bytes:
    """A GP's referral (gp:0 → Syddjurs) about a patient with a replacement number."""
    sender, entry, now = world.unit("gp:0"), world.unit("706:single_entry"), timezone.now()
    bundle = build_care_communication(
        activity="new-message", sender=Org(name=sender.name, sor=sender.sor_id, ean=sender.gln),
        receiver=Org(name=entry.name, sor=entry.sor_id, ean=entry.gln),
        sender_endpoint=SOR_ENDPOINT_PREFIX + sender.sor_id, receiver_endpoint=SOR_ENDPOINT_PREFIX + entry.sor_id,
        patient=Patient(cpr=cpr, is_replacement_cpr=True, family=family, given=(given,)),
        thread_id=f"urn:uuid:{uuid.uuid4()}", category="psychiatry-social-disability",
        topic="Bekymring for barnets trivsel", priority=None,
        new_segments=[TextSegment(identifier=f"urn:uuid:{uuid.uuid4()}", timestamp=now, author_name="Anne Mortensen",
                                  author_role="Praktiserende læge", author_phone="86 34 10 10",
                                  text=f"{given} har det svært.")],
        bundle_id=str(uuid.uuid4()), header_id=str(uuid.uuid4()), now=now,
    )
    data = json.loads(serialize(bundle, "json"))
    if birth_date:
        for entry_ in data["entry"]:
            if entry_["resource"]["resourceType"] == "Patient":
                entry_["resource"]["birthDate"] = birth_date
    return json.dumps(data).encode()


def _open(client, item, **fields):
    data = {"cpr": item.thread.patient_cpr, "given_name": item.thread.patient_given or "Bruno",
            "family_name": item.thread.patient_family or "Elmer", "school": "", "referral_channel": "gp",
            "birth_date": "", "holder1_name": "Mette Elmer", "holder1_relation": "mother",
            "holder1_email": "mette@example.dk", "holder1_digital_post": "on", "holder2_name": "",
            "holder2_relation": "father"}
    data.update(fields)
    return client.post(f"/indgang/henvendelse/{item.pk}/opret-forloeb/", data)


def _nothing_written(cpr: str, item: InboxItem) -> None:
    item.refresh_from_db()
    assert item.status == InboxItem.Status.NEW and item.case_id is None
    assert not Child.objects.filter(cpr=cpr).exists()
    assert not Case.objects.filter(child__cpr=cpr).exists()
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.CREATE, object_type="children.Child",
                                         at__gte=item.received_at).exists()


def _web_referral(world, login, cpr: str):
    return login("lars").post("/indgang/henvis/", {
        "unit": world.unit("706:school:0").pk, "municipality": world.syddjurs.pk, "cpr": cpr,
        "given_name": "Bruno", "family_name": "Elmer", "text": "Eleven har meget fravær.", "phone": "87 53 50 20"})


def _registered_call(login, cpr: str):
    when = timezone.localtime().replace(second=0, microsecond=0) - dt.timedelta(hours=1)
    return login("ida").post("/indgang/registrer/", {
        "kind": "phone", "received_at": when.strftime("%Y-%m-%dT%H:%M"), "referrer_name": "Hanne Juul",
        "referrer_organisation": "Børneafdelingen, Randers", "text": "Bruno var indlagt.", "cpr": cpr,
        "given_name": "Bruno", "family_name": "Elmer"})


# ------------------------------------------------------------------- MedCom


def test_it_opens_a_case_from_medcom_with_the_patients_birth_date(world, post, login):
    assert post(_replacement_message(world, "0703921VJ4", birth_date="2014-03-07")).status_code == 200
    item = InboxItem.objects.get()
    client = login("ida")
    page = client.get(f"/indgang/henvendelse/{item.pk}/").content.decode()
    assert "erstatnings-CPR" in page
    assert 'value="0703921VJ4"' in page and 'value="2014-03-07"' in page  # prefilled from the message

    response = _open(client, item, birth_date="")  # nothing entered: the message's date is used
    child = Child.objects.get(cpr="0703921VJ4")
    assert response.status_code == 302 and response["Location"] == f"/forloeb/{child.cases.get().pk}/"
    assert child.cpr_is_replacement and child.birth_date == D(2014, 3, 7)  # not 1992 from the digits
    item.refresh_from_db()
    assert item.status == InboxItem.Status.OPENED


def test_it_opens_a_case_for_medcoms_own_replacement_cpr_sample(world, aliases, post_sample, login):
    # R-Tek-B: regional replacement system (…1.6.1.3.177), 1206550VK9, family name absent.
    post_sample("R-Tek-B")
    item = InboxItem.objects.get()
    assert item.thread.patient_is_replacement and item.thread.patient_cpr == "1206550VK9"
    response = _open(login("ida"), item, family_name="Hansen")
    assert response.status_code == 302
    child = Child.objects.get(cpr="1206550VK9")
    assert child.cpr_is_replacement and child.birth_date == D(1955, 6, 12) and child.family_name == "Hansen"


def test_a_replacement_number_without_a_birth_date_asks_for_it_and_writes_nothing(world, post, login):
    post(_replacement_message(world, "070392AVJ4"))  # letter as 7th character: no century, no date
    item = InboxItem.objects.get()
    client = login("ida")
    response = _open(client, item)
    assert response.status_code == 400  # not a server error
    page = response.content.decode()
    assert 'role="alert"' in page and '<a href="#id_birth_date">Fødselsdato</a>: Fødselsdato mangler' in page
    _nothing_written("070392AVJ4", item)

    assert _open(client, item, birth_date="2013-05-04").status_code == 302
    child = Child.objects.get(cpr="070392AVJ4")
    assert child.cpr_is_replacement and child.birth_date == D(2013, 5, 4)


# ------------------------------------------------------------------- the forms


@pytest.mark.parametrize("cpr", ["070392AVJ4", "0703921VJ4", "9999991AB2"])
def test_the_web_form_takes_a_replacement_number_and_the_keeper_opens_the_case(world, login, cpr):
    response = _web_referral(world, login, cpr)
    assert response.status_code == 302, response.content.decode()[:2000]
    item = InboxItem.objects.get()
    assert item.thread.patient_cpr == cpr
    client = login("ida")
    assert "erstatnings-CPR" in client.get(f"/indgang/henvendelse/{item.pk}/").content.decode()
    if cpr != "0703921VJ4":  # the number gives no birth date: the keeper must enter it
        response = _open(client, item)
        assert response.status_code == 400 and 'href="#id_birth_date"' in response.content.decode()
        _nothing_written(cpr, item)
    response = _open(client, item, birth_date="04.05.2013" if cpr != "0703921VJ4" else "")
    assert response.status_code == 302
    child = Child.objects.get(cpr=cpr)
    assert child.cpr_is_replacement
    assert child.birth_date == (D(1992, 3, 7) if cpr == "0703921VJ4" else D(2013, 5, 4))


@pytest.mark.parametrize(("cpr", "born"), [("6103921234", D(1992, 3, 1)), ("1206550VK9", D(1955, 6, 12))])
def test_a_registered_phone_call_takes_a_replacement_number(world, login, cpr, born):
    response = _registered_call(login, cpr)
    assert response.status_code == 302
    item = InboxItem.objects.get()
    assert _open(login("ida"), item).status_code == 302
    child = Child.objects.get(cpr=cpr)
    assert child.cpr_is_replacement and child.birth_date == born


@pytest.mark.parametrize("bad", ["3213991234", "ABCDEF1234", "070392"])
def test_the_forms_refuse_what_is_neither_a_cpr_nor_a_replacement_number(world, login, bad):
    web = _web_referral(world, login, bad)
    call = _registered_call(login, bad)
    for response in (web, call):
        assert response.status_code == 400 and 'role="alert"' in response.content.decode()
    assert not InboxItem.objects.exists()


def test_an_ordinary_cpr_with_another_birth_date_is_refused_on_the_field(world, gp_message, post, login):
    post(*gp_message(cpr="0101901235"))
    item = InboxItem.objects.get()
    response = _open(login("ida"), item, birth_date="2014-01-01")
    assert response.status_code == 400 and 'href="#id_birth_date"' in response.content.decode()
    _nothing_written("0101901235", item)


def test_a_wrong_number_in_the_open_form_is_refused_on_the_field(world, post, login):
    post(_replacement_message(world, "0703921VJ4"))
    item = InboxItem.objects.get()
    response = _open(login("ida"), item, cpr="ABCDEF1234")
    assert response.status_code == 400 and 'href="#id_cpr"' in response.content.decode()
    _nothing_written("ABCDEF1234", item)


# ------------------------------------------------------------------- no server errors


@pytest.mark.parametrize("error", [ValueError("no date"), IntegrityError("unique"), RuntimeError("bug")])
def test_an_unexpected_failure_in_an_item_action_is_a_clear_error_and_writes_nothing(
        world, post, login, monkeypatch, error):
    from tovholder.inbox import services

    post(_replacement_message(world, "0703921VJ4"))
    item = InboxItem.objects.get()

    def fail(**kwargs):
        raise error

    monkeypatch.setattr(services, "inbox_item_open_case", fail)
    monkeypatch.setattr(services, "inbox_item_reject", fail)
    client = login("ida")
    response = _open(client, item)
    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode() and "Intet er gemt" in response.content.decode()
    _nothing_written("0703921VJ4", item)  # the child registered first is rolled back too
    response = client.post(f"/indgang/henvendelse/{item.pk}/afvis/", {"reason": "Forkert kommune."})
    assert response.status_code == 400 and "Intet er gemt" in response.content.decode()


def test_the_api_opens_a_case_for_a_replacement_number_as_the_page_does(world, post, login):
    assert post(_replacement_message(world, "0703921VJ4", birth_date="2014-03-07")).status_code == 200
    item = InboxItem.objects.get()
    response = login("ida").post(f"/api/inbox/items/{item.pk}/open-case", {
        "cpr": "0703921VJ4", "given_name": "Bruno", "family_name": "Elmer", "referral_channel": "gp",
        "custody_holders": [{"name": "Mette Elmer", "relation": "mother", "email": "mette@example.dk"}]},
        content_type="application/json")
    assert response.status_code == 200, response.content
    child = Child.objects.get(cpr="0703921VJ4")
    assert child.cpr_is_replacement and child.birth_date == D(2014, 3, 7)


def test_the_api_asks_for_a_birth_date_a_replacement_number_lacks_and_writes_nothing(world, post, login):
    post(_replacement_message(world, "070392AVJ4"))  # no century, so no date in it
    item = InboxItem.objects.get()
    body = {"cpr": "070392AVJ4", "given_name": "Bruno", "family_name": "Elmer", "referral_channel": "gp"}
    refused = login("ida").post(f"/api/inbox/items/{item.pk}/open-case", body, content_type="application/json")
    assert refused.status_code == 400
    _nothing_written("070392AVJ4", item)
    given = login("ida").post(f"/api/inbox/items/{item.pk}/open-case", {**body, "birth_date": "2014-03-07"},
                              content_type="application/json")
    assert given.status_code == 200 and Child.objects.get(cpr="070392AVJ4").birth_date == D(2014, 3, 7)
