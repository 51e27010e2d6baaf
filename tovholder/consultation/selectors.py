"""Reads of consultations, fixed consultation times, referrals onwards and admissions —
for the pages, and the trial's figures for tovholder.insight (set-based, per municipality
and period: "Sparring med BUA, antal sparringssamtaler og antal forløb; antal
henvisninger til BUA; antal tilbagevisninger; antal indlæggelser", seed 001).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from tovholder.cases.models import Case
from tovholder.consultation.models import (
    Admission,
    Consultation,
    ConsultationNotice,
    ConsultationSlot,
    ConsultationSubject,
    Referral,
    ReferralAnswer,
    RejectionFollowUp,
    SlotBooking,
)
from tovholder.deadlines.workdays import COPENHAGEN
from tovholder.organisations.models import Unit, User

# --------------------------------------------------------------------------- pages


def municipal_efforts_text(case: Case) -> str:
    """What the municipality has tried, from the plan's interventions (the pathway's),
    as a starting point the preparer completes with the effect of each."""
    try:
        from tovholder.pathway.models import Intervention
    except ImportError:  # pragma: no cover - the pathway app is part of the project
        return ""
    try:
        with transaction.atomic():  # a savepoint: a failed read must not spoil the caller's transaction
            rows = list(Intervention.objects.filter(pathway__case_id=case.pk).select_related("unit")
                        .order_by("start_on", "id"))
    except Exception:  # the pathway's tables are not there yet (parallel development)
        return ""
    lines = []
    for i in rows:
        when = ""
        if i.start_on:
            when = f", {i.start_on:%d.%m.%Y}–{i.end_on:%d.%m.%Y}" if i.end_on else f", fra {i.start_on:%d.%m.%Y}"
        unit = f" ({i.unit})" if i.unit_id else ""
        lines.append(f"- {i.description}{unit}: {i.get_kind_display().lower()}, trin {i.step}, "
                     f"{i.get_status_display().lower()}{when}. Effekt: ")
    return "\n".join(lines)


def consultations_asked_by(*, user: User) -> QuerySet[Consultation]:
    """The asker's own consultations (anonymous ones included), newest first."""
    return (Consultation.objects.filter(asked_by=user)
            .select_related("advising_unit", "asking_unit", "booking__slot", "subject_link__case__child")
            .annotate(unread=Count("notices", filter=Q(notices__user=user, notices__read_at__isnull=True)))
            .order_by("-asked_at", "-id"))


def consultations_for_advisor(*, units: Iterable[Unit]) -> QuerySet[Consultation]:
    """Questions to the advising units: waiting ones first, then the newest."""
    return (Consultation.objects.filter(advising_unit__in=list(units))
            .exclude(status=Consultation.Status.CANCELLED)
            .select_related("advising_unit", "asking_unit", "asked_by", "booking__slot", "subject_link__case__child")
            .order_by("-status", "-asked_at", "-id"))


def unread_consultation_notices(*, user: User) -> QuerySet[ConsultationNotice]:
    return ConsultationNotice.objects.filter(user=user, read_at__isnull=True).select_related("consultation")


def upcoming_slots(*, target_group: str = "", advising_unit: Unit | None = None,
                   now: dt.datetime | None = None) -> QuerySet[ConsultationSlot]:
    """Future fixed consultation times with the number of seats taken."""
    qs = (ConsultationSlot.objects.filter(starts_at__gt=now or timezone.now(), cancelled_at__isnull=True)
          .select_related("advising_unit")
          .annotate(booked=Count("bookings", filter=Q(bookings__cancelled_at__isnull=True)))
          .annotate(free=F("capacity") - F("booked")))
    if target_group:
        qs = qs.filter(target_group=target_group)
    if advising_unit is not None:
        qs = qs.filter(advising_unit=advising_unit)
    return qs.order_by("starts_at", "target_group", "id")


def slot_bookings(*, slot: ConsultationSlot) -> QuerySet[SlotBooking]:
    return (SlotBooking.objects.filter(slot=slot, cancelled_at__isnull=True)
            .select_related("consultation__asking_unit", "booked_by", "consultation__subject_link__case__child")
            .order_by("seat"))


def case_consultations(*, case: Case) -> QuerySet[Consultation]:
    return (Consultation.objects.filter(subject_link__case=case)
            .select_related("advising_unit", "asking_unit", "asked_by", "booking__slot", "agreement_link")
            .order_by("-asked_at", "-id"))


def case_referrals(*, case: Case) -> QuerySet[Referral]:
    return (Referral.objects.filter(case=case).select_related("receiver_unit", "prepared_by")
            .prefetch_related("answers").order_by("-created_at", "-id"))


def case_follow_ups(*, case: Case) -> QuerySet[RejectionFollowUp]:
    return (RejectionFollowUp.objects.filter(case=case)
            .select_related("answer__referral__receiver_unit", "assigned_to", "done_by").order_by("due_on", "id"))


def case_admissions(*, case: Case) -> QuerySet[Admission]:
    return Admission.objects.filter(case=case).select_related("unit").order_by("-admitted_on", "-id")


def referral_receivers() -> QuerySet[Unit]:
    return Unit.objects.filter(kind__in=["bua", "paediatric_ward"]).order_by("kind", "name")


# --------------------------------------------------------------------------- the trial's figures


def _period(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """Copenhagen dates [start, end] as an aware half-open range of moments."""
    begin = dt.datetime.combine(start, dt.time.min, tzinfo=COPENHAGEN)
    stop = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=COPENHAGEN)
    return begin, stop


def _in(qs, field: str, municipality_ids: Iterable[int] | None):
    return qs if municipality_ids is None else qs.filter(**{f"{field}__in": list(municipality_ids)})


def consultation_figures(*, start: dt.date, end: dt.date, municipality_ids: Iterable[int] | None = None,
                         advising_kind: str | None = "bua") -> list[dict]:
    """Per municipality: consultations asked in the period (not cancelled) — "conversations"
    — and the distinct cases they were about ("cases"), split identified/anonymous and
    how many were at a fixed consultation time. advising_kind None: every advising unit.

    Rows: {municipality_id, conversations, cases, identified, anonymous, at_fixed_time,
    referral_recommended}."""
    begin, stop = _period(start, end)
    qs = Consultation.objects.filter(asked_at__gte=begin, asked_at__lt=stop).exclude(
        status=Consultation.Status.CANCELLED)
    if advising_kind:
        qs = qs.filter(advising_unit__kind=advising_kind)
    qs = _in(qs, "municipality_id", municipality_ids)
    rows = (qs.values("municipality_id")
            .annotate(conversations=Count("id"),
                      cases=Count("subject_link__case", distinct=True),
                      identified=Count("id", filter=Q(is_anonymous=False)),
                      anonymous=Count("id", filter=Q(is_anonymous=True)),
                      at_fixed_time=Count("id", filter=Q(booking__isnull=False)),
                      referral_recommended=Count("id", filter=Q(recommendation="referral")))
            .order_by("municipality_id"))
    return list(rows)


def consultations_by_target_group(*, start: dt.date, end: dt.date, municipality_ids: Iterable[int] | None = None,
                                  advising_kind: str | None = "bua") -> list[dict]:
    """Rows {municipality_id, target_group, conversations, referral_recommended} — Samrum's
    own registration (seed 003: 28 children with ADHD symptoms, 7 recommended referral)."""
    begin, stop = _period(start, end)
    qs = Consultation.objects.filter(asked_at__gte=begin, asked_at__lt=stop).exclude(
        status=Consultation.Status.CANCELLED)
    if advising_kind:
        qs = qs.filter(advising_unit__kind=advising_kind)
    qs = _in(qs, "municipality_id", municipality_ids)
    return list(qs.values("municipality_id", "target_group")
                .annotate(conversations=Count("id"),
                          referral_recommended=Count("id", filter=Q(recommendation="referral")))
                .order_by("municipality_id", "target_group"))


def referral_figures(*, start: dt.date, end: dt.date, municipality_ids: Iterable[int] | None = None) -> list[dict]:
    """Referrals onwards first sent in the period, per municipality and receiver kind,
    with their outcome so far. Rows: {municipality_id, receiver_kind, sent, accepted,
    rejected, more_info, awaiting}."""
    begin, stop = _period(start, end)
    qs = Referral.objects.filter(sent_at__gte=begin, sent_at__lt=stop).exclude(status=Referral.Status.DRAFT)
    qs = _in(qs, "case__municipality_id", municipality_ids)
    return [
        {"municipality_id": r["case__municipality_id"], "receiver_kind": r["receiver_unit__kind"],
         "sent": r["sent"], "accepted": r["accepted"], "rejected": r["rejected"], "more_info": r["more_info"],
         "awaiting": r["awaiting"]}
        for r in qs.values("case__municipality_id", "receiver_unit__kind")
        .annotate(sent=Count("id"),
                  accepted=Count("id", filter=Q(status=Referral.Status.ACCEPTED)),
                  rejected=Count("id", filter=Q(status=Referral.Status.REJECTED)),
                  more_info=Count("id", filter=Q(status=Referral.Status.MORE_INFO)),
                  awaiting=Count("id", filter=Q(status=Referral.Status.SENT)))
        .order_by("case__municipality_id", "receiver_unit__kind")
    ]


def rejections_by_reason(*, start: dt.date, end: dt.date, municipality_ids: Iterable[int] | None = None) -> list[dict]:
    """Rejections answered in the period. Rows: {municipality_id, receiver_kind, reason,
    rejections, followed_up_in_time} — the last counts the lead's task done by its due date."""
    qs = ReferralAnswer.objects.filter(outcome=ReferralAnswer.Outcome.REJECTED, answered_on__gte=start,
                                       answered_on__lte=end)
    qs = _in(qs, "referral__case__municipality_id", municipality_ids)
    on_time = RejectionFollowUp.objects.filter(answer=OuterRef("pk"), done_on__isnull=False, done_on__lte=F("due_on"))
    return [
        {"municipality_id": r["referral__case__municipality_id"], "receiver_kind": r["referral__receiver_unit__kind"],
         "reason": r["reason"], "rejections": r["rejections"], "followed_up_in_time": r["in_time"]}
        for r in qs.annotate(done_in_time=Exists(on_time))
        .values("referral__case__municipality_id", "referral__receiver_unit__kind", "reason")
        .annotate(rejections=Count("id"), in_time=Count("id", filter=Q(done_in_time=True)))
        .order_by("referral__case__municipality_id", "referral__receiver_unit__kind", "reason")
    ]


def admission_figures(*, start: dt.date, end: dt.date, municipality_ids: Iterable[int] | None = None) -> list[dict]:
    """Admissions starting in the period. Rows: {municipality_id, unit_kind, admissions, children}."""
    qs = Admission.objects.filter(admitted_on__gte=start, admitted_on__lte=end)
    qs = _in(qs, "case__municipality_id", municipality_ids)
    return [
        {"municipality_id": r["case__municipality_id"], "unit_kind": r["unit__kind"],
         "admissions": r["admissions"], "children": r["children"]}
        for r in qs.values("case__municipality_id", "unit__kind")
        .annotate(admissions=Count("id"), children=Count("case__child", distinct=True))
        .order_by("case__municipality_id", "unit__kind")
    ]


def consultation_cases(*, case_ids: Iterable[int]) -> set[int]:
    """Which of these cases had a consultation (for per-case tables in insight)."""
    return set(ConsultationSubject.objects.filter(case_id__in=list(case_ids)).values_list("case_id", flat=True))
