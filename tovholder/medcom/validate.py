"""Validate a received CareCommunication bundle and interpret it.

:func:`interpret` checks the rules of MedCom CareCommunication 5.x that matter for
receiving (see shared/medcom/README.md), collects *every* problem, and either
raises one :class:`MessageRejected` listing them all or returns a
:class:`CareCommunication`.

Being a receiver, it is strict where a mistake would mislead a person (who the
patient is, who sent it, which thread it belongs to, what is new) and lenient
elsewhere: unknown elements, extensions and category codes from a later minor
version are ignored, and a sample bundle from MedCom must always pass.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import logging
import re
import traceback
from typing import Any

from . import codes
from .cpr import CPR_SYSTEM, check_cpr, is_replacement_system, normalize_cpr
from .errors import (
    CODE_INVALID,
    EXCEPTION,
    INVALID,
    NOT_SUPPORTED,
    REQUIRED,
    STRUCTURE,
    VALUE,
    MessageRejected,
    Problem,
)
from .identifiers import check_gln, check_sor, is_urn_uuid
from .model import (
    ACTIVITIES,
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

logger = logging.getLogger(__name__)

_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$")
_DEFINITION_VERSION = re.compile(r"^5(\.\d+){0,2}$")
# File endings a system might append to an attachment title (not allowed by MedCom).
_FILE_ENDING = re.compile(
    r"\.(pdf|gif|jpe?g|png|tiff?|bmp|docx?|txt|rtf|odt|xlsx?|html?|xml)$", re.IGNORECASE
)


# --------------------------------------------------------------------------- helpers


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    """A FHIR array; a lone object where an array belongs is tolerated as one item."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _str(value: Any) -> str | None:
    """A non-blank string, stripped, or None."""
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def parse_datetime(value: Any) -> dt.datetime | None:
    """A FHIR dateTime/instant with time and time zone, as an aware datetime (or None)."""
    if not isinstance(value, str) or not _DATETIME.match(value):
        return None
    try:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _profiles(resource: dict[str, Any]) -> list[str]:
    return [p for p in _list(_obj(resource.get("meta")).get("profile")) if isinstance(p, str)]


def _has_profile(resource: dict[str, Any], profile: str) -> bool:
    # A profile may be pinned to a version: "…/medcom-careCommunication-message|5.0.2".
    return any(p.split("|", 1)[0] == profile for p in _profiles(resource))


def _coding_code(concept: Any, system: str | None = None) -> str | None:
    for coding in _list(_obj(concept).get("coding")):
        coding = _obj(coding)
        if system is None or coding.get("system") == system:
            code = _str(coding.get("code"))
            if code:
                return code
    return None


def _extensions(element: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Extensions by url (the first one of each url)."""
    found: dict[str, dict[str, Any]] = {}
    for extension in _list(element.get("extension")):
        extension = _obj(extension)
        url = extension.get("url")
        if isinstance(url, str) and url not in found:
            found[url] = extension
    return found


def _last_segment(reference: str) -> str:
    return reference.rstrip("/").rsplit("/", 1)[-1]


class _Entries:
    """The bundle's resources, and reference resolution within the bundle."""

    def __init__(self, bundle: dict[str, Any]) -> None:
        self.resources: list[dict[str, Any]] = []
        self._by_reference: dict[str, dict[str, Any]] = {}
        for entry in _list(bundle.get("entry")):
            entry = _obj(entry)
            resource = entry.get("resource")
            if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
                self.resources.append({})
                continue
            self.resources.append(resource)
            resource_id = resource.get("id")
            if isinstance(resource_id, str):
                self._by_reference.setdefault(f"{resource['resourceType']}/{resource_id}", resource)
            full_url = entry.get("fullUrl")
            if isinstance(full_url, str):
                self._by_reference.setdefault(full_url, resource)

    def of_type(self, resource_type: str) -> list[dict[str, Any]]:
        return [r for r in self.resources if r.get("resourceType") == resource_type]

    def resolve(self, reference: Any, resource_type: str | None = None) -> dict[str, Any] | None:
        """Resolve a Reference (dict) or reference string to a bundled resource."""
        if isinstance(reference, dict):
            reference = reference.get("reference")
        if not isinstance(reference, str) or not reference:
            return None
        found = self._by_reference.get(reference)
        if found is None and "/" in reference:
            # An absolute URL whose tail is Type/id, e.g. https://…/Organization/123.
            parts = reference.rstrip("/").rsplit("/", 2)
            if len(parts) == 3:
                found = self._by_reference.get(f"{parts[1]}/{parts[2]}")
        if found is not None and resource_type and found.get("resourceType") != resource_type:
            return None
        return found


def _reference_id(reference: Any, resource_type: str) -> str | None:
    """The id in a reference to ``resource_type`` ("MessageHeader/abc" -> "abc")."""
    if isinstance(reference, dict):
        reference = reference.get("reference")
    if not isinstance(reference, str) or f"{resource_type}/" not in reference:
        return None
    return _last_segment(reference) or None


def _org_from(resource: dict[str, Any] | None) -> Org | None:
    """Lenient: an Org for a bundled Organization with a SOR id, else None."""
    if not resource:
        return None
    sor = ean = None
    for identifier in _list(resource.get("identifier")):
        identifier = _obj(identifier)
        value = _str(identifier.get("value"))
        if identifier.get("system") == codes.SOR_SYSTEM and sor is None:
            sor = value
        elif _str(identifier.get("system")) in codes.GLN_SYSTEMS and ean is None:
            ean = value
    if sor is None:
        return None
    return Org(name=_str(resource.get("name")), sor=sor, ean=ean)


def _human_name(names: Any) -> str | None:
    for name in _list(names):
        name = _obj(name)
        text = _str(name.get("text"))
        if text:
            return text
        parts = [p for p in (_list(name.get("given")) + [name.get("family")]) if _str(p)]
        if parts:
            return " ".join(str(p).strip() for p in parts)
    return None


# --------------------------------------------------------------------------- identify


def identify(bundle: Any) -> MessageIdentity:
    """Read the ids of a message without validating it; never raises.

    Gives what is needed to recognise a duplicate before validation and to
    address an acknowledgement even for a message that fails validation.
    """
    try:
        return _identify(bundle)
    except Exception:  # noqa: BLE001 - best effort by design; a broken bundle gives less
        return MessageIdentity()


def _identify(bundle: Any) -> MessageIdentity:
    bundle = _obj(bundle)
    entries = _Entries(bundle)
    headers = entries.of_type("MessageHeader")
    header = headers[0] if headers else {}
    sender_resource = entries.resolve(header.get("sender"), "Organization")
    destinations = _list(header.get("destination"))
    receiver_resource = (
        entries.resolve(_obj(destinations[0]).get("receiver"), "Organization")
        if destinations
        else None
    )
    event = _obj(header.get("eventCoding"))
    return MessageIdentity(
        bundle_id=_str(bundle.get("id")),
        header_id=_str(header.get("id")),
        event_code=_str(event.get("code")),
        source_endpoint=_str(_obj(header.get("source")).get("endpoint")),
        sender=_org_from(sender_resource),
        sender_resource_id=_str(sender_resource.get("id")) if sender_resource else None,
        receiver_resource_id=_str(receiver_resource.get("id")) if receiver_resource else None,
        receiver=_org_from(receiver_resource),
    )


# --------------------------------------------------------------------------- interpret


def interpret(bundle: Any) -> CareCommunication:
    """Validate a CareCommunication bundle (FHIR JSON dict) and return its meaning.

    Raises :class:`MessageRejected` listing every problem found.
    """
    try:
        return _Interpreter(bundle).run()
    except MessageRejected:
        raise
    except Exception as exc:
        # A bug or an input shape nobody foresaw. Log where it happened, but not the
        # exception text: it could quote message content such as a CPR number.
        logger.error(
            "Unexpected %s while interpreting a CareCommunication:\n%s",
            type(exc).__name__,
            "".join(traceback.format_tb(exc.__traceback__)),
        )
        raise MessageRejected(
            Problem(
                EXCEPTION,
                "Beskeden kunne ikke fortolkes på grund af en uventet opbygning. "
                "Kontakt modtageren, hvis fejlen gentager sig.",
            )
        ) from None


class _Interpreter:
    def __init__(self, bundle: Any) -> None:
        self.bundle = bundle
        self.problems: list[Problem] = []

    def add(self, code: str, text: str, location: str | None = None) -> None:
        self.problems.append(Problem(code, text, location))

    def fail(self) -> MessageRejected:
        return MessageRejected(self.problems)

    # The order below follows the message: bundle, header, organisations, patient,
    # provenance, communication. Each step records problems and carries on, so the
    # sender learns everything in one acknowledgement.
    def run(self) -> CareCommunication:
        bundle = self.bundle
        if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
            self.add(STRUCTURE, "Beskeden er ikke et FHIR Bundle.", "Bundle")
            raise self.fail()

        bundle_id, timestamp = self._bundle(bundle)
        entries = _Entries(bundle)
        header = self._header_resource(entries)
        if header is None:
            raise self.fail()

        header_id = _str(header.get("id"))
        if header_id is None:
            self.add(REQUIRED, "MessageHeader mangler id.", "MessageHeader.id")
        event_code, version = self._event_and_definition(header)
        sender_res, receiver_res, destination_endpoint, source_endpoint, communication = (
            self._routing(header, entries)
        )
        sender = self._organization(sender_res, "Afsenderorganisationen", "MessageHeader.sender")
        receiver = self._organization(
            receiver_res, "Modtagerorganisationen", "MessageHeader.destination[0].receiver"
        )
        patient = self._patient(entries, communication)
        provenances, own = self._provenances(entries, header_id)
        activity, previous_header_id, new_ids = own if own else (None, None, ())
        thread_id = category = topic = priority = None
        segments: tuple[Segment, ...] = ()
        if communication is not None:
            thread_id, category, topic, priority = self._communication(communication)
            segments = self._segments(communication, entries, set(new_ids))
            self._new_ids_exist(new_ids, segments)
        self._profiles(entries)
        episode_ids = self._episode_of_care_ids(entries, communication)

        if self.problems:
            raise self.fail()
        # Every value below was checked above; a None here would have added a problem.
        assert bundle_id and timestamp and header_id and event_code and version
        assert sender and receiver and patient and communication is not None
        assert destination_endpoint and source_endpoint and thread_id and category
        assert activity
        return CareCommunication(
            bundle_id=bundle_id,
            bundle_timestamp=timestamp,
            header_id=header_id,
            event_code=event_code,
            definition_version=version,
            sender=sender,
            receiver=receiver,
            source_endpoint=source_endpoint,
            destination_endpoint=destination_endpoint,
            patient=patient,
            thread_id=thread_id,
            communication_id=_str(communication.get("id")),
            category=category,
            topic=topic,
            priority=priority,
            segments=segments,
            activity=activity,
            previous_header_id=previous_header_id,
            new_segment_ids=tuple(new_ids),
            provenances=provenances,
            episode_of_care_ids=episode_ids,
            raw=bundle,
        )

    # ----------------------------------------------------------------- bundle, header

    def _bundle(self, bundle: dict[str, Any]) -> tuple[str | None, dt.datetime | None]:
        if bundle.get("type") != "message":
            self.add(
                INVALID,
                f"Bundle.type skal være 'message' (er '{str(bundle.get('type'))[:40]}').",
                "Bundle.type",
            )
        bundle_id = _str(bundle.get("id"))
        if bundle_id is None:
            self.add(REQUIRED, "Bundle mangler id.", "Bundle.id")
        timestamp = parse_datetime(bundle.get("timestamp"))
        if timestamp is None:
            self.add(
                REQUIRED if bundle.get("timestamp") is None else VALUE,
                "Bundle.timestamp mangler eller er ikke et tidspunkt med tidszone "
                "(fx 2024-08-15T12:00:00+02:00).",
                "Bundle.timestamp",
            )
        if not _has_profile(bundle, codes.PROFILE_MESSAGE):
            found = ", ".join(_profiles(bundle)) or "ingen"
            self.add(
                INVALID,
                "Beskeden er ikke en MedCom CareCommunication: Bundle.meta.profile skal "
                f"indeholde {codes.PROFILE_MESSAGE} (fandt {found[:200]}).",
                "Bundle.meta.profile",
            )
        return bundle_id, timestamp

    def _header_resource(self, entries: _Entries) -> dict[str, Any] | None:
        if not entries.resources:
            self.add(
                REQUIRED, "Beskeden indeholder ingen ressourcer (Bundle.entry).", "Bundle.entry"
            )
            return None
        first = entries.resources[0]
        if first.get("resourceType") == "MessageHeader":
            return first
        headers = entries.of_type("MessageHeader")
        self.add(
            STRUCTURE,
            "Første ressource i beskeden (Bundle.entry[0]) skal være MessageHeader.",
            "Bundle.entry[0]",
        )
        return headers[0] if headers else None

    def _event_and_definition(self, header: dict[str, Any]) -> tuple[str | None, str | None]:
        event = _obj(header.get("eventCoding"))
        code = _str(event.get("code"))
        if event.get("system") != codes.EVENT_SYSTEM or code is None:
            self.add(
                REQUIRED,
                f"MessageHeader.eventCoding skal have system {codes.EVENT_SYSTEM} og en kode.",
                "MessageHeader.eventCoding",
            )
        elif code == codes.ACKNOWLEDGEMENT_EVENT:
            self.add(
                NOT_SUPPORTED,
                "Beskeden er en kvittering (acknowledgement-message); kvitteringer skal "
                "ikke sendes hertil som korrespondancemeddelelser og kvitteres ikke.",
                "MessageHeader.eventCoding.code",
            )
        elif code != codes.CARE_COMMUNICATION_EVENT:
            self.add(
                NOT_SUPPORTED,
                f"Beskedtypen '{code[:60]}' modtages ikke her; kun "
                f"{codes.CARE_COMMUNICATION_EVENT} (korrespondancemeddelelse).",
                "MessageHeader.eventCoding.code",
            )

        definition = header.get("definition")
        version = None
        if isinstance(definition, str) and "|" in definition:
            url, _, version = definition.partition("|")
            if url != codes.CARE_COMMUNICATION_DEFINITION_URL or not _DEFINITION_VERSION.match(
                version
            ):
                version = None
        if version is None:
            self.add(
                INVALID,
                "MessageHeader.definition skal være "
                f"{codes.CARE_COMMUNICATION_DEFINITION_URL}|5.x (fandt "
                f"{str(definition)[:200] if definition else 'ingen'}).",
                "MessageHeader.definition",
            )
        return code, version

    def _routing(
        self, header: dict[str, Any], entries: _Entries
    ) -> tuple[
        dict[str, Any] | None, dict[str, Any] | None, str | None, str | None, dict[str, Any] | None
    ]:
        destinations = _list(header.get("destination"))
        receiver = destination_endpoint = None
        if len(destinations) != 1:
            self.add(
                INVALID,
                f"MessageHeader skal have præcis én destination (har {len(destinations)}).",
                "MessageHeader.destination",
            )
        if destinations:
            destination = _obj(destinations[0])
            use = _extensions(destination).get(codes.DESTINATION_USE_URL)
            if _obj(_obj(use).get("valueCoding")).get("code") != "primary":
                self.add(
                    REQUIRED,
                    "MessageHeader.destination mangler udvidelsen "
                    "medcom-messaging-destinationUseExtension med koden 'primary'.",
                    "MessageHeader.destination[0].extension",
                )
            destination_endpoint = _str(destination.get("endpoint"))
            if destination_endpoint is None:
                self.add(
                    REQUIRED,
                    "MessageHeader.destination mangler endpoint (modtagerens adresse).",
                    "MessageHeader.destination[0].endpoint",
                )
            receiver = entries.resolve(destination.get("receiver"), "Organization")
            if receiver is None:
                self.add(
                    REQUIRED,
                    "MessageHeader.destination.receiver skal pege på en Organization i beskeden.",
                    "MessageHeader.destination[0].receiver",
                )

        sender = entries.resolve(header.get("sender"), "Organization")
        if sender is None:
            self.add(
                REQUIRED,
                "MessageHeader.sender skal pege på en Organization i beskeden.",
                "MessageHeader.sender",
            )
        source_endpoint = _str(_obj(header.get("source")).get("endpoint"))
        if source_endpoint is None:
            self.add(
                REQUIRED,
                "MessageHeader.source.endpoint mangler; kvitteringen kan ikke sendes tilbage.",
                "MessageHeader.source.endpoint",
            )

        focus = _list(header.get("focus"))
        communication = entries.resolve(focus[0], "Communication") if focus else None
        if communication is None:
            self.add(
                REQUIRED,
                "MessageHeader.focus skal pege på beskedens Communication.",
                "MessageHeader.focus",
            )
        return sender, receiver, destination_endpoint, source_endpoint, communication

    # ----------------------------------------------------------------- organisations

    def _organization(self, resource: dict[str, Any] | None, who: str, where: str) -> Org | None:
        if resource is None:
            return None  # already reported by _routing
        sor = ean = None
        for identifier in _list(resource.get("identifier")):
            identifier = _obj(identifier)
            if identifier.get("system") == codes.SOR_SYSTEM and sor is None:
                sor = identifier.get("value")
            elif _str(identifier.get("system")) in codes.GLN_SYSTEMS and ean is None:
                ean = identifier.get("value")
        ok = True
        if sor is None:
            ok = False
            self.add(
                REQUIRED,
                f"{who} mangler et SOR-id (identifier med system {codes.SOR_SYSTEM}).",
                f"{where}.identifier",
            )
        else:
            valid, reason = check_sor(sor)
            if not valid:
                ok = False
                self.add(VALUE, f"{who}: {reason}", f"{where}.identifier")
        if ean is None:
            ok = False
            self.add(
                REQUIRED,
                f"{who} mangler et EAN-/lokationsnummer (identifier med system "
                f"{codes.GLN_SYSTEM}).",
                f"{where}.identifier",
            )
        else:
            valid, reason = check_gln(ean)
            if not valid:
                ok = False
                self.add(VALUE, f"{who}: {reason}", f"{where}.identifier")
        if not ok:
            return None
        return Org(name=_str(resource.get("name")), sor=str(sor).strip(), ean=str(ean).strip())

    # ----------------------------------------------------------------- patient

    def _patient(self, entries: _Entries, communication: dict[str, Any] | None) -> Patient | None:
        patients = entries.of_type("Patient")
        if len(patients) != 1:
            self.add(
                REQUIRED if not patients else INVALID,
                f"Beskeden skal indeholde præcis én Patient (indeholder {len(patients)}).",
                "Patient",
            )
            if not patients:
                return None
        patient = patients[0]
        if communication is not None:
            subject = entries.resolve(communication.get("subject"), "Patient")
            if subject is not patient:
                self.add(
                    REQUIRED,
                    "Communication.subject skal pege på beskedens Patient.",
                    "Communication.subject",
                )

        chosen = self._patient_identifier(patient)
        family, given = self._patient_name(patient)
        if chosen is None or family is False:
            return None
        cpr, replacement, system, others = chosen
        return Patient(
            cpr=cpr,
            is_replacement_cpr=replacement,
            family=family,
            given=given,
            cpr_system=system,
            other_ids=others,
        )

    def _patient_identifier(
        self, patient: dict[str, Any]
    ) -> tuple[str, bool, str | None, tuple[Identifier, ...]] | None:
        """(number, is replacement, system, other identifiers), or None after a problem."""
        valid: list[tuple[str, bool, str | None]] = []
        others: list[Identifier] = []
        seen_person_id = False
        for index, identifier in enumerate(_list(patient.get("identifier"))):
            identifier = _obj(identifier)
            system = identifier.get("system")
            value = identifier.get("value")
            is_cpr = system == CPR_SYSTEM
            is_replacement = is_replacement_system(system) or identifier.get("use") == "temp"
            if not (is_cpr or is_replacement):
                if isinstance(value, str):
                    others.append(Identifier(system if isinstance(system, str) else None, value))
                continue
            seen_person_id = True
            ok, reason = check_cpr(value, replacement=is_replacement and not is_cpr)
            if not ok:
                self.add(VALUE, f"Patienten: {reason}", f"Patient.identifier[{index}].value")
                continue
            number = normalize_cpr(value)
            valid.append((number, not (is_cpr and number.isdigit()), system))
        if not seen_person_id:
            self.add(
                REQUIRED,
                f"Patienten mangler CPR-nummer (identifier med system {CPR_SYSTEM}) eller "
                "erstatnings-CPR-nummer.",
                "Patient.identifier",
            )
            return None
        if not valid:
            return None  # the invalid numbers were reported above
        # A real CPR number wins over a replacement number given alongside it.
        valid.sort(key=lambda item: item[1])
        number, replacement, system = valid[0]
        others = [Identifier(s, n) for n, _, s in valid[1:]] + others
        # The standard CPR system is implied (None), as in Patient built by our callers.
        return number, replacement, None if system == CPR_SYSTEM else system, tuple(others)

    def _patient_name(self, patient: dict[str, Any]) -> tuple[str | None | bool, tuple[str, ...]]:
        """(family, given); family is None if marked absent, False after a problem."""
        names = [_obj(n) for n in _list(patient.get("name"))]
        official = [n for n in names if n.get("use") == "official"]
        if not official:
            self.add(
                REQUIRED,
                "Patienten mangler et officielt navn (Patient.name med use = official).",
                "Patient.name",
            )
            return False, ()
        name = official[0]
        given = tuple(g.strip() for g in _list(name.get("given")) if _str(g))
        family = _str(name.get("family"))
        if family is not None:
            return family, given
        absent = _extensions(_obj(name.get("_family"))).get(codes.DATA_ABSENT_REASON)
        if absent is not None:
            return None, given
        self.add(
            REQUIRED,
            "Patientens efternavn (Patient.name[official].family) mangler.",
            "Patient.name.family",
        )
        return False, given

    # ----------------------------------------------------------------- provenance

    def _provenances(
        self, entries: _Entries, header_id: str | None
    ) -> tuple[
        tuple[MessageProvenance, ...], tuple[str | None, str | None, tuple[str, ...]] | None
    ]:
        resources = entries.of_type("Provenance")
        if not resources:
            self.add(REQUIRED, "Beskeden mangler Provenance.", "Provenance")
            return (), None
        history: list[MessageProvenance] = []
        own: list[tuple[int, dict[str, Any]]] = []
        for index, resource in enumerate(resources):
            targets = [_reference_id(t, "MessageHeader") for t in _list(resource.get("target"))]
            target = next((t for t in targets if t), None)
            if header_id and header_id in targets:
                own.append((index, resource))
            if target is None:
                continue
            sources, revision = self._provenance_entities(resource)
            history.append(
                MessageProvenance(
                    header_id=target,
                    activity=_coding_code(resource.get("activity")) or "",
                    occurred=parse_datetime(resource.get("occurredDateTime"))
                    or parse_datetime(resource.get("recorded")),
                    agent=_org_from(
                        entries.resolve(
                            _obj(
                                _list(resource.get("agent"))[0] if resource.get("agent") else {}
                            ).get("who"),
                            "Organization",
                        )
                    ),
                    new_segment_ids=tuple(sources),
                    previous_header_id=revision,
                )
            )
        if header_id is None:
            return tuple(history), None
        if len(own) != 1:
            self.add(
                REQUIRED if not own else INVALID,
                "Beskeden skal have præcis én Provenance, hvis target peger på dens "
                f"MessageHeader (har {len(own)}).",
                "Provenance.target",
            )
            return tuple(history), None

        _, resource = own[0]
        activity = _coding_code(resource.get("activity"), codes.ACTIVITY_SYSTEM)
        if activity not in ACTIVITIES:
            self.add(
                CODE_INVALID,
                "Provenance.activity skal være new-message, reply-message eller "
                f"forward-message fra {codes.ACTIVITY_SYSTEM} (fandt {str(activity)[:60]}).",
                "Provenance.activity",
            )
        if not _list(resource.get("agent")):
            self.add(REQUIRED, "Provenance mangler agent (hvem sendte).", "Provenance.agent")
        sources, revision = self._provenance_entities(resource)
        if activity in ("reply-message", "forward-message") and revision is None:
            self.add(
                REQUIRED,
                "Et svar eller en videresendelse skal i Provenance.entity (role = revision) "
                "pege på den foregående MessageHeader.",
                "Provenance.entity",
            )
        return tuple(history), (activity, revision, tuple(sources))

    @staticmethod
    def _provenance_entities(resource: dict[str, Any]) -> tuple[list[str], str | None]:
        sources: list[str] = []
        revision = None
        for entity in _list(resource.get("entity")):
            entity = _obj(entity)
            what = _obj(entity.get("what"))
            if entity.get("role") == "source":
                value = _str(_obj(what.get("identifier")).get("value"))
                if value:
                    sources.append(value)
            elif entity.get("role") == "revision" and revision is None:
                revision = _reference_id(what, "MessageHeader")
        return sources, revision

    # ----------------------------------------------------------------- communication

    def _communication(
        self, communication: dict[str, Any]
    ) -> tuple[str | None, str | None, str | None, str | None]:
        if communication.get("status") != "unknown":
            self.add(
                INVALID,
                "Communication.status skal være 'unknown' (er "
                f"'{str(communication.get('status'))[:40]}').",
                "Communication.status",
            )
        identifiers = [_obj(i) for i in _list(communication.get("identifier"))]
        thread_id = next((i["value"] for i in identifiers if is_urn_uuid(i.get("value"))), None)
        if thread_id is None:
            self.add(
                REQUIRED,
                "Communication.identifier skal have en værdi på formen urn:uuid:<uuid> "
                "(trådens id).",
                "Communication.identifier",
            )

        categories = _list(communication.get("category"))
        category = None
        if len(categories) != 1:
            self.add(
                INVALID,
                f"Communication skal have præcis én kategori (har {len(categories)}).",
                "Communication.category",
            )
        if categories:
            category = _coding_code(categories[0], codes.CATEGORY_SYSTEM)
            if category is None:
                self.add(
                    CODE_INVALID,
                    f"Communication.category skal have en kode fra {codes.CATEGORY_SYSTEM}.",
                    "Communication.category",
                )

        # An empty topic object ("topic": {}) occurs in MedCom's own samples: no topic.
        topic = _str(_obj(communication.get("topic")).get("text"))
        if category == codes.CATEGORY_OTHER and topic is None:
            self.add(
                REQUIRED,
                "Kategorien 'other' (Andet) kræver et emne i Communication.topic.text.",
                "Communication.topic.text",
            )

        priority = communication.get("priority")
        if priority is not None:
            if category != codes.CATEGORY_REGARDING_REFERRAL:
                self.add(
                    INVALID,
                    "Prioritet (Communication.priority) må kun angives, når kategorien er "
                    "'regarding-referral' (Vedr. henvisning).",
                    "Communication.priority",
                )
            if not isinstance(priority, str) or priority not in codes.PRIORITIES:
                self.add(
                    CODE_INVALID,
                    "Communication.priority skal være 'routine' eller 'asap' (er "
                    f"'{str(priority)[:40]}').",
                    "Communication.priority",
                )
        return thread_id, category, topic, priority if isinstance(priority, str) else None

    def _segments(
        self, communication: dict[str, Any], entries: _Entries, new_ids: set[str]
    ) -> tuple[Segment, ...]:
        payloads = _list(communication.get("payload"))
        segments: list[Segment] = []
        seen: set[str] = set()
        for index, payload in enumerate(payloads):
            where = f"Communication.payload[{index}]"
            segment = self._segment(_obj(payload), entries, new_ids, where)
            if segment is None:
                continue
            if segment.identifier in seen:
                self.add(
                    INVALID,
                    f"Segment-id'et {segment.identifier} forekommer flere gange.",
                    where,
                )
            seen.add(segment.identifier)
            segments.append(segment)
        if not any(isinstance(s, TextSegment) for s in segments) and not any(
            "contentString" in _obj(p) for p in payloads
        ):
            self.add(
                REQUIRED,
                "Beskeden skal indeholde mindst én tekst (Communication.payload med "
                "contentString).",
                "Communication.payload",
            )
        # Oldest first; sorted() is stable, so equal timestamps keep document order.
        return tuple(sorted(segments, key=lambda s: s.timestamp))

    def _segment(
        self, payload: dict[str, Any], entries: _Entries, new_ids: set[str], where: str
    ) -> Segment | None:
        extensions = _extensions(payload)
        timestamp = parse_datetime(_obj(extensions.get(codes.EXT_DATETIME)).get("valueDateTime"))
        if timestamp is None:
            self.add(
                REQUIRED,
                "Segmentet mangler tidspunkt med tidszone (medcom-core-datetime-extension).",
                f"{where}.extension",
            )
        value_identifier = _obj(_obj(extensions.get(codes.EXT_IDENTIFIER)).get("valueIdentifier"))
        identifier = value_identifier.get("value")
        if not is_urn_uuid(identifier):
            self.add(
                REQUIRED,
                "Segmentet mangler et id på formen urn:uuid:<uuid> "
                "(medcom-core-identifier-extension).",
                f"{where}.extension",
            )
            identifier = None
        organization = _org_from(entries.resolve(value_identifier.get("assigner"), "Organization"))
        is_new = identifier in new_ids

        if "contentString" in payload:
            return self._text_segment(
                payload, extensions, entries, identifier, timestamp, organization, is_new, where
            )
        if "contentAttachment" in payload:
            return self._attachment_segment(
                _obj(payload.get("contentAttachment")),
                identifier,
                timestamp,
                organization,
                is_new,
                where,
            )
        self.add(
            INVALID,
            "Segmentet har hverken tekst (contentString) eller vedhæftning (contentAttachment).",
            where,
        )
        return None

    def _text_segment(
        self,
        payload: dict[str, Any],
        extensions: dict[str, dict[str, Any]],
        entries: _Entries,
        identifier: str | None,
        timestamp: dt.datetime | None,
        organization: Org | None,
        is_new: bool,
        where: str,
    ) -> TextSegment | None:
        text = payload.get("contentString")
        if not isinstance(text, str) or not text.strip():
            self.add(REQUIRED, "Tekstsegmentet er tomt.", f"{where}.contentString")
            return None
        author_name = author_role = None
        author_ref = _obj(extensions.get(codes.EXT_AUTHOR)).get("valueReference")
        author = entries.resolve(author_ref)
        if author is not None and author.get("resourceType") == "PractitionerRole":
            code = _obj(_list(author.get("code"))[0]) if author.get("code") else {}
            author_role = _str(code.get("text"))
            if author_role is None:
                coding = _obj(_list(code.get("coding"))[0]) if code.get("coding") else {}
                author_role = _str(coding.get("display")) or _str(coding.get("code"))
            author = entries.resolve(author.get("practitioner"), "Practitioner")
        if author is not None and author.get("resourceType") == "Practitioner":
            author_name = _human_name(author.get("name"))
        if author_name is None and is_new:
            # Only the segments this message adds are the sender's to fix.
            self.add(
                REQUIRED,
                "Tekstsegmentet mangler forfatter med navn (medcom-core-practitioner-extension "
                "→ PractitionerRole → Practitioner.name).",
                f"{where}.extension",
            )
        phone = _str(
            _obj(_obj(extensions.get(codes.EXT_AUTHOR_CONTACT)).get("valueContactPoint")).get(
                "value"
            )
        )
        if identifier is None or timestamp is None:
            return None
        return TextSegment(
            identifier=identifier,
            timestamp=timestamp,
            author_name=author_name,
            author_role=author_role,
            author_phone=phone,
            text=text,
            organization=organization,
        )

    def _attachment_segment(
        self,
        attachment: dict[str, Any],
        identifier: str | None,
        timestamp: dt.datetime | None,
        organization: Org | None,
        is_new: bool,
        where: str,
    ) -> AttachmentSegment | None:
        where = f"{where}.contentAttachment"
        ok = True
        title = _str(attachment.get("title"))
        if title is None:
            ok = False
            self.add(REQUIRED, "Vedhæftningen mangler titel (title).", f"{where}.title")
        elif _FILE_ENDING.search(title):
            ok = False
            self.add(
                INVALID,
                f"Titlen på vedhæftningen '{title[:100]}' må ikke ende med en filendelse.",
                f"{where}.title",
            )
        content_type = _str(attachment.get("contentType"))
        if content_type is not None and content_type.lower() not in codes.ALLOWED_CONTENT_TYPES:
            ok = False
            allowed = ", ".join(sorted(codes.ALLOWED_CONTENT_TYPES))
            self.add(
                CODE_INVALID,
                f"Vedhæftningen '{(title or '')[:100]}' har filtypen {content_type[:60]}, som "
                f"ikke er tilladt; tilladt er {allowed}.",
                f"{where}.contentType",
            )
        data: bytes | None = None
        raw_data = attachment.get("data")
        if raw_data is not None:
            if content_type is None:
                ok = False
                self.add(
                    REQUIRED,
                    f"Vedhæftningen '{(title or '')[:100]}' mangler contentType.",
                    f"{where}.contentType",
                )
            try:
                if not isinstance(raw_data, str):
                    raise ValueError("not a string")
                data = base64.b64decode("".join(raw_data.split()), validate=True)
            except (ValueError, binascii.Error):
                ok = False
                self.add(
                    VALUE,
                    f"Vedhæftningen '{(title or '')[:100]}' er ikke gyldig base64.",
                    f"{where}.data",
                )
        url = _str(attachment.get("url"))
        if is_new and raw_data is None and url is None:
            ok = False
            self.add(
                REQUIRED,
                f"Den nye vedhæftning '{(title or '')[:100]}' mangler indhold (data) eller link (url).",
                where,
            )
        if not ok or identifier is None or timestamp is None or title is None:
            return None
        return AttachmentSegment(
            identifier=identifier,
            timestamp=timestamp,
            title=title,
            content_type=content_type.lower() if content_type else None,
            data=data,
            url=url,
            creation=parse_datetime(attachment.get("creation")),
            organization=organization,
        )

    def _new_ids_exist(self, new_ids: tuple[str, ...], segments: tuple[Segment, ...]) -> None:
        present = {s.identifier for s in segments}
        for value in new_ids:
            if value not in present:
                self.add(
                    INVALID,
                    f"Provenance angiver segmentet {value[:60]} som nyt, men det findes ikke i "
                    "Communication.payload.",
                    "Provenance.entity",
                )

    # ----------------------------------------------------------------- the rest

    def _profiles(self, entries: _Entries) -> None:
        for index, resource in enumerate(entries.resources):
            if not resource:
                self.add(
                    STRUCTURE,
                    f"Bundle.entry[{index}] indeholder ingen gyldig ressource.",
                    f"Bundle.entry[{index}]",
                )
            elif not _profiles(resource):
                self.add(
                    REQUIRED,
                    f"{resource['resourceType']}/{str(resource.get('id'))[:64]} mangler "
                    "meta.profile.",
                    f"Bundle.entry[{index}].resource.meta.profile",
                )

    @staticmethod
    def _episode_of_care_ids(
        entries: _Entries, communication: dict[str, Any] | None
    ) -> tuple[Identifier, ...]:
        encounters = []
        if communication is not None:
            referenced = entries.resolve(communication.get("encounter"), "Encounter")
            if referenced is not None:
                encounters = [referenced]
        found: list[Identifier] = []
        for encounter in encounters:
            for episode in _list(encounter.get("episodeOfCare")):
                identifier = _obj(_obj(episode).get("identifier"))
                value = _str(identifier.get("value"))
                if value:
                    system = identifier.get("system")
                    found.append(Identifier(system if isinstance(system, str) else None, value))
        return tuple(found)
