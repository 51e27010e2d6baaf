from __future__ import annotations

from django.db.models import QuerySet

from tovholder.audit.models import AuditEvent


def audit_for_case(*, case_id: int) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(case_id=case_id).select_related("user", "unit")


def audit_for_child(*, child_id: int) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(child_id=child_id).select_related("user", "unit")
