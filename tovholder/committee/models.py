"""The coordination committee (#B): its schedule, meetings, agenda, decisions and minutes.

An agenda item is one discussion of one case: it opens when the case's consent is complete
(origin "consent") or when the lead professional brings a stalled pathway back (origin
"returned"), and it closes with the committee's decision. Notes per unit, decisions,
compliance with the 8-working-day clock and the minute all hang off the item.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("mandag")
    TUESDAY = 1, _("tirsdag")
    WEDNESDAY = 2, _("onsdag")
    THURSDAY = 3, _("torsdag")
    FRIDAY = 4, _("fredag")


class CommitteeSettings(models.Model):
    """The committee's standing meeting: the trial met every Wednesday 08:30–09:30, virtually."""

    municipality = models.OneToOneField(
        "organisations.Municipality", on_delete=models.PROTECT, related_name="committee_settings"
    )
    weekday = models.PositiveSmallIntegerField(_("ugedag"), choices=Weekday.choices, default=Weekday.WEDNESDAY)
    starts_at = models.TimeField(_("starter"), default=dt.time(8, 30))
    ends_at = models.TimeField(_("slutter"), default=dt.time(9, 30))
    location = models.CharField(_("sted"), max_length=200, blank=True, default="Virtuelt møde")
    video_link = models.URLField(_("videolink (fx til BUA)"), blank=True)
    weeks_ahead = models.PositiveSmallIntegerField(
        _("møder planlægges uger frem"), default=8, validators=[MinValueValidator(1), MaxValueValidator(26)]
    )
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("udvalgets mødeplan")
        verbose_name_plural = _("udvalgenes mødeplaner")
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="committee_settings_end_after_start"),
            models.CheckConstraint(condition=Q(weekday__lte=4), name="committee_settings_weekday"),
        ]

    def __str__(self) -> str:
        return f"{self.municipality}: {self.get_weekday_display()} {self.starts_at:%H:%M}"


class CommitteeMeeting(models.Model):
    class Kind(models.TextChoices):
        SCHEDULED = "scheduled", _("Fast møde")
        EXTRA = "extra", _("Ekstra møde")

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planlagt")
        HELD = "held", _("Afholdt")
        CANCELLED = "cancelled", _("Aflyst")

    municipality = models.ForeignKey(
        "organisations.Municipality", on_delete=models.PROTECT, related_name="committee_meetings"
    )
    kind = models.CharField(_("type"), max_length=12, choices=Kind.choices, default=Kind.SCHEDULED)
    # The Copenhagen date of the meeting; with `kind` it makes generating the schedule idempotent.
    scheduled_on = models.DateField(_("dato"))
    starts_at = models.DateTimeField(_("starter"))
    ends_at = models.DateTimeField(_("slutter"))
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.PLANNED)
    location = models.CharField(_("sted"), max_length=200, blank=True)
    video_link = models.URLField(_("videolink"), blank=True)
    cancel_reason = models.CharField(_("årsag til aflysning"), max_length=300, blank=True)
    # Others present who have no login here, e.g. "Overlæge fra BUA (video)".
    guests = models.CharField(_("øvrige deltagere"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    held_at = models.DateTimeField(_("afsluttet"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("udvalgsmøde")
        verbose_name_plural = _("udvalgsmøder")
        ordering = ["starts_at", "pk"]
        indexes = [models.Index(fields=["municipality", "status", "starts_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "scheduled_on"], condition=Q(kind="scheduled"),
                name="one_scheduled_meeting_per_day",
            ),
            # A double click on "add meeting" must not create two.
            models.UniqueConstraint(
                fields=["municipality", "starts_at"], condition=~Q(status="cancelled"),
                name="one_meeting_per_start",
            ),
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="meeting_end_after_start"),
            models.CheckConstraint(
                condition=~Q(status="cancelled") | ~Q(cancel_reason=""), name="cancelled_meeting_has_reason"
            ),
        ]

    def __str__(self) -> str:
        return f"Udvalgsmøde {self.scheduled_on:%d.%m.%Y}"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.PLANNED


class MeetingAttendance(models.Model):
    class Role(models.TextChoices):
        CHAIR = "chair", _("Formand")
        MEMBER = "member", _("Medlem")
        PRINCIPAL = "principal", _("Skoleleder (for egen elev)")
        LEAD = "lead", _("Indsatsansvarlig (sag sendt tilbage)")

    meeting = models.ForeignKey(CommitteeMeeting, on_delete=models.PROTECT, related_name="attendance")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey("organisations.Unit", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    role = models.CharField(_("rolle"), max_length=12, choices=Role.choices)
    present = models.BooleanField(_("til stede"), default=False)

    class Meta:
        verbose_name = _("fremmøde")
        verbose_name_plural = _("fremmøde")
        constraints = [models.UniqueConstraint(fields=["meeting", "user"], name="one_attendance_per_person")]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()}"


class AgendaItem(models.Model):
    class Origin(models.TextChoices):
        CONSENT = "consent", _("Samtykke komplet")
        RETURNED = "returned", _("Sendt tilbage af den indsatsansvarlige")

    class State(models.TextChoices):
        PENDING = "pending", _("På dagsordenen")
        DECIDED = "decided", _("Afgjort")
        WITHDRAWN = "withdrawn", _("Bortfaldet")  # the case closed outside the committee

    class Compliance(models.TextChoices):
        MET = "met", _("Frist overholdt")
        MISSED = "missed", _("Frist overskredet")
        EXEMPT = "exempt", _("Undtaget fra tidsfrist")

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="agenda_items")
    municipality = models.ForeignKey("organisations.Municipality", on_delete=models.PROTECT, related_name="+")
    origin = models.CharField(_("kom på dagsordenen"), max_length=12, choices=Origin.choices)
    # When the clock started: consent completed, or the case was returned.
    ready_at = models.DateTimeField(_("klar til udvalget"))
    returned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    returned_unit = models.ForeignKey(
        "organisations.Unit", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    return_reason = models.TextField(_("begrundelse for at sende sagen tilbage"), blank=True)
    state = models.CharField(_("status"), max_length=12, choices=State.choices, default=State.PENDING)
    # Recorded with the decision (DOMAIN.md: "a missed deadline requires a written explanation").
    due_on = models.DateField(_("frist"), null=True, blank=True)
    decided_on = models.DateField(_("drøftet"), null=True, blank=True)
    compliance = models.CharField(_("rettidighed"), max_length=12, choices=Compliance.choices, blank=True)
    late_explanation = models.TextField(_("forklaring på overskredet frist"), blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("punkt på dagsordenen")
        verbose_name_plural = _("punkter på dagsordenen")
        indexes = [models.Index(fields=["municipality", "state"])]
        constraints = [
            models.UniqueConstraint(fields=["case"], condition=Q(state="pending"), name="one_pending_item_per_case"),
            models.UniqueConstraint(fields=["case"], condition=Q(origin="consent"), name="one_consent_item_per_case"),
            models.CheckConstraint(
                condition=~Q(compliance="missed") | ~Q(late_explanation=""), name="missed_deadline_is_explained"
            ),
        ]

    def __str__(self) -> str:
        return f"Punkt {self.pk} ({self.get_origin_display()})"


class UnitNote(models.Model):
    """What one unit (PPR, the school, family counselling…) already knows about the child."""

    item = models.ForeignKey(AgendaItem, on_delete=models.PROTECT, related_name="notes")
    unit = models.ForeignKey("organisations.Unit", on_delete=models.PROTECT, related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(_("det ved enheden om barnet"), max_length=4000)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("enhedens viden")
        verbose_name_plural = _("enhedernes viden")
        ordering = ["unit__name"]
        constraints = [models.UniqueConstraint(fields=["item", "unit"], name="one_note_per_unit_per_item")]

    def __str__(self) -> str:
        return f"{self.unit} · punkt {self.item_id}"


class DecisionKind(models.TextChoices):
    PATHWAY = "pathway", _("Fælles forpligtende forløb")
    ORDINARY_ROUTE = "ordinary_route", _("Almindelig kommunal sagsbehandling")
    EVERYDAY_SUPPORT = "everyday_support", _("Råd tilbage til hverdagsindsatsen (#0)")
    REFERRED_ON = "referred_on", _("Anbefaling om henvisning videre")
    CONTINUE = "continue", _("Forløbet fortsætter")
    POSTPONE = "postpone", _("Udsat")
    EXEMPT = "exempt", _("Undtaget fra tidsfristerne")


# Decisions that close the agenda item; the others leave it on the next agenda.
FINAL_KINDS = frozenset({DecisionKind.PATHWAY, DecisionKind.ORDINARY_ROUTE, DecisionKind.EVERYDAY_SUPPORT,
                         DecisionKind.REFERRED_ON, DecisionKind.CONTINUE})


class ExemptionGround(models.TextChoices):
    AUTHORITY = "authority", _("Sagen er af myndighedskarakter")
    MEDICAL = "medical", _("Lægefaglige hensyn")


class CommitteeDecision(models.Model):
    item = models.ForeignKey(AgendaItem, on_delete=models.PROTECT, related_name="decisions")
    meeting = models.ForeignKey(
        CommitteeMeeting, on_delete=models.PROTECT, null=True, blank=True, related_name="decisions"
    )
    kind = models.CharField(_("afgørelse"), max_length=20, choices=DecisionKind.choices)
    conclusion = models.TextField(_("konklusion"), blank=True, max_length=2000)
    reason = models.TextField(_("begrundelse"), blank=True, max_length=2000)
    exemption_ground = models.CharField(_("grundlag for undtagelse"), max_length=12,
                                        choices=ExemptionGround.choices, blank=True)
    lead_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The lead's unit (pathway), or the unit that takes over (ordinary route, everyday support).
    unit = models.ForeignKey("organisations.Unit", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    referred_to = models.CharField(_("anbefalet henvist til"), max_length=200, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(_("besluttet"))
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("udvalgets afgørelse")
        verbose_name_plural = _("udvalgets afgørelser")
        ordering = ["decided_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["item"], condition=Q(kind__in=sorted(FINAL_KINDS)), name="one_final_decision_per_item"
            ),
            models.UniqueConstraint(
                fields=["item", "meeting"], condition=Q(kind="postpone"), name="one_postponement_per_meeting"
            ),
            models.CheckConstraint(
                condition=~Q(kind="pathway") | (Q(lead_user__isnull=False) & Q(unit__isnull=False)),
                name="pathway_decision_names_lead",
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=["postpone", "exempt"]) | ~Q(reason=""), name="postpone_exempt_have_reason"
            ),
        ]

    def __str__(self) -> str:
        return self.get_kind_display()

    @property
    def is_final(self) -> bool:
        return self.kind in FINAL_KINDS


class Minute(models.Model):
    """The short minute to the family (and the child if 15+) and the GP; drafted by the
    system from the decision, edited by members, approved (and so sent) by the chair."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Udkast")
        SENT = "sent", _("Godkendt og sendt")

    decision = models.OneToOneField(CommitteeDecision, on_delete=models.PROTECT, related_name="minute")
    meeting = models.ForeignKey(CommitteeMeeting, on_delete=models.PROTECT, related_name="minutes")
    item = models.ForeignKey(AgendaItem, on_delete=models.PROTECT, related_name="minutes")
    text = models.TextField(_("referat"), max_length=6000)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.DRAFT)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(default=timezone.now)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    letters_sent = models.PositiveSmallIntegerField(default=0)
    referrer_reply = models.BooleanField(_("svar til henviser sendt"), default=False)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("referat")
        verbose_name_plural = _("referater")
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="draft") | Q(approved_at__isnull=False), name="sent_minute_is_approved"
            ),
        ]

    def __str__(self) -> str:
        return f"Referat · punkt {self.item_id} ({self.get_status_display()})"
