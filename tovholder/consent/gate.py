"""The consent gate: no processing beyond intake without every required, valid consent.

Every service that acts on a case (committee, meetings, plan, messages to other parties,
identified consultation) calls `require_processing_allowed` inside its transaction,
after locking the case. Enforced here, not by hiding buttons.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError

if TYPE_CHECKING:
    from tovholder.cases.models import Case


class ConsentRequired(ValidationError):
    """The case may not be processed: consent is missing, refused, withdrawn or expired."""


def processing_allowed(case: Case, *, party: str | None = None) -> bool:
    """party: a unit kind the data would go to (e.g. "bua"), checked against what the
    consent covers; None for processing inside the municipality's committee and team."""
    # Interim rule until the consent records are in place: consent completed, case open.
    return case.consent_completed_at is not None and case.stage != "closed"


def require_processing_allowed(case: Case, *, party: str | None = None) -> None:
    if not processing_allowed(case, party=party):
        raise ConsentRequired(
            "Forløbet kan ikke behandles: der mangler gyldigt samtykke fra alle, der skal give det."
        )
