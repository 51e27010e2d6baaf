"""Identifiers of units: SOR ids and EAN/GLN location numbers."""

from __future__ import annotations

from django.core.exceptions import ValidationError


def gln_check_digit(first12: str) -> int:
    """GS1 modulus-10: weights 3,1,3,1… from the right of the 12 data digits."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(first12)))
    return (10 - total % 10) % 10


def is_valid_gln(value: str) -> bool:
    return len(value) == 13 and value.isdigit() and gln_check_digit(value[:12]) == int(value[12])


def make_gln(first12: str) -> str:
    return first12 + str(gln_check_digit(first12))


def validate_gln(value: str) -> None:
    if not is_valid_gln(value):
        raise ValidationError(
            "EAN/GLN-lokationsnummeret skal være 13 cifre med gyldigt kontrolciffer.", code="gln"
        )


def validate_sor(value: str) -> None:
    if not (value.isdigit() and 11 <= len(value) <= 18):
        raise ValidationError("SOR-id skal være 11–18 cifre.", code="sor")


def validate_municipality_code(value: str) -> None:
    if not (len(value) == 3 and value.isdigit()):
        raise ValidationError("Kommunekoden skal være tre cifre.", code="municipality_code")
