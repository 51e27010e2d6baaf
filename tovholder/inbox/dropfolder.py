"""Importing a drop folder of MedCom files, the same way the HTTP endpoint receives them.

Each `*.json` / `*.xml` file is stored and processed by the intake; its acknowledgement
leaves through the transport (like the messages we send), and the file moves to `done/`
(accepted, a duplicate, or an acknowledgement we matched) or `failed/` (refused: see the
quarantine on the inbox page). A file is moved only after its arrival is committed, so a
crash in between means it is read again — and then recognised as a duplicate.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from tovholder.inbox.models import Arrival
from tovholder.inbox.services.intake import EVIDENCE_BYTES, medcom_receive
from tovholder.inbox.transport import Delivery, TransportError, get_transport
from tovholder.medcom.parse import MAX_BODY_BYTES

log = logging.getLogger(__name__)

DONE = {Arrival.State.ACCEPTED, Arrival.State.ACKNOWLEDGEMENT}
CONTENT_TYPES = {".json": "application/fhir+json", ".xml": "application/fhir+xml"}


@dataclass(frozen=True)
class Imported:
    name: str
    arrival_id: int
    ack_code: str  # "" for an acknowledgement we received
    moved_to: str  # "done" or "failed"


def _read(path: Path) -> tuple[bytes, int, bool]:
    """The file, or only its beginning when it is over the limit (bounded memory)."""
    size = path.stat().st_size
    with path.open("rb") as f:
        if size > MAX_BODY_BYTES:
            return f.read(EVIDENCE_BYTES), size, True
        return f.read(MAX_BODY_BYTES + 1), size, False


def _move(path: Path, folder: str, arrival_id: int) -> None:
    target = path.parent / folder
    target.mkdir(exist_ok=True)
    path.replace(target / f"{arrival_id:08d}-{path.name}")


def import_folder(folder: Path, *, limit: int | None = None) -> list[Imported]:
    done: list[Imported] = []
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    for path in files[:limit]:
        content_type = CONTENT_TYPES.get(path.suffix.lower(), "application/octet-stream")
        try:
            body, size, truncated = _read(path)
        except OSError:
            log.warning("MedCom drop folder: could not read a file; left in place")
            continue
        reception = medcom_receive(body=body, content_type=content_type, channel="folder", source=path.name,
                                   size=size, truncated=truncated)
        if reception.body:
            try:
                get_transport().send(Delivery(kind="acknowledgement", name=f"ack-{reception.arrival.pk}",
                                              body=reception.body, content_type=reception.content_type))
            except TransportError:
                # Stored with the arrival: the sender's resend gets the same acknowledgement.
                log.warning("MedCom drop folder: acknowledgement for arrival %s not delivered",
                            reception.arrival.pk)
        state = Arrival.objects.filter(pk=reception.arrival.pk).values_list("state", flat=True).first()
        ok_duplicate = state == Arrival.State.DUPLICATE and reception.ack_code == "ok"
        folder_name = "done" if state in DONE or ok_duplicate else "failed"
        _move(path, folder_name, reception.arrival.pk)
        done.append(Imported(path.name, reception.arrival.pk, reception.ack_code, folder_name))
    return done
