"""Consultation ("sparring") and referral onwards.

Seed 001 ("Sparring mellem fagprofessionelle"; more than 30 % of GPs' referrals to BUA
rejected) and seed 003 (Region Midtjylland's "Samrum": fixed times when BUA advises on
concrete cases by target group; only the referrer hears of a rejection).

Two kinds of consultation share one thread model:

- identified: about a child on a case. The link to the case lives in its own table,
  `ConsultationSubject`; only a consultation that is about an identified child has a row
  there.
- anonymous: no CPR, no name, no consent needed. The `Consultation` table has no column
  that points at a case or a child, so an anonymous consultation cannot be joined to a
  child by anyone. Attachments are refused for anonymous consultations: a file (a school
  report, a PDF with a header) cannot be checked for names and CPR numbers, and its file
  name often carries the child's name.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# Units whose staff give advice and may publish fixed consultation times.
ADVISING_KINDS = frozenset({"bua", "paediatric_ward", "ppr"})
# Units a referral onwards may go to (seed 001 #A: BUA and the paediatric ward).
REFERRAL_RECEIVER_KINDS = frozenset({"bua", "paediatric_ward"})


class TargetGroup(models.TextChoices):
    """The pathway programmes' target groups (seed 003), autism included as asked for."""

    ADHD = "adhd", _("ADHD")
    ANXIETY_DEPRESSION = "anxiety_depression", _("Angst og depression")
    EATING_DISORDERS = "eating_disorders", _("Spiseforstyrrelser")
    AUTISM = "autism", _("Autisme")
    OTHER = "other", _("Andet")


class Recommendation(models.TextChoices):
    """What the advice concluded (Samrum registers whether referral was recommended)."""

    NONE = "", _("Ikke angivet")
    MUNICIPAL = "municipal", _("Fortsæt eller justér den kommunale indsats")
    REFERRAL = "referral", _("Henvisning anbefales")
    NO_REFERRAL = "no_referral", _("Henvisning er ikke relevant nu")


class SlotSeries(models.Model):
    """A recurring fixed consultation time published by an advising unit ("Samrum")."""

    advising_unit = models.ForeignKey("organisations.Unit", on_delete=models.PROTECT, related_name="+")
    target_group = models.CharField(_("målgruppe"), max_length=24, choices=TargetGroup.choices)
    first_starts_at = models.DateTimeField(_("første gang"))
    duration_minutes = models.PositiveSmallIntegerField(_("varighed (minutter)"))
    every_weeks = models.PositiveSmallIntegerField(_("hver N. uge"), default=1)
    occurrences = models.PositiveSmallIntegerField(_("antal gange"))
    capacity = models.PositiveSmallIntegerField(_("pladser pr. gang"))
    video_link = models.URLField(_("videolink"))
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    published_at = models.DateTimeField(default=timezone.now)
    idempotency_key = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("faste sparringstider")
        verbose_name_plural = _("faste sparringstider")
        constraints = [
            models.UniqueConstraint(fields=["published_by", "idempotency_key"], condition=~Q(idempotency_key=""),
                                    name="slot_series_idempotency"),
            models.CheckConstraint(condition=Q(capacity__gte=1), name="slot_series_capacity_positive"),
            models.CheckConstraint(condition=Q(occurrences__gte=1) & Q(occurrences__lte=52),
                                   name="slot_series_occurrences_1_52"),
            models.CheckConstraint(condition=Q(every_weeks__gte=1), name="slot_series_every_weeks_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.get_target_group_display()} · {self.advising_unit}"


class ConsultationSlot(models.Model):
    """One fixed consultation time with a number of seats."""

    series = models.ForeignKey(SlotSeries, on_delete=models.PROTECT, null=True, blank=True, related_name="slots")
    advising_unit = models.ForeignKey("organisations.Unit", on_delete=models.PROTECT, related_name="+",
                                      verbose_name=_("rådgivende enhed"))
    target_group = models.CharField(_("målgruppe"), max_length=24, choices=TargetGroup.choices)
    starts_at = models.DateTimeField(_("starter"))
    ends_at = models.DateTimeField(_("slutter"))
    capacity = models.PositiveSmallIntegerField(_("pladser"))
    video_link = models.URLField(_("videolink"))
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("sparringstid")
        verbose_name_plural = _("sparringstider")
        ordering = ["starts_at", "id"]
        indexes = [models.Index(fields=["advising_unit", "starts_at"]), models.Index(fields=["starts_at"])]
        constraints = [
            models.CheckConstraint(condition=Q(capacity__gte=1), name="slot_capacity_positive"),
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="slot_ends_after_start"),
            models.UniqueConstraint(fields=["advising_unit", "target_group", "starts_at"],
                                    condition=Q(cancelled_at__isnull=True), name="one_slot_per_group_and_time"),
        ]

    def __str__(self) -> str:
        return f"{self.get_target_group_display()} {timezone.localtime(self.starts_at):%d.%m.%Y %H:%M}"

    @property
    def is_cancelled(self) -> bool:
        return self.cancelled_at is not None


class Consultation(models.Model):
    """A question to an advising unit and its answers: one thread.

    Deliberately without a case or child column (see the module docstring)."""

    class Status(models.TextChoices):
        OPEN = "open", _("Afventer svar")
        ANSWERED = "answered", _("Besvaret")
        CANCELLED = "cancelled", _("Aflyst")

    advising_unit = models.ForeignKey("organisations.Unit", on_delete=models.PROTECT, related_name="+",
                                      verbose_name=_("rådgivende enhed"))
    asking_unit = models.ForeignKey("organisations.Unit", on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("spørgende enhed"))
    asked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # For the trial's figures; a municipality alone does not identify a child.
    municipality = models.ForeignKey("organisations.Municipality", on_delete=models.PROTECT, related_name="+",
                                     verbose_name=_("kommune"))
    is_anonymous = models.BooleanField(_("anonym"))
    target_group = models.CharField(_("målgruppe"), max_length=24, choices=TargetGroup.choices)
    subject = models.CharField(_("emne"), max_length=200)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    recommendation = models.CharField(_("anbefaling"), max_length=16, choices=Recommendation.choices,
                                      blank=True, default="")
    asked_at = models.DateTimeField(default=timezone.now, db_index=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    idempotency_key = models.CharField(max_length=64, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("sparring")
        verbose_name_plural = _("sparringer")
        ordering = ["-asked_at", "-id"]
        indexes = [models.Index(fields=["municipality", "asked_at"]), models.Index(fields=["advising_unit", "status"])]
        constraints = [
            models.UniqueConstraint(fields=["asked_by", "idempotency_key"], condition=~Q(idempotency_key=""),
                                    name="consultation_idempotency"),
        ]

    def __str__(self) -> str:
        return f"Sparring {self.reference}"

    @property
    def reference(self) -> str:
        return f"SP-{self.asked_at:%Y}-{self.pk:05d}"


class ConsultationSubject(models.Model):
    """The case an identified consultation is about. Anonymous consultations never get a row."""

    consultation = models.OneToOneField(Consultation, on_delete=models.PROTECT, primary_key=True,
                                        related_name="subject_link")
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="consultations")

    class Meta:
        verbose_name = _("sparringens forløb")
        verbose_name_plural = _("sparringers forløb")

    def __str__(self) -> str:
        return f"{self.consultation} · {self.case}"


class SlotBooking(models.Model):
    """A seat at a fixed consultation time, held by one consultation.

    Seats are numbered 1..capacity and a seat can be held by one open booking only, so
    two people booking the last seat at once cannot both get it."""

    slot = models.ForeignKey(ConsultationSlot, on_delete=models.PROTECT, related_name="bookings")
    seat = models.PositiveSmallIntegerField()
    consultation = models.OneToOneField(Consultation, on_delete=models.PROTECT, related_name="booking")
    booked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    booked_at = models.DateTimeField(default=timezone.now)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+")

    class Meta:
        verbose_name = _("booking af sparringstid")
        verbose_name_plural = _("bookinger af sparringstider")
        constraints = [
            models.UniqueConstraint(fields=["slot", "seat"], condition=Q(cancelled_at__isnull=True),
                                    name="one_open_booking_per_seat"),
            models.CheckConstraint(condition=Q(seat__gte=1), name="booking_seat_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.slot} · plads {self.seat}"


class ConsultationMessage(models.Model):
    class Kind(models.TextChoices):
        QUESTION = "question", _("Spørgsmål")
        ANSWER = "answer", _("Svar")
        FOLLOW_UP = "follow_up", _("Opfølgning")

    consultation = models.ForeignKey(Consultation, on_delete=models.PROTECT, related_name="messages")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    author_unit = models.ForeignKey("organisations.Unit", on_delete=models.PROTECT, related_name="+")
    text = models.TextField(_("tekst"))
    created_at = models.DateTimeField(default=timezone.now)
    idempotency_key = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["consultation", "idempotency_key"], condition=~Q(idempotency_key=""),
                                    name="consultation_message_idempotency"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.consultation}"


def _attachment_path(instance: ConsultationAttachment, filename: str) -> str:
    # A random name on disk: the uploaded file name may carry the child's name.
    return f"consultation/{uuid.uuid4().hex}"


class ConsultationAttachment(models.Model):
    """A file attached to a message of an identified consultation."""

    message = models.ForeignKey(ConsultationMessage, on_delete=models.PROTECT, related_name="attachments")
    file = models.FileField(upload_to=_attachment_path)
    filename = models.CharField(_("filnavn"), max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.filename


class ConsultationNotice(models.Model):
    """An answer to an anonymous consultation, shown on the asker's consultation page.
    (cases.Notice needs a case; an anonymous consultation has none.)"""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    consultation = models.ForeignKey(Consultation, on_delete=models.PROTECT, related_name="notices")
    text = models.CharField(max_length=300)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at"])]

    def __str__(self) -> str:
        return self.text


class AdviceAgreement(models.Model):
    """An agreement the lead professional added to the plan from a consultation's advice.
    One per consultation, so a double click adds it once."""

    consultation = models.OneToOneField(Consultation, on_delete=models.PROTECT, related_name="agreement_link")
    agreement_id = models.PositiveBigIntegerField(_("aftale i handleplanen"))
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Aftale {self.agreement_id} · {self.consultation}"


# --------------------------------------------------------------------------- referral onwards


class Priority(models.TextChoices):
    ROUTINE = "routine", _("Almindelig")
    ASAP = "asap", _("Hurtigst muligt")


class RejectionReason(models.TextChoices):
    """Why referrals are rejected (seed 001 #A, seed 003)."""

    MUNICIPAL_EFFORTS = "municipal_efforts", _("Mangler oplysninger om kommunens tiltag")
    PPR_NOT_INVOLVED = "ppr_not_involved", _("PPR er ikke inddraget")
    OUTSIDE_TARGET_GROUP = "outside_target_group", _("Barnet er ikke i målgruppen")
    INSUFFICIENT_INFORMATION = "insufficient_information", _("Utilstrækkelige oplysninger i øvrigt")
    OTHER = "other", _("Anden årsag")


class Referral(models.Model):
    """A referral onwards from the case to BUA or the paediatric ward."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Kladde")
        SENT = "sent", _("Sendt, afventer svar")
        MORE_INFO = "more_info", _("Modtageren beder om flere oplysninger")
        ACCEPTED = "accepted", _("Accepteret")
        REJECTED = "rejected", _("Afvist")
        WITHDRAWN = "withdrawn", _("Trukket tilbage")

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="referrals_onwards")
    receiver_unit = models.ForeignKey("organisations.Unit", on_delete=models.PROTECT, related_name="+",
                                      verbose_name=_("modtager"))
    from_consultation = models.ForeignKey(Consultation, on_delete=models.PROTECT, null=True, blank=True,
                                          related_name="referrals")
    priority = models.CharField(_("prioritet"), max_length=10, choices=Priority.choices, default=Priority.ROUTINE)
    question = models.TextField(_("henvisningsårsag og spørgsmål til modtageren"), blank=True)
    tried = models.TextField(_("hvad kommunen har afprøvet, og med hvilken effekt"), blank=True)
    ppr_assessment = models.TextField(_("PPR's vurdering"), blank=True)
    ppr_missing_reason = models.TextField(_("hvorfor der ikke er en PPR-vurdering"), blank=True)
    formal_referrer_unit = models.ForeignKey("organisations.Unit", on_delete=models.PROTECT, null=True, blank=True,
                                             related_name="+", verbose_name=_("formel henviser (lægepraksis)"))
    formal_referrer_name = models.CharField(_("henvisende læge"), max_length=200, blank=True)
    prepared_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    prepared_unit = models.ForeignKey("organisations.Unit", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True, db_index=True)
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                related_name="+")
    answered_at = models.DateTimeField(null=True, blank=True)
    idempotency_key = models.CharField(max_length=64, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("henvisning")
        verbose_name_plural = _("henvisninger")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["prepared_by", "idempotency_key"], condition=~Q(idempotency_key=""),
                                    name="referral_idempotency"),
            models.CheckConstraint(condition=Q(status="draft") | Q(sent_at__isnull=False),
                                   name="referral_sent_has_time"),
            # One referral under way per receiver per case: a double click prepares it once.
            models.UniqueConstraint(fields=["case", "receiver_unit"],
                                    condition=Q(status__in=["draft", "sent", "more_info"]),
                                    name="one_open_referral_per_receiver"),
        ]

    def __str__(self) -> str:
        return f"Henvisning til {self.receiver_unit}"

    @property
    def is_editable(self) -> bool:
        return self.status in (self.Status.DRAFT, self.Status.MORE_INFO)


class ReferralMessage(models.Model):
    """A MedCom CareCommunication of the referral's thread (sent or received)."""

    class Direction(models.TextChoices):
        OUT = "out", _("Sendt")
        IN = "in", _("Modtaget")

    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="messages")
    direction = models.CharField(max_length=3, choices=Direction.choices)
    thread_id = models.CharField(max_length=80, db_index=True)
    header_id = models.CharField(max_length=80, unique=True)
    bundle_id = models.CharField(max_length=80)
    bundle = models.JSONField(default=dict)
    # The inbox's outbox row that delivers it (when the inbox app took it).
    outbox_ref = models.CharField(max_length=80, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} {self.header_id}"


class ReferralAnswer(models.Model):
    """The receiver's answer: accepted (with expected waiting time), rejected (with a
    reason) or more information needed."""

    class Outcome(models.TextChoices):
        ACCEPTED = "accepted", _("Accepteret")
        REJECTED = "rejected", _("Afvist")
        MORE_INFO = "more_info", _("Flere oplysninger ønskes")

    class Source(models.TextChoices):
        FORM = "form", _("Registreret af en fagperson")
        MEDCOM = "medcom", _("MedCom-svar")

    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="answers")
    outcome = models.CharField(_("svar"), max_length=12, choices=Outcome.choices)
    reason = models.CharField(_("årsag til afvisning"), max_length=32, choices=RejectionReason.choices, blank=True)
    text = models.TextField(_("modtagerens begrundelse eller besked"), blank=True)
    expected_wait_weeks = models.PositiveSmallIntegerField(_("forventet ventetid (uger)"), null=True, blank=True)
    answered_on = models.DateField(_("svaret"))
    source = models.CharField(max_length=8, choices=Source.choices)
    medcom_header_id = models.CharField(max_length=80, blank=True)
    registered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                      related_name="+")
    registered_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["registered_at", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(outcome="rejected") | ~Q(reason=""), name="rejection_has_reason"),
            models.CheckConstraint(condition=Q(outcome="rejected") | Q(reason=""), name="only_rejection_has_reason"),
            models.UniqueConstraint(fields=["medcom_header_id"], condition=~Q(medcom_header_id=""),
                                    name="referral_answer_medcom_once"),
            # One final answer per referral: a second click cannot reject it twice.
            models.UniqueConstraint(fields=["referral"], condition=Q(outcome__in=["accepted", "rejected"]),
                                    name="one_final_answer_per_referral"),
        ]

    def __str__(self) -> str:
        return f"{self.get_outcome_display()} · {self.referral}"


class RejectionFollowUp(models.Model):
    """The lead professional's task after a rejection: agree the next steps with the
    family within 5 working days, so nobody is left holding a rejection alone."""

    answer = models.OneToOneField(ReferralAnswer, on_delete=models.PROTECT, related_name="follow_up")
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="rejection_follow_ups")
    assigned_to = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                    null=True, blank=True)
    due_on = models.DateField(_("frist"))
    done_on = models.DateField(_("udført"), null=True, blank=True)
    done_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                related_name="+")
    next_steps = models.TextField(_("aftalt med familien"), blank=True)
    # Claims of the background sweep: the lead reminded the day before, the committee's
    # chair told when the deadline has passed (each once).
    reminded_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_on", "id"]
        indexes = [models.Index(fields=["case", "done_on"])]
        constraints = [
            models.CheckConstraint(condition=Q(done_on__isnull=True) | ~Q(next_steps=""),
                                   name="follow_up_done_has_next_steps"),
        ]

    def __str__(self) -> str:
        return f"Næste skridt senest {self.due_on:%d.%m.%Y}"


class Admission(models.Model):
    """An admission of the child (BUA or a hospital ward), for the case and the figures."""

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="admissions")
    unit = models.ForeignKey("organisations.Unit", on_delete=models.PROTECT, related_name="+",
                             verbose_name=_("afdeling"))
    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, null=True, blank=True, related_name="admissions")
    admitted_on = models.DateField(_("indlagt"))
    discharged_on = models.DateField(_("udskrevet"), null=True, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("indlæggelse")
        verbose_name_plural = _("indlæggelser")
        ordering = ["-admitted_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(discharged_on__isnull=True) | Q(discharged_on__gte=F("admitted_on")),
                                   name="admission_discharged_after_admitted"),
            models.UniqueConstraint(fields=["case", "unit", "admitted_on"], name="one_admission_per_unit_and_day"),
        ]

    def __str__(self) -> str:
        return f"{self.unit} {self.admitted_on:%d.%m.%Y}"
