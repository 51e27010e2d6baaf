"""The interpreted CareCommunication message, as plain frozen dataclasses.

:func:`tovholder.medcom.validate.interpret` turns a received FHIR bundle into a
:class:`CareCommunication`; :func:`tovholder.medcom.build.build_care_communication`
takes the same building blocks to write one. Sequences are tuples so the objects
are truly immutable and comparable (``raw`` is left out of comparisons).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

Activity = Literal["new-message", "reply-message", "forward-message"]
ACTIVITIES: tuple[str, ...] = ("new-message", "reply-message", "forward-message")


@dataclass(frozen=True)
class Org:
    """An organisation as MedCom addresses it: SOR id and EAN/GLN location number."""

    name: str | None
    sor: str
    ean: str | None = None


@dataclass(frozen=True)
class Identifier:
    """A FHIR identifier reduced to system and value."""

    system: str | None
    value: str


@dataclass(frozen=True)
class Patient:
    """The citizen the message is about.

    ``cpr`` is normalised (10 characters, no hyphen). ``family`` is None only when
    the sender marked it absent (data-absent-reason). ``cpr_system`` is the
    identifier system the number came with (None means the standard one).
    ``other_ids`` holds further person identifiers in the message, e.g. the
    replacement number when a real CPR number is also given.
    """

    cpr: str
    is_replacement_cpr: bool
    family: str | None
    given: tuple[str, ...] = ()
    cpr_system: str | None = None
    other_ids: tuple[Identifier, ...] = ()


@dataclass(frozen=True)
class TextSegment:
    """One message text (a Communication.payload with contentString).

    ``organization`` is the assigner of the segment identifier: the organisation
    the author wrote on behalf of.
    """

    identifier: str
    timestamp: dt.datetime
    author_name: str | None
    author_role: str | None
    author_phone: str | None
    text: str
    organization: Org | None = None


@dataclass(frozen=True)
class AttachmentSegment:
    """One attachment (a Communication.payload with contentAttachment).

    ``data`` is the decoded content, ``url`` a link; both are None for an earlier
    attachment that a reply only refers to (by identifier, title and date).
    """

    identifier: str
    timestamp: dt.datetime
    title: str
    content_type: str | None
    data: bytes | None = field(default=None, repr=False)
    url: str | None = None
    creation: dt.datetime | None = None
    organization: Org | None = None


Segment = TextSegment | AttachmentSegment


@dataclass(frozen=True)
class MessageProvenance:
    """One Provenance: what a message in the thread did, and who did it."""

    header_id: str
    activity: str
    occurred: dt.datetime | None
    agent: Org | None
    new_segment_ids: tuple[str, ...] = ()
    previous_header_id: str | None = None


@dataclass(frozen=True)
class CareCommunication:
    """A validated MedCom CareCommunication message.

    ``segments`` are ordered by their own timestamps (oldest first; document order
    among equal timestamps). ``new_segment_ids`` are the segments this message
    added; the rest were carried over from earlier messages in the thread.
    ``provenances`` are all Provenances in the message (this one and earlier).
    """

    bundle_id: str
    bundle_timestamp: dt.datetime
    header_id: str
    event_code: str
    definition_version: str
    sender: Org
    receiver: Org
    source_endpoint: str
    destination_endpoint: str
    patient: Patient
    thread_id: str
    communication_id: str | None
    category: str
    topic: str | None
    priority: str | None
    segments: tuple[Segment, ...]
    activity: str
    previous_header_id: str | None
    new_segment_ids: tuple[str, ...]
    provenances: tuple[MessageProvenance, ...] = ()
    episode_of_care_ids: tuple[Identifier, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def new_segments(self) -> tuple[Segment, ...]:
        """The segments added by this message (not carried over from earlier ones)."""
        wanted = set(self.new_segment_ids)
        return tuple(s for s in self.segments if s.identifier in wanted)

    @property
    def thread_uuid(self) -> str:
        """The thread id without its ``urn:uuid:`` prefix."""
        return self.thread_id.removeprefix("urn:uuid:")


@dataclass(frozen=True)
class MessageIdentity:
    """What could be read from a bundle without validating it (all best effort).

    Used to spot duplicates before validation and to address an acknowledgement
    for a message too broken to interpret.
    """

    bundle_id: str | None = None
    header_id: str | None = None
    event_code: str | None = None
    source_endpoint: str | None = None
    sender: Org | None = None
    sender_resource_id: str | None = None
    receiver_resource_id: str | None = None
    receiver: Org | None = None


@dataclass(frozen=True)
class AcknowledgementInfo:
    """What an Acknowledgement we received says about a message we sent.

    ``acknowledged_id`` is ``response.identifier`` (our MessageHeader.id), ``code`` is
    ``ok``, ``transient-error`` or ``fatal-error``; ``texts`` are the OperationOutcome's
    issue texts, for a person to read.
    """

    bundle_id: str | None
    header_id: str | None
    acknowledged_id: str
    code: str
    texts: tuple[str, ...] = ()
    sender: Org | None = None
