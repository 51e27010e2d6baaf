"""CPR numbers on the Django side. The rule itself lives in tovholder.medcom.cpr.

An ordinary CPR number is validated by its date and century (never by modulus 11). A
replacement number ("erstatnings-CPR") is accepted when its issuer marked it as one (a
MedCom replacement system) or when its shape can only be a replacement number: letters in
the serial part (``0703921VJ4``, ``9999991AB2``) or a day of birth plus 60 (``6103921234``).
Its birth date comes from its digits when they give one; otherwise it must come from
elsewhere (the message, or the staff member).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError

from tovholder.medcom.cpr import birth_date_from_cpr, check_cpr, is_replacement_cpr

__all__ = [
    "CPR_PATTERN",
    "CprNumber",
    "birth_date_from_cpr",
    "check_cpr",
    "cpr_parse",
    "is_replacement_cpr",
    "mask_cpr",
    "normalise_cpr",
    "validate_cpr",
]

# Anything that looks like a CPR number: used to keep them out of logs and URLs (the log
# filter and the test suite's log guard). 6 digits, an optional hyphen, a 4-character
# serial part; two shapes:
#  - ordinary (and DD+60) numbers: DDMMYY with DD 00-39 or 60-99, 4 digits, not inside a
#    longer run of digits (GLNs have 13, SOR ids 11 or more; ISO dates have hyphens after
#    the year);
#  - replacement numbers: any 6 digits (``9999991AB2`` has no date) and 4 letters or
#    digits with at least one letter, not inside a longer word (so no hex hash or UUID
#    part matches), and not our own mask "xxxx" (``mask_cpr``).
CPR_PATTERN = re.compile(
    r"(?<![0-9])(?:[0-3][0-9]|[6-9][0-9])[01][0-9]{3}-?[0-9]{4}(?![0-9])"
    r"|(?<![0-9A-Za-z])[0-9]{6}-?(?![xX]{4})(?=[0-9]{0,3}[A-Za-z])[0-9A-Za-z]{4}(?![0-9A-Za-z])"
)


@dataclass(frozen=True)
class CprNumber:
    """A checked number: normalised, whether it is a replacement number, and the birth
    date its digits give (None: they give none, e.g. ``070392AVJ4``)."""

    number: str
    is_replacement: bool
    birth_date: dt.date | None


def normalise_cpr(value: str) -> str:
    return value.strip().replace("-", "").replace(" ", "")


def cpr_parse(value: str, *, replacement: bool = False) -> CprNumber:
    """Check a CPR or replacement number; ValidationError (code ``cpr``, number masked) if
    it is neither. ``replacement``: the source marked it as one (a replacement system)."""
    number = normalise_cpr(value or "")
    replacement = replacement or is_replacement_cpr(number)
    ok, reason = check_cpr(number, replacement=replacement)
    if not ok:
        raise ValidationError(reason or "Ugyldigt CPR-nummer.", code="cpr")
    try:
        birth_date = birth_date_from_cpr(number, replacement=replacement)
    except ValueError:
        if not replacement:  # cannot happen: a valid ordinary number is a date
            raise ValidationError("Ugyldigt CPR-nummer.", code="cpr") from None
        birth_date = None
    return CprNumber(number=number, is_replacement=replacement, birth_date=birth_date)


def validate_cpr(value: str, *, replacement: bool = False) -> None:
    cpr_parse(value, replacement=replacement)


def mask_cpr(value: str) -> str:
    """Birth date part only: safe to show in audit criteria and error texts."""
    value = normalise_cpr(value)
    return f"{value[:6]}-xxxx" if len(value) >= 6 else "xxxxxx-xxxx"
