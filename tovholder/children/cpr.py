"""CPR numbers on the Django side. The rule itself lives in tovholder.medcom.cpr."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

from tovholder.medcom.cpr import birth_date_from_cpr, check_cpr

__all__ = ["birth_date_from_cpr", "check_cpr", "normalise_cpr", "validate_cpr", "mask_cpr", "CPR_PATTERN"]

# Anything that looks like a CPR number: used to keep them out of logs and URLs.
CPR_PATTERN = re.compile(r"(?<![0-9])[0-3][0-9][01][0-9]{3}-?[0-9A-Za-z][0-9]{3}(?![0-9])")


def normalise_cpr(value: str) -> str:
    return value.strip().replace("-", "").replace(" ", "")


def validate_cpr(value: str) -> None:
    ok, reason = check_cpr(normalise_cpr(value))
    if not ok:
        raise ValidationError(reason or "Ugyldigt CPR-nummer.", code="cpr")


def mask_cpr(value: str) -> str:
    """Birth date part only: safe to show in audit criteria and error texts."""
    value = normalise_cpr(value)
    return f"{value[:6]}-xxxx" if len(value) >= 6 else "xxxxxx-xxxx"
