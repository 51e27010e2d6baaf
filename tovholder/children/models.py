"""The child (identified by CPR) and the custody holders."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tovholder.children.cpr import cpr_parse, mask_cpr, validate_cpr


def local_today() -> dt.date:
    return timezone.localdate()


def age_on(birth_date: dt.date, day: dt.date) -> int:
    """Whole years; a child born 29 February turns a year older on 1 March in other years."""
    years = day.year - birth_date.year
    if (day.month, day.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years


class Child(models.Model):
    # Validated in clean(): whether it must be an ordinary CPR number depends on
    # cpr_is_replacement (a replacement number from MedCom may have any issuer's shape).
    cpr = models.CharField(_("CPR-nummer"), max_length=10, unique=True)
    # A replacement number ("erstatnings-CPR"): its digits need not give the birth date,
    # which is then taken from the referral or entered by staff.
    cpr_is_replacement = models.BooleanField(_("erstatnings-CPR-nummer"), default=False)
    given_name = models.CharField(_("fornavn"), max_length=100)
    family_name = models.CharField(_("efternavn"), max_length=100)
    birth_date = models.DateField(_("fødselsdato"))
    municipality = models.ForeignKey(
        "organisations.Municipality", on_delete=models.PROTECT, related_name="children",
        verbose_name=_("bopælskommune"),
    )
    school = models.ForeignKey(
        "organisations.Unit", on_delete=models.PROTECT, null=True, blank=True,
        related_name="pupils", verbose_name=_("skole"),
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("barn")
        verbose_name_plural = _("børn")

    def __str__(self) -> str:
        return self.full_name

    def clean(self) -> None:
        super().clean()
        if not self.cpr:
            return
        try:
            number = cpr_parse(self.cpr, replacement=self.cpr_is_replacement)
        except ValidationError as exc:
            raise ValidationError({"cpr": exc.messages}) from None
        if number.is_replacement and not self.cpr_is_replacement:
            raise ValidationError({"cpr_is_replacement": "Nummeret kan kun være et erstatnings-CPR-nummer."})
        if self.birth_date and not number.is_replacement and self.birth_date != number.birth_date:
            raise ValidationError({"birth_date": f"Fødselsdatoen passer ikke med CPR-nummeret {mask_cpr(self.cpr)}."})
        if self.birth_date and number.is_replacement and self.birth_date > local_today():
            raise ValidationError({"birth_date": "Fødselsdatoen kan ikke ligge i fremtiden."})

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    def age_on(self, day: dt.date) -> int:
        return age_on(self.birth_date, day)

    @property
    def age(self) -> int:
        return self.age_on(local_today())


class CustodyHolder(models.Model):
    class Relation(models.TextChoices):
        MOTHER = "mother", _("Mor")
        FATHER = "father", _("Far")
        OTHER = "other", _("Anden forældremyndighedsindehaver")

    child = models.ForeignKey(Child, on_delete=models.PROTECT, related_name="custody_holders")
    name = models.CharField(_("navn"), max_length=200)
    relation = models.CharField(_("relation"), max_length=10, choices=Relation.choices)
    cpr = models.CharField(_("CPR-nummer"), max_length=10, blank=True, validators=[validate_cpr])
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("telefon"), max_length=30, blank=True)
    address = models.CharField(_("adresse"), max_length=200, blank=True)
    # Without Digital Post (exempt), letters go on paper and consent is registered by staff.
    has_digital_post = models.BooleanField(_("har Digital Post"), default=True)
    created_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("forældremyndighedsindehaver")
        verbose_name_plural = _("forældremyndighedsindehavere")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name
