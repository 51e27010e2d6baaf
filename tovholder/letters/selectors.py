"""Reads of letters for pages and the API."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from tovholder.access import Grant, Scope
from tovholder.cases.models import Case
from tovholder.letters.models import Letter

# Letters about the intake (the consent request and its reminders, receipts and
# outcome) are part of what the inbox keeper handles; every other letter (minutes,
# invitations, plans) is case content.
INTAKE_REASON_PREFIX = "consent"


def letter_visible(letter: Letter, grant: Grant) -> bool:
    if grant.allows(Scope.CASE):
        return True
    return grant.allows(Scope.INTAKE) and letter.reason.startswith(INTAKE_REASON_PREFIX)


def case_letters(*, case: Case, grant: Grant) -> QuerySet[Letter]:
    qs = Letter.objects.filter(case=case).annotate(attachment_count=Count("attachments")).order_by("-created_at", "-id")
    if not grant.allows(Scope.CASE):
        qs = qs.filter(reason__startswith=INTAKE_REASON_PREFIX)
    return qs
