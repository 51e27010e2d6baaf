"""The consent gate: no processing beyond intake without every required, valid consent.

Every service that acts on a case (committee, meetings, plan, messages to other parties,
identified consultation) calls `require_processing_allowed` inside its transaction,
after locking the case. Enforced here, not by hiding buttons.

Open means: the case is not closed, and it has a complete consent round (every required
person gave consent) that has not lapsed and was not withdrawn, whose text names the
party the data goes to. Withdrawal locks the same case row, so a write that waited for a
withdrawal sees it here (see tests/consent/test_withdrawal_race.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.utils import timezone

if TYPE_CHECKING:
    from tovholder.cases.models import Case

# Units inside the municipality work on the case through the coordination committee;
# consent to "the committee" covers them (seed 001, appendix 3).
_MUNICIPAL = frozenset({"committee", "school", "ppr", "health_visitors", "family_counselling", "single_entry"})
_ALIASES = {"gp": "gp_practice", "paediatric": "paediatric_ward"}


class ConsentRequired(ValidationError):
    """The case may not be processed: consent is missing, refused, withdrawn or expired."""


def party_covered(party_kinds, party: str | None) -> bool:
    """Does consent to `party_kinds` (ConsentText.parties kinds) cover sending to `party`?"""
    if party is None or party in _MUNICIPAL:
        return "committee" in party_kinds
    return _ALIASES.get(party, party) in party_kinds


def processing_allowed(case: Case, *, party: str | None = None) -> bool:
    """party: a unit kind the data would go to (e.g. "bua"), checked against what the
    consent covers; None for processing inside the municipality's committee and team."""
    from tovholder.consent.models import ConsentRound

    if case.stage == "closed":
        return False
    today = timezone.localdate()
    for parties in ConsentRound.objects.filter(
        case_id=case.pk, status=ConsentRound.Status.COMPLETE, expires_on__gt=today
    ).values_list("text__parties", flat=True):
        if party_covered({p.get("kind") for p in parties or []}, party):
            return True
    return False


def require_processing_allowed(case: Case, *, party: str | None = None) -> None:
    if not processing_allowed(case, party=party):
        raise ConsentRequired(
            "Forløbet kan ikke behandles: der mangler gyldigt samtykke fra alle, der skal give det."
        )
