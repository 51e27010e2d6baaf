"""FHIR R4 XML <-> the FHIR JSON dict shape.

The rest of the package works on one representation only: the dict you get from
``json.loads`` of FHIR JSON. This module turns FHIR XML into that shape and back.

XML is parsed with :mod:`defusedxml` only, with DTDs, entity declarations and
external references forbidden: a FHIR message never needs them, and they are the
doors for XXE and "billion laughs" attacks.

FHIR XML rules applied (https://hl7.org/fhir/R4/xml.html):

- primitive values live in the ``value`` attribute; a primitive's ``id`` and
  ``extension`` go to the JSON ``_name`` sibling;
- ``id`` on a complex element and ``url`` on an extension are attributes, while a
  resource's own ``id`` is an element;
- a resource sits inside its container element (``<resource><Patient>…``);
- the narrative ``<div>`` is XHTML and is kept as a string;
- XML has no array marker, so repeating elements are recognised from a table of
  FHIR R4 cardinalities for the resources MedCom uses, and any element that
  occurs more than once becomes a list as well.

Primitive values stay strings, except booleans (see ``_BOOLEAN_ELEMENTS``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException, DTDForbidden, EntitiesForbidden

from .errors import SECURITY, STRUCTURE, TOO_COSTLY, MessageRejected, Problem

FHIR_NS = "http://hl7.org/fhir"
XHTML_NS = "http://www.w3.org/1999/xhtml"
_XML_NS = "http://www.w3.org/XML/1998/namespace"

# Deeper than any real FHIR message (the narrative XHTML included); anything
# deeper is an attack on the recursive conversion below.
MAX_XML_DEPTH = 100

# Element names that are lists wherever they occur in the R4 resources and data
# types MedCom uses (extension, CodeableConcept.coding, HumanName.given, …).
_ALWAYS_REPEATING = frozenset(
    {
        "extension",
        "modifierExtension",
        "contained",
        "coding",
        "given",
        "prefix",
        "suffix",
        "line",
        "profile",
        "tag",
        "security",
        "telecom",
        "entry",
        "link",
        "payload",
        "note",
        "recipient",
        "focus",
        "agent",
        "entity",
        "target",
        "category",
        "contact",
        "issue",
        "basedOn",
        "reasonCode",
        "reasonReference",
        "participant",
    }
)

# Names whose cardinality depends on where they are ("name" is a list in Patient
# but a string in Organization). Key: the parent's path from its resource.
_REPEATING_IN: dict[str, frozenset[str]] = {
    key: frozenset(names)
    for key, names in {
        "MessageHeader": {"destination", "focus"},
        "Communication": {
            "identifier",
            "instantiatesCanonical",
            "instantiatesUri",
            "partOf",
            "inResponseTo",
            "medium",
            "about",
        },
        "Patient": {
            "identifier",
            "name",
            "address",
            "photo",
            "communication",
            "generalPractitioner",
        },
        "Patient.contact": {"relationship"},
        "Practitioner": {
            "identifier",
            "name",
            "address",
            "photo",
            "qualification",
            "communication",
        },
        "Practitioner.qualification": {"identifier"},
        "PractitionerRole": {
            "identifier",
            "code",
            "specialty",
            "location",
            "healthcareService",
            "availableTime",
            "notAvailable",
            "endpoint",
        },
        "PractitionerRole.availableTime": {"daysOfWeek"},
        "Organization": {"identifier", "type", "alias", "address", "endpoint"},
        "Provenance": {"policy", "reason", "signature"},
        "Provenance.agent": {"role"},
        "Provenance.entity.agent": {"role"},
        "Encounter": {
            "identifier",
            "statusHistory",
            "classHistory",
            "type",
            "episodeOfCare",
            "appointment",
            "diagnosis",
            "account",
            "location",
        },
        "Encounter.participant": {"type"},
        "Encounter.hospitalization": {"dietPreference", "specialCourtesy", "specialArrangement"},
        "EpisodeOfCare": {
            "identifier",
            "statusHistory",
            "type",
            "diagnosis",
            "referralRequest",
            "team",
            "account",
        },
        "CareTeam": {"identifier", "managingOrganization"},
        "CareTeam.participant": {"role"},
        "OperationOutcome.issue": {"location", "expression"},
    }.items()
}

# Nearly every resource has identifier 0..*; Bundle (0..1) is the exception we meet.
_SINGLE_IDENTIFIER_RESOURCES = frozenset({"Bundle"})

# Booleans we convert to JSON true/false. Restricted to known boolean elements so a
# free-text string that happens to read "true" is never turned into a bool.
_BOOLEAN_ELEMENTS = frozenset({"active", "allDay", "userSelected", "preferred"})

# Primitive elements that may appear with extensions but no value, e.g. a family
# name replaced by a data-absent-reason extension; they become "_name" in JSON.
_KNOWN_PRIMITIVES = frozenset(
    {
        "family",
        "given",
        "prefix",
        "suffix",
        "text",
        "line",
        "city",
        "postalCode",
        "country",
        "system",
        "value",
        "code",
        "display",
        "version",
        "use",
        "status",
        "reference",
        "title",
        "contentType",
        "data",
        "url",
        "creation",
        "endpoint",
        "definition",
        "timestamp",
        "recorded",
        "role",
        "birthDate",
        "gender",
        "sent",
        "received",
        "priority",
    }
)
_PRIMITIVE_TYPE_SUFFIXES = (
    "Base64Binary",
    "Boolean",
    "Canonical",
    "Code",
    "Date",
    "DateTime",
    "Decimal",
    "Id",
    "Instant",
    "Integer",
    "Markdown",
    "Oid",
    "PositiveInt",
    "String",
    "Time",
    "UnsignedInt",
    "Uri",
    "Url",
    "Uuid",
)


def _rejected(code: str, text: str, location: str | None = None) -> MessageRejected:
    return MessageRejected(Problem(code, text, location))


# --------------------------------------------------------------------------- XML -> dict


def xml_to_resource(data: bytes) -> dict[str, Any]:
    """Parse FHIR XML bytes into the FHIR JSON dict shape.

    Raises :class:`MessageRejected` for malformed XML, for DTDs/entities (refused
    for safety) and for documents that are not FHIR XML.
    """
    try:
        root = SafeET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DTDForbidden as exc:
        raise _rejected(
            SECURITY,
            "XML-beskeden indeholder en DOCTYPE-erklæring (DTD). Det er ikke tilladt i "
            "FHIR-beskeder; send beskeden uden <!DOCTYPE …>.",
        ) from exc
    except EntitiesForbidden as exc:
        raise _rejected(
            SECURITY,
            "XML-beskeden erklærer egne entiteter (<!ENTITY …>). Det er ikke tilladt i "
            "FHIR-beskeder.",
        ) from exc
    except DefusedXmlException as exc:
        raise _rejected(
            SECURITY,
            "XML-beskeden henviser til eksterne ressourcer eller entiteter. Det er ikke "
            "tilladt i FHIR-beskeder.",
        ) from exc
    except ParseError as exc:
        line, column = getattr(exc, "position", (None, None))
        raise _rejected(
            STRUCTURE,
            f"Beskeden kan ikke læses som XML: fejl i linje {line}, tegn {column}. "
            "Kontrollér at beskeden er gyldig XML.",
        ) from exc
    except (ValueError, UnicodeError) as exc:
        raise _rejected(
            STRUCTURE, "Beskeden kan ikke læses som XML (ugyldig tegnkodning)."
        ) from exc

    namespace, name = _split(root.tag)
    if namespace != FHIR_NS:
        raise _rejected(
            STRUCTURE,
            f"XML-beskedens rodelement <{name}> er ikke i FHIR-navnerummet {FHIR_NS}.",
            name,
        )
    return _resource(root, depth=1)


@lru_cache(maxsize=1024)  # a message repeats the same few dozen tags thousands of times
def _split(tag: str) -> tuple[str | None, str]:
    if tag.startswith("{"):
        namespace, _, local = tag[1:].partition("}")
        return namespace, local
    return None, tag


def _resource(elem: Element, depth: int) -> dict[str, Any]:
    resource_type = _split(elem.tag)[1]
    out: dict[str, Any] = {"resourceType": resource_type}
    _children_into(elem, out, resource_type, depth)
    return out


@lru_cache(maxsize=1024)
def _is_repeating(context: str, name: str) -> bool:
    if name in _ALWAYS_REPEATING:
        return True
    if name in _REPEATING_IN.get(context, ()):
        return True
    # A direct child of a resource we have no table for: identifier is 0..* there.
    return (
        name == "identifier"
        and "." not in context
        and context not in _REPEATING_IN
        and context not in _SINGLE_IDENTIFIER_RESOURCES
    )


def _children_into(elem: Element, out: dict[str, Any], context: str, depth: int) -> None:
    if depth > MAX_XML_DEPTH:
        raise _rejected(
            TOO_COSTLY, f"XML-beskeden er indlejret dybere end {MAX_XML_DEPTH} niveauer."
        )
    if elem.text and elem.text.strip():
        raise _rejected(
            STRUCTURE,
            f"XML-elementet <{_split(elem.tag)[1]}> indeholder tekst; i FHIR-XML står "
            "værdier i attributten value.",
            context,
        )
    groups: dict[str, list[Element]] = {}
    for child in elem:
        namespace, name = _split(child.tag)
        if child.tail and child.tail.strip():
            raise _rejected(
                STRUCTURE,
                f"Der står løs tekst efter XML-elementet <{name}>; i FHIR-XML står "
                "værdier i attributten value.",
                context,
            )
        if namespace == XHTML_NS and name == "div":
            out["div"] = xhtml_to_string(child, depth + 1)
            continue
        if namespace != FHIR_NS:
            raise _rejected(
                STRUCTURE,
                f"XML-elementet <{name}> er ikke i FHIR-navnerummet {FHIR_NS}.",
                f"{context}.{name}",
            )
        groups.setdefault(name, []).append(child)

    for name, children in groups.items():
        path = f"{context}.{name}"
        converted = [_element(child, name, path, depth + 1) for child in children]
        values = [value for value, _ in converted]
        extras = [extra for _, extra in converted]
        if len(children) > 1 or _is_repeating(context, name):
            if any(value is not None for value in values):
                out[name] = values
            if any(extra is not None for extra in extras):
                out["_" + name] = extras
        else:
            if values[0] is not None:
                out[name] = values[0]
            if extras[0] is not None:
                out["_" + name] = extras[0]


def _element(elem: Element, name: str, path: str, depth: int) -> tuple[Any, Any]:
    """Convert one FHIR element; returns (JSON value, JSON "_name" value or None)."""
    children = list(elem)
    if "value" in elem.attrib:
        return _primitive(elem, name, depth)

    # A resource container (Bundle.entry.resource, contained, …) holds exactly one
    # element whose name starts with a capital letter: the resource type.
    if len(children) == 1 and not elem.attrib:
        namespace, child_name = _split(children[0].tag)
        if namespace == FHIR_NS and child_name[:1].isupper():
            if depth > MAX_XML_DEPTH:
                raise _rejected(
                    TOO_COSTLY, f"XML-beskeden er indlejret dybere end {MAX_XML_DEPTH} niveauer."
                )
            return _resource(children[0], depth + 1), None

    if _looks_primitive(name) and all(
        _split(child.tag) == (FHIR_NS, "extension") for child in children
    ):
        # A primitive without a value, carrying only id/extensions.
        return _primitive(elem, name, depth)

    out: dict[str, Any] = {}
    if "id" in elem.attrib:
        out["id"] = elem.attrib["id"]
    if "url" in elem.attrib:
        out["url"] = elem.attrib["url"]
    # The path below the nearest resource is the context key for _REPEATING_IN.
    _children_into(elem, out, path, depth)
    return out, None


@lru_cache(maxsize=1024)
def _looks_primitive(name: str) -> bool:
    if name in _KNOWN_PRIMITIVES:
        return True
    return any(
        name.endswith(suffix) and len(name) > len(suffix) and name[0].islower()
        for suffix in _PRIMITIVE_TYPE_SUFFIXES
    )


def _primitive(elem: Element, name: str, depth: int) -> tuple[Any, Any]:
    raw = elem.attrib.get("value")
    value: Any = raw
    if raw is not None and (name in _BOOLEAN_ELEMENTS or name.endswith("Boolean")):
        if raw in ("true", "false"):
            value = raw == "true"
    extra: dict[str, Any] = {}
    if "id" in elem.attrib:
        extra["id"] = elem.attrib["id"]
    if len(elem):
        _children_into(elem, extra, "Element.primitive", depth)
    return value, (extra or None)


def xhtml_to_string(elem: Element, depth: int = 0) -> str:
    """Serialise an XHTML element as FHIR JSON keeps it: default namespace on the root."""
    parts: list[str] = []
    _xhtml_write(elem, parts, depth, root=True)
    return "".join(parts)


def _xhtml_write(elem: Element, parts: list[str], depth: int, root: bool) -> None:
    if depth > MAX_XML_DEPTH:
        raise _rejected(
            TOO_COSTLY, f"XML-beskeden er indlejret dybere end {MAX_XML_DEPTH} niveauer."
        )
    name = _split(elem.tag)[1]
    parts.append("<" + name)
    if root:
        parts.append(f' xmlns="{XHTML_NS}"')
    for key, value in elem.attrib.items():
        namespace, local = _split(key)
        if namespace == _XML_NS:
            local = "xml:" + local
        parts.append(f' {local}="{_escape_attr(value)}"')
    if elem.text is None and len(elem) == 0:
        parts.append("/>")
        return
    parts.append(">")
    if elem.text:
        parts.append(_escape_text(elem.text))
    for child in elem:
        _xhtml_write(child, parts, depth + 1, root=False)
        if child.tail:
            parts.append(_escape_text(child.tail))
    parts.append(f"</{name}>")


# --------------------------------------------------------------------------- dict -> XML


def resource_to_xml(resource: dict[str, Any]) -> bytes:
    """Serialise a FHIR JSON dict (a resource, normally a Bundle) as FHIR XML bytes.

    Output is deterministic: the dict's key order is the element order, so build
    dicts in FHIR element order. Raises ValueError for things XML cannot carry.
    """
    if not isinstance(resource, dict) or "resourceType" not in resource:
        raise ValueError("resource_to_xml needs a dict with resourceType")
    lines: list[str] = ['<?xml version="1.0" encoding="UTF-8"?>']
    _write_resource(resource, lines, indent=0, root=True)
    return ("\n".join(lines) + "\n").encode("utf-8")


def _write_resource(resource: dict[str, Any], lines: list[str], indent: int, root: bool) -> None:
    pad = "  " * indent
    resource_type = resource["resourceType"]
    xmlns = f' xmlns="{FHIR_NS}"' if root else ""
    lines.append(f"{pad}<{resource_type}{xmlns}>")
    _write_properties(resource, lines, indent + 1, attributes=())
    lines.append(f"{pad}</{resource_type}>")


def _property_names(obj: dict[str, Any]) -> Iterable[str]:
    """Element names in key order, a "_name" alone counting as its element."""
    seen: set[str] = set()
    for key in obj:
        name = key[1:] if key.startswith("_") else key
        if name in seen or name == "resourceType":
            continue
        seen.add(name)
        yield name


def _write_properties(
    obj: dict[str, Any], lines: list[str], indent: int, attributes: Iterable[str]
) -> None:
    skip = set(attributes)
    for name in _property_names(obj):
        if name in skip:
            continue
        value = obj.get(name)
        extra = obj.get("_" + name)
        if isinstance(value, list) or isinstance(extra, list):
            values = value if isinstance(value, list) else []
            extras = extra if isinstance(extra, list) else []
            for index in range(max(len(values), len(extras))):
                item = values[index] if index < len(values) else None
                item_extra = extras[index] if index < len(extras) else None
                _write_element(name, item, item_extra, lines, indent)
        else:
            _write_element(name, value, extra, lines, indent)


def _write_element(name: str, value: Any, extra: Any, lines: list[str], indent: int) -> None:
    pad = "  " * indent
    if isinstance(value, dict):
        if "resourceType" in value:
            lines.append(f"{pad}<{name}>")
            _write_resource(value, lines, indent + 1, root=False)
            lines.append(f"{pad}</{name}>")
            return
        attributes = ["id"]
        if name in ("extension", "modifierExtension"):
            attributes.append("url")
        attrs = "".join(
            f' {attr}="{_escape_attr(_primitive_text(value[attr]))}"'
            for attr in attributes
            if attr in value
        )
        inner: list[str] = []
        _write_properties(value, inner, indent + 1, attributes)
        if inner:
            lines.append(f"{pad}<{name}{attrs}>")
            lines.extend(inner)
            lines.append(f"{pad}</{name}>")
        else:
            lines.append(f"{pad}<{name}{attrs}/>")
        return
    if name == "div" and isinstance(value, str):
        lines.append(pad + _normalise_div(value))
        return
    if value is None and extra is None:
        return
    attrs = ""
    if isinstance(extra, dict) and "id" in extra:
        attrs += f' id="{_escape_attr(_primitive_text(extra["id"]))}"'
    if value is not None:
        attrs += f' value="{_escape_attr(_primitive_text(value))}"'
    inner = []
    if isinstance(extra, dict):
        _write_properties(extra, inner, indent + 1, attributes=("id",))
    if inner:
        lines.append(f"{pad}<{name}{attrs}>")
        lines.extend(inner)
        lines.append(f"{pad}</{name}>")
    else:
        lines.append(f"{pad}<{name}{attrs}/>")


def _primitive_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, str)):
        return str(value)
    raise ValueError(f"cannot write {type(value).__name__} as a FHIR primitive")


@lru_cache(maxsize=256)  # organisations' narratives recur in every acknowledgement
def _normalise_div(div: str) -> str:
    """Re-serialise narrative XHTML so it is well-formed and in the XHTML namespace."""
    try:
        elem = SafeET.fromstring(
            div.encode("utf-8"), forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
    except (ParseError, DefusedXmlException) as exc:
        raise ValueError("narrative div is not well-formed XHTML") from exc
    if _split(elem.tag)[1] != "div":
        raise ValueError("narrative must be a <div>")
    return xhtml_to_string(elem)


_CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _check_chars(text: str) -> str:
    found = _CONTROL_CHARS.search(text)
    if found:
        raise ValueError(f"control character U+{ord(found.group()):04X} cannot be written to FHIR XML")
    return text


def _escape_text(text: str) -> str:
    return (
        _check_chars(text)
        .replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\r", "&#xD;")
    )


def _escape_attr(text: str) -> str:
    # Line breaks must be character references in attributes, otherwise an XML
    # parser normalises them to spaces (README: "\n" in JSON is "&#xA;" in XML).
    return _escape_text(text).replace('"', "&quot;").replace("\n", "&#xA;").replace("\t", "&#x9;")
