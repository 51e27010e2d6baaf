"""The audit trail: append-only, written by the services in the same transaction."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AuditEvent(models.Model):
    class Action(models.TextChoices):
        VIEW = "view", _("Læst")
        CREATE = "create", _("Oprettet")
        CHANGE = "change", _("Ændret")
        EXPORT = "export", _("Eksporteret")
        SEARCH = "search", _("Søgt")

    at = models.DateTimeField(_("tidspunkt"), default=timezone.now, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    actor = models.CharField(_("aktør"), max_length=150)
    unit = models.ForeignKey(
        "organisations.Unit", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    action = models.CharField(_("handling"), max_length=10, choices=Action.choices)
    case = models.ForeignKey(
        "cases.Case", on_delete=models.PROTECT, null=True, blank=True, related_name="audit_events"
    )
    child = models.ForeignKey(
        "children.Child", on_delete=models.PROTECT, null=True, blank=True, related_name="audit_events"
    )
    object_type = models.CharField(_("objekttype"), max_length=60, blank=True)
    object_id = models.CharField(_("objekt-id"), max_length=60, blank=True)
    # Why access was allowed: the role that granted it (e.g. "lead", "committee", "system").
    basis = models.CharField(_("begrundelse"), max_length=40)
    criterion = models.CharField(_("søgekriterium"), max_length=200, blank=True)
    summary = models.CharField(_("beskrivelse"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("revisionshændelse")
        verbose_name_plural = _("revisionsspor")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["case", "-at"]), models.Index(fields=["child", "-at"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor} {self.action} {self.object_type}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise RuntimeError("Audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuntimeError("Audit events are append-only")
