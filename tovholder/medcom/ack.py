"""Build the MedCom Acknowledgement (v2.0) for a received message, and read one we receive.

Every received message is acknowledged: ``ok`` once it is safely stored,
``fatal-error`` (with an OperationOutcome saying what to fix) when it cannot be
accepted, ``transient-error`` when the sender should try again later.

The result depends only on the arguments (resource ids are derived from
``ack_id``; no clock or randomness is read), so acknowledging the same message
again gives the identical bundle. The caller still stores the serialised bytes
and returns those for a duplicate.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Sequence
from typing import Any, Literal

from . import codes
from .errors import INVALID, REQUIRED, MessageRejected, Problem
from .fhirxml import resource_to_xml
from .identifiers import check_gln, check_sor
from .model import AcknowledgementInfo, CareCommunication, MessageIdentity, Org
from .narrative import derived_id, narrative
from .validate import _Entries, identify, parse_datetime

AckCode = Literal["ok", "transient-error", "fatal-error"]
ACK_CODES: tuple[str, ...] = ("ok", "transient-error", "fatal-error")

# FHIR R4 issue-type codes (http://hl7.org/fhir/issue-type); anything else -> "processing".
_ISSUE_TYPES = frozenset(
    """
    invalid structure required value invariant security login unknown expired forbidden
    suppressed processing not-supported duplicate multiple-matches not-found deleted
    too-long code-invalid extension too-costly business-rule conflict transient
    lock-error no-store exception timeout incomplete throttled informational
    """.split()
)
_CODE_NAMES_DA = {
    "ok": "modtaget og accepteret",
    "transient-error": "midlertidig fejl; send venligst igen senere",
    "fatal-error": "afvist; beskeden kan ikke modtages i denne form",
}


def build_acknowledgement(
    msg_or_raw: CareCommunication | dict[str, Any] | None,
    *,
    code: AckCode,
    problems: Sequence[Problem] | None = None,
    our_org: Org,
    ack_id: str,
    ack_bundle_id: str,
    now: dt.datetime,
    our_endpoint: str | None = None,
    reply_to: Org | None = None,
    reply_endpoint: str | None = None,
) -> dict[str, Any]:
    """The Acknowledgement bundle (FHIR JSON dict) for a received message.

    ``msg_or_raw`` is the interpreted message, or the raw bundle dict when it could
    not be interpreted, or None when not even that could be read. ``ack_id`` is the
    acknowledgement's MessageHeader.id, ``ack_bundle_id`` its Bundle.id.

    ``our_endpoint`` defaults to the endpoint the sender addressed us at, else our
    SOR endpoint. ``reply_to``/``reply_endpoint`` name the original sender when the
    message itself does not tell (e.g. known from the transport envelope).
    """
    if code not in ACK_CODES:
        raise ValueError(f"unknown acknowledgement code {code!r}")
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    for ok, reason in (check_sor(our_org.sor), check_gln(our_org.ean)):
        if not ok:
            raise ValueError(f"our_org: {reason}")

    if isinstance(msg_or_raw, CareCommunication):
        raw = msg_or_raw.raw
        identity = MessageIdentity(
            bundle_id=msg_or_raw.bundle_id,
            header_id=msg_or_raw.header_id,
            event_code=msg_or_raw.event_code,
            source_endpoint=msg_or_raw.source_endpoint,
            sender=msg_or_raw.sender,
            sender_resource_id=identify(raw).sender_resource_id,
        )
        our_endpoint = our_endpoint or msg_or_raw.destination_endpoint
    else:
        raw = msg_or_raw if isinstance(msg_or_raw, dict) else {}
        identity = identify(raw)
        our_endpoint = our_endpoint or _destination_endpoint(raw)
    our_endpoint = _clean(our_endpoint) or codes.SOR_ENDPOINT_PREFIX + our_org.sor

    their_org = _clean_org(reply_to or identity.sender)
    their_endpoint = _clean(reply_endpoint or identity.source_endpoint)
    if their_endpoint is None and their_org is not None:
        their_endpoint = codes.SOR_ENDPOINT_PREFIX + their_org.sor

    timestamp = now.isoformat(timespec="seconds")
    our_org_id = derived_id(ack_id, "Organization", "us", our_org.sor)
    # Reuse the sender's Organization id from the original message, so that the
    # copied Provenance (whose agent is normally that organisation) still resolves.
    their_org_id = _clean(identity.sender_resource_id) or (
        derived_id(ack_id, "Organization", "them", their_org.sor) if their_org else None
    )
    provenance_id = derived_id(ack_id, "Provenance")
    outcome_id = derived_id(ack_id, "OperationOutcome") if code != "ok" else None

    # response.identifier is the acknowledged MessageHeader.id. For a message so
    # broken that no header id could be read we fall back to its Bundle.id, which
    # at least lets the sender correlate; with neither, the identifier is left out
    # (FHIR requires it, but inventing one would point at the wrong message).
    acknowledged_id = _clean(identity.header_id or identity.bundle_id)

    header = _header(
        ack_id,
        code,
        acknowledged_id,
        our_org_id,
        our_endpoint,
        their_org_id if their_org else None,
        their_endpoint,
        outcome_id,
    )
    entries: list[tuple[str, dict[str, Any]]] = [("MessageHeader", header)]

    copied = _latest_provenance(raw, identity.header_id)
    if copied is not None:
        entries.append(("Provenance", copied))
    entries.append(
        (
            "Provenance",
            _ack_provenance(provenance_id, ack_id, our_org_id, identity.header_id, timestamp),
        )
    )
    if their_org is not None and their_org_id is not None:
        entries.append(
            (
                "Organization",
                _organization(their_org_id, their_org, "Afsender af den kvitterede besked"),
            )
        )
    entries.append(("Organization", _organization(our_org_id, our_org, "Afsender af kvitteringen")))
    included = {our_org_id, their_org_id} if their_org is not None else {our_org_id}
    entries.extend(_referenced_organizations(raw, copied, included))
    if outcome_id is not None:
        entries.append(("OperationOutcome", _outcome(outcome_id, code, problems)))

    return {
        "resourceType": "Bundle",
        "id": ack_bundle_id,
        "meta": {"profile": [codes.PROFILE_ACK_MESSAGE]},
        "type": "message",
        "timestamp": timestamp,
        "entry": [
            {"fullUrl": f"{codes.ACK_FULL_URL_BASE}{kind}/{resource['id']}", "resource": resource}
            for kind, resource in entries
        ],
    }


# Anything taken from a received message may be malformed. What we copy must still
# make a well-formed acknowledgement, so strings lose control characters (XML cannot
# carry them) and copied resources are dropped if they cannot be serialised.
_CONTROL = {code: None for code in range(0x20)}


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    cleaned = value.translate(_CONTROL).strip()
    return cleaned or None


def _clean_org(org: Org | None) -> Org | None:
    if org is None:
        return None
    return Org(name=_clean(org.name), sor=_clean(org.sor) or "", ean=_clean(org.ean))


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _safe_copy(resource: dict[str, Any]) -> dict[str, Any] | None:
    """A deep copy of a received resource, or None if it would break the acknowledgement."""
    copied = copy.deepcopy(resource)
    try:
        resource_to_xml(copied)
        json.dumps(copied, allow_nan=False)
    except (ValueError, TypeError):
        return None
    return copied


def _destination_endpoint(raw: dict[str, Any]) -> str | None:
    """The endpoint the sender addressed (ours), read leniently from a raw bundle."""
    try:
        header = next(
            e["resource"]
            for e in raw.get("entry", [])
            if isinstance(e, dict)
            and isinstance(e.get("resource"), dict)
            and e["resource"].get("resourceType") == "MessageHeader"
        )
        endpoint = header["destination"][0]["endpoint"]
    except (StopIteration, KeyError, IndexError, TypeError, AttributeError):
        return None
    return endpoint if isinstance(endpoint, str) and endpoint.strip() else None


def _header(
    ack_id: str,
    code: str,
    acknowledged_id: str | None,
    our_org_id: str,
    our_endpoint: str,
    their_org_id: str | None,
    their_endpoint: str | None,
    outcome_id: str | None,
) -> dict[str, Any]:
    destination: dict[str, Any] = {
        "extension": [
            {
                "url": codes.DESTINATION_USE_URL,
                "valueCoding": {"system": codes.DESTINATION_USE_SYSTEM, "code": "primary"},
            }
        ]
    }
    if their_endpoint:
        destination["endpoint"] = their_endpoint
    if their_org_id:
        destination["receiver"] = {"reference": f"Organization/{their_org_id}"}
    response: dict[str, Any] = {}
    if acknowledged_id:
        response["identifier"] = acknowledged_id
    response["code"] = code
    if outcome_id:
        response["details"] = {"reference": f"OperationOutcome/{outcome_id}"}
    return {
        "resourceType": "MessageHeader",
        "id": ack_id,
        "meta": {"profile": [codes.PROFILE_ACK_MESSAGE_HEADER]},
        "text": narrative(
            ("Kvittering", _CODE_NAMES_DA[code]),
            ("Kvitterer for MessageHeader", acknowledged_id or "ukendt"),
        ),
        "eventCoding": {"system": codes.EVENT_SYSTEM, "code": codes.ACKNOWLEDGEMENT_EVENT},
        "destination": [destination],
        "sender": {"reference": f"Organization/{our_org_id}"},
        "source": {"endpoint": our_endpoint},
        "response": response,
        "definition": codes.ACKNOWLEDGEMENT_DEFINITION,
    }


def _provenances(raw: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for entry in _as_list(raw.get("entry")):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if (
            isinstance(resource, dict)
            and resource.get("resourceType") == "Provenance"
            and isinstance(resource.get("id"), str)
        ):
            found.append(resource)
    return found


def _latest_provenance(raw: dict[str, Any], header_id: str | None) -> dict[str, Any] | None:
    """A copy of the acknowledged message's own Provenance (the latest in its thread)."""
    provenances = _provenances(raw)
    if not provenances:
        return None
    chosen = None
    if header_id:
        for provenance in provenances:
            for target in _as_list(provenance.get("target")):
                reference = target.get("reference") if isinstance(target, dict) else None
                if isinstance(reference, str) and reference.rsplit("/", 1)[-1] == header_id:
                    chosen = chosen or provenance

    # No Provenance targets the header: take the most recently recorded one.
    def recorded(provenance: dict[str, Any]) -> dt.datetime:
        moment = parse_datetime(provenance.get("recorded"))
        return moment or dt.datetime.min.replace(tzinfo=dt.UTC)

    return _safe_copy(chosen or max(provenances, key=recorded))


def _referenced_organizations(
    raw: dict[str, Any], provenance: dict[str, Any] | None, included: set[str | None]
) -> list[tuple[str, dict[str, Any]]]:
    """Organizations the copied Provenance refers to that are not already included."""
    if provenance is None:
        return []
    wanted = []
    for agent in _as_list(provenance.get("agent")):
        who = agent.get("who") if isinstance(agent, dict) else None
        reference = who.get("reference") if isinstance(who, dict) else None
        if isinstance(reference, str) and reference.startswith("Organization/"):
            org_id = reference.split("/", 1)[1]
            if org_id not in included:
                wanted.append(org_id)
    found = []
    for entry in _as_list(raw.get("entry")):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if (
            isinstance(resource, dict)
            and resource.get("resourceType") == "Organization"
            and resource.get("id") in wanted
        ):
            wanted.remove(resource["id"])
            copied = _safe_copy(resource)
            if copied is not None:
                found.append(("Organization", copied))
    return found


def _ack_provenance(
    provenance_id: str, ack_id: str, our_org_id: str, header_id: str | None, timestamp: str
) -> dict[str, Any]:
    provenance: dict[str, Any] = {
        "resourceType": "Provenance",
        "id": provenance_id,
        "meta": {"profile": [codes.PROFILE_MESSAGING_PROVENANCE]},
        "text": narrative(
            ("Aktivitet", "kvittering sendt"),
            ("Kvitterer for MessageHeader", header_id or "ukendt"),
        ),
        "target": [{"reference": f"MessageHeader/{ack_id}"}],
        "occurredDateTime": timestamp,
        "recorded": timestamp,
        "activity": {
            "coding": [{"system": codes.ACTIVITY_SYSTEM, "code": codes.ACKNOWLEDGEMENT_ACTIVITY}]
        },
        "agent": [{"who": {"reference": f"Organization/{our_org_id}"}}],
    }
    if header_id:
        provenance["entity"] = [
            {"role": "revision", "what": {"reference": f"MessageHeader/{header_id}"}}
        ]
    return provenance


def _organization(org_id: str, org: Org, role: str) -> dict[str, Any]:
    identifiers = []
    if org.ean:
        identifiers.append({"system": codes.GLN_SYSTEM, "value": org.ean})
    identifiers.append({"system": codes.SOR_SYSTEM, "value": org.sor})
    resource: dict[str, Any] = {
        "resourceType": "Organization",
        "id": org_id,
        "meta": {"profile": [codes.PROFILE_ORGANIZATION]},
        "text": narrative(
            (role, org.name or "(uden navn)"),
            ("SOR", org.sor),
            ("EAN", org.ean or "ukendt"),
        ),
        "identifier": identifiers,
    }
    if org.name:
        resource["name"] = org.name
    return resource


def _outcome(outcome_id: str, code: str, problems: Sequence[Problem] | None) -> dict[str, Any]:
    problems = list(problems or [])
    if not problems:
        if code == "transient-error":
            problems = [
                Problem("transient", "Beskeden kunne ikke behandles lige nu; send den igen senere.")
            ]
        else:
            problems = [Problem("processing", "Beskeden kunne ikke behandles.")]
    issues = []
    for problem in problems:
        issue: dict[str, Any] = {
            "severity": "error",
            "code": problem.code if problem.code in _ISSUE_TYPES else "processing",
            "details": {"text": problem.text},
            "diagnostics": problem.text,
        }
        if problem.location:
            issue["expression"] = [problem.location]
        issues.append(issue)
    return {
        "resourceType": "OperationOutcome",
        "id": outcome_id,
        "meta": {"profile": [codes.PROFILE_ACK_OPERATION_OUTCOME]},
        "text": narrative(*(("Fejl", p.text) for p in problems)),
        "issue": issues,
    }


def read_acknowledgement(bundle: Any) -> AcknowledgementInfo:
    """Read an Acknowledgement bundle sent to us for a message we sent.

    Lenient about everything but what matching needs: ``response.identifier`` (the
    acknowledged MessageHeader.id) and a known ``response.code``. Raises
    :class:`MessageRejected` without them. An acknowledgement is never acknowledged,
    so the problems are for our own log and a person, not for the sender.
    """
    bundle = bundle if isinstance(bundle, dict) else {}
    entries = _Entries(bundle)
    headers = entries.of_type("MessageHeader")
    header = headers[0] if headers else {}
    event = header.get("eventCoding") if isinstance(header.get("eventCoding"), dict) else {}
    if event.get("code") != codes.ACKNOWLEDGEMENT_EVENT:
        raise MessageRejected(
            Problem(INVALID, "Beskeden er ikke en kvittering (acknowledgement-message).",
                    "MessageHeader.eventCoding")
        )
    response = header.get("response") if isinstance(header.get("response"), dict) else {}
    acknowledged = response.get("identifier")
    code = response.get("code")
    problems = []
    if not isinstance(acknowledged, str) or not acknowledged.strip():
        problems.append(Problem(REQUIRED, "Kvitteringen mangler response.identifier.",
                                "MessageHeader.response.identifier"))
    if code not in ACK_CODES:
        problems.append(Problem(INVALID, f"Kvitteringen har en ukendt response.code ({str(code)[:40]}).",
                                "MessageHeader.response.code"))
    if problems:
        raise MessageRejected(problems)
    texts: list[str] = []
    referenced = entries.resolve(response.get("details"), "OperationOutcome")
    for outcome in [referenced] if referenced else entries.of_type("OperationOutcome"):
        for issue in _as_list(outcome.get("issue")):
            if not isinstance(issue, dict):
                continue
            details = issue.get("details") if isinstance(issue.get("details"), dict) else {}
            text = details.get("text") or issue.get("diagnostics")
            if isinstance(text, str) and text.strip() and text.strip() not in texts:
                texts.append(text.strip())
    identity = identify(bundle)
    return AcknowledgementInfo(
        bundle_id=identity.bundle_id,
        header_id=identity.header_id,
        acknowledged_id=acknowledged.strip(),
        code=code,
        texts=tuple(texts),
        sender=identity.sender,
    )
