"""Regions, municipalities, units, staff users and their memberships."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tovholder.organisations.identifiers import (
    validate_gln,
    validate_municipality_code,
    validate_sor,
)


class Region(models.Model):
    name = models.CharField(_("navn"), max_length=100, unique=True)

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regioner")

    def __str__(self) -> str:
        return self.name


class Municipality(models.Model):
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="municipalities")
    name = models.CharField(_("navn"), max_length=100)
    code = models.CharField(
        _("kommunekode"), max_length=3, unique=True, validators=[validate_municipality_code]
    )
    # Days that are not public holidays by law but on which most municipal offices close.
    # Each municipality chooses; by default they are not working days (DOMAIN.md).
    closed_constitution_day = models.BooleanField(_("lukket grundlovsdag"), default=True)
    closed_christmas_eve = models.BooleanField(_("lukket juleaftensdag"), default=True)
    closed_new_years_eve = models.BooleanField(_("lukket nytårsaftensdag"), default=True)
    # The model's clocks, configurable per municipality (DOMAIN.md "Deadlines").
    committee_working_days = models.PositiveSmallIntegerField(
        _("koordinationsudvalg, hverdage efter samtykke"), default=8
    )
    start_meeting_weeks = models.PositiveSmallIntegerField(
        _("igangsætningsmøde, uger efter afgørelse"), default=4
    )
    intervention_weeks = models.PositiveSmallIntegerField(
        _("udredende/behandlende indsats, uger efter igangsætningsmøde"), default=4
    )
    first_follow_up_weeks = models.PositiveSmallIntegerField(
        _("første opfølgning, uger efter igangsætningsmøde"), default=6
    )
    consent_answer_days = models.PositiveSmallIntegerField(_("svarfrist for samtykke, dage"), default=14)
    consent_reminder_days = models.PositiveSmallIntegerField(_("frist efter påmindelse, dage"), default=7)
    consent_validity_days = models.PositiveSmallIntegerField(_("samtykkets gyldighed, dage"), default=365)

    class Meta:
        verbose_name = _("kommune")
        verbose_name_plural = _("kommuner")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} Kommune"


class Unit(models.Model):
    class Kind(models.TextChoices):
        SCHOOL = "school", _("Skole")
        PPR = "ppr", _("PPR")
        HEALTH_VISITORS = "health_visitors", _("Sundhedspleje")
        FAMILY_COUNSELLING = "family_counselling", _("Familierådgivning")
        SINGLE_ENTRY = "single_entry", _("Én indgang")
        COMMITTEE = "committee", _("Koordinationsudvalg")
        BUA = "bua", _("Børne- og Ungdomspsykiatrisk Afdeling")
        PAEDIATRIC_WARD = "paediatric_ward", _("Børne- og ungeafdeling")
        GP_PRACTICE = "gp_practice", _("Lægepraksis")

    # Units that belong to a municipality; the others belong to the region or are private.
    MUNICIPAL_KINDS = frozenset(
        {Kind.SCHOOL, Kind.PPR, Kind.HEALTH_VISITORS, Kind.FAMILY_COUNSELLING,
         Kind.SINGLE_ENTRY, Kind.COMMITTEE}
    )

    kind = models.CharField(_("type"), max_length=32, choices=Kind.choices)
    name = models.CharField(_("navn"), max_length=200)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="units")
    municipality = models.ForeignKey(
        Municipality, on_delete=models.PROTECT, related_name="units", null=True, blank=True
    )
    sor_id = models.CharField(_("SOR-id"), max_length=18, blank=True, validators=[validate_sor])
    gln = models.CharField(_("EAN/GLN"), max_length=13, blank=True, validators=[validate_gln])
    phone = models.CharField(_("telefon"), max_length=30, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    address = models.CharField(_("adresse"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("enhed")
        verbose_name_plural = _("enheder")
        ordering = ["name"]
        constraints = [
            # Each municipality has exactly one single entry and one committee.
            models.UniqueConstraint(
                fields=["municipality"], condition=Q(kind="single_entry"), name="one_entry_per_municipality"
            ),
            models.UniqueConstraint(
                fields=["municipality"], condition=Q(kind="committee"), name="one_committee_per_municipality"
            ),
            models.UniqueConstraint(fields=["gln"], condition=~Q(gln=""), name="unique_unit_gln"),
            models.UniqueConstraint(fields=["sor_id"], condition=~Q(sor_id=""), name="unique_unit_sor"),
        ]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A staff member (fagperson). Families never log in with a password."""

    title = models.CharField(_("titel"), max_length=100, blank=True)
    phone = models.CharField(_("telefon"), max_length=30, blank=True)

    class Meta:
        verbose_name = _("medarbejder")
        verbose_name_plural = _("medarbejdere")

    def __str__(self) -> str:
        return self.get_full_name() or self.username


class MembershipQuerySet(models.QuerySet):
    def active(self, at=None):
        at = at or timezone.now()
        return self.filter(Q(ended_at__isnull=True) | Q(ended_at__gt=at), started_at__lte=at)


class Membership(models.Model):
    class Role(models.TextChoices):
        STAFF = "staff", _("Medarbejder")
        LEADER = "leader", _("Leder")
        INBOX_KEEPER = "inbox_keeper", _("Postkasseansvarlig")
        COMMITTEE_MEMBER = "committee_member", _("Medlem af koordinationsudvalget")
        COMMITTEE_CHAIR = "committee_chair", _("Formand for koordinationsudvalget")
        ADMINISTRATOR = "administrator", _("Administrator")

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="memberships")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(_("rolle"), max_length=32, choices=Role.choices)
    started_at = models.DateTimeField(_("fra"), default=timezone.now)
    ended_at = models.DateTimeField(_("til"), null=True, blank=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("tilknytning")
        verbose_name_plural = _("tilknytninger")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "unit", "role"], condition=Q(ended_at__isnull=True),
                name="one_open_membership_per_role",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.unit}"
