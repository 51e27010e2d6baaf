"""Read a received HTTP body or file as a FHIR bundle dict, safely.

Limits are enforced before any parsing: a body over 50 MB (MedCom's maximum
message size) is refused unread, XML goes through defusedxml only, and JSON
nested deeper than any real message is refused, so a hostile body cannot make
us spend unbounded memory or time.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from .errors import NOT_SUPPORTED, STRUCTURE, TOO_COSTLY, MessageRejected, Problem
from .fhirxml import xml_to_resource

MAX_BODY_BYTES = 50 * 1024 * 1024
MAX_JSON_DEPTH = 100

Format = Literal["json", "xml"]

_JSON_TYPES = {"application/fhir+json", "application/json", "application/json+fhir"}
_XML_TYPES = {"application/fhir+xml", "application/xml", "text/xml", "application/xml+fhir"}


def format_for_content_type(content_type: str | None) -> Format:
    """``"json"`` or ``"xml"`` for a Content-Type header (parameters such as charset ignored).

    Raises MessageRejected for anything else.
    """
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type in _JSON_TYPES:
        return "json"
    if media_type in _XML_TYPES:
        return "xml"
    shown = media_type or "(ingen)"
    raise MessageRejected(
        Problem(
            NOT_SUPPORTED,
            f"Indholdstypen {shown} understøttes ikke; send beskeden som "
            "application/fhir+json eller application/fhir+xml.",
        )
    )


def parse_bundle(body: bytes, content_type: str | None) -> dict[str, Any]:
    """Parse a FHIR JSON or XML body into the FHIR JSON dict shape.

    Checks only that it is readable and is a Bundle; :func:`validate.interpret`
    checks the content. Raises :class:`MessageRejected` with a Danish reason.
    """
    if len(body) > MAX_BODY_BYTES:
        raise MessageRejected(
            Problem(
                TOO_COSTLY,
                f"Beskeden fylder {len(body) / (1024 * 1024):.1f} MB; en MedCom-besked "
                "må højst fylde 50 MB inklusive vedhæftede filer.",
            )
        )
    fmt = format_for_content_type(content_type)
    if not body.strip():
        raise MessageRejected(Problem(STRUCTURE, "Beskeden er tom."))
    bundle = _parse_json(body) if fmt == "json" else xml_to_resource(body)
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        found = bundle.get("resourceType") if isinstance(bundle, dict) else None
        raise MessageRejected(
            Problem(
                STRUCTURE,
                f"Beskeden er ikke et FHIR Bundle (fandt {found or 'ingen resourceType'}).",
                "Bundle",
            )
        )
    return bundle


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} er ikke tilladt i JSON")


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _parse_json(body: bytes) -> Any:
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MessageRejected(
            Problem(
                STRUCTURE,
                f"Beskeden er ikke gyldig UTF-8 (fejl ved byte {exc.start}); FHIR JSON skal "
                "være UTF-8.",
            )
        ) from exc
    try:
        data = json.loads(
            text, object_pairs_hook=_no_duplicate_keys, parse_constant=_reject_constant
        )
    except json.JSONDecodeError as exc:
        raise MessageRejected(
            Problem(
                STRUCTURE,
                f"Beskeden kan ikke læses som JSON: fejl i linje {exc.lineno}, tegn "
                f"{exc.colno}. Kontrollér at beskeden er gyldig JSON.",
            )
        ) from exc
    except _DuplicateKey as exc:
        raise MessageRejected(
            Problem(
                STRUCTURE,
                f'Beskeden har feltet "{exc.key[:100]}" to gange i samme objekt; det er '
                "ikke tilladt i FHIR JSON.",
            )
        ) from exc
    except ValueError as exc:  # NaN / Infinity
        raise MessageRejected(
            Problem(STRUCTURE, f"Beskeden kan ikke læses som JSON: {exc}.")
        ) from exc
    except RecursionError as exc:
        raise _too_deep() from exc
    if _depth_exceeds(data, MAX_JSON_DEPTH):
        raise _too_deep()
    return data


def _too_deep() -> MessageRejected:
    return MessageRejected(
        Problem(TOO_COSTLY, f"Beskeden er indlejret dybere end {MAX_JSON_DEPTH} niveauer.")
    )


def _depth_exceeds(data: Any, limit: int) -> bool:
    """Iterative depth check (no recursion, so it cannot itself overflow)."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(node, dict):
            stack.extend(
                (child, depth + 1) for child in node.values() if isinstance(child, (dict, list))
            )
        elif isinstance(node, list):
            stack.extend((child, depth + 1) for child in node if isinstance(child, (dict, list)))
    return False
