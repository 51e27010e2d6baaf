"""A child may be identified by a replacement CPR number ("erstatnings-CPR"): registered,
marked as such, with a birth date from the number, the referral or staff — while ordinary
CPR numbers stay validated by date and century (never by modulus 11)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from tests.support.world import SYSTEM
from tovholder.audit.models import AuditEvent
from tovholder.children.cpr import cpr_parse, validate_cpr
from tovholder.children.models import Child
from tovholder.children.services import child_create, child_get_or_create

pytestmark = pytest.mark.django_db

D = dt.date


def _create(world, cpr: str, **kwargs) -> Child:
    return child_create(actor=SYSTEM, basis="system", cpr=cpr, given_name="Bruno", family_name="Elmer",
                        municipality=world.syddjurs, **kwargs)


@pytest.mark.parametrize(("cpr", "born"), [
    ("0703921VJ4", D(1992, 3, 7)),   # MedCom sample: letters in the serial, century digit 1
    ("1206550VK9", D(1955, 6, 12)),  # MedCom sample (regional system)
    ("6103921234", D(1992, 3, 1)),   # DD+60
])
def test_it_registers_a_child_by_a_replacement_number_with_the_birth_date_it_gives(world, cpr, born):
    child = _create(world, cpr)
    child.refresh_from_db()
    assert child.cpr == cpr and child.cpr_is_replacement and child.birth_date == born
    assert AuditEvent.objects.filter(child=child, action=AuditEvent.Action.CREATE).exists()


@pytest.mark.parametrize("cpr", ["070392AVJ4", "9999991AB2"])
def test_it_requires_a_birth_date_when_the_replacement_number_gives_none(world, cpr):
    with pytest.raises(ValidationError) as caught:
        _create(world, cpr)
    assert list(caught.value.error_dict) == ["birth_date"]
    assert "Fødselsdato" in " ".join(caught.value.messages)
    assert cpr not in " ".join(caught.value.messages)  # masked
    assert not Child.objects.filter(cpr=cpr).exists()

    child = _create(world, cpr, birth_date=D(2014, 3, 7))
    assert child.cpr_is_replacement and child.birth_date == D(2014, 3, 7)


def test_a_given_birth_date_wins_over_a_replacement_numbers_digits(world):
    # The digits of a replacement number are the issuer's convention; the referral knows.
    assert _create(world, "0703921VJ4", birth_date=D(2012, 3, 7)).birth_date == D(2012, 3, 7)


def test_a_replacement_birth_date_cannot_lie_in_the_future(world):
    with pytest.raises(ValidationError) as caught:
        _create(world, "070392AVJ4", birth_date=dt.date.today() + dt.timedelta(days=30))
    assert "birth_date" in caught.value.error_dict


def test_a_number_marked_as_replacement_by_its_issuer_is_accepted_whatever_its_digits(world):
    child = _create(world, "0000001234", replacement=True, birth_date=D(2013, 1, 1))
    assert child.cpr_is_replacement and child.birth_date == D(2013, 1, 1)


def test_ordinary_numbers_are_validated_by_date_and_century_never_modulus_11(world):
    child = _create(world, "0101101235")  # fails modulus 11; 7th digit 1 -> 1910
    assert not child.cpr_is_replacement and child.birth_date == D(1910, 1, 1)
    for bad in ("3213901234", "3002901234", "2902001234", "12345", "abcdefghij", "ABCDEF1234"):
        with pytest.raises(ValidationError) as caught:
            _create(world, bad)
        assert "cpr" in caught.value.error_dict, bad
    assert not Child.objects.filter(cpr__in=["3213901234", "3002901234", "2902001234"]).exists()


def test_an_ordinary_number_gives_its_own_birth_date(world):
    with pytest.raises(ValidationError) as caught:
        _create(world, "0101901235", birth_date=D(1990, 1, 2))
    assert "birth_date" in caught.value.error_dict
    assert _create(world, "0101901235", birth_date=D(1990, 1, 1)).birth_date == D(1990, 1, 1)


def test_get_or_create_finds_a_replacement_child_also_when_the_caller_cannot_tell(world):
    first = _create(world, "0000001234", replacement=True, birth_date=D(2013, 1, 1))
    again, created = child_get_or_create(actor=SYSTEM, basis="system", cpr="0000001234", given_name="X",
                                         family_name="Y", municipality=world.syddjurs)
    assert again == first and not created
    search = AuditEvent.objects.filter(child=first, action=AuditEvent.Action.SEARCH).get()
    assert "0000001234" not in search.criterion


def test_a_replacement_number_registered_as_an_ordinary_one_must_be_checked_by_a_person(world):
    ordinary = _create(world, "0101901235")
    with pytest.raises(ValidationError) as caught:
        child_get_or_create(actor=SYSTEM, basis="system", cpr=ordinary.cpr, replacement=True, given_name="X",
                            family_name="Y", municipality=world.syddjurs)
    assert "cpr" in caught.value.error_dict


@pytest.mark.parametrize(("value", "replacement", "born"), [
    ("0101901235", False, D(1990, 1, 1)),
    ("010190-1235", False, D(1990, 1, 1)),
    ("0703921VJ4", True, D(1992, 3, 7)),
    ("610392-1234", True, D(1992, 3, 1)),
    ("070392AVJ4", True, None),
    ("9999991AB2", True, None),
])
def test_the_number_says_whether_it_is_a_replacement_and_what_birth_date_it_gives(value, replacement, born):
    number = cpr_parse(value)
    assert (number.is_replacement, number.birth_date) == (replacement, born)
    validate_cpr(value)  # the web and phone/letter forms accept it
