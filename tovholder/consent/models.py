"""Consent: the text people consent to, the rounds of requests, each person's answer,
and the personal links they answer with.

- `ConsentText`: the consent declaration (seed 001, appendix 3), versioned per
  municipality, with the parties data may be exchanged with.
- `ConsentRound`: one collection of consents for a case — the first when the case is
  opened, a renewal before the consent expires. Consent is complete when every
  required person in the round has given it; the gate opens on a complete, unexpired,
  unwithdrawn round.
- `ConsentRequest`: one required person in a round (a custody holder, or the child from
  15), with their answer: who, in what capacity, on which text version, when and how.
- `ConsentLink`: a personal link to answer (and later withdraw); only its hash is kept.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Party(models.TextChoices):
    """Who data may be exchanged with. "committee" covers the municipality's own units
    (school, PPR, health visitors, family counselling) through the coordination committee."""

    COMMITTEE = "committee", _("Det tværfaglige koordinationsudvalg")
    BUA = "bua", _("Børne- og Ungdomspsykiatrien")
    PAEDIATRIC_WARD = "paediatric_ward", _("Børne- og ungeafdelingen på hospitalet")
    GP = "gp_practice", _("Egen læge")


class ConsentText(models.Model):
    municipality = models.ForeignKey(
        "organisations.Municipality", on_delete=models.PROTECT, related_name="consent_texts"
    )
    version = models.PositiveIntegerField(_("version"))
    # Plain text with placeholders: {barn} {kommune} {parter} {gyldighed} {kontakt}.
    body_template = models.TextField(_("tekst"))
    # [{"kind": "committee" | "bua" | "paediatric_ward" | "gp_practice", "label": "…"}, …]
    parties = models.JSONField(_("parter"), default=list)
    contact = models.CharField(_("kontakt ved tilbagetrækning"), max_length=200)
    valid_from = models.DateField(_("gælder fra"))
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.CharField(max_length=150, blank=True)

    class Meta:
        verbose_name = _("samtykketekst")
        verbose_name_plural = _("samtykketekster")
        ordering = ["municipality", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["municipality", "version"], name="one_consent_text_per_version"),
        ]

    def __str__(self) -> str:
        return f"Samtykketekst v{self.version} ({self.municipality})"

    @property
    def party_kinds(self) -> frozenset[str]:
        return frozenset(p.get("kind", "") for p in self.parties)


class Capacity(models.TextChoices):
    CUSTODY_HOLDER = "custody_holder", _("Forældremyndighedsindehaver")
    CHILD = "child", _("Den unge selv (15 år eller ældre)")


class How(models.TextChoices):
    DIGITAL = "digital_link", _("Digitalt via personligt link")
    PAPER = "paper", _("På papir (scannet kopi)")
    STAFF = "staff", _("Via henvendelse til medarbejder")


class ConsentRound(models.Model):
    class Kind(models.TextChoices):
        INITIAL = "initial", _("Første anmodning")
        RENEWAL = "renewal", _("Fornyelse")

    class Status(models.TextChoices):
        OPEN = "open", _("Afventer svar")
        COMPLETE = "complete", _("Samtykke givet")
        REFUSED = "refused", _("Afvist")
        LAPSED = "lapsed", _("Intet svar inden fristen")
        WITHDRAWN = "withdrawn", _("Trukket tilbage")
        CANCELLED = "cancelled", _("Ikke længere aktuel")

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="consent_rounds")
    number = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=10, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True)
    text = models.ForeignKey(ConsentText, on_delete=models.PROTECT, related_name="rounds")
    started_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)
    # The day consent lapses (the earliest of the people's own end dates).
    expires_on = models.DateField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # Claims of the background sweep (each step happens once).
    renewal_requested_at = models.DateTimeField(null=True, blank=True)
    expiry_handled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("samtykkerunde")
        verbose_name_plural = _("samtykkerunder")
        ordering = ["case", "number"]
        constraints = [
            models.UniqueConstraint(fields=["case", "number"], name="one_consent_round_per_number"),
            # Never two collections running at once for the same case.
            models.UniqueConstraint(fields=["case"], condition=Q(status="open"), name="one_open_consent_round"),
            models.CheckConstraint(
                condition=~Q(status="complete") | (Q(completed_at__isnull=False) & Q(expires_on__isnull=False)),
                name="complete_round_has_dates",
            ),
        ]
        indexes = [models.Index(fields=["status", "expires_on"])]

    def __str__(self) -> str:
        return f"Samtykke {self.number} · {self.case}"


class ConsentRequest(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Afventer svar")
        GIVEN = "given", _("Givet")
        REFUSED = "refused", _("Afvist")
        WITHDRAWN = "withdrawn", _("Trukket tilbage")
        LAPSED = "lapsed", _("Intet svar inden fristen")
        CANCELLED = "cancelled", _("Ikke længere aktuel")

    class Channel(models.TextChoices):
        DIGITAL = "digital", _("Digital Post")
        PAPER = "paper", _("Papir")

    round = models.ForeignKey(ConsentRound, on_delete=models.PROTECT, related_name="requests")
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="consent_requests")
    capacity = models.CharField(_("som"), max_length=20, choices=Capacity.choices)
    custody_holder = models.ForeignKey(
        "children.CustodyHolder", on_delete=models.PROTECT, null=True, blank=True, related_name="consent_requests"
    )
    # "holder:<id>" or "child": one request per person per round (unique).
    person_key = models.CharField(max_length=30)
    person_name = models.CharField(_("navn"), max_length=200)
    channel = models.CharField(_("kanal"), max_length=10, choices=Channel.choices)
    text = models.ForeignKey(ConsentText, on_delete=models.PROTECT, related_name="requests",
                             verbose_name=_("tekstversion"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    requested_at = models.DateTimeField(_("anmodet"), default=timezone.now)
    answer_due = models.DateField(_("svarfrist"))
    reminded_at = models.DateTimeField(_("påmindet"), null=True, blank=True)
    final_due = models.DateField(_("frist efter påmindelse"), null=True, blank=True)
    answered_at = models.DateTimeField(_("besvaret"), null=True, blank=True)
    answered_how = models.CharField(_("hvordan"), max_length=20, choices=How.choices, blank=True)
    signed_on = models.DateField(_("underskrevet"), null=True, blank=True)
    registered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                      related_name="+", verbose_name=_("registreret af"))
    scan = models.BinaryField(_("scannet kopi"), null=True, blank=True)
    scan_name = models.CharField(max_length=200, blank=True)
    scan_content_type = models.CharField(max_length=100, blank=True)
    # The day this person's consent lapses (at most one year after it was given).
    expires_on = models.DateField(_("udløber"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("trukket tilbage"), null=True, blank=True)
    withdrawn_how = models.CharField(max_length=20, choices=How.choices, blank=True)
    withdrawn_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+")
    withdrawal_note = models.CharField(max_length=300, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("samtykke")
        verbose_name_plural = _("samtykker")
        ordering = ["round", "id"]
        constraints = [
            models.UniqueConstraint(fields=["round", "person_key"], name="one_request_per_person_per_round"),
            models.CheckConstraint(
                condition=(Q(capacity="custody_holder") & Q(custody_holder__isnull=False))
                | (Q(capacity="child") & Q(custody_holder__isnull=True)),
                name="consent_request_capacity_matches",
            ),
            models.CheckConstraint(
                condition=~Q(status="given") | (Q(answered_at__isnull=False) & Q(expires_on__isnull=False)),
                name="given_consent_has_dates",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "answer_due"]),
            models.Index(fields=["case", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.person_name} · {self.get_status_display()}"

    @property
    def current_due(self):
        """The date this person must answer by (after a reminder, the extended date)."""
        return self.final_due or self.answer_due

    @property
    def has_scan(self) -> bool:
        return bool(self.scan_name)


class ConsentLink(models.Model):
    """A personal link to answer one request (and later withdraw). The token itself is in
    the letter only; here is its SHA-256."""

    request = models.ForeignKey(ConsentRequest, on_delete=models.PROTECT, related_name="links")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("personligt link")
        verbose_name_plural = _("personlige links")

    def __str__(self) -> str:
        return f"Link til {self.request}"
