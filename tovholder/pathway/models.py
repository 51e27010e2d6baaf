"""The joint pathway: the lead professional and handovers, meetings, the shared binding
action plan (one living plan per child, a new immutable version per meeting), goals with
the child's ratings, agreements, interventions, and the explanations of missed deadlines.

Seed 001 #C–#E, "Valg af indsatsansvarlig", "Fælles Forpligtende Handleplan" and Bilag 1.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Sector(models.TextChoices):
    """Who takes part or answers for an agreement (Bilag 1: "Hvem er ansvarlig?")."""

    CHILD = "child", _("Barnet")
    PARENTS = "parents", _("Forældre")
    SCHOOL = "school", _("Skole")
    PPR = "ppr", _("PPR")
    HEALTH_VISITORS = "health_visitors", _("Sundhedspleje")
    FAMILY_COUNSELLING = "family_counselling", _("Familierådgivning")
    GP = "gp", _("Egen læge")
    BUA = "bua", _("Børne- og Ungdomspsykiatrien (BUA)")
    PAEDIATRIC_WARD = "paediatric_ward", _("Børne- og ungeafdeling")
    OTHER = "other", _("Andre")


# A staff member's unit kind → the sector they speak for.
SECTOR_OF_UNIT_KIND = {
    "school": Sector.SCHOOL,
    "ppr": Sector.PPR,
    "health_visitors": Sector.HEALTH_VISITORS,
    "family_counselling": Sector.FAMILY_COUNSELLING,
    "gp_practice": Sector.GP,
    "bua": Sector.BUA,
    "paediatric_ward": Sector.PAEDIATRIC_WARD,
}


class Pathway(models.Model):
    """One per case that the committee put in a joint pathway.

    The lead professional is two NOT NULL foreign keys: there is always exactly one, and it
    changes only by an accepted handover. The fact columns below are what the clocks are
    computed from; the services keep them, so the daily sweep can compute every pathway's
    next deadline in SQL."""

    case = models.OneToOneField("cases.Case", on_delete=models.PROTECT, related_name="pathway")
    lead_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                  related_name="lead_pathways", verbose_name=_("indsatsansvarlig"))
    lead_unit = models.ForeignKey("organisations.Unit", on_delete=models.PROTECT,
                                  related_name="lead_pathways", verbose_name=_("indsatsansvarlig enhed"))
    lead_since = models.DateTimeField(_("indsatsansvarlig siden"), default=timezone.now)
    started_at = models.DateTimeField(_("besluttet"), default=timezone.now)
    # Facts the clocks start from (Copenhagen dates).
    decided_on = models.DateField(_("afgjort i udvalget"))
    start_meeting_on = models.DateField(_("igangsætningsmøde holdt"), null=True, blank=True)
    needs_assessment = models.BooleanField(
        _("behov for udredende/behandlende indsats"), default=True,
        help_text=_("Fjernes ved igangsætningsmødet, hvis der ikke er behov; så gælder fristen ikke."),
    )
    intervention_started_on = models.DateField(_("udredende/behandlende indsats startet"), null=True, blank=True)
    first_follow_up_on = models.DateField(_("første opfølgningsmøde holdt"), null=True, blank=True)
    last_meeting_on = models.DateField(_("seneste møde"), null=True, blank=True)
    next_meeting_on = models.DateField(_("næste møde aftalt til"), null=True, blank=True)
    closed_on = models.DateField(_("afsluttet"), null=True, blank=True, db_index=True)
    everyday_support = models.CharField(_("overdraget til hverdagsindsatsen"), max_length=300, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("fælles forløb")
        verbose_name_plural = _("fælles forløb")
        constraints = [
            models.CheckConstraint(
                condition=Q(intervention_started_on__isnull=True) | Q(start_meeting_on__isnull=False),
                name="pathway_intervention_after_start_meeting",
            ),
            models.CheckConstraint(
                condition=Q(first_follow_up_on__isnull=True) | Q(start_meeting_on__isnull=False),
                name="pathway_follow_up_after_start_meeting",
            ),
        ]

    def __str__(self) -> str:
        return f"Fælles forløb {self.case.reference}"

    @property
    def is_active(self) -> bool:
        return self.closed_on is None


class LeadProfessionalHandover(models.Model):
    """The lead role passes to another unit/person only when the receiver accepts."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("Afventer modtagerens svar")
        ACCEPTED = "accepted", _("Accepteret")
        DECLINED = "declined", _("Afvist")
        WITHDRAWN = "withdrawn", _("Trukket tilbage")

    pathway = models.ForeignKey(Pathway, on_delete=models.PROTECT, related_name="handovers")
    from_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    from_unit = models.ForeignKey("organisations.Unit", on_delete=models.PROTECT, related_name="+")
    to_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                related_name="handovers_received")
    to_unit = models.ForeignKey("organisations.Unit", on_delete=models.PROTECT, related_name="+")
    note = models.TextField(_("overdragelsesnotat"))
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PROPOSED)
    answered_at = models.DateTimeField(null=True, blank=True)
    answer_note = models.TextField(_("svar"), blank=True)

    class Meta:
        verbose_name = _("overdragelse af indsatsansvar")
        verbose_name_plural = _("overdragelser af indsatsansvar")
        ordering = ["-proposed_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["pathway"], condition=Q(status="proposed"),
                                    name="one_open_handover_per_pathway"),
            models.CheckConstraint(condition=Q(status="proposed") | Q(answered_at__isnull=False),
                                   name="answered_handover_has_time"),
        ]

    def __str__(self) -> str:
        return f"{self.from_user} → {self.to_user} ({self.get_status_display()})"


class MeetingKind(models.TextChoices):
    START = "start", _("Igangsætningsmøde")
    FOLLOW_UP = "follow_up", _("Opfølgningsmøde")
    CLOSING = "closing", _("Afslutningsmøde")


# Seed 001 #D: the follow-up meeting's agenda; the start and closing meetings have their own.
AGENDAS = {
    MeetingKind.START: [
        "Velkomst og præsentation af deltagerne",
        "Barnets stemme: hvordan har barnet det, og hvad ønsker barnet?",
        "Hvad fungerer? Hvad er svært?",
        "Mål: hvad ønsker barnet at opnå, og hvad ønsker vi at opnå?",
        "Indsatser og konkrete aftaler: hvad, hvordan, hvem og hvornår",
        "Forventningsafstemning",
        "Dato for første opfølgningsmøde",
    ],
    MeetingKind.FOLLOW_UP: [
        "Status på den fælles forpligtende handleplan – hvordan går det?",
        "Progression (hjem/skole)",
        "Evaluering af tiltag",
        "Beslutning om at afbryde tiltag",
        "Beslutning om at igangsætte nye tiltag",
        "Evt. præsentation af ny/supplerende viden",
        "Opdatering af handleplan – udlevering af ny til familien og barnet",
    ],
    MeetingKind.CLOSING: [
        "Status på den fælles forpligtende handleplan – hvordan går det?",
        "Hvad har hjulpet? Barnets og familiens vurdering af målene",
        "Overgang til hverdagsindsatsen (#0): hvem følger barnet fremover?",
        "Hvad gør familien, hvis bekymringen vender tilbage?",
        "Afslutning af forløbet – besked til koordinationsudvalget og egen læge",
    ],
}


class ChildVoice(models.TextChoices):
    PRESENT = "present", _("Barnet deltog i mødet")
    STATEMENT = "statement", _("Barnets skriftlige udtalelse før mødet")
    CONVERSATION = "conversation", _("Samtale med barnet før mødet")
    REPRESENTED = "represented", _("Barnets stemme bragt ind af en voksen")


class Meeting(models.Model):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Planlagt")
        HELD = "held", _("Afholdt")
        CANCELLED = "cancelled", _("Aflyst")

    pathway = models.ForeignKey(Pathway, on_delete=models.PROTECT, related_name="meetings")
    kind = models.CharField(_("mødetype"), max_length=12, choices=MeetingKind.choices)
    starts_at = models.DateTimeField(_("starter"))
    ends_at = models.DateTimeField(_("slutter"))
    place = models.CharField(_("sted"), max_length=200, blank=True)
    video_link = models.URLField(_("videolink"), blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.SCHEDULED)
    # The child's voice is secured before the meeting when the child does not attend.
    child_statement = models.TextField(_("barnets skriftlige udtalelse"), blank=True)
    child_statement_at = models.DateTimeField(null=True, blank=True)
    uid = models.CharField(max_length=80, unique=True, default="", editable=False)
    sequence = models.PositiveIntegerField(default=0)  # iCalendar SEQUENCE, bumped on change
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    idempotency_key = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("møde")
        verbose_name_plural = _("møder")
        ordering = ["starts_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="meeting_ends_after_start"),
            models.CheckConstraint(condition=Q(place__gt="") | Q(video_link__gt=""),
                                   name="meeting_has_place_or_video"),
            # One start meeting and one closing meeting per pathway (cancelled ones aside).
            models.UniqueConstraint(fields=["pathway", "kind"],
                                    condition=Q(kind__in=["start", "closing"]) & ~Q(status="cancelled"),
                                    name="one_start_and_one_closing_meeting"),
            models.UniqueConstraint(fields=["pathway", "idempotency_key"], condition=~Q(idempotency_key=""),
                                    name="meeting_idempotency"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {timezone.localtime(self.starts_at):%d.%m.%Y %H:%M}"

    def save(self, *args, **kwargs):
        if not self.uid:
            self.uid = f"{uuid.uuid4()}@tovholder"
        super().save(*args, **kwargs)

    @property
    def agenda(self) -> list[str]:
        return AGENDAS[MeetingKind(self.kind)]


class MeetingParticipant(models.Model):
    """Invited to a meeting: a staff member, a custody holder, the child, or an outside
    professional by name and title (a GP, BUA) who has no user here."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="participants")
    sector = models.CharField(_("part"), max_length=20, choices=Sector.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                             related_name="+")
    unit = models.ForeignKey("organisations.Unit", on_delete=models.PROTECT, null=True, blank=True,
                             related_name="+")
    custody_holder = models.ForeignKey("children.CustodyHolder", on_delete=models.PROTECT, null=True,
                                       blank=True, related_name="+")
    name = models.CharField(_("navn"), max_length=200)
    title = models.CharField(_("titel"), max_length=200, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    attended = models.BooleanField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "user"], condition=Q(user__isnull=False),
                                    name="participant_user_once"),
        ]

    def __str__(self) -> str:
        return f"{self.name}, {self.title}" if self.title else self.name


class ParentsAgree(models.TextChoices):
    YES = "yes", _("Ja")
    PARTLY = "partly", _("Delvist")
    NO = "no", _("Nej")


class PlanVersion(models.Model):
    """The plan as written at one meeting (Bilag 1). Never changed after it is saved: the
    next meeting writes the next version. `content` is the whole plan at that moment."""

    pathway = models.ForeignKey(Pathway, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    meeting = models.OneToOneField(Meeting, on_delete=models.PROTECT, related_name="plan_version")
    meeting_kind = models.CharField(max_length=12, choices=MeetingKind.choices)
    held_on = models.DateField(_("mødedato"))
    next_meeting_on = models.DateField(_("dato for næste møde"), null=True, blank=True)
    parents_agree = models.CharField(_("er forældrene enige i planen?"), max_length=8,
                                     choices=ParentsAgree.choices)
    content = models.JSONField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("handleplan, version")
        verbose_name_plural = _("handleplan, versioner")
        ordering = ["pathway", "number"]
        constraints = [
            models.UniqueConstraint(fields=["pathway", "number"], name="plan_version_number_unique"),
            # 7 of the trial's 13 plans had no follow-up date: only the closing meeting may omit it.
            models.CheckConstraint(
                condition=Q(meeting_kind="closing") | Q(next_meeting_on__isnull=False),
                name="plan_has_next_meeting_unless_closing",
            ),
            models.CheckConstraint(
                condition=Q(next_meeting_on__isnull=True) | Q(next_meeting_on__gt=F("held_on")),
                name="plan_next_meeting_after_this_one",
            ),
        ]

    def __str__(self) -> str:
        return f"Handleplan v{self.number}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValidationError("En version af handleplanen ændres ikke; næste møde skriver en ny.")
        super().save(*args, **kwargs)


class Goal(models.Model):
    """A goal of the plan: the child's own words and ours, rated 0–10 at every meeting."""

    pathway = models.ForeignKey(Pathway, on_delete=models.PROTECT, related_name="goals")
    child_words = models.TextField(_("hvad ønsker barnet at opnå (barnets ord)"), blank=True)
    our_words = models.TextField(_("hvad ønsker vi at opnå"), blank=True)
    created_in = models.ForeignKey(PlanVersion, on_delete=models.PROTECT, related_name="+")
    ended_in = models.ForeignKey(PlanVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(child_words__gt="") | Q(our_words__gt=""), name="goal_has_words"),
        ]

    def __str__(self) -> str:
        return (self.child_words or self.our_words)[:60]


class RatedBy(models.TextChoices):
    CHILD = "child", _("Barnet")
    FAMILY = "family", _("Familien")
    CHILD_AND_FAMILY = "both", _("Barnet og familien")


class GoalRating(models.Model):
    goal = models.ForeignKey(Goal, on_delete=models.PROTECT, related_name="ratings")
    version = models.ForeignKey(PlanVersion, on_delete=models.PROTECT, related_name="ratings")
    score = models.PositiveSmallIntegerField(_("vurdering 0–10"))
    rated_by = models.CharField(_("vurderet af"), max_length=8, choices=RatedBy.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["goal", "version"], name="one_rating_per_goal_per_meeting"),
            models.CheckConstraint(condition=Q(score__gte=0) & Q(score__lte=10), name="rating_0_to_10"),
        ]

    def __str__(self) -> str:
        return f"{self.score}/10"


class Agreement(models.Model):
    """A concrete agreement until the next meeting: what, how, who and by when."""

    class Status(models.TextChoices):
        OPEN = "open", _("I gang")
        DONE = "done", _("Udført")
        STOPPED = "stopped", _("Stoppet")

    pathway = models.ForeignKey(Pathway, on_delete=models.PROTECT, related_name="agreements")
    what = models.CharField(_("hvad"), max_length=300)
    how = models.TextField(_("hvordan gør vi?"), blank=True)
    responsible = models.CharField(_("hvem er ansvarlig?"), max_length=20, choices=Sector.choices)
    responsible_name = models.CharField(_("ansvarlig person"), max_length=200, blank=True)
    due_on = models.DateField(_("senest"), null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    # None: added before the plan's first version (e.g. from BUA's advice before the start
    # meeting); the start meeting's version carries it, like every open agreement.
    created_in = models.ForeignKey(PlanVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    closed_in = models.ForeignKey(PlanVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.what


class Intervention(models.Model):
    """An intervention (indsats) of any sector, with its graduated-care step (seed 003)."""

    class Kind(models.TextChoices):
        SUPPORTING = "supporting", _("Støttende")
        ASSESSING = "assessing", _("Udredende")
        TREATING = "treating", _("Behandlende")

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planlagt")
        ACTIVE = "active", _("I gang")
        ENDED = "ended", _("Afsluttet")
        STOPPED = "stopped", _("Stoppet")

    pathway = models.ForeignKey(Pathway, on_delete=models.PROTECT, related_name="interventions")
    sector = models.CharField(_("sektor"), max_length=20, choices=Sector.choices)
    unit = models.ForeignKey("organisations.Unit", on_delete=models.PROTECT, null=True, blank=True,
                             related_name="+", verbose_name=_("enhed"))
    description = models.CharField(_("indsats"), max_length=300)
    kind = models.CharField(_("art"), max_length=12, choices=Kind.choices)
    step = models.PositiveSmallIntegerField(_("trin (1–4)"))
    start_on = models.DateField(_("start"), null=True, blank=True)
    end_on = models.DateField(_("slut"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PLANNED)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("indsats")
        verbose_name_plural = _("indsatser")
        ordering = ["start_on", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(step__gte=1) & Q(step__lte=4), name="intervention_step_1_to_4",
                                   violation_error_code="step",
                                   violation_error_message=_("Trinnet skal være 1, 2, 3 eller 4 (trappemodellen).")),
            models.CheckConstraint(
                condition=Q(end_on__isnull=True) | Q(start_on__isnull=True) | Q(end_on__gte=F("start_on")),
                name="intervention_ends_after_start",
                violation_error_message=_("Indsatsen kan ikke slutte, før den begynder."),
            ),
            models.CheckConstraint(condition=Q(status="planned") | Q(start_on__isnull=False),
                                   name="started_intervention_has_start",
                                   violation_error_message=_("En indsats, der er i gang eller afsluttet, skal have "
                                                             "en startdato.")),
        ]

    def __str__(self) -> str:
        return self.description


class DeadlineExplanation(models.Model):
    """The lead professional's written explanation of a missed deadline (seed 001 #D)."""

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="deadline_explanations")
    clock = models.CharField(max_length=40)
    due_on = models.DateField()
    text = models.TextField(_("forklaring"))
    given_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    given_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case", "clock", "due_on"], name="one_explanation_per_milestone"),
        ]

    def __str__(self) -> str:
        return f"{self.clock} {self.due_on}"


class LeadDigest(models.Model):
    """The daily digest to a lead professional: what is due and overdue. One per lead per day."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="lead_digests")
    day = models.DateField()
    items = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    # The e-mail that tells the lead the digest is there (counts only, no names): claimed by
    # one worker at a time, sent once.
    email_claimed_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-day"]
        constraints = [models.UniqueConstraint(fields=["user", "day"], name="one_digest_per_lead_per_day")]

    def __str__(self) -> str:
        return f"{self.user} {self.day}"


class DeadlineSweepRun(models.Model):
    """The daily deadline sweep claims its day here, so it runs once a day however many
    workers run."""

    day = models.DateField(unique=True)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return str(self.day)


class CalendarInvitation(models.Model):
    """A meeting's calendar invitation (.ics) e-mailed to one professional, sent by the
    background loop. E-mail is not a secure channel: it carries the case reference, the time,
    the place and the lead's contact — never the child's name or CPR, and never the plan."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Venter på afsendelse")
        SENT = "sent", _("Sendt")
        FAILED = "failed", _("Kunne ikke sendes")

    meeting = models.ForeignKey(Meeting, on_delete=models.PROTECT, related_name="calendar_invitations")
    name = models.CharField(_("navn"), max_length=200)
    email = models.EmailField(_("e-mail"))
    method = models.CharField(max_length=10, choices=[("REQUEST", "REQUEST"), ("CANCEL", "CANCEL")])
    sequence = models.PositiveIntegerField()
    subject = models.CharField(max_length=200)
    body = models.TextField()
    ics = models.BinaryField()
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    created_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["status", "claimed_at"])]
        constraints = [
            # One invitation per person per version of the meeting: a job run twice or a
            # double click sends nothing twice.
            models.UniqueConstraint(fields=["meeting", "email", "method", "sequence"],
                                    name="calendar_invitation_once"),
        ]

    def __str__(self) -> str:
        return f"{self.subject} → {self.name}"


class ChildVoiceLink(models.Model):
    """A family member's personal link, from the meeting invitation, to write to the meeting
    before it is held: the child's voice when the child would rather write than speak. The
    token is in the letter only; here is its SHA-256. It works until the meeting begins."""

    meeting = models.ForeignKey(Meeting, on_delete=models.PROTECT, related_name="voice_links")
    # Who the letter went to ("holder:<id>" or "child:<id>"), for the audit trail.
    recipient = models.CharField(max_length=40)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Link til {self.meeting}"
