"""The case: the child's pathway record, its stage, and its team."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Stage(models.TextChoices):
    AWAITING_CONSENT = "awaiting_consent", _("Afventer samtykke")
    AWAITING_COMMITTEE = "awaiting_committee", _("Afventer koordinationsudvalget")
    AWAITING_START = "awaiting_start", _("Afventer igangsætningsmøde")
    ACTIVE = "active", _("I fælles forløb")
    CLOSED = "closed", _("Afsluttet")


class ClosedReason(models.TextChoices):
    NO_CONSENT = "no_consent", _("Intet samtykke")
    CONSENT_REFUSED = "consent_refused", _("Samtykke afvist")
    CONSENT_WITHDRAWN = "consent_withdrawn", _("Samtykke trukket tilbage")
    ORDINARY_ROUTE = "ordinary_route", _("Almindelig kommunal sagsbehandling")
    EVERYDAY_SUPPORT = "everyday_support", _("Råd tilbage til hverdagsindsatsen (#0)")
    REFERRED_ON = "referred_on", _("Henvist videre")
    PATHWAY_COMPLETED = "pathway_completed", _("Forløb afsluttet")
    MOVED_AWAY = "moved_away", _("Fraflyttet kommunen")


class ReferralChannel(models.TextChoices):
    GP = "gp", _("Egen læge")
    PARENTS_VIA_GP = "parents_via_gp", _("Forældre via egen læge")
    SCHOOL = "school", _("Skole")
    HOSPITAL = "hospital", _("Hospital")
    BUA = "bua", _("Børne- og Ungdomspsykiatri")
    OTHER = "other", _("Andet")


# Which stage may follow which. A case never leaves "closed": a new referral opens a new case.
TRANSITIONS: dict[str, frozenset[str]] = {
    Stage.AWAITING_CONSENT: frozenset({Stage.AWAITING_COMMITTEE, Stage.CLOSED}),
    Stage.AWAITING_COMMITTEE: frozenset({Stage.AWAITING_START, Stage.CLOSED}),
    Stage.AWAITING_START: frozenset({Stage.ACTIVE, Stage.CLOSED}),
    Stage.ACTIVE: frozenset({Stage.CLOSED}),
    Stage.CLOSED: frozenset(),
}


class Case(models.Model):
    municipality = models.ForeignKey(
        "organisations.Municipality", on_delete=models.PROTECT, related_name="cases"
    )
    child = models.ForeignKey("children.Child", on_delete=models.PROTECT, related_name="cases")
    stage = models.CharField(_("fase"), max_length=32, choices=Stage.choices,
                             default=Stage.AWAITING_CONSENT, db_index=True)
    closed_reason = models.CharField(_("årsag til afslutning"), max_length=32,
                                     choices=ClosedReason.choices, blank=True)
    referral_channel = models.CharField(_("henvisningsvej"), max_length=20,
                                        choices=ReferralChannel.choices, default=ReferralChannel.GP)
    referrer_unit = models.ForeignKey(
        "organisations.Unit", on_delete=models.PROTECT, null=True, blank=True,
        related_name="referred_cases", verbose_name=_("henviser"),
    )
    is_re_referral = models.BooleanField(_("genhenvisning"), default=False)
    opened_at = models.DateTimeField(_("oprettet"), default=timezone.now)
    consent_completed_at = models.DateTimeField(_("samtykke komplet"), null=True, blank=True)
    committee_decided_at = models.DateTimeField(_("afgjort i udvalget"), null=True, blank=True)
    closed_at = models.DateTimeField(_("afsluttet"), null=True, blank=True)
    # The most urgent open deadline, kept by tovholder.deadlines so lists can sort in SQL.
    next_deadline = models.DateField(_("næste frist"), null=True, blank=True, db_index=True)
    next_deadline_kind = models.CharField(_("næste frist gælder"), max_length=40, blank=True)
    exempt_from_deadlines = models.BooleanField(_("undtaget fra tidsfrister"), default=False)
    exemption_reason = models.CharField(_("begrundelse for undtagelse"), max_length=300, blank=True)
    # Bumped by every change, so two people saving at once cannot overwrite each other.
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("forløb")
        verbose_name_plural = _("forløb")
        indexes = [models.Index(fields=["municipality", "stage"])]
        constraints = [
            models.CheckConstraint(
                condition=(Q(stage="closed") & Q(closed_at__isnull=False) & ~Q(closed_reason=""))
                | (~Q(stage="closed") & Q(closed_reason="")),
                name="closed_case_has_reason",
            )
        ]

    def __str__(self) -> str:
        return f"Forløb {self.reference}"

    @property
    def reference(self) -> str:
        return f"TH-{self.opened_at:%Y}-{self.pk:05d}"

    @property
    def is_open(self) -> bool:
        return self.stage != Stage.CLOSED


class TeamRole(models.TextChoices):
    LEAD = "lead", _("Indsatsansvarlig")
    PARTICIPANT = "participant", _("Deltager")


class CaseTeamMember(models.Model):
    """Who has which role on the case. Access follows the open rows of this table."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="team")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="case_roles")
    unit = models.ForeignKey("organisations.Unit", on_delete=models.PROTECT, related_name="case_roles")
    role = models.CharField(_("rolle"), max_length=20, choices=TeamRole.choices)
    started_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("rolle i forløbet")
        verbose_name_plural = _("roller i forløbet")
        constraints = [
            # At most one lead professional at any moment (DOMAIN.md: "always exactly one").
            models.UniqueConstraint(fields=["case"], condition=Q(role="lead", ended_at__isnull=True),
                                    name="one_open_lead_per_case"),
            models.UniqueConstraint(fields=["case", "user"], condition=Q(ended_at__isnull=True),
                                    name="one_open_role_per_person_per_case"),
        ]
        indexes = [models.Index(fields=["user", "ended_at"])]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()}"


class Notice(models.Model):
    """Something a staff member must know about a case; shown on their home page."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="notices")
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="notices")
    text = models.CharField(max_length=500)
    url = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "read_at"])]

    def __str__(self) -> str:
        return self.text
