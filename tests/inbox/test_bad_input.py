"""Bad input: each kind ends in a `fatal-error` acknowledgement whose OperationOutcome says
what to fix, and the message kept in quarantine for a person — never silently dropped."""

from __future__ import annotations

import json

import pytest

from tests.inbox.helpers import ack_header, ack_of, header_of, outcome_texts, resources
from tovholder.inbox.models import Arrival, InboxItem, ReceivedMessage
from tovholder.medcom.parse import MAX_BODY_BYTES

pytestmark = pytest.mark.django_db

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE Bundle [<!ENTITY xxe SYSTEM "http://169.254.169.254/latest/meta-data/">]>
<Bundle xmlns="http://hl7.org/fhir"><id value="&xxe;"/></Bundle>"""

LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>
<Bundle xmlns="http://hl7.org/fhir"><id value="&lol4;"/></Bundle>"""


def _mutated(body: bytes, change) -> bytes:
    bundle = json.loads(body)
    change(bundle)
    return json.dumps(bundle).encode()


def _receiver_without_ean(bundle):
    receiver = header_of(bundle)["destination"][0]["receiver"]["reference"]
    for org in resources(bundle, "Organization"):
        if receiver.endswith(org["id"]):
            org["identifier"] = [i for i in org["identifier"] if "gs1" not in i["system"]]


def _patient_cpr(bundle, value):
    resources(bundle, "Patient")[0]["identifier"][0]["value"] = value


def _assert_refused(response, *, says: str, municipality: str | None):
    assert response.status_code == 200
    assert ack_header(ack_of(response))["response"]["code"] == "fatal-error"
    texts = outcome_texts(response)
    assert texts and any(says.lower() in t.lower() for t in texts), texts
    arrival = Arrival.objects.filter(state=Arrival.State.QUARANTINED).get()
    assert (arrival.municipality.code if arrival.municipality else None) == municipality
    assert not ReceivedMessage.objects.exists() and not InboxItem.objects.exists()
    return arrival


CASES = {
    "malformed-json": (lambda b: b[:200], "application/fhir+json", "kan ikke læses som JSON", None),
    "malformed-xml": (lambda b: b"<Bundle xmlns='http://hl7.org/fhir'><id value='x'></Bundle", "application/fhir+xml",
                      "XML", None),
    "not-a-bundle": (lambda b: b'{"resourceType": "Patient"}', "application/fhir+json", "ikke et FHIR Bundle", None),
    "empty": (lambda b: b" \n", "application/fhir+json", "tom", None),
    "wrong-content-type": (lambda b: b, "text/plain", "application/fhir+json", None),
    "wrong-profile": (lambda b: _mutated(b, lambda x: x["meta"].update(profile=["http://example.org/other"])),
                      "application/fhir+json", "profil", "706"),
    "wrong-event": (lambda b: _mutated(b, lambda x: header_of(x)["eventCoding"].update(code="discharge-message")),
                    "application/fhir+json", "care-communication-message", "706"),
    "missing-patient": (lambda b: _mutated(b, lambda x: x.update(entry=[e for e in x["entry"]
                                                                      if e["resource"]["resourceType"] != "Patient"])),
                        "application/fhir+json", "Patient", "706"),
    "impossible-cpr": (lambda b: _mutated(b, lambda x: _patient_cpr(x, "3213991234")), "application/fhir+json",
                       "CPR", "706"),
    "receiver-without-ean": (lambda b: _mutated(b, _receiver_without_ean), "application/fhir+json", "EAN", "706"),
    "xml-external-entity": (lambda b: XXE, "application/fhir+xml", "", None),
    "xml-entity-expansion": (lambda b: LAUGHS, "application/fhir+xml", "", None),
}


@pytest.mark.parametrize("kind", list(CASES))
def test_it_refuses_bad_input_with_a_fatal_error_and_keeps_it(kind, world, gp_message, post, login):
    make, content_type, says, municipality = CASES[kind]
    good, _ = gp_message()
    body = make(good)
    response = post(body, content_type)

    arrival = _assert_refused(response, says=says, municipality=municipality)
    assert bytes(arrival.body) == body, "kept exactly as received"
    assert arrival.problems and all(p["text"] for p in arrival.problems)
    # The inbox keeper sees it: Syddjurs' own, or region-wide when the receiver is unknown.
    assert str(arrival.pk) in login("ida").get("/indgang/karantaene/").content.decode()
    nora_sees = f"/indgang/karantaene/{arrival.pk}/" in login("nora").get("/indgang/karantaene/").content.decode()
    assert nora_sees is (municipality is None)


def test_it_answers_a_refused_message_about_its_header_id(world, gp_message, post):
    good, _ = gp_message()
    response = post(_mutated(good, lambda x: _patient_cpr(x, "3213991234")))
    assert ack_header(ack_of(response))["response"]["identifier"] == header_of(json.loads(good))["id"]


def test_it_refuses_a_message_to_a_receiver_it_does_not_know(world, post_sample, login):
    """Without the MedCom test receivers registered as aliases, a sample is misaddressed."""
    response = post_sample("S-C-new")
    arrival = _assert_refused(response, says="ikke en fælles indgang", municipality=None)
    assert "Hvor sender jeg hen?" in " ".join(outcome_texts(response))
    for keeper in ("ida", "nora"):  # region-wide: every inbox keeper sees it
        assert f"/indgang/karantaene/{arrival.pk}/" in login(keeper).get("/indgang/karantaene/").content.decode()
    assert login("anne").get("/indgang/karantaene/").status_code == 404


def test_it_refuses_a_body_over_50_mb_reading_only_the_beginning(world, gp_message, post):
    good, _ = gp_message()
    body = good[:-1] + b" " * (MAX_BODY_BYTES + 10 - len(good)) + good[-1:]
    response = post(body)
    arrival = _assert_refused(response, says="50 MB", municipality=None)
    assert arrival.truncated and arrival.size == len(body)
    assert len(bytes(arrival.body)) <= 64 * 1024, "only the beginning is stored"
    # The sender can still tell which message: its MessageHeader.id was read from the beginning.
    assert ack_header(ack_of(response))["response"]["identifier"] == header_of(json.loads(good))["id"]


def test_it_reads_the_body_in_bounded_chunks():
    """The endpoint never holds more than the limit plus one chunk, however much is sent."""
    from tovholder.inbox.api import READ_CHUNK, read_body

    class Endless:
        META: dict = {}

        def __init__(self):
            self.read_total = 0

        def read(self, n=-1):
            self.read_total += n
            return b"x" * n

    request = Endless()
    head, size, truncated = read_body(request)
    assert truncated and len(head) <= 64 * 1024
    assert request.read_total <= MAX_BODY_BYTES + READ_CHUNK

    declared = Endless()
    declared.META = {"CONTENT_LENGTH": str(MAX_BODY_BYTES * 4)}
    head, size, truncated = read_body(declared)
    assert truncated and size == MAX_BODY_BYTES * 4 and declared.read_total <= 64 * 1024


def test_it_asks_for_the_shared_secret_when_one_is_set(world, gp_message, post, settings):
    settings.MEDCOM_INBOUND_TOKEN = "s3cret-token"
    body, ctype = gp_message()
    assert post(body, ctype).status_code == 401
    assert post(body, ctype, HTTP_X_MEDCOM_TOKEN="wrong").status_code == 401
    assert not Arrival.objects.exists()
    response = post(body, ctype, HTTP_X_MEDCOM_TOKEN="s3cret-token")
    assert response.status_code == 200 and ack_header(ack_of(response))["response"]["code"] == "ok"


def test_a_failure_of_ours_answers_transient_error_and_keeps_the_message_for_a_retry(world, gp_message, post,
                                                                                        monkeypatch):
    from tovholder.inbox.services import arrivals_retry, intake

    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(intake, "_accept", broken)
    body, ctype = gp_message()
    response = post(body, ctype)
    assert ack_header(ack_of(response))["response"]["code"] == "transient-error"
    assert ack_header(ack_of(response))["response"]["identifier"] == header_of(json.loads(body))["id"]
    arrival = Arrival.objects.get()
    assert arrival.state == Arrival.State.FAILED and bytes(arrival.body) == body
    monkeypatch.undo()
    Arrival.objects.filter(pk=arrival.pk).update(processed_at=arrival.received_at.replace(year=2000))
    assert arrivals_retry() == 1
    assert Arrival.objects.get().state == Arrival.State.ACCEPTED
    assert InboxItem.objects.count() == 1
    # The sender's resend is now a duplicate and gets the stored ok.
    assert ack_header(ack_of(post(body, ctype)))["response"]["code"] == "ok"
