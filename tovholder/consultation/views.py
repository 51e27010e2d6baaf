"""Pages of consultation ("sparring"), fixed consultation times and referrals onwards.

Views parse input, get what they show through the access policy (require_case,
require_consultation; 404 without a grant), call one service, and render.
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from tovholder.access import (
    Basis,
    ConsultationBasis,
    Scope,
    advising_units,
    case_grant,
    require_case,
    require_consultation,
)
from tovholder.audit.actor import Actor
from tovholder.audit.models import AuditEvent
from tovholder.audit.services import audit_record
from tovholder.consultation import referrals as ref
from tovholder.consultation import selectors
from tovholder.consultation import services as svc
from tovholder.consultation.forms import (
    AdmissionForm,
    AgreementForm,
    AnswerForm,
    AskForm,
    BookForm,
    FollowUpForm,
    ReferralForm,
    ReferralNewForm,
    ReplyForm,
    SeriesForm,
    uploads_from,
)
from tovholder.consultation.models import (
    ADVISING_KINDS,
    REFERRAL_RECEIVER_KINDS,
    Consultation,
    ConsultationAttachment,
    ConsultationSlot,
    Referral,
    RejectionFollowUp,
    TargetGroup,
)
from tovholder.organisations.models import Membership, Unit

# Who on a case may prepare and send referrals, register answers and admissions.
CASE_WORKERS = (Basis.LEAD, Basis.TEAM)


def _idem(request) -> str:
    return (request.POST.get("idem") or "")[:64]


def _new_idem() -> str:
    return uuid.uuid4().hex


def _add_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _asking_units(user):
    """Units a staff member can ask from: their own workplaces (not the committee)."""
    ids = (Membership.objects.active().filter(user=user).exclude(unit__kind=Unit.Kind.COMMITTEE)
           .values_list("unit_id", flat=True))
    return Unit.objects.filter(pk__in=list(ids)).order_by("name")


def _advising_choices():
    return Unit.objects.filter(kind__in=ADVISING_KINDS).order_by("kind", "name")


def _case_for_question(request):
    """The case named by ?forloeb= (the question is then about that child), or None."""
    raw = request.GET.get("forloeb") or request.POST.get("forloeb")
    if not raw:
        return None, None
    try:
        case_id = int(raw)
    except ValueError:
        raise Http404 from None
    return require_case(request.user, case_id, scope=Scope.CASE, summary="Forløbet vist (sparring)")


def _unit_actor(request, unit: Unit) -> Actor:
    return Actor(user=request.user, unit=unit)


# --------------------------------------------------------------------------- consultations


@login_required
def home(request):
    user = request.user
    units = advising_units(user)
    mine = list(selectors.consultations_asked_by(user=user)[:100])
    incoming = list(selectors.consultations_for_advisor(units=units)[:200]) if units else []
    notices = list(selectors.unread_consultation_notices(user=user)[:20])
    return render(request, "consultation/home.html", {
        "mine": mine, "incoming": incoming, "advising_units": units, "notices": notices,
    })


@login_required
def ask(request):
    case, grant = _case_for_question(request)
    asking = _asking_units(request.user)
    if not asking.exists():
        raise Http404
    form = AskForm(request.POST or None, advising=_advising_choices(), asking=asking,
                   initial={"asking_unit": grant.unit if grant and grant.unit in asking else asking.first()})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        uploads = uploads_from(request.FILES.getlist("attachments"))
        try:
            consultation = svc.consultation_ask(
                actor=_unit_actor(request, d["asking_unit"]),
                basis=grant.basis if grant else ConsultationBasis.ASKER,
                advising_unit=d["advising_unit"], asking_unit=d["asking_unit"], target_group=d["target_group"],
                subject=d["subject"], text=d["text"], case=case, municipality=d.get("municipality"),
                uploads=uploads, idempotency_key=_idem(request))
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, "Spørgsmålet er sendt.")
            return redirect("consultation:detail", consultation.pk)
    return render(request, "consultation/ask.html", {
        "form": form, "case": case, "idem": _idem(request) or _new_idem()})


@login_required
def detail(request, consultation_id: int):
    consultation, grant, case = require_consultation(request.user, consultation_id)
    svc.consultation_notices_read(actor=Actor(user=request.user), consultation=consultation)
    thread = list(consultation.messages.select_related("author", "author_unit").prefetch_related("attachments"))
    booking = getattr(consultation, "booking", None) if hasattr(consultation, "booking") else None
    is_lead = case is not None and case_grant(request.user, case, Scope.MANAGE) is not None
    form = ReplyForm()
    return render(request, "consultation/detail.html", {
        "c": consultation, "grant": grant, "case": case, "thread": thread, "booking": booking,
        "is_advisor": grant.basis == ConsultationBasis.ADVISOR, "is_lead": is_lead, "form": form,
        "idem": _new_idem(), "agreement": getattr(consultation, "agreement_link", None)
        if hasattr(consultation, "agreement_link") else None,
        "may_cancel": booking is not None and booking.cancelled_at is None
        and grant.basis != ConsultationBasis.ADVISOR and consultation.status == Consultation.Status.OPEN,
    })


@login_required
@require_POST
def reply(request, consultation_id: int):
    consultation, grant, case = require_consultation(request.user, consultation_id)
    form = ReplyForm(request.POST)
    if form.is_valid():
        try:
            svc.consultation_reply(
                actor=grant.actor(request.user), basis=grant.basis, consultation=consultation,
                text=form.cleaned_data["text"], uploads=uploads_from(request.FILES.getlist("attachments")),
                recommendation=form.cleaned_data.get("recommendation") or "", idempotency_key=_idem(request))
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, "Beskeden er sendt.")
            return redirect("consultation:detail", consultation.pk)
    thread = list(consultation.messages.select_related("author", "author_unit").prefetch_related("attachments"))
    return render(request, "consultation/detail.html", {
        "c": consultation, "grant": grant, "case": case, "thread": thread,
        "booking": getattr(consultation, "booking", None) if hasattr(consultation, "booking") else None,
        "is_advisor": grant.basis == ConsultationBasis.ADVISOR, "form": form, "idem": _idem(request),
    }, status=200)


@login_required
def attachment(request, consultation_id: int, attachment_id: int):
    consultation, grant, _case = require_consultation(request.user, consultation_id, audit=None)
    item = get_object_or_404(ConsultationAttachment.objects.select_related("message__consultation"),
                             pk=attachment_id, message__consultation=consultation)
    data = svc.attachment_read(actor=grant.actor(request.user), basis=grant.basis, attachment=item)
    response = HttpResponse(data, content_type=item.content_type)
    safe = "".join(ch for ch in item.filename if ch.isalnum() or ch in "._- ")[:100] or "bilag"
    response["Content-Disposition"] = f'attachment; filename="{safe}"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def booking_cancel(request, consultation_id: int):
    consultation, grant, _case = require_consultation(request.user, consultation_id, audit=None)
    if grant.basis == ConsultationBasis.ADVISOR:
        raise Http404
    try:
        svc.booking_cancel(actor=grant.actor(request.user), basis=grant.basis, consultation=consultation)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Bookingen er aflyst, og pladsen er ledig igen.")
    return redirect("consultation:detail", consultation.pk)


@login_required
def to_agreement(request, consultation_id: int):
    """The lead professional turns the advice into an agreement in the plan."""
    consultation, grant, case = require_consultation(request.user, consultation_id, audit=None)
    lead = case_grant(request.user, case, Scope.MANAGE) if case is not None else None
    if lead is None:
        raise Http404
    audit_record(actor=lead.actor(request.user), action=AuditEvent.Action.VIEW, basis=lead.basis, case=case,
                 obj=consultation, summary=f"Sparring vist ({consultation.reference})")
    sectors = svc.agreement_sectors()
    advice = "\n\n".join(m.text for m in consultation.messages.filter(kind="answer"))
    form = AgreementForm(request.POST or None, sectors=sectors,
                         initial={"what": consultation.subject[:300], "how": advice[:3000]})
    available = svc.plan_accepts_agreements()
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            svc.advice_to_agreement(actor=lead.actor(request.user), basis=lead.basis, consultation=consultation,
                                    what=d["what"], how=d["how"], responsible=d["responsible"],
                                    responsible_name=d["responsible_name"], due_on=d["due_on"])
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, "Aftalen er tilføjet handleplanen.")
            return redirect("cases:detail", case.pk)
    return render(request, "consultation/to_agreement.html", {
        "c": consultation, "case": case, "form": form, "available": available,
        "done": getattr(consultation, "agreement_link", None) if hasattr(consultation, "agreement_link") else None,
    })


# --------------------------------------------------------------------------- fixed times


@login_required
def slots(request):
    group = request.GET.get("maalgruppe", "")
    if group and group not in TargetGroup.values:
        group = ""
    rows = list(selectors.upcoming_slots(target_group=group)[:200])
    mine = {u.pk for u in advising_units(request.user)}
    return render(request, "consultation/slots.html", {
        "rows": rows, "group": group, "groups": TargetGroup.choices, "my_units": mine,
        "forloeb": request.GET.get("forloeb", ""),
    })


@login_required
def book(request, slot_id: int):
    slot = get_object_or_404(ConsultationSlot.objects.select_related("advising_unit"), pk=slot_id,
                             cancelled_at__isnull=True)
    case, grant = _case_for_question(request)
    asking = _asking_units(request.user).exclude(pk=slot.advising_unit_id)
    if not asking.exists():
        raise Http404
    form = BookForm(request.POST or None, asking=asking,
                    initial={"asking_unit": grant.unit if grant and grant.unit in asking else asking.first()})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            consultation = svc.slot_book(
                actor=_unit_actor(request, d["asking_unit"]),
                basis=grant.basis if grant else ConsultationBasis.ASKER, slot=slot,
                asking_unit=d["asking_unit"], subject=d["subject"], text=d["text"], case=case,
                municipality=d.get("municipality"), uploads=uploads_from(request.FILES.getlist("attachments")),
                idempotency_key=_idem(request))
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, "Tiden er booket.")
            return redirect("consultation:detail", consultation.pk)
    taken = slot.bookings.filter(cancelled_at__isnull=True).count()
    return render(request, "consultation/book.html", {
        "slot": slot, "form": form, "case": case, "free": max(slot.capacity - taken, 0),
        "idem": _idem(request) or _new_idem()})


@login_required
def series_new(request):
    units = advising_units(request.user)
    if not units:
        raise Http404
    form = SeriesForm(request.POST or None, advising=Unit.objects.filter(pk__in=[u.pk for u in units]))
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            series = svc.slot_series_publish(
                actor=_unit_actor(request, d["advising_unit"]), advising_unit=d["advising_unit"],
                target_group=d["target_group"], first_starts_at=form.first_starts_at(),
                duration_minutes=d["duration_minutes"], every_weeks=d["every_weeks"], occurrences=d["occurrences"],
                capacity=d["capacity"], video_link=d["video_link"], idempotency_key=_idem(request))
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, f"{series.slots.count()} sparringstider er udbudt.")
            return redirect(reverse("consultation:slots") + f"?maalgruppe={series.target_group}")
    return render(request, "consultation/series_new.html", {"form": form, "idem": _idem(request) or _new_idem()})


def _own_slot(request, slot_id: int) -> ConsultationSlot:
    slot = get_object_or_404(ConsultationSlot.objects.select_related("advising_unit"), pk=slot_id)
    if slot.advising_unit_id not in {u.pk for u in advising_units(request.user)}:
        raise Http404
    return slot


@login_required
def slot_detail(request, slot_id: int):
    slot = _own_slot(request, slot_id)
    bookings = list(selectors.slot_bookings(slot=slot))
    actor = Actor(user=request.user, unit=slot.advising_unit)
    for b in bookings:
        link = getattr(b.consultation, "subject_link", None) if hasattr(b.consultation, "subject_link") else None
        if link is not None:
            audit_record(actor=actor, action=AuditEvent.Action.SEARCH, basis=ConsultationBasis.ADVISOR,
                         case=link.case, obj=b.consultation, criterion="Bookinger af sparringstid",
                         summary=f"Vist i bookinger af sparringstid ({b.consultation.reference})")
    return render(request, "consultation/slot_detail.html", {"slot": slot, "bookings": bookings})


@login_required
@require_POST
def slot_cancel(request, slot_id: int):
    slot = _own_slot(request, slot_id)
    try:
        svc.slot_cancel(actor=Actor(user=request.user, unit=slot.advising_unit), slot=slot)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Sparringstiden er aflyst, og de, der havde booket, har fået besked.")
    return redirect("consultation:slots")


# --------------------------------------------------------------------------- referrals onwards


def _case_worker(request, case_id: int, summary: str = "Forløbet vist (henvisning)"):
    case, grant = require_case(request.user, case_id, scope=Scope.CASE, summary=summary)
    if grant.basis not in CASE_WORKERS:
        raise Http404
    return case, grant


def _referral(case, referral_id: int) -> Referral:
    return get_object_or_404(Referral.objects.select_related("receiver_unit", "formal_referrer_unit", "prepared_by",
                                                             "from_consultation"), pk=referral_id, case=case)


@login_required
def referral_new(request, case_id: int):
    case, grant = _case_worker(request, case_id)
    consultation = None
    raw = request.GET.get("sparring") or request.POST.get("sparring")
    if raw:
        consultation = get_object_or_404(Consultation, pk=int(raw) if raw.isdigit() else 0, subject_link__case=case)
    form = ReferralNewForm(request.POST or None, receivers=selectors.referral_receivers())
    if request.method == "POST" and form.is_valid():
        try:
            referral = ref.referral_prepare(actor=grant.actor(request.user), basis=grant.basis, case=case,
                                            receiver_unit=form.cleaned_data["receiver_unit"],
                                            from_consultation=consultation, idempotency_key=_idem(request))
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            return redirect("consultation:referral_detail", case.pk, referral.pk)
    return render(request, "consultation/referral_new.html", {
        "case": case, "form": form, "consultation": consultation, "idem": _idem(request) or _new_idem()})


def _referral_form(referral: Referral, data=None) -> ReferralForm:
    return ReferralForm(data, initial={
        "priority": referral.priority, "question": referral.question, "tried": referral.tried,
        "ppr_assessment": referral.ppr_assessment, "ppr_missing_reason": referral.ppr_missing_reason,
        "formal_referrer_unit": referral.formal_referrer_unit, "formal_referrer_name": referral.formal_referrer_name,
        "version": referral.version})


def _referral_page(request, case, grant, referral, form, *, missing=None, errors=(), status=200):
    actor = grant.actor(request.user)
    return render(request, "consultation/referral_detail.html", {
        "case": case, "r": referral, "form": form, "page_errors": list(errors),
        "missing": ref.referral_missing(referral, actor=actor) if missing is None else missing,
        "answers": list(referral.answers.select_related("registered_by")),
        "sent_messages": list(referral.messages.all()),
        "follow_ups": list(RejectionFollowUp.objects.filter(answer__referral=referral).select_related("assigned_to")),
        "is_lead": grant.basis == Basis.LEAD,
    }, status=status)


@login_required
def referral_detail(request, case_id: int, referral_id: int):
    case, grant = _case_worker(request, case_id)
    referral = _referral(case, referral_id)
    form = _referral_form(referral, request.POST or None)
    if request.method == "POST":
        if not referral.is_editable:
            raise Http404
        if form.is_valid():
            d = form.cleaned_data
            try:
                referral = ref.referral_update(
                    actor=grant.actor(request.user), basis=grant.basis, referral=referral,
                    expected_version=d["version"], priority=d["priority"], question=d["question"], tried=d["tried"],
                    ppr_assessment=d["ppr_assessment"], ppr_missing_reason=d["ppr_missing_reason"],
                    formal_referrer_unit=d["formal_referrer_unit"], formal_referrer_name=d["formal_referrer_name"])
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, "Henvisningen er gemt.")
                return redirect("consultation:referral_detail", case.pk, referral.pk)
    return _referral_page(request, case, grant, referral, form)


@login_required
@require_POST
def referral_send(request, case_id: int, referral_id: int):
    case, grant = _case_worker(request, case_id)
    referral = _referral(case, referral_id)
    version = request.POST.get("version")
    try:
        ref.referral_send(actor=grant.actor(request.user), basis=grant.basis, referral=referral,
                          expected_version=int(version) if version and version.isdigit() else None)
    except ref.IncompleteReferral as exc:
        return _referral_page(request, case, grant, referral, _referral_form(referral), missing=exc.missing,
                              errors=["Henvisningen er ikke sendt, fordi den ikke er komplet. Der mangler:",
                                      *exc.missing])
    except ValidationError as exc:
        referral.refresh_from_db()
        if referral.status == Referral.Status.SENT:  # a double click: the first one sent it
            return redirect("consultation:referral_detail", case.pk, referral.pk)
        return _referral_page(request, case, grant, referral, _referral_form(referral), errors=exc.messages)
    messages.success(request, f"Henvisningen er sendt til {referral.receiver_unit} som MedCom-korrespondance.")
    return redirect("consultation:referral_detail", case.pk, referral.pk)


@login_required
def referral_answer(request, case_id: int, referral_id: int):
    case, grant = _case_worker(request, case_id)
    referral = _referral(case, referral_id)
    if referral.status not in (Referral.Status.SENT, Referral.Status.MORE_INFO):
        raise Http404
    form = AnswerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            ref.referral_answer_record(
                actor=grant.actor(request.user), basis=grant.basis, referral=referral, outcome=d["outcome"],
                reason=d["reason"], text=d["text"], expected_wait_weeks=d["expected_wait_weeks"],
                answered_on=d["answered_on"])
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, "Svaret er registreret, og teamet har fået besked.")
            return redirect("cases:detail", case.pk)
    replies = list(referral.messages.filter(direction="in"))
    return render(request, "consultation/referral_answer.html", {
        "case": case, "r": referral, "form": form, "replies": replies})


@login_required
def follow_up_done(request, case_id: int, follow_up_id: int):
    case, grant = require_case(request.user, case_id, scope=Scope.MANAGE, summary="Forløbet vist (næste skridt)")
    follow_up = get_object_or_404(RejectionFollowUp.objects.select_related("answer__referral__receiver_unit"),
                                  pk=follow_up_id, case=case)
    form = FollowUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            ref.rejection_follow_up_complete(actor=grant.actor(request.user), basis=grant.basis, follow_up=follow_up,
                                             next_steps=form.cleaned_data["next_steps"])
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, "De næste skridt er registreret, og teamet har fået besked.")
            return redirect("cases:detail", case.pk)
    return render(request, "consultation/follow_up.html", {"case": case, "f": follow_up, "form": form,
                                                           "today": timezone.localdate()})


@login_required
def admission_new(request, case_id: int):
    case, grant = _case_worker(request, case_id)
    units = Unit.objects.filter(kind__in=REFERRAL_RECEIVER_KINDS).order_by("kind", "name")
    form = AdmissionForm(request.POST or None, units=units)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        referral = case.referrals_onwards.filter(receiver_unit=d["unit"], status=Referral.Status.ACCEPTED).first()
        try:
            ref.admission_record(actor=grant.actor(request.user), basis=grant.basis, case=case, unit=d["unit"],
                                 admitted_on=d["admitted_on"], discharged_on=d["discharged_on"], referral=referral)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, "Indlæggelsen er registreret.")
            return redirect("cases:detail", case.pk)
    return render(request, "consultation/admission_new.html", {"case": case, "form": form})
