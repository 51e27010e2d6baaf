"""Insight: the trial's evaluation produced by the system itself.

- `CaseFact`: one narrow row per case with the dates its figures are computed from,
  kept by the background loop (`insight.facts.facts_refresh`) in set-based SQL, so the
  insight page aggregates one indexed table instead of joining five apps' tables.
- `CalendarDay`: working-day ordinals, so clocks counted in working days can be
  evaluated in SQL.
- The relational coordination survey (seed 001, "Evaluering af det tværgående
  samarbejde"): rounds, partner groups, configurable wording, responses and answers.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class CalendarDay(models.Model):
    """One day of one working calendar. `calendar` is a bit set of the closures a
    municipality chooses (1 Grundlovsdag, 2 Christmas Eve, 4 New Year's Eve); `ordinal`
    counts the working days from the table's first day up to and including this day, so
    "N working days after d" is the first working day whose ordinal is ordinal(d) + N."""

    calendar = models.PositiveSmallIntegerField()
    day = models.DateField()
    ordinal = models.PositiveIntegerField()
    is_working = models.BooleanField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["calendar", "day"], name="insight_calendar_day_once")]
        indexes = [models.Index(fields=["calendar", "ordinal"], name="insight_cal_ordinal")]

    def __str__(self) -> str:
        return f"{self.day} ({self.calendar})"


class CaseFact(models.Model):
    """What the figures need to know about one case, as Copenhagen dates.

    Dates, not statuses: whether a clock was met, late, overdue or not yet due is decided
    when the figures are asked for, relative to the end of the chosen period, so a past
    period shows the figures as they stood then. A fact row of a closed case is final;
    the others are recomputed by the background loop."""

    case = models.OneToOneField("cases.Case", on_delete=models.CASCADE, primary_key=True, related_name="+")
    region = models.ForeignKey("organisations.Region", on_delete=models.CASCADE, related_name="+")
    municipality = models.ForeignKey("organisations.Municipality", on_delete=models.CASCADE, related_name="+")
    opened_on = models.DateField()
    age = models.PositiveSmallIntegerField(null=True)  # whole years on the day of referral
    channel = models.CharField(max_length=20)
    is_re_referral = models.BooleanField(default=False)
    exempt = models.BooleanField(default=False)
    consent_due_on = models.DateField(null=True)  # answer period plus the period after the reminder
    consent_on = models.DateField(null=True)
    committee_due_on = models.DateField(null=True)
    committee_on = models.DateField(null=True)  # the committee's final decision on the referral
    committee_wait_wd = models.IntegerField(null=True)  # working days consent → decision
    decision = models.CharField(max_length=20, blank=True)
    pathway_on = models.DateField(null=True)  # a joint pathway decided
    start_due_on = models.DateField(null=True)
    start_meeting_on = models.DateField(null=True)
    needs_assessment = models.BooleanField(null=True)
    intervention_due_on = models.DateField(null=True)
    intervention_on = models.DateField(null=True)
    follow_up_due_on = models.DateField(null=True)
    first_follow_up_on = models.DateField(null=True)
    last_meeting_on = models.DateField(null=True)
    next_meeting_on = models.DateField(null=True)  # agreed at the latest meeting
    closing_meeting_on = models.DateField(null=True)
    closed_on = models.DateField(null=True)
    closed_reason = models.CharField(max_length=32, blank=True)
    school_action = models.BooleanField(default=False)
    lead_kind = models.CharField(max_length=32, blank=True)
    parents_agree = models.CharField(max_length=8, blank=True)  # at the latest meeting
    final = models.BooleanField(default=False)
    # What the row was computed from: an open case's row is rewritten when one of these
    # moves (every service that changes a fact bumps the case's or the pathway's version;
    # a municipality's clock settings change its stamp).
    case_version = models.PositiveIntegerField(default=0)
    pathway_version = models.PositiveIntegerField(default=0)
    settings_stamp = models.BigIntegerField(default=0)
    refreshed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["municipality", "opened_on"], name="insight_fact_mun_opened"),
            models.Index(fields=["region", "opened_on"], name="insight_fact_reg_opened"),
            models.Index(fields=["final"], condition=Q(final=False), name="insight_fact_open"),
        ]

    def __str__(self) -> str:
        return f"Fakta for forløb {self.case_id}"


class FollowUpFact(models.Model):
    """One next-meeting date agreed at a follow-up meeting (a plan version), and the day the
    next meeting was held, if it was: the "next follow-up" clock, one row per agreed date.
    Rewritten with its case's `CaseFact`."""

    version_id = models.BigIntegerField(primary_key=True)  # pathway.PlanVersion
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="+")
    region = models.ForeignKey("organisations.Region", on_delete=models.CASCADE, related_name="+")
    municipality = models.ForeignKey("organisations.Municipality", on_delete=models.CASCADE, related_name="+")
    opened_on = models.DateField()
    held_on = models.DateField()
    agreed_on = models.DateField()
    next_held_on = models.DateField(null=True)
    exempt = models.BooleanField(default=False)
    closed_on = models.DateField(null=True)

    class Meta:
        indexes = [
            models.Index(fields=["municipality", "opened_on"], name="insight_fu_mun_opened"),
            models.Index(fields=["region", "opened_on"], name="insight_fu_reg_opened"),
        ]

    def __str__(self) -> str:
        return f"Aftalt møde {self.agreed_on}"


class FactsRefresh(models.Model):
    """The background loop's claim on the refresh (one row): a conditional UPDATE on
    `started_at` lets one worker at a time refresh, at most every REFRESH_SECONDS.
    `asof` is the day the roll-up's statuses were computed for."""

    name = models.CharField(max_length=40, unique=True)
    started_at = models.DateTimeField(null=True)
    finished_at = models.DateTimeField(null=True)
    refreshed = models.PositiveIntegerField(default=0)
    asof = models.DateField(null=True)

    def __str__(self) -> str:
        return self.name


class FactRollup(models.Model):
    """The figures' groupings summed per municipality and month of referral (and per
    region: `municipality` empty), as of `FactsRefresh.asof`: a period that runs to today
    reads a few thousand rows here instead of a million facts. Rebuilt each day by the
    background loop (statuses move with the date) and for the months of changed cases."""

    region = models.ForeignKey("organisations.Region", on_delete=models.CASCADE, related_name="+")
    municipality = models.ForeignKey("organisations.Municipality", on_delete=models.CASCADE, null=True,
                                     related_name="+")
    month = models.DateField()
    grouping = models.CharField(max_length=24)
    # The grouping's key values as text; NULL is a value of its own ("not yet", "none").
    k1 = models.CharField(max_length=40, null=True)  # noqa: DJ001
    k2 = models.CharField(max_length=40, null=True)  # noqa: DJ001
    k3 = models.CharField(max_length=40, null=True)  # noqa: DJ001
    k4 = models.CharField(max_length=40, null=True)  # noqa: DJ001
    k5 = models.CharField(max_length=40, null=True)  # noqa: DJ001
    k6 = models.CharField(max_length=40, null=True)  # noqa: DJ001
    n = models.IntegerField()

    class Meta:
        indexes = [
            models.Index(fields=["municipality", "month"], name="insight_rollup_mun_month"),
            models.Index(fields=["region", "month"], condition=Q(municipality__isnull=True),
                         name="insight_rollup_region_month"),
        ]

    def __str__(self) -> str:
        return f"{self.grouping} {self.month}"


# ---- Relational coordination ---------------------------------------------------------------


class Dimension(models.TextChoices):
    """The seven dimensions of relational coordination (seed 001)."""

    SHARED_GOALS = "shared_goals", _("Fælles mål")
    SHARED_KNOWLEDGE = "shared_knowledge", _("Fælles viden")
    MUTUAL_RESPECT = "mutual_respect", _("Gensidig respekt")
    FREQUENT = "frequent", _("Hyppig kommunikation")
    TIMELY = "timely", _("Rettidig kommunikation")
    ACCURATE = "accurate", _("Præcis kommunikation")
    PROBLEM_SOLVING = "problem_solving", _("Problemløsende kommunikation")


class Agreement(models.IntegerChoices):
    """The five-point scale of the trial's survey."""

    STRONGLY_DISAGREE = 1, _("Helt uenig")
    DISAGREE = 2, _("Delvis uenig")
    NEUTRAL = 3, _("Hverken uenig eller enig")
    AGREE = 4, _("Delvis enig")
    STRONGLY_AGREE = 5, _("Helt enig")


class PartnerGroup(models.Model):
    """A group the respondents answer about: GP, school, PPR… and any the municipality adds."""

    municipality = models.ForeignKey("organisations.Municipality", on_delete=models.PROTECT, related_name="+")
    key = models.SlugField(_("nøgle"), max_length=40)
    name = models.CharField(_("navn"), max_length=100)
    # The unit kind whose staff belong to this group (blank for groups without units here).
    unit_kind = models.CharField(_("enhedstype"), max_length=32, blank=True)
    order = models.PositiveSmallIntegerField(default=100)
    active = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("samarbejdspartner")
        verbose_name_plural = _("samarbejdspartnere")
        ordering = ["order", "name"]
        constraints = [models.UniqueConstraint(fields=["municipality", "key"], name="insight_partner_key_once")]

    def __str__(self) -> str:
        return self.name


class SurveyQuestion(models.Model):
    """The wording of one dimension's statement in a municipality. `{gruppe}` is replaced by
    the partner group's name. The licensed instrument's text is not shipped: the defaults
    are the project's own neutral Danish wording."""

    municipality = models.ForeignKey("organisations.Municipality", on_delete=models.PROTECT, related_name="+")
    dimension = models.CharField(_("dimension"), max_length=20, choices=Dimension.choices)
    text = models.CharField(_("udsagn"), max_length=300)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("spørgsmål")
        verbose_name_plural = _("spørgsmål")
        constraints = [
            models.UniqueConstraint(fields=["municipality", "dimension"], name="insight_question_once"),
        ]

    def __str__(self) -> str:
        return self.text


class SurveyRound(models.Model):
    class Kind(models.TextChoices):
        BASELINE = "baseline", _("Baseline")
        MIDWAY = "midway", _("Midtvejs")
        FINAL = "final", _("Afsluttende")

    class Status(models.TextChoices):
        OPEN = "open", _("Åben for besvarelse")
        CLOSED = "closed", _("Lukket")

    municipality = models.ForeignKey("organisations.Municipality", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("måling"), max_length=10, choices=Kind.choices)
    title = models.CharField(_("titel"), max_length=120)
    opens_on = models.DateField(_("åbner"))
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.OPEN)
    # The wording as it was when the round opened: later edits do not change what was asked.
    questions = models.JSONField(default=dict)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("måling")
        verbose_name_plural = _("målinger")
        ordering = ["opens_on", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["municipality", "kind", "opens_on"], name="insight_round_once"),
        ]

    def __str__(self) -> str:
        return self.title


class SurveyResponse(models.Model):
    """One respondent's answers about one partner group in one round. Submitting again
    edits it (the unique constraint makes a double click harmless)."""

    round = models.ForeignKey(SurveyRound, on_delete=models.PROTECT, related_name="responses")
    respondent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    partner_group = models.ForeignKey(PartnerGroup, on_delete=models.PROTECT, related_name="responses")
    # The respondent's own group when answering (the unit kind they answered from).
    respondent_kind = models.CharField(max_length=32, blank=True)
    submitted_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("besvarelse")
        verbose_name_plural = _("besvarelser")
        constraints = [
            models.UniqueConstraint(fields=["round", "respondent", "partner_group"],
                                    name="insight_one_response_per_partner"),
        ]

    def __str__(self) -> str:
        return f"Besvarelse {self.pk}"


class SurveyAnswer(models.Model):
    response = models.ForeignKey(SurveyResponse, on_delete=models.CASCADE, related_name="answers")
    dimension = models.CharField(max_length=20, choices=Dimension.choices)
    value = models.PositiveSmallIntegerField(choices=Agreement.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["response", "dimension"], name="insight_one_answer_per_dimension"),
            models.CheckConstraint(condition=Q(value__gte=1) & Q(value__lte=5), name="insight_answer_1_to_5"),
        ]

    def __str__(self) -> str:
        return f"{self.dimension}: {self.value}"
