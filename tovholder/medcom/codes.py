"""URLs, code systems and profiles of MedCom CareCommunication and Acknowledgement.

Collected in one place so validation, building and acknowledgement agree.
"""

from __future__ import annotations

# --- Messaging -------------------------------------------------------------------
EVENT_SYSTEM = "http://medcomfhir.dk/ig/terminology/CodeSystem/medcom-messaging-eventCodes"
CARE_COMMUNICATION_EVENT = "care-communication-message"
ACKNOWLEDGEMENT_EVENT = "acknowledgement-message"

DESTINATION_USE_URL = (
    "http://medcomfhir.dk/ig/messaging/StructureDefinition/medcom-messaging-destinationUseExtension"
)
DESTINATION_USE_SYSTEM = (
    "http://medcomfhir.dk/ig/terminology/CodeSystem/medcom-messaging-destinationUse"
)
ACTIVITY_SYSTEM = "http://medcomfhir.dk/ig/terminology/CodeSystem/medcom-messaging-activityCodes"
ACKNOWLEDGEMENT_ACTIVITY = "acknowledgement"

_DEFINITIONS = "http://medcomfhir.dk/ig/messagedefinitions/MessageDefinition/"
CARE_COMMUNICATION_DEFINITION_URL = _DEFINITIONS + "MedComCareCommunicationMessageDefinition"
CARE_COMMUNICATION_DEFINITION = CARE_COMMUNICATION_DEFINITION_URL + "|5.0"
ACKNOWLEDGEMENT_DEFINITION = _DEFINITIONS + "MedComAcknowledgementMessageDefinition|2.0"

# SOR endpoints are written as this URL plus the SOR id (as in every MedCom sample).
SOR_ENDPOINT_PREFIX = "https://sor2.sum.dsdn.dk/#id="

# --- Identifiers -----------------------------------------------------------------
SOR_SYSTEM = "urn:oid:1.2.208.176.1.1"
GLN_SYSTEM = "https://www.gs1.org/gln"
# The GLN ("EAN-lokationsnummer") system URI differs between MedCom versions.
GLN_SYSTEMS = frozenset({GLN_SYSTEM, "http://www.gs1.org/gln", "urn:oid:1.3.88"})

# --- CareCommunication -----------------------------------------------------------
CATEGORY_SYSTEM = (
    "http://medcomfhir.dk/ig/terminology/CodeSystem/medcom-careCommunication-categoryCodes"
)
# Danish display names (MedComCareCommunicationCategories 1.0.1). Codes not listed
# here are still accepted: a later MedCom version may add categories.
CATEGORY_NAMES_DA: dict[str, str] = {
    "alcohol-and-drug-treatment": "Rusmiddelbehandling",
    "assistive-devices": "Hjælpemidler",
    "carecoordination": "Forløbskoordinering",
    "decease": "Dødsfald",
    "discharge": "Udskrivelse",
    "examination-results": "Undersøgelsessvar",
    "healthcare": "Sundhedspleje",
    "home-care-assessment": "Visitation",
    "medicine": "Medicin",
    "nursing": "Sygepleje",
    "outpatient": "Ambulant",
    "psychiatry-social-disability": "Psykiatri, social, handicap",
    "regarding-referral": "Vedr. henvisning",
    "telemedicine": "Telemedicin",
    "training": "Træning",
    "acute-ambulant": "Akut ambulant",
    "extended-care-responsibility": "Udvidet behandlingsansvar",
    "other": "Andet",
}
CATEGORY_OTHER = "other"
CATEGORY_REGARDING_REFERRAL = "regarding-referral"
PRIORITIES = frozenset({"routine", "asap"})

ALLOWED_CONTENT_TYPES = frozenset(
    {"application/pdf", "image/gif", "image/jpeg", "image/png", "image/tiff", "image/bmp"}
)

EXT_DATETIME = "http://medcomfhir.dk/ig/core/StructureDefinition/medcom-core-datetime-extension"
EXT_IDENTIFIER = "http://medcomfhir.dk/ig/core/StructureDefinition/medcom-core-identifier-extension"
EXT_AUTHOR = "http://medcomfhir.dk/ig/core/StructureDefinition/medcom-core-practitioner-extension"
EXT_AUTHOR_CONTACT = (
    "http://medcomfhir.dk/ig/core/StructureDefinition/medcom-core-contact-extension"
)
DATA_ABSENT_REASON = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"

# --- Profiles --------------------------------------------------------------------
_CC = "http://medcomfhir.dk/ig/carecommunication/StructureDefinition/"
_CORE = "http://medcomfhir.dk/ig/core/StructureDefinition/"
_MESSAGING = "http://medcomfhir.dk/ig/messaging/StructureDefinition/"
_ACK = "http://medcomfhir.dk/ig/acknowledgement/StructureDefinition/"

PROFILE_MESSAGE = _CC + "medcom-careCommunication-message"
PROFILE_MESSAGE_HEADER = _CC + "medcom-careCommunication-messageHeader"
PROFILE_COMMUNICATION = _CC + "medcom-careCommunication-communication"
PROFILE_PROVENANCE = _CC + "medcom-careCommunication-provenance"
PROFILE_PATIENT = _CORE + "medcom-core-patient"
PROFILE_PRACTITIONER = _CORE + "medcom-core-practitioner"
PROFILE_PRACTITIONER_ROLE = _CORE + "medcom-core-practitionerrole"
PROFILE_ENCOUNTER = _CORE + "medcom-core-encounter"
PROFILE_ORGANIZATION = _MESSAGING + "medcom-messaging-organization"
PROFILE_MESSAGING_PROVENANCE = _MESSAGING + "medcom-messaging-provenance"

PROFILE_ACK_MESSAGE = _ACK + "medcom-messaging-acknowledgement"
PROFILE_ACK_MESSAGE_HEADER = _ACK + "medcom-messaging-acknowledgementHeader"
PROFILE_ACK_OPERATION_OUTCOME = _ACK + "medcom-acknowledgement-operationoutcome"

# Bundle.entry.fullUrl bases, as in MedCom's own examples (references inside the
# bundle are relative, "Organization/<id>", and resolve against these).
FULL_URL_BASE = "https://medcomfhir.dk/ig/carecommunication/"
ACK_FULL_URL_BASE = "https://medcomfhir.dk/ig/acknowledgement/"
