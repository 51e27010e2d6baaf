"""Every MedCom sample bundle must be accepted, survive JSON<->XML and be acknowledged."""

from __future__ import annotations

import json

from tovholder.medcom import (
    ACK_CODES,
    AttachmentSegment,
    CareCommunication,
    Identifier,
    TextSegment,
    build_acknowledgement,
    identify,
    interpret,
    parse_bundle,
    serialize,
    xml_to_resource,
)
from tovholder.medcom.model import ACTIVITIES


def _header(bundle):
    return bundle["entry"][0]["resource"]


def test_all_samples_are_present(samples_present):
    names = {p.name.split("-")[1] for p in samples_present}
    assert {"R", "S"} <= names


def test_sample_interprets_without_problems(sample_path, load):
    bundle = load(sample_path)
    msg = interpret(bundle)

    assert isinstance(msg, CareCommunication)
    assert msg.bundle_id == bundle["id"]
    assert msg.header_id == _header(bundle)["id"]
    assert msg.bundle_timestamp.tzinfo is not None
    assert msg.event_code == "care-communication-message"
    assert msg.definition_version.startswith("5")
    assert msg.activity in ACTIVITIES
    assert msg.thread_id.startswith("urn:uuid:")
    assert msg.sender.sor and msg.sender.ean and msg.receiver.sor and msg.receiver.ean
    assert len(msg.patient.cpr) == 10
    assert any(isinstance(s, TextSegment) for s in msg.segments)
    assert msg.new_segment_ids and set(msg.new_segment_ids) <= {s.identifier for s in msg.segments}
    timestamps = [s.timestamp for s in msg.segments]
    assert timestamps == sorted(timestamps)


def test_identify_agrees_with_interpret(sample_path, load):
    bundle = load(sample_path)
    identity = identify(bundle)
    msg = interpret(bundle)
    assert (identity.bundle_id, identity.header_id) == (msg.bundle_id, msg.header_id)
    assert identity.sender == msg.sender
    assert identity.source_endpoint == msg.source_endpoint


def test_sample_survives_json_xml_round_trip(sample_path, load):
    bundle = load(sample_path)
    msg = interpret(bundle)

    via_xml = xml_to_resource(serialize(bundle, "xml"))
    assert via_xml == bundle
    assert interpret(via_xml) == msg

    via_json = parse_bundle(serialize(via_xml, "json"), "application/fhir+json; charset=utf-8")
    assert interpret(via_json) == msg


def test_sample_gets_ok_acknowledgement(sample_path, load, us, now):
    msg = interpret(load(sample_path))
    ack = build_acknowledgement(
        msg,
        code="ok",
        our_org=us,
        ack_id="0d9c6c36-1c55-4a55-8a3e-7d0f1b2c3d4e",
        ack_bundle_id="ack-1",
        now=now,
    )
    header = ack["entry"][0]["resource"]
    assert header["resourceType"] == "MessageHeader"
    assert header["response"] == {"identifier": msg.header_id, "code": "ok"}
    assert header["destination"][0]["endpoint"] == msg.source_endpoint
    assert not [e for e in ack["entry"] if e["resource"]["resourceType"] == "OperationOutcome"]

    as_json = serialize(ack, "json")
    assert json.loads(as_json) == ack
    assert xml_to_resource(serialize(ack, "xml")) == ack
    # Same inputs, same bytes: a replayed message can get the identical acknowledgement.
    again = build_acknowledgement(
        msg,
        code="ok",
        our_org=us,
        ack_id="0d9c6c36-1c55-4a55-8a3e-7d0f1b2c3d4e",
        ack_bundle_id="ack-1",
        now=now,
    )
    assert serialize(again, "json") == as_json
    assert "ok" in ACK_CODES


# --- what the individual samples are there to test ----------------------------------


def test_replacement_cpr_alongside_real_cpr_prefers_the_real_one(sample):
    msg = interpret(sample("R-Tek-CPR-1"))
    assert msg.patient.cpr == "2509479989"
    assert not msg.patient.is_replacement_cpr
    assert Identifier("urn:oid:1.2.208.176.1.6.1.1", "0703921VJ4") in msg.patient.other_ids


def test_two_replacement_numbers_take_the_first(sample):
    msg = interpret(sample("S-Tek-CPR"))
    assert msg.patient.is_replacement_cpr
    assert msg.patient.cpr == "0703921VJ6"
    assert msg.patient.cpr_system == "urn:oid:1.2.208.176.1.6.1.1"
    assert msg.patient.other_ids == (Identifier("urn:oid:1.2.208.176.1.6.1.3", "1206550VK9"),)


def test_replacement_cpr_with_absent_family_name(sample):
    # R-Tek-B: regional replacement system, family name given as data-absent-reason,
    # and resource ids that are not UUIDs.
    msg = interpret(sample("R-Tek-B"))
    assert msg.patient.is_replacement_cpr
    assert msg.patient.cpr_system == "urn:oid:1.2.208.176.1.6.1.3.177"
    assert msg.patient.family is None
    assert msg.patient.given == ("Peter",)
    assert msg.header_id == "ejklfdsio8klakfd.hjfkdshfjk-hfjkdshfj89432n7f"


def test_reply_points_to_previous_header_and_keeps_earlier_segments(sample):
    msg = interpret(sample("R-B-reply"))
    assert msg.activity == "reply-message"
    assert msg.previous_header_id == "0ebb6284-eb20-45eb-8113-6620d2d08608"
    assert [type(s) for s in msg.segments] == [TextSegment, TextSegment, AttachmentSegment]
    assert set(msg.new_segment_ids) == {s.identifier for s in msg.segments[1:]}
    assert [s.identifier for s in msg.new_segments] == [s.identifier for s in msg.segments[1:]]
    earlier = msg.segments[0]
    assert earlier.author_name == "Michael Burns"
    assert earlier.organization is not None and earlier.organization.name == "Arden Lægehus"
    assert len(msg.provenances) == 2


def test_forward_has_revision_and_new_thread(sample):
    msg = interpret(sample("R-C-forward"))
    assert msg.activity == "forward-message"
    assert msg.previous_header_id == "42fa2844-5020-45dd-bd5f-77137ba5ca1f"
    assert msg.topic == "Resultater fra hjemmesygeplejen"
    assert msg.segments[0].organization.name is None  # the nameless organisation is fine


def test_xml_line_breaks_and_special_characters(sample):
    msg = interpret(sample("R-Tek-A"))
    text = msg.segments[0].text
    assert "\n\n\nDette er linje 1\n" in text
    assert "\"prøve\" på 'nogle' særlige <tegn>; til test & certificering" in text
    assert msg.priority == "asap" and msg.category == "regarding-referral"


def test_all_attachment_types_and_a_link(sample):
    msg = interpret(sample("R-Tek-A"))
    attachments = [s for s in msg.segments if isinstance(s, AttachmentSegment)]
    assert {a.content_type for a in attachments} == {
        "application/pdf",
        "image/gif",
        "image/tiff",
        "image/png",
        "image/jpeg",
        "image/bmp",
        None,
    }
    pdf = next(a for a in attachments if a.content_type == "application/pdf")
    assert pdf.data.startswith(b"%PDF")
    link = next(a for a in attachments if a.url)
    assert link.url == "https://medcom.dk/" and link.data is None


def test_episode_of_care_identifiers(sample):
    assert interpret(sample("S-Tek-A-new-episodeOfCare")).episode_of_care_ids == (
        Identifier(
            "https://sor2.sum.dsdn.dk/#id=1385391000016002",
            "urn:uuid:d3779c52-1fc9-4d96-93dc-693a4faab338",
        ),
    )
    assert len(interpret(sample("R-Tek-A")).episode_of_care_ids) == 2
    assert interpret(sample("S-C-new")).episode_of_care_ids == ()


def test_duplicate_sample_is_an_ordinary_message(sample):
    # Spotting the duplicate is the caller's job (by Bundle.id and MessageHeader.id).
    bundle = sample("R-Tek-J-dublicate")
    assert identify(bundle).header_id == interpret(bundle).header_id
