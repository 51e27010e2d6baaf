"""Organisation and message identifiers: SOR ids, EAN/GLN numbers, urn:uuid values."""

from __future__ import annotations

import re

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def gln_check_digit(first_twelve: str) -> int:
    """GS1 modulus-10 check digit for the first 12 digits of a GLN (EAN-13)."""
    if len(first_twelve) != 12 or not first_twelve.isdigit():
        raise ValueError("need exactly 12 digits")
    # Weights 3,1,3,1,… counted from the rightmost data digit.
    total = sum(
        int(digit) * (3 if position % 2 == 0 else 1)
        for position, digit in enumerate(reversed(first_twelve))
    )
    return (10 - total % 10) % 10


def check_gln(value: object) -> tuple[bool, str | None]:
    """Check an EAN/GLN location number: 13 digits with a valid GS1 check digit."""
    if not isinstance(value, str) or not value.strip():
        return False, "EAN-/lokationsnummeret mangler."
    text = value.strip()
    if len(text) != 13 or not text.isdigit():
        return False, f"EAN-/lokationsnummeret {text[:20]} skal være 13 cifre."
    expected = gln_check_digit(text[:12])
    if int(text[12]) != expected:
        return False, (
            f"EAN-/lokationsnummeret {text} har forkert kontrolciffer "
            f"({text[12]}; det skal være {expected})."
        )
    return True, None


def check_sor(value: object) -> tuple[bool, str | None]:
    """Check a SOR id: digits only, at least 11 of them (20 at most, as a sanity bound)."""
    if not isinstance(value, str) or not value.strip():
        return False, "SOR-id'et mangler."
    text = value.strip()
    if not text.isdigit() or not 11 <= len(text) <= 20:
        return False, f"SOR-id'et {text[:30]} skal bestå af mindst 11 cifre (kun cifre)."
    return True, None


def is_uuid(value: object) -> bool:
    """True for a UUID in its 8-4-4-4-12 hex form (any version, any case)."""
    return isinstance(value, str) and bool(_UUID.match(value))


def is_urn_uuid(value: object) -> bool:
    """True for ``urn:uuid:`` followed by a UUID."""
    return isinstance(value, str) and value[:9].lower() == "urn:uuid:" and is_uuid(value[9:])
