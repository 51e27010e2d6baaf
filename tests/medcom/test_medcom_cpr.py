"""CPR date and century rules, replacement numbers, and masking."""

from __future__ import annotations

import datetime as dt

import pytest

from tovholder.medcom import (
    birth_date_from_cpr,
    check_cpr,
    is_replacement_cpr,
    mask_cpr,
    normalize_cpr,
)
from tovholder.medcom.cpr import century_for


@pytest.mark.parametrize(
    ("seventh", "year", "century"),
    [
        (0, 0, 1900),
        (3, 99, 1900),
        (4, 0, 2000),
        (4, 36, 2000),
        (4, 37, 1900),
        (4, 99, 1900),
        (9, 36, 2000),
        (9, 37, 1900),
        (5, 0, 2000),
        (5, 57, 2000),
        (5, 58, 1800),
        (8, 57, 2000),
        (8, 58, 1800),
        (6, 99, 1800),
    ],
)
def test_century_table(seventh, year, century):
    assert century_for(seventh, year) == century


@pytest.mark.parametrize(
    ("cpr", "born"),
    [
        ("0101000000", dt.date(1900, 1, 1)),
        ("3112993999", dt.date(1999, 12, 31)),
        ("0101364000", dt.date(2036, 1, 1)),
        ("0101374000", dt.date(1937, 1, 1)),
        ("0101575000", dt.date(2057, 1, 1)),
        ("0101579000", dt.date(1957, 1, 1)),
        ("0101585000", dt.date(1858, 1, 1)),
        ("2902004000", dt.date(2000, 2, 29)),  # 2000 is a leap year
        ("250947-9989", dt.date(1947, 9, 25)),
    ],
)
def test_birth_date_follows_the_century_rules(cpr, born):
    assert check_cpr(cpr) == (True, None)
    assert birth_date_from_cpr(cpr) == born


@pytest.mark.parametrize(
    "cpr",
    ["3113479989", "3002479989", "0000479989", "3204479989", "2902001234", "2902961234" + "0"],
)
def test_impossible_dates_are_rejected(cpr):
    ok, reason = check_cpr(cpr)
    assert not ok
    assert reason and normalize_cpr(cpr) not in reason
    with pytest.raises(ValueError):
        birth_date_from_cpr(cpr)


def test_29_february_1900_is_not_a_date_but_2000_is():
    assert not check_cpr("2902001234")[0]  # 7th digit 1 -> 1900, not a leap year
    assert check_cpr("2902004234")[0]  # 7th digit 4, year 00 -> 2000


def test_modulus_11_is_never_applied():
    # Both are real dates; 0101010001 fails modulus 11 and is still valid.
    assert check_cpr("0101010001") == (True, None)
    assert check_cpr("2509479988") == (True, None)


def test_day_plus_60_only_for_replacement_numbers():
    assert not check_cpr("6103921234")[0]
    assert check_cpr("6103921234", replacement=True) == (True, None)
    assert birth_date_from_cpr("6103921234", replacement=True) == dt.date(1992, 3, 1)


def test_letters_in_the_serial_part_make_a_replacement_number():
    assert is_replacement_cpr("0703921VJ4")
    assert not is_replacement_cpr("0703921234")
    assert check_cpr("0703921VJ4") == (True, None)
    assert birth_date_from_cpr("0703921VJ4") == dt.date(1992, 3, 7)
    # Letters but no date: only accepted when marked as a replacement number.
    assert not check_cpr("9999991AB2")[0]
    assert check_cpr("9999991AB2", replacement=True) == (True, None)


def test_replacement_number_with_letter_century_has_no_birth_date():
    assert check_cpr("070392AVJ4") == (True, None)
    with pytest.raises(ValueError):
        birth_date_from_cpr("070392AVJ4")


@pytest.mark.parametrize(
    "value", [None, 2509479989, "", "25094799", "2509479989x", "25-09-47-9989"]
)
def test_junk_is_rejected_with_a_reason(value):
    ok, reason = check_cpr(value)
    assert not ok and reason


def test_masking_hides_year_and_serial():
    assert mask_cpr("3213479989") == "3213xx-xxxx"
    assert mask_cpr("321347-9989") == "3213xx-xxxx"
    assert mask_cpr("12") == "xxxxxx-xxxx"
    assert "479989" not in check_cpr("3213479989")[1]
