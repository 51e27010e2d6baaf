"""Settings of the single entry. Each reads a Django setting of the same name, else the
environment variable, else the default, at the moment it is needed (so tests can change
them with pytest-django's `settings`).

| name | default | meaning |
|---|---|---|
| MEDCOM_INBOUND_TOKEN | "" (off) | when set, POST /api/medcom/messages requires the header `X-MedCom-Token` with this value (in production VANS/mTLS sits in front; this is a second lock) |
| MEDCOM_TRANSPORT | `tovholder.inbox.transport.FileTransport` | dotted path of the outbound transport class |
| MEDCOM_OUTBOUND_FORMAT | `json` | `json` or `xml` for what we send |
| MEDCOM_DROP_DIR | "" (off) | a folder the worker imports message files from (as `medcom_import` does) |
| MEDCOM_ACK_WAIT_MINUTES | 30 | resend when no acknowledgement came within this time |
| MEDCOM_MAX_RESENDS | 2 | resends before a person is asked to look |
"""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def _get(name: str, default: str) -> str:
    if hasattr(settings, name):
        return str(getattr(settings, name))
    return os.environ.get(name, default)


def _int(name: str, default: int) -> int:
    value = _get(name, str(default))
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from None


def inbound_token() -> str:
    return _get("MEDCOM_INBOUND_TOKEN", "")


def transport_path() -> str:
    return _get("MEDCOM_TRANSPORT", "tovholder.inbox.transport.FileTransport")


def outbound_format() -> str:
    value = _get("MEDCOM_OUTBOUND_FORMAT", "json")
    if value not in ("json", "xml"):
        raise ImproperlyConfigured(f"MEDCOM_OUTBOUND_FORMAT must be json or xml, not {value!r}")
    return value


def drop_dir() -> Path | None:
    value = _get("MEDCOM_DROP_DIR", "")
    return Path(value) if value else None


def outbox_dir() -> Path:
    return Path(settings.OUTBOX_DIR) / "medcom"


def ack_wait_minutes() -> int:
    return _int("MEDCOM_ACK_WAIT_MINUTES", 30)


def max_resends() -> int:
    return _int("MEDCOM_MAX_RESENDS", 2)
