"""Danish CPR numbers: is the date real, which century, is it a replacement number.

A CPR number is ``DDMMYY-SSSS``. The first digit of the serial part (the 7th digit)
and the two-digit year together give the century (CPR-kontoret's table):

==============  ==============  ==============
7th digit       year 00-36      year 37-99
==============  ==============  ==============
0, 1, 2, 3      1900            1900
4, 9            2000            1900
5, 6, 7, 8      2000 (00-57)    1800 (58-99)
==============  ==============  ==============

The modulus-11 check is deliberately NOT applied: since 2007 CPR numbers are
issued without it, so a number failing modulus 11 is perfectly valid.

Replacement numbers ("erstatnings-CPR", eCPR) are issued when a person has no
CPR number or it is unknown. They keep the ``DDMMYY`` birth date shape but may
have letters in the serial part, and some issuers add 60 to the day. They are
accepted more leniently.

Every text this module produces masks the number (see ``errors.mask_cpr``).
"""

from __future__ import annotations

import datetime as dt
import re

from .errors import mask_cpr

CPR_SYSTEM = "urn:oid:1.2.208.176.1.2"
# Replacement CPR numbers are issued under the 1.2.208.176.1.6 arc (regional and
# national eCPR registers), e.g. urn:oid:1.2.208.176.1.6.1.1 and …1.6.1.3.177.
REPLACEMENT_SYSTEM_PREFIX = "urn:oid:1.2.208.176.1.6"
DEFAULT_REPLACEMENT_SYSTEM = "urn:oid:1.2.208.176.1.6.1.1"

_PLAIN = re.compile(r"^\d{10}$")
_REPLACEMENT = re.compile(r"^\d{6}[0-9A-Za-z]{4}$")
_ANY_REPLACEMENT = re.compile(r"^[0-9A-Za-z]{1,20}$")

# Some replacement-number issuers add 60 to the day of birth (DD+60).
_REPLACEMENT_DAY_OFFSET = 60


def normalize_cpr(value: str) -> str:
    """Strip surrounding blanks and the optional hyphen: ``"010203-1234"`` -> ``"0102031234"``."""
    text = value.strip()
    if len(text) == 11 and text[6] == "-":
        text = text[:6] + text[7:]
    return text


def is_replacement_system(system: str | None) -> bool:
    """True for identifier systems that issue replacement CPR numbers."""
    return bool(system) and str(system).startswith(REPLACEMENT_SYSTEM_PREFIX)


def century_for(seventh_digit: int, year: int) -> int:
    """The century (1800, 1900 or 2000) of a CPR birth year, from the table above."""
    if not 0 <= seventh_digit <= 9 or not 0 <= year <= 99:
        raise ValueError("seventh digit must be 0-9 and year 00-99")
    if seventh_digit <= 3:
        return 1900
    if seventh_digit in (4, 9):
        return 2000 if year <= 36 else 1900
    return 2000 if year <= 57 else 1800


def _date_from(day: int, month: int, year: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _plain_date(value: str) -> dt.date | None:
    day, month, year = int(value[0:2]), int(value[2:4]), int(value[4:6])
    return _date_from(day, month, century_for(int(value[6]), year) + year)


def _replacement_date(value: str) -> dt.date | None:
    """Birth date of a replacement number, or None if its digits do not give one."""
    if not value[:6].isdigit():
        return None
    day, month, year = int(value[0:2]), int(value[2:4]), int(value[4:6])
    if value[6].isdigit():
        full_year = century_for(int(value[6]), year) + year
    else:
        # No century digit: 2000 if that year can be real, which is all we need for
        # deciding whether DDMM is a date (leap years are the only difference).
        full_year = 2000 + year
    found = _date_from(day, month, full_year)
    if found is None and day > _REPLACEMENT_DAY_OFFSET:
        found = _date_from(day - _REPLACEMENT_DAY_OFFSET, month, full_year)
    return found


def _date_problem(value: str) -> str:
    masked = mask_cpr(value)
    day, month = int(value[0:2]), int(value[2:4])
    if not 1 <= month <= 12:
        return f"CPR-nummeret {masked} har måned {month:02d}, som ikke findes."
    if day == 29 and month == 2:
        return f"CPR-nummeret {masked} har 29. februar i et år, der ikke er skudår."
    return f"CPR-nummeret {masked} er ikke en gyldig dato (dag {day:02d} findes ikke i måned {month:02d})."


def check_cpr(value: object, *, replacement: bool = False) -> tuple[bool, str | None]:
    """Check a CPR number; return ``(True, None)`` or ``(False, Danish reason)``.

    A plain CPR number must be 10 digits (a hyphen after the 6th is allowed) whose
    first six digits are a real date in the century given by the 7th digit. The
    modulus-11 check is never applied.

    A replacement number (``replacement=True``, i.e. issued under a replacement
    system, or letters in the serial part) is accepted when its first six digits
    form a date (the day may be DD+60), and when the caller marked it as a
    replacement it is accepted whatever its digits, as long as it is 1-20 letters
    and digits: replacement schemes differ and the issuer vouches for it.

    The reason text never contains the full number.
    """
    if not isinstance(value, str):
        return False, "CPR-nummeret mangler eller er ikke tekst."
    text = normalize_cpr(value)
    if not text:
        return False, "CPR-nummeret er tomt."

    if _PLAIN.match(text) and not replacement:
        if _plain_date(text) is None:
            return False, _date_problem(text)
        return True, None

    if _REPLACEMENT.match(text) and _replacement_date(text) is not None:
        return True, None
    if replacement and _ANY_REPLACEMENT.match(text):
        return True, None
    if _REPLACEMENT.match(text):
        return False, (
            f"Erstatnings-CPR-nummeret {mask_cpr(text)} begynder ikke med en gyldig "
            "dato; angiv det med et erstatnings-CPR-system (urn:oid:1.2.208.176.1.6…)."
        )
    if text.isdigit():
        return False, f"CPR-nummeret {mask_cpr(text)} skal have 10 cifre, men har {len(text)}."
    return False, f"CPR-nummeret {mask_cpr(text)} indeholder ugyldige tegn."


def is_replacement_cpr(value: str) -> bool:
    """True if the value can only be a replacement number: letters in the serial part, or
    ten digits whose day is only a date with 60 taken off (DD+60, e.g. ``6103921234``).

    An ordinary CPR number is never a replacement number, whatever its modulus 11."""
    text = normalize_cpr(value)
    if not _REPLACEMENT.match(text):
        return False
    if not text.isdigit():
        return True
    return (
        _plain_date(text) is None
        and int(text[0:2]) > _REPLACEMENT_DAY_OFFSET
        and _replacement_date(text) is not None
    )


def birth_date_from_cpr(value: str, *, replacement: bool = False) -> dt.date:
    """Birth date encoded in a CPR number, or in a replacement number with a century digit.

    ``replacement`` as for :func:`check_cpr` (allows the DD+60 day). Raises
    ValueError, with the number masked in the message, when the value does not
    encode a date, e.g. a replacement number with a letter as 7th character.
    """
    text = normalize_cpr(value)
    found: dt.date | None = None
    if _PLAIN.match(text) and not replacement:
        found = _plain_date(text)
    elif _REPLACEMENT.match(text) and text[6].isdigit():
        found = _replacement_date(text)
    if found is None:
        raise ValueError(f"{mask_cpr(text)} indeholder ingen gyldig fødselsdato")
    return found
