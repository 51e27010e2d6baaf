"""Helpers for the single entry's tests: MedCom's samples and reading acknowledgements."""

from __future__ import annotations

from pathlib import Path

# MedCom's sample bundles, beside the repository (../shared/medcom).
SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "medcom"
SAMPLES = sorted([*SHARED.glob("receive/Bundle-*"), *SHARED.glob("send/Bundle-*")])
ENDPOINT = "/api/medcom/messages"


def content_type_of(path: Path) -> str:
    return "application/fhir+xml" if path.suffix == ".xml" else "application/fhir+json"


def sample(part: str) -> Path:
    found = [p for p in SAMPLES if part in p.name]
    assert len(found) == 1, f"one sample matching {part!r} expected, found {found}"
    return found[0]


def ack_of(response) -> dict:
    """The acknowledgement bundle in a response, as a FHIR JSON dict (either format)."""
    from tovholder.medcom import parse_bundle

    return parse_bundle(response.content, response["Content-Type"])


def ack_header(ack: dict) -> dict:
    return ack["entry"][0]["resource"]


def ack_code(response) -> str:
    return ack_header(ack_of(response))["response"]["code"]


def outcome_texts(response) -> list[str]:
    ack = ack_of(response)
    return [issue["details"]["text"] for e in ack["entry"] if e["resource"]["resourceType"] == "OperationOutcome"
            for issue in e["resource"]["issue"]]


def bundle_of(body: bytes, content_type: str = "application/fhir+json") -> dict:
    from tovholder.medcom import parse_bundle

    return parse_bundle(body, content_type)


def header_of(bundle: dict) -> dict:
    return bundle["entry"][0]["resource"]


def resources(bundle: dict, resource_type: str) -> list[dict]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == resource_type]
