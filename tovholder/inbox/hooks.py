"""Listeners for messages that arrive in a thread we started (e.g. the answer to a referral
onwards that tovholder.consultation sent through `outbound_referral_send`).

A listener is `fn(*, thread, message, texts)`; it runs inside the intake's transaction, in
a savepoint of its own: if it fails, the message is still received and filed (and the
failure logged) — a listener can never make us lose or refuse a message.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import transaction

log = logging.getLogger(__name__)
_listeners: list[Callable] = []


def register_thread_listener(listener: Callable) -> None:
    if listener not in _listeners:
        _listeners.append(listener)


def thread_message_arrived(*, thread, message, texts: list[str]) -> None:
    for listener in _listeners:
        try:
            with transaction.atomic():
                listener(thread=thread, message=message, texts=texts)
        except Exception as exc:  # noqa: BLE001 - a listener must not cost us the message
            log.error("Inbox thread listener %s failed with %s", getattr(listener, "__name__", listener),
                      type(exc).__name__)


def consultation_referral_reply(*, thread, message, texts: list[str]) -> None:
    """tovholder.consultation: a reply in the thread of a referral onwards."""
    from tovholder.consultation.referrals import referral_reply_received

    referral_reply_received(thread_id=thread.identifier, header_id=message.header_id, text="\n\n".join(texts),
                            received_at=message.received_at, sender=message.sender_name)
