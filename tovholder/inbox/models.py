"""The single entry: what arrived, what it became, and what we send back.

- `Arrival`: every delivery of a message body exactly as it came (HTTP, drop folder or
  in-house), stored and committed before anything else happens. Duplicates are arrivals
  too, so every delivery is logged; a quarantined message is an arrival a person must
  look at.
- `ReceivedMessage`: a MedCom message accepted and processed. Unique on Bundle.id and on
  MessageHeader.id: the database, not a prior look-up, makes a message count once.
- `Thread` and `Segment`: the conversation, by Communication.identifier, with its texts
  and attachments (`AttachmentData` keeps the bytes apart so lists never load them).
- `InboxItem`: one piece of work for the inbox keeper, whatever the way in (MedCom, the
  web referral form, a letter or a phone call).
- `OutboundMessage`: the outbox of MedCom messages we send (receipts, replies, forwards).
- `EntryAlias`: another SOR id / EAN number under which an entry receives messages.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tovholder.organisations.identifiers import validate_gln, validate_sor


class EntryAlias(models.Model):
    """An address (SOR id and/or EAN) that routes MedCom messages to an entry.

    Senders sometimes address a municipality's older unit (e.g. its health visitors) or a
    test organisation; an alias says "messages to this address belong in that entry".
    """

    entry = models.ForeignKey(
        "organisations.Unit", on_delete=models.PROTECT, related_name="entry_aliases",
        limit_choices_to={"kind": "single_entry"}, verbose_name=_("indgang"),
    )
    name = models.CharField(_("navn"), max_length=200)
    sor_id = models.CharField(_("SOR-id"), max_length=18, blank=True, validators=[validate_sor])
    gln = models.CharField(_("EAN/GLN"), max_length=13, blank=True, validators=[validate_gln])
    note = models.CharField(_("bemærkning"), max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("alias for indgang")
        verbose_name_plural = _("aliasser for indgange")
        constraints = [
            models.UniqueConstraint(fields=["sor_id"], condition=~Q(sor_id=""), name="unique_alias_sor"),
            models.UniqueConstraint(fields=["gln"], condition=~Q(gln=""), name="unique_alias_gln"),
            models.CheckConstraint(condition=~Q(sor_id="") | ~Q(gln=""), name="alias_has_an_address"),
        ]

    def __str__(self) -> str:
        return f"{self.name} → {self.entry}"


class Arrival(models.Model):
    """One delivery of a body, stored as received before it is read."""

    class Channel(models.TextChoices):
        HTTP = "http", _("HTTP")
        FOLDER = "folder", _("Mappe")
        LOCAL = "local", _("Intern levering")

    class State(models.TextChoices):
        RECEIVED = "received", _("Modtaget, ikke behandlet")
        ACCEPTED = "accepted", _("Modtaget og behandlet")
        DUPLICATE = "duplicate", _("Dublet af en modtaget besked")
        QUARANTINED = "quarantined", _("I karantæne")
        ACKNOWLEDGEMENT = "acknowledgement", _("Kvittering for en besked, vi har sendt")
        FAILED = "failed", _("Teknisk fejl; behandles igen")

    received_at = models.DateTimeField(_("modtaget"), default=timezone.now, db_index=True)
    channel = models.CharField(_("kanal"), max_length=10, choices=Channel.choices)
    source = models.CharField(_("kilde"), max_length=200, blank=True)  # file name or address
    content_type = models.CharField(_("indholdstype"), max_length=200, blank=True)
    size = models.BigIntegerField(_("størrelse i bytes"))
    sha256 = models.CharField(max_length=64, db_index=True)
    # The body as received. For a body over the limit only its beginning is kept
    # (truncated), so nothing unbounded is ever held in memory or stored.
    body = models.BinaryField()
    truncated = models.BooleanField(default=False)
    state = models.CharField(_("tilstand"), max_length=20, choices=State.choices, default=State.RECEIVED)
    bundle_id = models.CharField(max_length=200, blank=True, db_index=True)
    header_id = models.CharField(max_length=200, blank=True, db_index=True)
    # The entry's municipality when routing got that far; empty = region-wide quarantine.
    municipality = models.ForeignKey(
        "organisations.Municipality", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    problems = models.JSONField(default=list, blank=True)
    message = models.ForeignKey(
        "ReceivedMessage", on_delete=models.PROTECT, null=True, blank=True, related_name="arrivals"
    )
    # A broken body delivered again is logged here and shown once, under the first arrival.
    duplicate_of = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="repeats")
    # The acknowledgement of a refused delivery (FHIR JSON; XML is rendered from it). An
    # accepted or duplicate delivery was answered with its message's `ack_json`.
    ack_json = models.BinaryField(null=True, blank=True)
    ack_code = models.CharField(max_length=20, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # A person closes a quarantined arrival with a note.
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolution_note = models.CharField(_("bemærkning"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("modtagelse")
        verbose_name_plural = _("modtagelser")
        indexes = [models.Index(fields=["state", "resolved_at"])]

    def __str__(self) -> str:
        return f"Modtagelse {self.pk} ({self.get_state_display()})"


class Thread(models.Model):
    """A conversation with one referrer, identified by Communication.identifier."""

    class Channel(models.TextChoices):
        MEDCOM = "medcom", _("MedCom")
        WEB = "web", _("Webformular")
        LETTER = "letter", _("Brev")
        PHONE = "phone", _("Telefon")

    municipality = models.ForeignKey("organisations.Municipality", on_delete=models.PROTECT, related_name="+")
    entry = models.ForeignKey("organisations.Unit", on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(_("kanal"), max_length=10, choices=Channel.choices)
    identifier = models.CharField(max_length=100)  # urn:uuid:…
    # Who we talk to: the organisation of the first message we saw.
    counterpart_name = models.CharField(_("afsender"), max_length=200, blank=True)
    counterpart_sor = models.CharField(max_length=20, blank=True)
    counterpart_gln = models.CharField(max_length=13, blank=True)
    counterpart_endpoint = models.CharField(max_length=300, blank=True)
    referrer_unit = models.ForeignKey(
        "organisations.Unit", on_delete=models.PROTECT, null=True, blank=True, related_name="referral_threads"
    )
    referrer_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    referrer_person = models.CharField(_("henviser"), max_length=200, blank=True)
    referrer_phone = models.CharField(_("telefon"), max_length=40, blank=True)
    referrer_email = models.EmailField(_("e-mail"), blank=True)
    patient_cpr = models.CharField(max_length=10, blank=True)
    patient_cpr_system = models.CharField(max_length=100, blank=True)
    patient_is_replacement = models.BooleanField(default=False)
    patient_given = models.CharField(max_length=200, blank=True)
    patient_family = models.CharField(max_length=200, blank=True)
    category = models.CharField(max_length=60, blank=True)
    topic = models.CharField(max_length=300, blank=True)
    priority = models.CharField(max_length=10, blank=True)
    episode_of_care_ids = models.JSONField(default=list, blank=True)
    # A reply or forward whose earlier messages never reached us.
    beginning_missing = models.BooleanField(default=False)
    forwarded_from_header_id = models.CharField(max_length=200, blank=True)
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, null=True, blank=True,
                             related_name="inbox_threads")
    started_at = models.DateTimeField(default=timezone.now)
    last_activity_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("tråd")
        verbose_name_plural = _("tråde")
        constraints = [
            models.UniqueConstraint(fields=["municipality", "identifier"], name="one_thread_per_identifier")
        ]

    def __str__(self) -> str:
        return f"Tråd {self.pk}"

    @property
    def patient_name(self) -> str:
        return " ".join(p for p in (self.patient_given, self.patient_family) if p) or "—"

    @property
    def referrer_label(self) -> str:
        parts = [self.referrer_person, self.counterpart_name or (self.referrer_unit.name if self.referrer_unit else "")]
        return ", ".join(p for p in parts if p) or "—"


class ReceivedMessage(models.Model):
    """A MedCom CareCommunication we accepted. Exactly one row per Bundle.id and per
    MessageHeader.id: a replay or a resend can never be processed twice."""

    arrival = models.OneToOneField(Arrival, on_delete=models.PROTECT, related_name="accepted")
    bundle_id = models.CharField(max_length=200, unique=True)
    header_id = models.CharField(max_length=200, unique=True)
    thread = models.ForeignKey(Thread, on_delete=models.PROTECT, related_name="received")
    activity = models.CharField(max_length=20)
    previous_header_id = models.CharField(max_length=200, blank=True)
    sent_at = models.DateTimeField(_("afsendt"))
    received_at = models.DateTimeField(_("modtaget"))
    sender_name = models.CharField(max_length=200, blank=True)
    sender_sor = models.CharField(max_length=20)
    sender_gln = models.CharField(max_length=13)
    source_endpoint = models.CharField(max_length=300)
    receiver_sor = models.CharField(max_length=20)
    receiver_gln = models.CharField(max_length=13)
    destination_endpoint = models.CharField(max_length=300)
    # The message's Provenances, carried into our replies (MedCom: a reply carries them all).
    provenances = models.JSONField(default=list)
    ack_json = models.BinaryField()

    class Meta:
        verbose_name = _("modtaget MedCom-besked")
        verbose_name_plural = _("modtagne MedCom-beskeder")

    def __str__(self) -> str:
        return f"Besked {self.header_id}"


class OutboundMessage(models.Model):
    """A MedCom message we send, delivered by the background loop.

    A resend gets a new Bundle.id and timestamp and keeps its MessageHeader.id, as MedCom
    reliable messaging requires, so the receiver recognises it; the acknowledgement names
    the MessageHeader.id, which is how we match it.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Venter på afsendelse")
        SENT = "sent", _("Sendt, afventer kvittering")
        ACKED = "acked", _("Kvitteret")
        REJECTED = "rejected", _("Afvist af modtageren")
        UNANSWERED = "unanswered", _("Ingen kvittering efter genforsendelser")

    class Reason(models.TextChoices):
        RECEIPT = "receipt", _("Kvittering for henvisning")
        REJECTION = "rejection", _("Afvisning")
        FORWARD_NOTICE = "forward_notice", _("Besked om videresendelse")
        FORWARD = "forward", _("Videresendelse")
        NO_CONSENT = "no_consent", _("Intet samtykke")
        MINUTES = "minutes", _("Referat")
        CLOSING = "closing", _("Afslutning")
        PLAN = "plan", _("Handleplan")
        REPLY = "reply", _("Svar")

    thread = models.ForeignKey(Thread, on_delete=models.PROTECT, related_name="outbound")
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    entry = models.ForeignKey("organisations.Unit", on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=30)
    activity = models.CharField(max_length=20)
    thread_identifier = models.CharField(max_length=100)  # a forward starts a new thread
    previous_header_id = models.CharField(max_length=200, blank=True)
    segment_identifier = models.CharField(max_length=100)
    text = models.TextField()
    author_name = models.CharField(max_length=200)
    author_role = models.CharField(max_length=200)
    author_phone = models.CharField(max_length=40)
    receiver_name = models.CharField(max_length=200, blank=True)
    receiver_sor = models.CharField(max_length=20)
    receiver_gln = models.CharField(max_length=13)
    receiver_endpoint = models.CharField(max_length=300)
    header_id = models.CharField(max_length=100, unique=True)
    bundle_id = models.CharField(max_length=100, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    due_at = models.DateTimeField(default=timezone.now)  # when to (re)send
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    acked_at = models.DateTimeField(null=True, blank=True)
    ack_code = models.CharField(max_length=20, blank=True)
    ack_text = models.TextField(blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    body = models.BinaryField(null=True, blank=True)  # the bundle as last sent
    # The message's own Provenance when another part of the domain wrote the bundle.
    provenance = models.JSONField(null=True, blank=True)
    # Needs a person: rejected by the receiver, or unanswered after two resends.
    flagged_at = models.DateTimeField(null=True, blank=True)
    flag_resolved_at = models.DateTimeField(null=True, blank=True)
    flag_resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("udgående MedCom-besked")
        verbose_name_plural = _("udgående MedCom-beskeder")
        indexes = [models.Index(fields=["status", "due_at"])]

    def __str__(self) -> str:
        return f"Udgående {self.header_id}"


class Segment(models.Model):
    """One text or attachment of a thread, shown in the order of its own timestamp."""

    class Kind(models.TextChoices):
        TEXT = "text", _("Tekst")
        ATTACHMENT = "attachment", _("Vedhæftning")

    thread = models.ForeignKey(Thread, on_delete=models.PROTECT, related_name="segments")
    identifier = models.CharField(max_length=100)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    timestamp = models.DateTimeField()
    outgoing = models.BooleanField(default=False)
    author_name = models.CharField(max_length=200, blank=True)
    author_role = models.CharField(max_length=200, blank=True)
    author_phone = models.CharField(max_length=40, blank=True)
    organisation = models.CharField(max_length=200, blank=True)
    organisation_sor = models.CharField(max_length=20, blank=True)
    organisation_gln = models.CharField(max_length=13, blank=True)
    text = models.TextField(blank=True)
    title = models.CharField(max_length=300, blank=True)
    content_type = models.CharField(max_length=60, blank=True)
    url = models.CharField(max_length=1000, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    # The message that added it; None while we know it only as carried by a later message.
    message = models.ForeignKey(ReceivedMessage, on_delete=models.PROTECT, null=True, blank=True,
                                related_name="segments")
    outbound = models.ForeignKey(OutboundMessage, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="segments")
    author_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                    blank=True, related_name="+")
    carried_over = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("segment")
        verbose_name_plural = _("segmenter")
        ordering = ["timestamp", "id"]
        constraints = [
            models.UniqueConstraint(fields=["thread", "identifier"], name="one_segment_per_identifier")
        ]

    def __str__(self) -> str:
        return self.title or self.identifier

    @property
    def has_data(self) -> bool:
        return self.kind == self.Kind.ATTACHMENT and self.size > 0


class AttachmentData(models.Model):
    """The bytes of an attachment, stored in the database with the message (transactional,
    backed up with it, never reachable by a public URL)."""

    segment = models.OneToOneField(Segment, on_delete=models.PROTECT, related_name="data", primary_key=True)
    data = models.BinaryField()

    def __str__(self) -> str:
        return f"Data for segment {self.segment_id}"


class InboxItem(models.Model):
    """A piece of work for the inbox keeper: a referral or a new message in a thread."""

    class Kind(models.TextChoices):
        MEDCOM = "medcom", _("MedCom")
        WEB = "web", _("Webformular")
        LETTER = "letter", _("Brev")
        PHONE = "phone", _("Telefon")

    class Status(models.TextChoices):
        NEW = "new", _("Ny")
        OPENED = "opened", _("Forløb oprettet")
        ATTACHED = "attached", _("Knyttet til eksisterende forløb")
        REJECTED = "rejected", _("Afvist")
        FORWARDED = "forwarded", _("Videresendt")
        NOTED = "noted", _("Set")

    HANDLED = (Status.OPENED, Status.ATTACHED, Status.REJECTED, Status.FORWARDED, Status.NOTED)

    municipality = models.ForeignKey("organisations.Municipality", on_delete=models.PROTECT, related_name="+")
    thread = models.ForeignKey(Thread, on_delete=models.PROTECT, related_name="items")
    # Unique: a message becomes at most one item, however often it is delivered.
    message = models.OneToOneField(ReceivedMessage, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="item")
    kind = models.CharField(_("kanal"), max_length=10, choices=Kind.choices)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.NEW)
    received_at = models.DateTimeField(_("modtaget"), default=timezone.now)
    summary = models.CharField(_("resumé"), max_length=300, blank=True)
    registered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                      blank=True, related_name="+")
    handled_at = models.DateTimeField(null=True, blank=True)
    handled_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                   blank=True, related_name="+")
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, null=True, blank=True,
                             related_name="inbox_items")
    is_re_referral = models.BooleanField(_("genhenvisning"), default=False)
    reject_reason = models.CharField(_("begrundelse"), max_length=1000, blank=True)
    forwarded_to = models.ForeignKey("organisations.Municipality", on_delete=models.PROTECT, null=True,
                                     blank=True, related_name="+")

    class Meta:
        verbose_name = _("henvendelse")
        verbose_name_plural = _("henvendelser")
        ordering = ["received_at", "id"]
        indexes = [models.Index(fields=["municipality", "status", "received_at"])]

    def __str__(self) -> str:
        return f"Henvendelse {self.pk}"

    @property
    def is_new(self) -> bool:
        return self.status == self.Status.NEW
