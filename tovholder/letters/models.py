"""Letters to the family: the outbox of the Digital Post adapter.

One row per recipient (a custody holder, or the child from 15). Services queue letters
inside their own transaction; the background job `letters_deliver` hands them to the
configured backend (see `tovholder.letters.backends`) after commit.

A letter may carry a personal link (e.g. the consent link). The link's secret is minted
only when the letter is delivered and never stored here: the body keeps the placeholder
`LINK_PLACEHOLDER`, which staff see as a neutral note.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

LINK_PLACEHOLDER = "[[LINK]]"
# Replaced by the recipient's own name when the letter is queued.
NAME_PLACEHOLDER = "[[NAVN]]"


class Channel(models.TextChoices):
    DIGITAL = "digital", _("Digital Post")
    PAPER = "paper", _("Papirpost")


class RecipientKind(models.TextChoices):
    CUSTODY_HOLDER = "custody_holder", _("Forældremyndighedsindehaver")
    CHILD = "child", _("Barnet/den unge")


class Letter(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("Venter på afsendelse")
        SENT = "sent", _("Sendt")
        FAILED = "failed", _("Kunne ikke sendes")

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="letters")
    recipient_kind = models.CharField(_("modtager"), max_length=20, choices=RecipientKind.choices)
    custody_holder = models.ForeignKey(
        "children.CustodyHolder", on_delete=models.PROTECT, null=True, blank=True, related_name="letters"
    )
    child = models.ForeignKey(
        "children.Child", on_delete=models.PROTECT, null=True, blank=True, related_name="letters"
    )
    recipient_name = models.CharField(_("modtagerens navn"), max_length=200)
    channel = models.CharField(_("kanal"), max_length=10, choices=Channel.choices)
    subject = models.CharField(_("emne"), max_length=200)
    body = models.TextField(_("tekst"))
    # A short machine word: "consent_request", "consent_reminder", "minutes", "invitation"…
    reason = models.CharField(_("anledning"), max_length=40)
    # Who mints the personal link at delivery (see letters.links) and for which object.
    link_kind = models.CharField(max_length=20, blank=True)
    link_ref = models.PositiveBigIntegerField(null=True, blank=True)
    # Callers that must never send the same letter twice give a key (unique).
    dedupe_key = models.CharField(max_length=120, null=True, blank=True, unique=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    created_at = models.DateTimeField(_("oprettet"), default=timezone.now)
    created_by = models.CharField(_("oprettet af"), max_length=150, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(_("sendt"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)
    # The backend's own reference (Digital Post message id, outbox file name).
    external_ref = models.CharField(max_length=200, blank=True)
    # The local outbox's "read online" link for the recipient: only the hash is kept.
    read_token_hash = models.CharField(max_length=64, null=True, blank=True, unique=True)
    read_expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("brev")
        verbose_name_plural = _("breve")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["case", "-created_at"]),
            models.Index(fields=["status", "claimed_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(recipient_kind="custody_holder") & Q(custody_holder__isnull=False) & Q(child__isnull=True))
                | (Q(recipient_kind="child") & Q(child__isnull=False) & Q(custody_holder__isnull=True)),
                name="letter_has_one_recipient",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subject} → {self.recipient_name}"

    @property
    def has_personal_link(self) -> bool:
        return LINK_PLACEHOLDER in self.body

    @property
    def staff_body(self) -> str:
        """The body as staff may see it: the recipient's personal link is not shown."""
        return self.body.replace(LINK_PLACEHOLDER, "[personligt link — vises kun for modtageren]")


class LetterAttachment(models.Model):
    """A file sent with a letter (minutes, the plan as PDF, the consent form on paper).
    Kept in the database so a rolled-back transaction leaves no orphan file."""

    letter = models.ForeignKey(Letter, on_delete=models.PROTECT, related_name="attachments")
    filename = models.CharField(_("filnavn"), max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    content = models.BinaryField()

    class Meta:
        verbose_name = _("bilag")
        verbose_name_plural = _("bilag")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.filename
