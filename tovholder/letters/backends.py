"""Digital Post backends: where a queued letter goes when the background job delivers it.

Choose one with the setting `DIGITAL_POST_BACKEND` (a dotted path to a class); the default
is `LocalOutbox`. A backend is a class with

    send(letter, *, body, attachments) -> Delivery

called inside the delivery transaction, once per letter; `body` is the letter as the
recipient gets it (personal link filled in). It must be idempotent on `letter.pk`
(a retry after a crash sends the same letter id again) and raise on failure; the job
retries a few times and then marks the letter failed for a person to look at.

**Plug-in point for the real Digital Post.** A production backend posts the letter to the
public Digital Post (NgDP, "Digital Post fra det offentlige") through the municipality's
print-and-mail or Digital Post provider: digital letters to the recipient's CPR mailbox
(e-Boks / mit.dk), paper letters (`letter.channel == "paper"`, people exempt from Digital
Post) to the provider's print service. It returns the provider's message id as
`Delivery.reference`. The recipient's CPR is looked up from `letter.custody_holder.cpr` or
`letter.child.cpr` inside the backend and never logged. See tovholder/letters/README.md.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string

from tovholder.letters.tokens import new_token, token_hash

if TYPE_CHECKING:
    from tovholder.letters.models import Letter, LetterAttachment

DEFAULT_BACKEND = "tovholder.letters.backends.LocalOutbox"
# How long the local outbox's "read online" link works.
READ_LINK_DAYS = 400


@dataclass(frozen=True)
class Delivery:
    reference: str
    read_token_hash: str | None = None
    read_expires_at: dt.datetime | None = None


class LetterBackend(Protocol):
    def send(self, letter: Letter, *, body: str, attachments: list[LetterAttachment]) -> Delivery: ...


def get_backend() -> LetterBackend:
    return import_string(getattr(settings, "DIGITAL_POST_BACKEND", DEFAULT_BACKEND))()


def site_url(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def _safe_name(name: str) -> str:
    name = os.path.basename(name.replace("\\", "/")) or "bilag"
    return re.sub(r"[^\w.\- ]", "_", name)[:120]


class LocalOutbox:
    """The default backend: a local stand-in for the recipient's digital mailbox.

    Each letter as delivered is written to `OUTBOX_DIR/letters/<id>.json` (attachments in
    `OUTBOX_DIR/letters/<id>/`). Digital letters get a "read online" link (its own token,
    hash kept on the letter) at `/breve/post/<token>/`, where the recipient reads the
    delivered copy and its attachments; that is how the demo and the browser tests open
    the family's letters. Paper letters are files to print and post.
    """

    def folder(self) -> Path:
        return Path(settings.OUTBOX_DIR) / "letters"

    def send(self, letter: Letter, *, body: str, attachments: list[LetterAttachment]) -> Delivery:
        folder = self.folder()
        folder.mkdir(parents=True, exist_ok=True)
        read_url, read_hash, read_expires = "", None, None
        if letter.channel == "digital":
            token = new_token()
            read_url = site_url(reverse("letters:family_read", args=[token]))
            read_hash = token_hash(token)
            read_expires = timezone.now() + dt.timedelta(days=READ_LINK_DAYS)
        files = []
        if attachments:
            (folder / str(letter.pk)).mkdir(exist_ok=True)
            for attachment in attachments:
                name = _safe_name(attachment.filename)
                (folder / str(letter.pk) / name).write_bytes(bytes(attachment.content))
                files.append(name)
        copy = {
            "letter": letter.pk,
            "case": letter.case.reference,
            "to": letter.recipient_name,
            "channel": letter.channel,
            "subject": letter.subject,
            "body": body,
            "read_url": read_url,
            "attachments": files,
            "delivered_at": timezone.now().isoformat(),
        }
        path = folder / f"{letter.pk}.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(copy, ensure_ascii=False, indent=2), encoding="utf-8")
        os.replace(tmp, path)
        return Delivery(reference=f"outbox:letters/{letter.pk}.json", read_token_hash=read_hash,
                        read_expires_at=read_expires)

    def delivered_copy(self, letter: Letter) -> dict | None:
        path = self.folder() / f"{letter.pk}.json"
        if not path.exists():
            return None
        return json.loads(path.read_text(encoding="utf-8"))


def delivered_copy(letter: Letter) -> dict | None:
    """The letter as the recipient got it, when the backend keeps a copy (the local outbox)."""
    backend = get_backend()
    reader = getattr(backend, "delivered_copy", None)
    return reader(letter) if reader else None
