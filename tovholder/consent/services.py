"""Consent services. (Interface stub — the consent engineer replaces the body.)"""

from __future__ import annotations

from tovholder.audit.actor import Actor
from tovholder.cases.models import Case


def consent_request_start(*, actor: Actor, case: Case) -> object:
    """Called by the inbox right after it opens a case: work out who must consent and send
    each of them their request. Interface stub: does nothing yet."""
    return None
