"""Telling people: the referrer (MedCom reply in the referral's thread), the family
(Digital Post letters), and staff on the case (notices on their home page).

The transports live in their own parts of the domain and register here in
AppConfig.ready(): `tovholder.inbox` handles the referrer, `tovholder.letters` the family.
Callers are services, inside their transaction; handlers write outbox rows that the
background loop delivers, so nothing leaves the building before the transaction commits.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from django.core.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from tovholder.audit.actor import Actor
    from tovholder.cases.models import Case
    from tovholder.organisations.models import User

_handlers: dict[str, Callable] = {}


def register(kind: str, handler: Callable) -> None:
    """kind: "referrer" or "family"."""
    _handlers[kind] = handler


def _handler(kind: str) -> Callable:
    try:
        return _handlers[kind]
    except KeyError:
        raise ImproperlyConfigured(f"no {kind} notification handler is installed") from None


def tell_referrer(*, actor: Actor, case: Case, text: str, reason: str) -> object:
    """A MedCom CareCommunication reply in the thread of the referral that opened the case.

    reason: a short machine word ("receipt", "no_consent", "minutes", "closing"…).
    Returns the outbound message (or None when the case came in without MedCom)."""
    return _handler("referrer")(actor=actor, case=case, text=text, reason=reason)


def tell_family(
    *, actor: Actor, case: Case, subject: str, body: str, reason: str, include_child: bool = True,
    attachments: Sequence[tuple[str, str, bytes]] = (), link_kind: str = "", link_ref: int | None = None,
) -> list:
    """One letter to each custody holder (Digital Post or paper), and to the child if 15+
    when include_child. attachments: (filename, content type, bytes). With `link_kind`, the
    body's link placeholder becomes each recipient's own personal link (letters.links).
    Returns the letters."""
    extra = {"link_kind": link_kind, "link_ref": link_ref} if link_kind else {}
    return _handler("family")(actor=actor, case=case, subject=subject, body=body, reason=reason,
                              include_child=include_child, attachments=attachments, **extra)


def tell_staff(*, actor: Actor, case: Case, users: Sequence[User], text: str, url: str = "") -> None:
    from tovholder.cases.services import notice_send

    notice_send(actor=actor, case=case, users=users, text=text, url=url)
