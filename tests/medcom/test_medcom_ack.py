"""Acknowledgements: positive, negative, and for messages too broken to interpret."""

from __future__ import annotations

import datetime as dt

import pytest

from tovholder.medcom import (
    MessageRejected,
    Org,
    Problem,
    build_acknowledgement,
    interpret,
    parse_bundle,
    serialize,
    xml_to_resource,
)

ACK_ID = "0d9c6c36-1c55-4a55-8a3e-7d0f1b2c3d4e"


def _ack(msg_or_raw, us, now, **kwargs):
    kwargs.setdefault("code", "ok")
    return build_acknowledgement(
        msg_or_raw, our_org=us, ack_id=ACK_ID, ack_bundle_id="ack-bundle", now=now, **kwargs
    )


def _by_type(ack, resource_type):
    return [e["resource"] for e in ack["entry"] if e["resource"]["resourceType"] == resource_type]


def _resolves(ack, reference):
    return any(
        f"{r['resourceType']}/{r['id']}" == reference for r in (e["resource"] for e in ack["entry"])
    )


def test_ok_acknowledgement_structure(sample, us, now):
    msg = interpret(sample("R-B-reply"))
    ack = _ack(msg, us, now)

    assert ack["type"] == "message" and ack["id"] == "ack-bundle"
    assert ack["timestamp"] == "2026-03-02T09:30:00+01:00"
    assert ack["meta"]["profile"] == [
        "http://medcomfhir.dk/ig/acknowledgement/StructureDefinition/medcom-messaging-acknowledgement"
    ]
    header = ack["entry"][0]["resource"]
    assert header["id"] == ACK_ID
    assert header["eventCoding"] == {
        "system": "http://medcomfhir.dk/ig/terminology/CodeSystem/medcom-messaging-eventCodes",
        "code": "acknowledgement-message",
    }
    destination = header["destination"][0]
    assert destination["extension"][0]["valueCoding"]["code"] == "primary"
    assert destination["endpoint"] == msg.source_endpoint
    assert header["source"]["endpoint"] == msg.destination_endpoint
    assert _resolves(ack, destination["receiver"]["reference"])
    assert _resolves(ack, header["sender"]["reference"])

    organizations = {o["identifier"][-1]["value"]: o for o in _by_type(ack, "Organization")}
    assert set(organizations) == {msg.sender.sor, us.sor}
    assert header["sender"]["reference"].endswith(organizations[us.sor]["id"])

    copied, new = _by_type(ack, "Provenance")
    assert copied["target"] == [{"reference": f"MessageHeader/{msg.header_id}"}]
    assert copied["activity"]["coding"][0]["code"] == "reply-message"
    assert _resolves(ack, copied["agent"][0]["who"]["reference"])
    assert new["activity"]["coding"][0]["code"] == "acknowledgement"
    assert new["target"] == [{"reference": f"MessageHeader/{ACK_ID}"}]
    assert new["entity"] == [
        {"role": "revision", "what": {"reference": f"MessageHeader/{msg.header_id}"}}
    ]
    assert new["recorded"] == ack["timestamp"]

    for entry in ack["entry"]:
        resource = entry["resource"]
        assert resource["meta"]["profile"], resource["resourceType"]
        assert resource["text"]["div"].startswith('<div xmlns="http://www.w3.org/1999/xhtml">')


def test_fatal_error_carries_the_problems(sample_bytes, us, now):
    body, content_type = sample_bytes("S-C-new")
    bundle = parse_bundle(body.replace(b'"2509479989"', b'"3113479989"'), content_type)
    with pytest.raises(MessageRejected) as caught:
        interpret(bundle)

    ack = _ack(bundle, us, now, code="fatal-error", problems=caught.value.problems)
    header = ack["entry"][0]["resource"]
    assert header["response"]["identifier"] == bundle["entry"][0]["resource"]["id"]
    assert header["response"]["code"] == "fatal-error"
    assert _resolves(ack, header["response"]["details"]["reference"])
    (outcome,) = _by_type(ack, "OperationOutcome")
    assert outcome["meta"]["profile"] == [
        "http://medcomfhir.dk/ig/acknowledgement/StructureDefinition/medcom-acknowledgement-operationoutcome"
    ]
    issue = outcome["issue"][0]
    assert issue["severity"] == "error" and issue["code"] == "value"
    assert (
        "3113xx-xxxx" in issue["diagnostics"] and issue["details"]["text"] == issue["diagnostics"]
    )
    assert issue["expression"] == ["Patient.identifier[0].value"]
    for fmt in ("json", "xml"):
        assert b"3113479989" not in serialize(ack, fmt).replace(body, b"")
    assert xml_to_resource(serialize(ack, "xml")) == ack


def test_transient_error_without_problems_gets_a_default_issue(sample, us, now):
    ack = _ack(interpret(sample("S-C-new")), us, now, code="transient-error")
    (outcome,) = _by_type(ack, "OperationOutcome")
    assert outcome["issue"][0]["code"] == "transient"


def test_header_id_only(us, now):
    raw = {
        "resourceType": "Bundle",
        "id": "b-1",
        "entry": [{"resource": {"resourceType": "MessageHeader", "id": "h-1"}}],
    }
    ack = _ack(
        raw,
        us,
        now,
        code="fatal-error",
        problems=[Problem("structure", "Beskeden er ufuldstændig.")],
    )
    header = ack["entry"][0]["resource"]
    assert header["response"]["identifier"] == "h-1"
    assert header["source"]["endpoint"] == "https://sor2.sum.dsdn.dk/#id=" + us.sor
    assert "receiver" not in header["destination"][0]
    assert xml_to_resource(serialize(ack, "xml")) == ack


def test_bundle_id_is_used_when_no_header_id_can_be_read(us, now):
    ack = _ack(
        {"resourceType": "Bundle", "id": "b-2", "entry": "junk"}, us, now, code="fatal-error"
    )
    assert ack["entry"][0]["resource"]["response"]["identifier"] == "b-2"


@pytest.mark.parametrize("raw", [None, {}, [], "garbage"])
def test_nothing_readable_still_gives_an_acknowledgement(raw, us, now):
    ack = _ack(raw, us, now, code="fatal-error")
    header = ack["entry"][0]["resource"]
    assert header["response"] == {
        "code": "fatal-error",
        "details": header["response"]["details"],
    }
    assert serialize(ack, "json") and serialize(ack, "xml")


def test_sender_known_from_transport(us, now):
    them = Org(name="Lægehuset", sor="1017421000016003", ean="5790002408496")
    ack = _ack(None, us, now, code="fatal-error", reply_to=them)
    destination = ack["entry"][0]["resource"]["destination"][0]
    assert destination["endpoint"] == "https://sor2.sum.dsdn.dk/#id=1017421000016003"
    assert _resolves(ack, destination["receiver"]["reference"])


def test_acknowledgement_is_deterministic(sample, us, now):
    msg = interpret(sample("R-Tek-A"))
    first = serialize(
        _ack(msg, us, now, code="fatal-error", problems=[Problem("invalid", "x")]), "xml"
    )
    second = serialize(
        _ack(msg, us, now, code="fatal-error", problems=[Problem("invalid", "x")]), "xml"
    )
    assert first == second


def test_invalid_arguments(us, now):
    with pytest.raises(ValueError):
        _ack(None, us, now, code="maybe")
    with pytest.raises(ValueError):
        _ack(None, us, dt.datetime(2026, 1, 1), code="ok")


# --- Reading an acknowledgement we receive (for a message we sent) ---------------------


def test_it_reads_back_an_acknowledgement_it_built(sample, us, now):
    from tovholder.medcom import read_acknowledgement

    msg = interpret(sample("S-C-new"))
    for code, problems in (("ok", None), ("fatal-error", [Problem("invalid", "Ret patientens CPR.")])):
        ack = _ack(msg, us, now, code=code, problems=problems)
        for fmt in ("json", "xml"):
            wire = serialize(ack, fmt)
            bundle = parse_bundle(wire, f"application/fhir+{fmt}")
            info = read_acknowledgement(bundle)
            assert info.acknowledged_id == msg.header_id
            assert info.code == code
            assert info.header_id == ACK_ID
            assert info.sender == us
            assert info.texts == (("Ret patientens CPR.",) if problems else ())


def test_it_refuses_to_read_a_care_communication_as_an_acknowledgement(sample):
    from tovholder.medcom import read_acknowledgement

    with pytest.raises(MessageRejected):
        read_acknowledgement(sample("S-C-new"))


def test_it_needs_the_acknowledged_id_and_a_known_code(sample, us, now):
    from tovholder.medcom import read_acknowledgement

    ack = _ack(interpret(sample("S-C-new")), us, now)
    header = _by_type(ack, "MessageHeader")[0]
    header["response"] = {"code": "maybe"}
    with pytest.raises(MessageRejected) as caught:
        read_acknowledgement(ack)
    assert len(caught.value.problems) == 2


def test_identify_reads_the_receiver(sample):
    from tovholder.medcom import identify

    identity = identify(sample("R-A-new"))
    assert identity.receiver == Org(name="Sundhedsplejen, Aabenraa kommune", sor="330461000016004",
                                    ean="5790001353308")
