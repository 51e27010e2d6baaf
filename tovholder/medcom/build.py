"""Write a CareCommunication message (new, reply or forward) and serialise bundles.

The bundle is built from the same model the receiving side produces, so a thread
read with :func:`validate.interpret` can be answered by passing its segments and
provenances back in. Resource ids are derived from ``header_id`` (no randomness),
so the same arguments always give the same bundle.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Iterable, Sequence
from typing import Any, Literal

from . import codes
from .cpr import CPR_SYSTEM, DEFAULT_REPLACEMENT_SYSTEM, check_cpr
from .fhirxml import resource_to_xml
from .identifiers import check_gln, check_sor, is_urn_uuid
from .model import (
    ACTIVITIES,
    AttachmentSegment,
    Identifier,
    MessageProvenance,
    Org,
    Patient,
    Segment,
    TextSegment,
)
from .narrative import derived_id, narrative

CONTENT_TYPES: dict[str, str] = {
    "json": "application/fhir+json; charset=utf-8",
    "xml": "application/fhir+xml; charset=utf-8",
}

# FHIR strings may not contain control characters other than tab, CR and LF.
_CONTROL = {code: None for code in range(0x20) if chr(code) not in "\t\n\r"}


def serialize(bundle: dict[str, Any], fmt: Literal["json", "xml"]) -> bytes:
    """FHIR JSON or XML bytes (UTF-8) for a bundle dict; see :data:`CONTENT_TYPES`."""
    if fmt == "json":
        return json.dumps(bundle, ensure_ascii=False, indent=2).encode("utf-8")
    if fmt == "xml":
        return resource_to_xml(bundle)
    raise ValueError(f"unknown format {fmt!r}; use 'json' or 'xml'")


def content_type_for(fmt: Literal["json", "xml"]) -> str:
    """The Content-Type header value for :func:`serialize` output."""
    return CONTENT_TYPES[fmt]


def clean_text(text: str) -> str:
    """Message text as FHIR allows it: no control characters, CRLF/CR as LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n").translate(_CONTROL)


def build_care_communication(
    *,
    activity: str,
    sender: Org,
    receiver: Org,
    sender_endpoint: str,
    receiver_endpoint: str,
    patient: Patient,
    thread_id: str,
    category: str,
    topic: str | None,
    priority: str | None,
    new_segments: Sequence[Segment | str],
    earlier_segments: Sequence[Segment] = (),
    earlier_provenances: Sequence[MessageProvenance] = (),
    previous_header_id: str | None = None,
    bundle_id: str,
    header_id: str,
    now: dt.datetime,
    author_name: str | None = None,
    author_role: str | None = None,
    author_phone: str | None = None,
    episode_of_care_ids: Sequence[Identifier] = (),
) -> dict[str, Any]:
    """A CareCommunication bundle (FHIR JSON dict) that passes :func:`validate.interpret`.

    ``new_segments`` are what this message adds: TextSegment/AttachmentSegment, or a
    plain string for a text written now by ``author_*`` (id derived, time ``now``).
    A text segment without author fields gets ``author_*``; a segment without an
    organisation gets ``sender``.

    A reply (``reply-message``) keeps ``thread_id`` and carries all
    ``earlier_segments`` and ``earlier_provenances``; earlier attachments are
    included by identifier, title and date only. A forward starts a new
    ``thread_id``. Both need ``previous_header_id``. ``episode_of_care_ids`` must be
    repeated in a reply when an earlier message carried them.

    Raises ValueError when the arguments cannot make a valid message.
    """
    _check_arguments(
        activity,
        sender,
        receiver,
        patient,
        thread_id,
        category,
        topic,
        priority,
        earlier_segments,
        previous_header_id,
        now,
    )
    timestamp = _instant(now)
    added = [
        _complete(segment, index, header_id, now, sender, author_name, author_role, author_phone)
        for index, segment in enumerate(new_segments)
    ]
    if not added:
        raise ValueError("a message must add at least one segment")
    earlier = [
        _reference_only(s)
        if activity == "reply-message" and isinstance(s, AttachmentSegment)
        else s
        for s in earlier_segments
    ]
    segments = sorted([*earlier, *added], key=lambda s: s.timestamp)
    if not any(isinstance(s, TextSegment) for s in segments):
        raise ValueError("a message must contain at least one text segment")
    identifiers = [s.identifier for s in segments]
    if len(set(identifiers)) != len(identifiers):
        raise ValueError("segment identifiers must be unique")

    writer = _Writer(header_id)
    sender_ref = writer.organization(sender)
    receiver_ref = writer.organization(receiver)
    patient_ref = writer.patient(patient)
    encounter_ref = (
        writer.encounter(patient_ref, episode_of_care_ids) if episode_of_care_ids else None
    )
    payload = [writer.payload(s) for s in segments]
    communication_ref = writer.communication(
        thread_id, category, topic, priority, patient_ref, encounter_ref, payload, segments
    )

    own_provenance = MessageProvenance(
        header_id=header_id,
        activity=activity,
        occurred=now,
        agent=sender,
        new_segment_ids=tuple(s.identifier for s in added),
        previous_header_id=previous_header_id,
    )
    header = {
        "resourceType": "MessageHeader",
        "id": header_id,
        "meta": {"profile": [codes.PROFILE_MESSAGE_HEADER]},
        "text": narrative(
            ("Besked", "Korrespondancemeddelelse"),
            ("Afsender", _org_label(sender)),
            ("Modtager", _org_label(receiver)),
        ),
        "eventCoding": {"system": codes.EVENT_SYSTEM, "code": codes.CARE_COMMUNICATION_EVENT},
        "destination": [
            {
                "extension": [
                    {
                        "url": codes.DESTINATION_USE_URL,
                        "valueCoding": {
                            "system": codes.DESTINATION_USE_SYSTEM,
                            "code": "primary",
                        },
                    }
                ],
                "endpoint": receiver_endpoint,
                "receiver": {"reference": receiver_ref},
            }
        ],
        "sender": {"reference": sender_ref},
        "source": {"endpoint": sender_endpoint},
        "focus": [{"reference": communication_ref}],
        "definition": codes.CARE_COMMUNICATION_DEFINITION,
    }
    writer.add("MessageHeader", header, first=True)
    writer.provenance(own_provenance)
    for provenance in earlier_provenances:
        if provenance.header_id != header_id:
            writer.provenance(provenance)

    return {
        "resourceType": "Bundle",
        "id": bundle_id,
        "meta": {"profile": [codes.PROFILE_MESSAGE]},
        "type": "message",
        "timestamp": timestamp,
        "entry": writer.entries(),
    }


# --------------------------------------------------------------------------- checks


def _check_arguments(
    activity: str,
    sender: Org,
    receiver: Org,
    patient: Patient,
    thread_id: str,
    category: str,
    topic: str | None,
    priority: str | None,
    earlier_segments: Sequence[Segment],
    previous_header_id: str | None,
    now: dt.datetime,
) -> None:
    if activity not in ACTIVITIES:
        raise ValueError(f"activity must be one of {ACTIVITIES}")
    if activity == "new-message" and (previous_header_id or earlier_segments):
        raise ValueError("a new message has no previous header and no earlier segments")
    if activity != "new-message" and not previous_header_id:
        raise ValueError(f"{activity} needs previous_header_id")
    for role, org in (("sender", sender), ("receiver", receiver)):
        for ok, reason in (check_sor(org.sor), check_gln(org.ean)):
            if not ok:
                raise ValueError(f"{role}: {reason}")
    ok, reason = check_cpr(patient.cpr, replacement=patient.is_replacement_cpr)
    if not ok:
        raise ValueError(f"patient: {reason}")
    if patient.family is None and not patient.given:
        raise ValueError("patient needs a name")
    if not is_urn_uuid(thread_id):
        raise ValueError("thread_id must be urn:uuid:<uuid>")
    if not category:
        raise ValueError("category is required")
    if category == codes.CATEGORY_OTHER and not (topic and topic.strip()):
        raise ValueError("category 'other' needs a topic")
    if priority is not None:
        if category != codes.CATEGORY_REGARDING_REFERRAL:
            raise ValueError("priority is only allowed with category 'regarding-referral'")
        if priority not in codes.PRIORITIES:
            raise ValueError(f"priority must be one of {sorted(codes.PRIORITIES)}")
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")


def _complete(
    segment: Segment | str,
    index: int,
    header_id: str,
    now: dt.datetime,
    sender: Org,
    author_name: str | None,
    author_role: str | None,
    author_phone: str | None,
) -> Segment:
    """A new segment with everything MedCom requires filled in (or ValueError)."""
    if isinstance(segment, str):
        segment = TextSegment(
            identifier="urn:uuid:" + derived_id(header_id, "segment", str(index)),
            timestamp=now,
            author_name=None,
            author_role=None,
            author_phone=None,
            text=segment,
        )
    if not is_urn_uuid(segment.identifier):
        raise ValueError("segment identifiers must be urn:uuid:<uuid>")
    if segment.timestamp.tzinfo is None:
        raise ValueError("segment timestamps must be timezone-aware")
    if isinstance(segment, TextSegment):
        text = clean_text(segment.text)
        name = segment.author_name or author_name
        role = segment.author_role or author_role
        phone = segment.author_phone or author_phone
        if not text.strip():
            raise ValueError("a text segment cannot be empty")
        if not (name and role and phone):
            raise ValueError("a new text segment needs author name, role and phone")
        return TextSegment(
            identifier=segment.identifier,
            timestamp=segment.timestamp,
            author_name=name,
            author_role=role,
            author_phone=phone,
            text=text,
            organization=segment.organization or sender,
        )
    if segment.content_type not in codes.ALLOWED_CONTENT_TYPES and segment.data is not None:
        raise ValueError(
            f"attachment content type must be one of {sorted(codes.ALLOWED_CONTENT_TYPES)}"
        )
    if segment.data is None and not segment.url:
        raise ValueError("a new attachment needs data or url")
    if not segment.title.strip():
        raise ValueError("an attachment needs a title")
    return AttachmentSegment(
        identifier=segment.identifier,
        timestamp=segment.timestamp,
        title=segment.title,
        content_type=segment.content_type,
        data=segment.data,
        url=segment.url,
        creation=segment.creation,
        organization=segment.organization or sender,
    )


def _reference_only(segment: AttachmentSegment) -> AttachmentSegment:
    """An earlier attachment as a reply carries it: identifier, title and date only."""
    return AttachmentSegment(
        identifier=segment.identifier,
        timestamp=segment.timestamp,
        title=segment.title,
        content_type=None,
        organization=segment.organization,
    )


def _instant(moment: dt.datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("datetimes must be timezone-aware")
    return moment.isoformat(timespec="seconds")


def _org_label(org: Org) -> str:
    return f"{org.name or '(uden navn)'} (SOR {org.sor})"


def _split_name(name: str) -> dict[str, Any]:
    """A HumanName from a full name: the last word is the family name."""
    words = name.split()
    human: dict[str, Any] = {"family": words[-1]}
    if len(words) > 1:
        human["given"] = words[:-1]
    return human


# --------------------------------------------------------------------------- writer


class _Writer:
    """Collects the bundle's resources, creating each organisation/author once."""

    def __init__(self, header_id: str) -> None:
        self.header_id = header_id
        self._entries: list[tuple[str, dict[str, Any]]] = []
        self._orgs: dict[str, str] = {}
        self._authors: dict[tuple[str, str, str], str] = {}

    def add(self, kind: str, resource: dict[str, Any], first: bool = False) -> str:
        if first:
            self._entries.insert(0, (kind, resource))
        else:
            self._entries.append((kind, resource))
        return f"{kind}/{resource['id']}"

    def entries(self) -> list[dict[str, Any]]:
        return [
            {"fullUrl": f"{codes.FULL_URL_BASE}{kind}/{resource['id']}", "resource": resource}
            for kind, resource in self._entries
        ]

    def organization(self, org: Org) -> str:
        if org.sor in self._orgs:
            return self._orgs[org.sor]
        identifiers = []
        if org.ean:
            identifiers.append({"system": codes.GLN_SYSTEM, "value": org.ean})
        identifiers.append({"system": codes.SOR_SYSTEM, "value": org.sor})
        resource: dict[str, Any] = {
            "resourceType": "Organization",
            "id": derived_id(self.header_id, "Organization", org.sor),
            "meta": {"profile": [codes.PROFILE_ORGANIZATION]},
            "text": narrative(("Organisation", _org_label(org)), ("EAN", org.ean or "ukendt")),
            "identifier": identifiers,
        }
        if org.name:
            resource["name"] = clean_text(org.name)
        reference = self.add("Organization", resource)
        self._orgs[org.sor] = reference
        return reference

    def patient(self, patient: Patient) -> str:
        if patient.is_replacement_cpr:
            system = (
                patient.cpr_system
                if patient.cpr_system and patient.cpr_system != CPR_SYSTEM
                else DEFAULT_REPLACEMENT_SYSTEM
            )
        else:
            system = CPR_SYSTEM
        identifiers = [{"system": system, "value": patient.cpr}]
        identifiers += [
            {"system": other.system, "value": other.value}
            if other.system
            else {"value": other.value}
            for other in patient.other_ids
        ]
        name: dict[str, Any] = {"use": "official"}
        if patient.family:
            name["family"] = patient.family
        else:
            # MedCom requires a family name; an unknown one is marked as absent.
            name["_family"] = {
                "extension": [{"url": codes.DATA_ABSENT_REASON, "valueCode": "unknown"}]
            }
        if patient.given:
            name["given"] = list(patient.given)
        full_name = " ".join([*patient.given, patient.family or "(efternavn ukendt)"])
        resource = {
            "resourceType": "Patient",
            "id": derived_id(self.header_id, "Patient"),
            "meta": {"profile": [codes.PROFILE_PATIENT]},
            "text": narrative(("Patient", full_name), ("Id", f"{system}#{patient.cpr}")),
            "identifier": identifiers,
            "name": [name],
        }
        return self.add("Patient", resource)

    def encounter(self, patient_ref: str, episode_ids: Iterable[Identifier]) -> str:
        episodes = [
            {
                "identifier": {"system": i.system, "value": i.value}
                if i.system
                else {"value": i.value}
            }
            for i in episode_ids
        ]
        resource = {
            "resourceType": "Encounter",
            "id": derived_id(self.header_id, "Encounter"),
            "meta": {"profile": [codes.PROFILE_ENCOUNTER]},
            "text": narrative(("Forløb", ", ".join(e["identifier"]["value"] for e in episodes))),
            "status": "unknown",
            "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
            "subject": {"reference": patient_ref},
            "episodeOfCare": episodes,
        }
        return self.add("Encounter", resource)

    def author(self, name: str, role: str | None, org_ref: str | None) -> str:
        key = (name, role or "", org_ref or "")
        if key in self._authors:
            return self._authors[key]
        practitioner = {
            "resourceType": "Practitioner",
            "id": derived_id(self.header_id, "Practitioner", *key),
            "meta": {"profile": [codes.PROFILE_PRACTITIONER]},
            "text": narrative(("Navn", name)),
            "name": [_split_name(clean_text(name))],
        }
        practitioner_ref = self.add("Practitioner", practitioner)
        role_resource: dict[str, Any] = {
            "resourceType": "PractitionerRole",
            "id": derived_id(self.header_id, "PractitionerRole", *key),
            "meta": {"profile": [codes.PROFILE_PRACTITIONER_ROLE]},
            "text": narrative(("Rolle", role or "ikke angivet"), ("Navn", name)),
            "practitioner": {"reference": practitioner_ref},
        }
        if org_ref:
            role_resource["organization"] = {"reference": org_ref}
        # MedCom: the role is a code or a text; ours is free text (e.g. "Sundhedsplejerske").
        role_resource["code"] = [{"text": role or "Ikke angivet"}]
        reference = self.add("PractitionerRole", role_resource)
        self._authors[key] = reference
        return reference

    def payload(self, segment: Segment) -> dict[str, Any]:
        org_ref = self.organization(segment.organization) if segment.organization else None
        value_identifier: dict[str, Any] = {"value": segment.identifier}
        if org_ref:
            value_identifier["assigner"] = {"reference": org_ref}
        extensions: list[dict[str, Any]] = [
            {"url": codes.EXT_DATETIME, "valueDateTime": _instant(segment.timestamp)},
            {"url": codes.EXT_IDENTIFIER, "valueIdentifier": value_identifier},
        ]
        if isinstance(segment, TextSegment):
            if segment.author_name:
                author_ref = self.author(segment.author_name, segment.author_role, org_ref)
                extensions.append(
                    {"url": codes.EXT_AUTHOR, "valueReference": {"reference": author_ref}}
                )
            if segment.author_phone:
                extensions.append(
                    {
                        "url": codes.EXT_AUTHOR_CONTACT,
                        "valueContactPoint": {"system": "phone", "value": segment.author_phone},
                    }
                )
            return {"extension": extensions, "contentString": clean_text(segment.text)}
        attachment: dict[str, Any] = {}
        if segment.content_type:
            attachment["contentType"] = segment.content_type
        if segment.data is not None:
            attachment["data"] = base64.b64encode(segment.data).decode("ascii")
        if segment.url:
            attachment["url"] = segment.url
        attachment["title"] = clean_text(segment.title)
        if segment.creation is not None:
            attachment["creation"] = _instant(segment.creation)
        return {"extension": extensions, "contentAttachment": attachment}

    def communication(
        self,
        thread_id: str,
        category: str,
        topic: str | None,
        priority: str | None,
        patient_ref: str,
        encounter_ref: str | None,
        payload: list[dict[str, Any]],
        segments: Sequence[Segment],
    ) -> str:
        lines: list[str | tuple[str, str]] = [
            ("Kategori", codes.CATEGORY_NAMES_DA.get(category, category)),
        ]
        if topic:
            lines.append(("Emne", topic))
        if priority:
            lines.append(("Prioritet", priority))
        for segment in segments:
            when = _instant(segment.timestamp)
            if isinstance(segment, TextSegment):
                lines.append((f"{when} {segment.author_name or ''}".strip(), segment.text))
            else:
                lines.append((f"{when} vedhæftet", segment.title))
        resource: dict[str, Any] = {
            "resourceType": "Communication",
            "id": derived_id(self.header_id, "Communication"),
            "meta": {"profile": [codes.PROFILE_COMMUNICATION]},
            "text": narrative(*lines),
            "identifier": [{"value": thread_id}],
            "status": "unknown",
            "category": [{"coding": [{"system": codes.CATEGORY_SYSTEM, "code": category}]}],
        }
        if priority:
            resource["priority"] = priority
        resource["subject"] = {"reference": patient_ref}
        if topic and topic.strip():
            resource["topic"] = {"text": clean_text(topic.strip())}
        if encounter_ref:
            resource["encounter"] = {"reference": encounter_ref}
        resource["payload"] = payload
        return self.add("Communication", resource)

    def provenance(self, provenance: MessageProvenance) -> str:
        if provenance.occurred is None:
            raise ValueError(f"provenance for {provenance.header_id} has no time")
        when = _instant(provenance.occurred)
        entities: list[dict[str, Any]] = [
            {"role": "source", "what": {"identifier": {"value": segment_id}}}
            for segment_id in provenance.new_segment_ids
        ]
        if provenance.previous_header_id:
            entities.append(
                {
                    "role": "revision",
                    "what": {"reference": f"MessageHeader/{provenance.previous_header_id}"},
                }
            )
        resource: dict[str, Any] = {
            "resourceType": "Provenance",
            "id": derived_id(self.header_id, "Provenance", provenance.header_id),
            "meta": {"profile": [codes.PROFILE_PROVENANCE]},
            "text": narrative(
                ("Aktivitet", provenance.activity),
                ("Besked", provenance.header_id),
                ("Tidspunkt", when),
            ),
            "target": [{"reference": f"MessageHeader/{provenance.header_id}"}],
            "occurredDateTime": when,
            "recorded": when,
            "activity": {
                "coding": [{"system": codes.ACTIVITY_SYSTEM, "code": provenance.activity}]
            },
        }
        if provenance.agent is not None:
            resource["agent"] = [{"who": {"reference": self.organization(provenance.agent)}}]
        if entities:
            resource["entity"] = entities
        return self.add("Provenance", resource)
