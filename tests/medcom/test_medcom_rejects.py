"""Bad input is rejected with a Danish problem the sender can act on — never a crash."""

from __future__ import annotations

import json

import pytest

from tovholder.medcom import MessageRejected, interpret, parse_bundle
from tovholder.medcom.parse import MAX_BODY_BYTES, MAX_JSON_DEPTH

FHIR_JSON = "application/fhir+json"
FHIR_XML = "application/fhir+xml"
CPR = "2509479989"


def _rejected_by_parse(body: bytes, content_type: str = FHIR_JSON) -> MessageRejected:
    with pytest.raises(MessageRejected) as caught:
        parse_bundle(body, content_type)
    return caught.value


def _rejected_by_interpret(bundle) -> MessageRejected:
    with pytest.raises(MessageRejected) as caught:
        interpret(bundle)
    return caught.value


def _texts(rejection: MessageRejected) -> str:
    return " | ".join(p.text for p in rejection.problems)


# --- reading the body ----------------------------------------------------------------


def test_malformed_json():
    rejection = _rejected_by_parse(b'{"resourceType": "Bundle", "id": }')
    assert rejection.problems[0].code == "structure"
    assert "JSON" in rejection.problems[0].text and "linje 1" in rejection.problems[0].text


def test_malformed_xml():
    rejection = _rejected_by_parse(
        b'<Bundle xmlns="http://hl7.org/fhir"><id value="x"></Bundle>', FHIR_XML
    )
    assert rejection.problems[0].code == "structure"
    assert "XML" in rejection.problems[0].text


def test_xxe_external_entity_is_refused(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("hemmeligt")
    body = (
        f'<?xml version="1.0"?><!DOCTYPE Bundle [<!ENTITY xxe SYSTEM "file://{secret}">]>'
        '<Bundle xmlns="http://hl7.org/fhir"><id value="&xxe;"/></Bundle>'
    ).encode()
    rejection = _rejected_by_parse(body, FHIR_XML)
    assert rejection.problems[0].code == "security"
    assert "DOCTYPE" in rejection.problems[0].text
    assert "hemmeligt" not in _texts(rejection)


def test_billion_laughs_is_refused_before_expansion():
    entities = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
    body = (
        f'<?xml version="1.0"?><!DOCTYPE Bundle [<!ENTITY lol0 "lol">{entities}]>'
        '<Bundle xmlns="http://hl7.org/fhir"><id value="&lol9;"/></Bundle>'
    ).encode()
    rejection = _rejected_by_parse(body, FHIR_XML)
    assert rejection.problems[0].code == "security"


def test_external_dtd_is_refused():
    body = b'<?xml version="1.0"?><!DOCTYPE x SYSTEM "http://example.invalid/x.dtd"><x/>'
    assert _rejected_by_parse(body, "text/xml").problems[0].code == "security"


def test_body_over_50_mb_is_refused_unread():
    body = b" " * (MAX_BODY_BYTES + 1)
    rejection = _rejected_by_parse(body)
    assert rejection.problems[0].code == "too-costly"
    assert "50 MB" in rejection.problems[0].text


def test_deeply_nested_json_is_refused():
    depth = MAX_JSON_DEPTH + 5
    body = ('{"resourceType": "Bundle", "x": ' + "[" * depth + "]" * depth + "}").encode()
    assert _rejected_by_parse(body).problems[0].code == "too-costly"
    very_deep = ("[" * 100_000 + "]" * 100_000).encode()
    assert _rejected_by_parse(very_deep).problems[0].code == "too-costly"


def test_deeply_nested_xml_is_refused():
    depth = 500
    body = (
        '<Bundle xmlns="http://hl7.org/fhir">' + "<a>" * depth + "</a>" * depth + "</Bundle>"
    ).encode()
    assert _rejected_by_parse(body, FHIR_XML).problems[0].code == "too-costly"


def test_duplicate_json_keys_are_refused():
    body = b'{"resourceType": "Bundle", "id": "a", "id": "b"}'
    assert '"id"' in _rejected_by_parse(body).problems[0].text


def test_unknown_content_type_and_empty_body():
    assert _rejected_by_parse(b"{}", "text/plain").problems[0].code == "not-supported"
    assert _rejected_by_parse(b"  ", FHIR_JSON).problems[0].text == "Beskeden er tom."


def test_content_type_parameters_and_aliases_are_accepted(sample_bytes):
    body, _ = sample_bytes("S-C-new")
    for content_type in (
        "application/json",
        "application/fhir+json; charset=UTF-8",
        "application/fhir+json;fhirVersion=4.0",
    ):
        assert parse_bundle(body, content_type)["resourceType"] == "Bundle"
    xml_body, _ = sample_bytes("S-B-new")
    for content_type in ("application/xml", "text/xml; charset=utf-8", "application/fhir+xml"):
        assert parse_bundle(xml_body, content_type)["resourceType"] == "Bundle"


def test_not_a_bundle():
    rejection = _rejected_by_parse(b'{"resourceType": "Patient"}')
    assert "Bundle" in rejection.problems[0].text
    assert _rejected_by_interpret([1, 2]).problems[0].code == "structure"


def test_text_inside_fhir_xml_elements_is_refused():
    body = b'<Bundle xmlns="http://hl7.org/fhir"><id>abc</id></Bundle>'
    assert "value" in _rejected_by_parse(body, FHIR_XML).problems[0].text


# --- content rules -------------------------------------------------------------------


def test_wrong_bundle_profile(mutate):
    bundle = mutate("Bundle", lambda b: b["meta"].update(profile=["http://example.org/other"]))
    rejection = _rejected_by_interpret(bundle)
    assert any(p.location == "Bundle.meta.profile" for p in rejection.problems)


def test_wrong_event_coding(mutate):
    bundle = mutate(
        "MessageHeader", lambda h: h["eventCoding"].update(code="hospital-notification-message")
    )
    rejection = _rejected_by_interpret(bundle)
    assert rejection.problems[0].code == "not-supported"
    assert "hospital-notification-message" in rejection.problems[0].text


def test_acknowledgement_sent_as_message_is_not_acknowledged(mutate):
    bundle = mutate(
        "MessageHeader", lambda h: h["eventCoding"].update(code="acknowledgement-message")
    )
    assert "kvittering" in _texts(_rejected_by_interpret(bundle))


def test_definition_must_be_version_5(mutate):
    definition = "http://medcomfhir.dk/ig/messagedefinitions/MessageDefinition/MedComCareCommunicationMessageDefinition|4.0"
    bundle = mutate("MessageHeader", lambda h: h.update(definition=definition))
    assert any(
        p.location == "MessageHeader.definition" for p in _rejected_by_interpret(bundle).problems
    )


def test_future_minor_version_with_extra_fields_is_accepted(mutate):
    def future(header):
        header["definition"] = header["definition"].replace("|5.0", "|5.3.1")
        header["futureElement"] = {"something": "new"}
        header["destination"][0]["extension"].append(
            {"url": "http://example.org/new", "valueString": "x"}
        )

    bundle = mutate("MessageHeader", future)
    bundle["entry"][2]["resource"]["someNewField"] = [1, 2, 3]
    assert interpret(bundle).definition_version == "5.3.1"


def test_missing_patient(simple_bundle):
    simple_bundle["entry"] = [
        e for e in simple_bundle["entry"] if e["resource"]["resourceType"] != "Patient"
    ]
    rejection = _rejected_by_interpret(simple_bundle)
    assert any("præcis én Patient" in p.text for p in rejection.problems)


@pytest.mark.parametrize(
    ("cpr", "expected"),
    [
        ("3113479989", "måned 13"),
        ("3002479989", "dag 30"),
        ("2902011234", "skudår"),
        ("12345", "10 cifre"),
    ],
)
def test_impossible_cpr(mutate, cpr, expected):
    bundle = mutate("Patient", lambda p: p["identifier"][0].update(value=cpr))
    rejection = _rejected_by_interpret(bundle)
    problem = next(p for p in rejection.problems if p.location.startswith("Patient.identifier"))
    assert expected in problem.text
    assert cpr not in _texts(rejection) or len(cpr) < 10


def test_full_cpr_never_appears_in_problem_texts(mutate):
    bundle = mutate("Patient", lambda p: p["identifier"][0].update(value="3113479989"))
    rejection = _rejected_by_interpret(bundle)
    assert "3113479989" not in _texts(rejection)
    assert "311347" not in _texts(rejection)
    assert "3113xx-xxxx" in _texts(rejection)


def test_cpr_failing_modulus_11_is_accepted(mutate):
    # 2509479989 is valid; 2509479988 fails modulus 11 but is a perfectly good CPR number.
    bundle = mutate("Patient", lambda p: p["identifier"][0].update(value="2509479988"))
    assert interpret(bundle).patient.cpr == "2509479988"


def test_missing_family_name(mutate):
    bundle = mutate("Patient", lambda p: p["name"][0].pop("family"))
    assert any(p.location == "Patient.name.family" for p in _rejected_by_interpret(bundle).problems)


def test_bad_gln_check_digit(mutate):
    def bad_gln(organization):
        organization["identifier"][0]["value"] = "5790000121787"  # correct is …786

    bundle = mutate("Organization", bad_gln)
    text = _texts(_rejected_by_interpret(bundle))
    assert "5790000121787" in text and "kontrolciffer" in text and "skal være 6" in text


@pytest.mark.parametrize(
    "system", ["http://www.gs1.org/gln", "urn:oid:1.3.88", "https://www.gs1.org/gln"]
)
def test_all_gln_systems_are_accepted(mutate, system):
    bundle = mutate("Organization", lambda o: o["identifier"][0].update(system=system))
    assert interpret(bundle).sender.ean == "5790000121786"


def test_short_sor_id(mutate):
    bundle = mutate("Organization", lambda o: o["identifier"][1].update(value="1234"))
    assert "mindst 11 cifre" in _texts(_rejected_by_interpret(bundle))


def test_category_other_without_topic(mutate):
    def other(communication):
        communication["category"][0]["coding"][0]["code"] = "other"
        communication.pop("topic", None)

    bundle = mutate("Communication", other)
    assert any(
        p.location == "Communication.topic.text" for p in _rejected_by_interpret(bundle).problems
    )


def test_category_other_with_topic_is_accepted(mutate):
    def other(communication):
        communication["category"][0]["coding"][0]["code"] = "other"
        communication["topic"] = {"text": "Barn i mistrivsel"}

    assert interpret(mutate("Communication", other)).topic == "Barn i mistrivsel"


def test_priority_without_regarding_referral(mutate):
    bundle = mutate("Communication", lambda c: c.update(priority="asap"))
    rejection = _rejected_by_interpret(bundle)
    assert any("regarding-referral" in p.text for p in rejection.problems)


def test_unknown_category_code_from_a_later_version_is_accepted(mutate):
    bundle = mutate(
        "Communication", lambda c: c["category"][0]["coding"][0].update(code="future-category")
    )
    assert interpret(bundle).category == "future-category"


def test_attachment_with_bad_content_type(sample):
    bundle = sample("S-B-new")
    communication = next(
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Communication"
    )
    communication["payload"][1]["contentAttachment"]["contentType"] = "application/msword"
    rejection = _rejected_by_interpret(bundle)
    problem = next(p for p in rejection.problems if p.location.endswith("contentType"))
    assert problem.code == "code-invalid" and "application/msword" in problem.text


def test_attachment_title_with_file_extension(sample):
    bundle = sample("S-B-new")
    communication = next(
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Communication"
    )
    communication["payload"][1]["contentAttachment"]["title"] = "madpyramiden.png"
    assert "filendelse" in _texts(_rejected_by_interpret(bundle))


def test_thread_id_must_be_urn_uuid(mutate):
    bundle = mutate("Communication", lambda c: c["identifier"][0].update(value="not-a-uuid"))
    assert any(
        p.location == "Communication.identifier" for p in _rejected_by_interpret(bundle).problems
    )


def test_reply_without_revision(sample):
    bundle = sample("R-C-forward")
    provenance = next(
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Provenance"
    )
    provenance["entity"] = [e for e in provenance["entity"] if e["role"] != "revision"]
    assert "revision" in _texts(_rejected_by_interpret(bundle))


def test_missing_provenance_and_profile(simple_bundle):
    simple_bundle["entry"] = [
        e for e in simple_bundle["entry"] if e["resource"]["resourceType"] != "Provenance"
    ]
    del simple_bundle["entry"][1]["resource"]["meta"]
    rejection = _rejected_by_interpret(simple_bundle)
    assert any("Provenance" in p.text for p in rejection.problems)
    assert any("meta.profile" in p.text for p in rejection.problems)


def test_all_problems_are_reported_together(simple_bundle):
    header = simple_bundle["entry"][0]["resource"]
    header["source"] = {}
    header["destination"][0]["extension"] = []
    simple_bundle["timestamp"] = "2024-09-11T15:20:00"  # no time zone
    communication = next(
        e["resource"]
        for e in simple_bundle["entry"]
        if e["resource"]["resourceType"] == "Communication"
    )
    communication["status"] = "completed"
    locations = {p.location for p in _rejected_by_interpret(simple_bundle).problems}
    assert {
        "MessageHeader.source.endpoint",
        "MessageHeader.destination[0].extension",
        "Bundle.timestamp",
        "Communication.status",
    } <= locations


def test_garbage_shapes_never_crash(simple_bundle):
    for broken in (
        {"resourceType": "Bundle"},
        {"resourceType": "Bundle", "entry": "nonsense"},
        {
            "resourceType": "Bundle",
            "type": "message",
            "entry": [{"resource": {"resourceType": "MessageHeader", "destination": 5}}],
        },
        {"resourceType": "Bundle", "entry": [None, 3, {"resource": []}]},
    ):
        rejection = _rejected_by_interpret(broken)
        assert rejection.problems
    simple_bundle["entry"][2]["resource"]["payload"] = [None, "x", {"contentString": 7}]
    assert _rejected_by_interpret(simple_bundle).problems


def test_rejection_lists_every_problem_in_its_message(mutate):
    bundle = mutate("Communication", lambda c: c.update(status="completed", priority="urgent"))
    rejection = _rejected_by_interpret(bundle)
    assert len(rejection.problems) >= 3
    assert str(rejection) == "; ".join(p.text for p in rejection.problems)


def test_json_round_trip_of_a_mutated_bundle_is_still_parseable(simple_bundle):
    body = json.dumps(simple_bundle).encode()
    assert interpret(parse_bundle(body, FHIR_JSON)).thread_id.startswith("urn:uuid:")


def test_randomly_damaged_samples_are_rejected_or_accepted_but_never_crash(
    load, samples_present, us, now
):
    """Delete or replace 1-3 random elements in the samples, 400 times (fixed seed).

    interpret() must answer with a result or MessageRejected (never its catch-all
    for unexpected errors), and the acknowledgement must always serialise.
    """
    import random

    from tovholder.medcom import build_acknowledgement, serialize

    bundles = [load(p) for p in samples_present if "R-Tek-A" not in p.name]
    rnd = random.Random(20260302)
    junk = [
        None,
        1,
        "x",
        [],
        {},
        [1],
        {"a": 1},
        True,
        "urn:uuid:zz",
        "2024-13-45T99:00:00Z",
        "a\x00b",
    ]

    def paths(node, path=()):
        yield path
        children = (
            node.items()
            if isinstance(node, dict)
            else enumerate(node)
            if isinstance(node, list)
            else ()
        )
        for key, child in children:
            yield from paths(child, (*path, key))

    for _ in range(400):
        bundle = json.loads(json.dumps(rnd.choice(bundles)))
        candidates = [p for p in paths(bundle) if p]
        for _ in range(rnd.randint(1, 3)):
            *parents, key = rnd.choice(candidates)
            parent = bundle
            try:
                for step in parents:
                    parent = parent[step]
                if rnd.random() < 0.4:
                    del parent[key]
                else:
                    parent[key] = rnd.choice(junk)
            except (KeyError, IndexError, TypeError):
                pass
        try:
            interpret(bundle)
        except MessageRejected as rejection:
            assert all(p.code != "exception" for p in rejection.problems), rejection.problems
        ack = build_acknowledgement(
            bundle, code="fatal-error", our_org=us, ack_id="a", ack_bundle_id="b", now=now
        )
        assert serialize(ack, "xml") and serialize(ack, "json")
