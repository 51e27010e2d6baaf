"""How MedCom messages leave: a pluggable transport (setting MEDCOM_TRANSPORT).

The VANS network itself is outside this project. The default transport writes each
message as a file into OUTBOX_DIR/medcom/, where a VANS client (or a person, in a test)
picks it up. A transport is a class with `send(delivery)`; it raises `TransportError`
when the message did not leave (the outbox then tries again later).
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from functools import cache

from django.utils import timezone
from django.utils.module_loading import import_string

from tovholder.inbox import conf


class TransportError(Exception):
    """The message could not be handed over; try again later."""


@dataclass(frozen=True)
class Delivery:
    kind: str  # "message" or "acknowledgement"
    name: str  # the Bundle.id: unique, safe as a file name
    body: bytes
    content_type: str
    receiver_sor: str = ""
    receiver_gln: str = ""
    receiver_endpoint: str = ""

    @property
    def extension(self) -> str:
        return "xml" if "xml" in self.content_type else "json"


class FileTransport:
    """Writes `<time>-<kind>-<bundle id>.<json|xml>` atomically (temporary file + rename), so a
    reader of the folder never sees half a message."""

    def send(self, delivery: Delivery) -> None:
        folder = conf.outbox_dir()
        try:
            folder.mkdir(parents=True, exist_ok=True)
            safe = "".join(c if c.isalnum() or c in "-." else "_" for c in delivery.name)[:100]
            name = f"{timezone.now():%Y%m%dT%H%M%S}-{delivery.kind}-{safe}.{delivery.extension}"
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=".sending-")
            with os.fdopen(fd, "wb") as f:
                f.write(delivery.body)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, folder / name)
        except OSError as exc:
            raise TransportError(f"kunne ikke skrive til {folder}: {exc.strerror}") from None


class MemoryTransport:
    """Keeps what was sent in a list (tests, demonstrations)."""

    sent: list[Delivery] = []

    def send(self, delivery: Delivery) -> None:
        type(self).sent.append(delivery)


@cache
def _transport_class(path: str):
    return import_string(path)


def get_transport():
    return _transport_class(conf.transport_path())()
