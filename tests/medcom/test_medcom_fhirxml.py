"""FHIR XML <-> JSON shape: arrays, primitives, narrative, escaping."""

from __future__ import annotations

import pytest

from tovholder.medcom import MessageRejected, resource_to_xml, xml_to_resource


def _convert(inner: str, resource: str = "Patient") -> dict:
    return xml_to_resource(f'<{resource} xmlns="http://hl7.org/fhir">{inner}</{resource}>'.encode())


def test_repeating_elements_become_lists_even_when_single():
    patient = _convert(
        '<id value="p1"/><identifier><system value="s"/><value value="v"/></identifier>'
        '<active value="true"/><name><use value="official"/><family value="Elmer"/>'
        '<given value="Bruno"/></name>'
    )
    assert patient == {
        "resourceType": "Patient",
        "id": "p1",
        "identifier": [{"system": "s", "value": "v"}],
        "active": True,
        "name": [{"use": "official", "family": "Elmer", "given": ["Bruno"]}],
    }


def test_cardinality_depends_on_context():
    organization = _convert(
        '<name value="Lægehuset"/><identifier><value value="1"/></identifier>', "Organization"
    )
    assert organization["name"] == "Lægehuset"
    role = _convert('<code><text value="Visitator"/></code>', "PractitionerRole")
    assert role["code"] == [{"text": "Visitator"}]
    provenance = _convert(
        '<entity><role value="source"/><what><identifier><value value="u"/></identifier></what></entity>',
        "Provenance",
    )
    assert provenance["entity"] == [{"role": "source", "what": {"identifier": {"value": "u"}}}]


def test_unknown_element_occurring_twice_becomes_a_list():
    assert _convert('<futureThing value="a"/><futureThing value="b"/>')["futureThing"] == ["a", "b"]


def test_free_text_true_stays_a_string():
    communication = _convert('<payload><contentString value="true"/></payload>', "Communication")
    assert communication["payload"] == [{"contentString": "true"}]


def test_primitive_extension_without_value():
    xml = (
        '<name><use value="official"/><family><extension url="http://hl7.org/fhir/StructureDefinition/data-absent-reason">'
        '<valueCode value="unknown"/></extension></family></name>'
    )
    patient = _convert(xml)
    assert patient["name"] == [
        {
            "use": "official",
            "_family": {
                "extension": [
                    {
                        "url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason",
                        "valueCode": "unknown",
                    }
                ]
            },
        }
    ]
    assert xml_to_resource(resource_to_xml(patient)) == patient


def test_bundle_resources_narrative_and_line_breaks_round_trip():
    bundle = {
        "resourceType": "Bundle",
        "id": "b",
        "type": "message",
        "entry": [
            {
                "fullUrl": "urn:uuid:1",
                "resource": {
                    "resourceType": "Communication",
                    "id": "c",
                    "text": {
                        "status": "generated",
                        "div": '<div xmlns="http://www.w3.org/1999/xhtml"><p>Linje &amp; <b>fed</b><br/>næste</p></div>',
                    },
                    "payload": [{"contentString": "a\nb \"c\" <d> & 'e'\ttab"}],
                },
            }
        ],
    }
    xml = resource_to_xml(bundle)
    assert b"value=\"a&#xA;b &quot;c&quot; &lt;d&gt; &amp; 'e'&#x9;tab\"" in xml
    assert b"<resource>\n      <Communication>" in xml
    assert (
        b'<div xmlns="http://www.w3.org/1999/xhtml"><p>Linje &amp; <b>fed</b><br/>n\xc3\xa6ste</p></div>'
        in xml
    )
    assert xml_to_resource(xml) == bundle


def test_extension_url_and_element_id_are_attributes():
    resource = {
        "resourceType": "Communication",
        "extension": [{"url": "http://x", "valueString": "y"}],
        "payload": [{"id": "p1", "contentString": "z"}],
    }
    xml = resource_to_xml(resource)
    assert b'<extension url="http://x">' in xml and b'<payload id="p1">' in xml
    assert xml_to_resource(xml) == resource


def test_control_characters_cannot_be_written():
    with pytest.raises(ValueError):
        resource_to_xml({"resourceType": "Communication", "status": "a\x00b"})


def test_elements_outside_the_fhir_namespace_are_rejected():
    with pytest.raises(MessageRejected):
        xml_to_resource(b'<Patient xmlns="http://hl7.org/fhir"><x:evil xmlns:x="urn:x"/></Patient>')
    with pytest.raises(MessageRejected):
        xml_to_resource(b"<Patient/>")
