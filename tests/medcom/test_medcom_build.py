"""Messages we write: replies and forwards must pass our own interpret()."""

from __future__ import annotations

import datetime as dt

import pytest

from tovholder.medcom import (
    AttachmentSegment,
    Identifier,
    Org,
    Patient,
    TextSegment,
    build_care_communication,
    content_type_for,
    interpret,
    parse_bundle,
    serialize,
)

NEW_THREAD = "urn:uuid:5b7d1d5e-8a56-4f0e-9d7c-3f2a1b0c9d8e"
GP = Org(name="2100 Lægehuset Østerbro", sor="1017421000016003", ean="5790002408496")
PDF = b"%PDF-1.7\n%\xb5\xb5\n"


def _reply_to(msg, when, **changes):
    arguments = dict(
        activity="reply-message",
        sender=msg.receiver,
        receiver=msg.sender,
        sender_endpoint=msg.destination_endpoint,
        receiver_endpoint=msg.source_endpoint,
        patient=msg.patient,
        thread_id=msg.thread_id,
        category=msg.category,
        topic=msg.topic,
        priority=msg.priority,
        new_segments=["Tak for beskeden.\nVi kontakter familien i morgen.\r\nHilsen Sofie"],
        earlier_segments=msg.segments,
        earlier_provenances=msg.provenances,
        previous_header_id=msg.header_id,
        bundle_id="bundle-reply-1",
        header_id="8c0a7d3e-2f41-4b6a-9e5d-1c2b3a4d5e6f",
        now=when,
        author_name="Sofie Holm Jensen",
        author_role="Sundhedsplejerske",
        author_phone="+4512345678",
        episode_of_care_ids=msg.episode_of_care_ids,
    )
    arguments.update(changes)
    return build_care_communication(**arguments)


def test_reply_passes_interpret_and_keeps_the_thread(sample, now):
    original = interpret(sample("R-A-new"))
    reply = interpret(_reply_to(original, now))

    assert reply.activity == "reply-message"
    assert reply.thread_id == original.thread_id
    assert reply.previous_header_id == original.header_id
    assert reply.sender == original.receiver and reply.receiver == original.sender
    assert reply.source_endpoint == original.destination_endpoint
    assert reply.patient == original.patient
    assert [s.identifier for s in reply.segments[:-1]] == [s.identifier for s in original.segments]
    new = reply.segments[-1]
    assert isinstance(new, TextSegment) and reply.new_segment_ids == (new.identifier,)
    assert new.text == "Tak for beskeden.\nVi kontakter familien i morgen.\nHilsen Sofie"
    assert (new.author_name, new.author_role, new.author_phone) == (
        "Sofie Holm Jensen",
        "Sundhedsplejerske",
        "+4512345678",
    )
    assert new.organization == original.receiver
    # Like MedCom's own samples: this message's Provenance first, then the earlier ones.
    assert [p.header_id for p in reply.provenances] == [reply.header_id, original.header_id]


def test_reply_refers_to_earlier_attachments_without_their_content(sample, now):
    original = interpret(sample("R-A-new"))
    reply = interpret(_reply_to(original, now))
    earlier_attachment = next(s for s in reply.segments if isinstance(s, AttachmentSegment))
    assert earlier_attachment.title == "Oversigt"
    assert earlier_attachment.data is None and earlier_attachment.url is None
    assert earlier_attachment.content_type is None


def test_reply_to_a_reply_carries_all_provenances(sample, now):
    original = interpret(sample("R-B-reply"))
    reply = interpret(_reply_to(original, now))
    assert [p.activity for p in reply.provenances] == [
        "reply-message",
        "reply-message",
        "new-message",
    ]
    assert len(reply.segments) == len(original.segments) + 1


def test_reply_repeats_episode_of_care_ids(sample, now):
    original = interpret(sample("S-Tek-B-new-episodeOfCare"))
    assert interpret(_reply_to(original, now)).episode_of_care_ids == original.episode_of_care_ids


def test_reply_for_replacement_cpr_and_absent_family_name(sample, now):
    original = interpret(sample("R-Tek-B"))
    reply = interpret(_reply_to(original, now))
    assert reply.patient == original.patient
    assert reply.patient.family is None


def test_forward_starts_a_new_thread_and_keeps_attachment_content(sample, now):
    original = interpret(sample("S-B-new"))
    forward = interpret(
        _reply_to(
            original,
            now,
            activity="forward-message",
            receiver=GP,
            sender=original.receiver,
            receiver_endpoint="https://sor2.sum.dsdn.dk/#id=1017421000016003",
            thread_id=NEW_THREAD,
            priority=original.priority,
        )
    )
    assert forward.activity == "forward-message"
    assert forward.thread_id == NEW_THREAD
    assert forward.previous_header_id == original.header_id
    attachment = next(s for s in forward.segments if isinstance(s, AttachmentSegment))
    assert (
        attachment.data
        == next(s for s in original.segments if isinstance(s, AttachmentSegment)).data
    )


def test_new_message_with_attachment_in_xml(now):
    us = Org(name="Sundhedsplejen, Testkommune", sor="330461000016004", ean="5790001353308")
    child = Patient(cpr="0101204000", is_replacement_cpr=False, family="Hansen", given=("Ida",))
    bundle = build_care_communication(
        activity="new-message",
        sender=us,
        receiver=GP,
        sender_endpoint="https://sor2.sum.dsdn.dk/#id=330461000016004",
        receiver_endpoint="https://sor2.sum.dsdn.dk/#id=1017421000016003",
        patient=child,
        thread_id=NEW_THREAD,
        category="psychiatry-social-disability",
        topic="Ida trives ikke",
        priority=None,
        new_segments=[
            TextSegment(
                identifier="urn:uuid:0f5b3f4e-3c1d-4e2a-9b8c-7d6e5f4a3b2c",
                timestamp=now,
                author_name="Sofie Holm Jensen",
                author_role="Sundhedsplejerske",
                author_phone="12345678",
                text="Se vedhæftede notat & plan <udkast>.",
            ),
            AttachmentSegment(
                identifier="urn:uuid:1a2b3c4d-5e6f-4a1b-8c2d-3e4f5a6b7c8d",
                timestamp=now,
                title="Notat",
                content_type="application/pdf",
                data=PDF,
            ),
        ],
        bundle_id="new-1",
        header_id="6a5b4c3d-2e1f-4a0b-9c8d-7e6f5a4b3c2d",
        now=now,
    )
    body = serialize(bundle, "xml")
    assert content_type_for("xml").startswith("application/fhir+xml")
    msg = interpret(parse_bundle(body, content_type_for("xml")))
    assert msg.activity == "new-message" and msg.previous_header_id is None
    assert msg.patient == child
    assert msg.topic == "Ida trives ikke"
    assert msg.segments[0].text == "Se vedhæftede notat & plan <udkast>."
    assert msg.segments[1].data == PDF
    assert set(msg.new_segment_ids) == {s.identifier for s in msg.segments}


def test_output_is_deterministic(sample, now):
    original = interpret(sample("R-C-forward"))
    assert serialize(_reply_to(original, now), "json") == serialize(
        _reply_to(original, now), "json"
    )
    assert serialize(_reply_to(original, now), "xml") == serialize(_reply_to(original, now), "xml")


def test_line_breaks_are_character_references_in_xml(sample, now):
    original = interpret(sample("S-C-new"))
    body = serialize(_reply_to(original, now), "xml").decode()
    assert 'value="Tak for beskeden.&#xA;Vi kontakter familien i morgen.&#xA;Hilsen Sofie"' in body


def test_regarding_referral_may_carry_priority(sample, now):
    original = interpret(sample("S-B-new"))
    assert interpret(_reply_to(original, now)).priority == "asap"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"activity": "delete-message"}, "activity"),
        ({"previous_header_id": None}, "previous_header_id"),
        ({"thread_id": "123"}, "thread_id"),
        ({"category": "other", "topic": None, "priority": None}, "topic"),
        ({"priority": "asap"}, "priority"),
        ({"new_segments": []}, "at least one"),
        ({"author_phone": None}, "author"),
        ({"now": dt.datetime(2026, 1, 1, 12, 0)}, "timezone"),
        ({"sender": Org(name="X", sor="330461000016004", ean="5790001353309")}, "kontrolciffer"),
        ({"patient": Patient(cpr="3113209999", is_replacement_cpr=False, family="X")}, "måned 13"),
    ],
)
def test_invalid_arguments_raise_value_error(sample, now, changes, message):
    original = interpret(sample("S-C-new"))
    with pytest.raises(ValueError, match=message):
        _reply_to(original, now, **changes)


def test_attachment_with_disallowed_type_is_refused(sample, now):
    original = interpret(sample("S-C-new"))
    word = AttachmentSegment(
        identifier="urn:uuid:9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b",
        timestamp=now,
        title="Referat",
        content_type="application/msword",
        data=b"doc",
    )
    with pytest.raises(ValueError, match="content type"):
        _reply_to(original, now, new_segments=["Se bilag", word])


def test_identifier_types_survive(now):
    episode = Identifier(
        "https://sor2.sum.dsdn.dk/#id=330461000016004",
        "urn:uuid:39e3e169-9ece-4ba4-bd24-2e0fbeebc333",
    )
    us = Org(name=None, sor="330461000016004", ean="5790001353308")
    bundle = build_care_communication(
        activity="new-message",
        sender=us,
        receiver=GP,
        sender_endpoint="https://sor2.sum.dsdn.dk/#id=330461000016004",
        receiver_endpoint="https://sor2.sum.dsdn.dk/#id=1017421000016003",
        patient=Patient(
            cpr="0703921VJ6",
            is_replacement_cpr=True,
            family="Hansen",
            cpr_system="urn:oid:1.2.208.176.1.6.1.3",
        ),
        thread_id=NEW_THREAD,
        category="carecoordination",
        topic=None,
        priority=None,
        new_segments=["Hej"],
        bundle_id="b",
        header_id="3c1e9a52-7f7d-4d0a-8c7e-0f5a4e3d2c1b",
        now=now,
        author_name="Kim",
        author_role="Socialrådgiver",
        author_phone="12345678",
        episode_of_care_ids=[episode],
    )
    msg = interpret(bundle)
    assert msg.episode_of_care_ids == (episode,)
    assert msg.patient.cpr_system == "urn:oid:1.2.208.176.1.6.1.3"
    assert msg.sender.name is None
    assert msg.segments[0].author_name == "Kim"
