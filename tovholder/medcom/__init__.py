"""MedCom CareCommunication (FHIR R4) for Tovholder: parse, validate, acknowledge, build.

Pure Python (stdlib + defusedxml); no Django here, so it can be tested and reused
on its own. Typical receiving flow::

    bundle = parse_bundle(body, content_type)          # MessageRejected if unreadable
    identity = identify(bundle)                        # ids for duplicate detection
    msg = interpret(bundle)                            # MessageRejected with all problems
    ack = build_acknowledgement(msg, code="ok", our_org=..., ack_id=..., ack_bundle_id=..., now=...)
    body = serialize(ack, "json")
"""

from .ack import ACK_CODES, build_acknowledgement, read_acknowledgement
from .build import CONTENT_TYPES, build_care_communication, clean_text, content_type_for, serialize
from .cpr import birth_date_from_cpr, check_cpr, is_replacement_cpr, normalize_cpr
from .errors import MessageRejected, Problem, mask_cpr
from .fhirxml import resource_to_xml, xml_to_resource
from .identifiers import check_gln, check_sor, gln_check_digit
from .model import (
    AcknowledgementInfo,
    AttachmentSegment,
    CareCommunication,
    Identifier,
    MessageIdentity,
    MessageProvenance,
    Org,
    Patient,
    Segment,
    TextSegment,
)
from .parse import MAX_BODY_BYTES, format_for_content_type, parse_bundle
from .validate import identify, interpret

__all__ = [
    "ACK_CODES",
    "AcknowledgementInfo",
    "CONTENT_TYPES",
    "MAX_BODY_BYTES",
    "AttachmentSegment",
    "CareCommunication",
    "Identifier",
    "MessageIdentity",
    "MessageProvenance",
    "MessageRejected",
    "Org",
    "Patient",
    "Problem",
    "Segment",
    "TextSegment",
    "birth_date_from_cpr",
    "build_acknowledgement",
    "build_care_communication",
    "check_cpr",
    "check_gln",
    "check_sor",
    "clean_text",
    "content_type_for",
    "format_for_content_type",
    "gln_check_digit",
    "identify",
    "interpret",
    "is_replacement_cpr",
    "mask_cpr",
    "normalize_cpr",
    "parse_bundle",
    "read_acknowledgement",
    "resource_to_xml",
    "serialize",
    "xml_to_resource",
]
