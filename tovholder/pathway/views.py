"""Pages of the joint pathway. Views parse input, get the case through the access policy,
call a service, render."""

from __future__ import annotations

import datetime as dt
import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tovholder.access import Scope, require_case
from tovholder.audit.actor import Actor
from tovholder.audit.models import AuditEvent
from tovholder.audit.services import audit_record, audit_record_many
from tovholder.deadlines.clocks import CLOCK_LABELS
from tovholder.deadlines.milestones import case_milestones
from tovholder.pathway import forms, services
from tovholder.pathway.clocks import PATHWAY_CLOCKS, needs_explanation
from tovholder.pathway.models import (
    Intervention,
    LeadDigest,
    LeadProfessionalHandover,
    Meeting,
    MeetingKind,
    Pathway,
    PlanVersion,
)
from tovholder.pathway.selectors import overview_municipalities, overview_pathways, plan_diff


def _pathway(request, case_id: int, scope: str = Scope.CASE, summary: str = "Fælles forløb vist"):
    case, grant = require_case(request.user, case_id, scope=scope, summary=summary)
    pathway = Pathway.objects.select_related("lead_user", "lead_unit").filter(case=case).first()
    if pathway is None:
        raise Http404
    return case, grant, pathway


def _errors_to_form(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _milestone_rows(case, today):
    return [(m, m.status(today), m.status_label(today), needs_explanation(m, today))
            for m in case_milestones(case, today) if m.clock in PATHWAY_CLOCKS]


@login_required
def pathway_detail(request, case_id: int):
    case, grant, pathway = _pathway(request, case_id)
    today = timezone.localdate()
    context = {
        "case": case, "pathway": pathway, "grant": grant, "manage": grant.allows(Scope.MANAGE),
        "milestones": _milestone_rows(case, today),
        "meetings": pathway.meetings.order_by("-starts_at").select_related("plan_version"),
        "versions": pathway.versions.order_by("-number"),
        "interventions": pathway.interventions.select_related("unit"),
        "handovers": pathway.handovers.select_related("from_user", "from_unit", "to_user", "to_unit"),
        "custody_holders": case.child.custody_holders.filter(ended_at__isnull=True),
    }
    return render(request, "pathway/detail.html", context)


def _allowed_kinds(pathway: Pathway) -> list[str]:
    if pathway.start_meeting_on is None:
        return [MeetingKind.START]
    return [MeetingKind.FOLLOW_UP, MeetingKind.CLOSING]


@login_required
def meeting_new(request, case_id: int):
    case, grant, pathway = _pathway(request, case_id, Scope.MANAGE)
    kinds = _allowed_kinds(pathway)
    form = forms.MeetingScheduleForm(request.POST or None, case=case, allowed_kinds=kinds,
                                     initial={"kind": kinds[0], "idempotency_key": uuid.uuid4().hex,
                                              "start": dt.time(14, 0), "end": dt.time(15, 0)})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        external = [services.ExternalParticipant(name=n.value(), title=t.value() or "", sector=s.value() or "other",
                                                 email=e.value() or "")
                    for n, t, s, e in form.external_rows if (n.value() or "").strip()]
        try:
            meeting = services.meeting_schedule(
                actor=grant.actor(request.user), basis=grant.basis, case=case, kind=d["kind"],
                starts_at=d["starts_at"], ends_at=d["ends_at"], place=d["place"], video_link=d["video_link"],
                staff=[forms.parse_staff(v) for v in d["staff"]], external=external,
                invite_child=d["invite_child"], invite_custody_holders=d["invite_custody_holders"],
                idempotency_key=d.get("idempotency_key") or "",
            )
        except ValidationError as exc:
            _errors_to_form(form, exc)
        else:
            messages.success(request, _("Mødet er indkaldt. Familien får invitationen med Digital Post."))
            return redirect("pathway:meeting", case.pk, meeting.pk)
    return render(request, "pathway/meeting_new.html", {"case": case, "pathway": pathway, "form": form})


def _meeting(pathway: Pathway, meeting_id: int) -> Meeting:
    return get_object_or_404(Meeting.objects.select_related("pathway"), pk=meeting_id, pathway=pathway)


@login_required
def meeting_detail(request, case_id: int, meeting_id: int):
    case, grant, pathway = _pathway(request, case_id)
    meeting = _meeting(pathway, meeting_id)
    return render(request, "pathway/meeting.html", {
        "case": case, "pathway": pathway, "meeting": meeting, "manage": grant.allows(Scope.MANAGE),
        "participants": meeting.participants.all(), "statement_form": forms.ChildStatementForm(),
        "cancel_form": forms.CancelForm(),
        "version": PlanVersion.objects.filter(meeting=meeting).first(),
    })


@login_required
def meeting_ics(request, case_id: int, meeting_id: int):
    from tovholder.pathway.ics import meeting_ics as build

    case, grant, pathway = _pathway(request, case_id, summary="Kalenderinvitation hentet")
    meeting = _meeting(pathway, meeting_id)
    body = build(meeting, method="CANCEL" if meeting.status == Meeting.Status.CANCELLED else "REQUEST")
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8; method=REQUEST")
    response["Content-Disposition"] = f'attachment; filename="moede-{meeting.pk}.ics"'
    return response


@login_required
@require_POST
def meeting_cancel(request, case_id: int, meeting_id: int):
    case, grant, pathway = _pathway(request, case_id, Scope.MANAGE)
    meeting = _meeting(pathway, meeting_id)
    form = forms.CancelForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(_("Skriv hvorfor mødet aflyses."))
        services.meeting_cancel(actor=grant.actor(request.user), basis=grant.basis, meeting=meeting,
                                reason=form.cleaned_data["reason"])
        messages.success(request, _("Mødet er aflyst, og deltagerne har fået besked."))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("pathway:meeting", case.pk, meeting.pk)


@login_required
@require_POST
def child_statement(request, case_id: int, meeting_id: int):
    case, grant, pathway = _pathway(request, case_id, Scope.MANAGE)
    meeting = _meeting(pathway, meeting_id)
    form = forms.ChildStatementForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(_("Skriv barnets udtalelse."))
        services.child_statement_record(actor=grant.actor(request.user), basis=grant.basis, meeting=meeting,
                                        text=form.cleaned_data["text"])
        messages.success(request, _("Barnets udtalelse er gemt og tages med på mødet."))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("pathway:meeting", case.pk, meeting.pk)


@login_required
def meeting_record(request, case_id: int, meeting_id: int):
    case, grant, pathway = _pathway(request, case_id, Scope.MANAGE)
    meeting = _meeting(pathway, meeting_id)
    if meeting.status != Meeting.Status.SCHEDULED:
        messages.info(request, _("Mødet er allerede skrevet ind i handleplanen."))
        return redirect("pathway:meeting", case.pk, meeting.pk)
    goals = pathway.goals.filter(ended_in__isnull=True)
    agreements = pathway.agreements.filter(status="open")
    latest = pathway.versions.order_by("-number").first()
    initial = {"held_on": timezone.localtime(meeting.starts_at).date(), "version": pathway.version,
               "child_voice": "statement" if meeting.child_statement else "present"}
    if latest:
        initial.update(what_works=latest.content.get("what_works", ""),
                       what_is_hard=latest.content.get("what_is_hard", ""),
                       expectations=latest.content.get("expectations", ""))
    form = forms.MeetingRecordForm(request.POST or None, meeting=meeting, goals=goals, agreements=agreements,
                                   initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            version = services.meeting_record(actor=grant.actor(request.user), basis=grant.basis, meeting=meeting,
                                              record=form.record(), expected_version=form.cleaned_data["version"])
        except ValidationError as exc:
            _errors_to_form(form, exc)
        else:
            messages.success(request, _("Handleplanen version %(n)s er gemt og sendt til familien.") % {"n": version.number})
            return redirect("pathway:plan_version", case.pk, version.number)
    return render(request, "pathway/meeting_record.html", {
        "case": case, "pathway": pathway, "meeting": meeting, "form": form, "latest": latest,
        "interventions": pathway.interventions.select_related("unit"),
    })


# ---- The plan --------------------------------------------------------------------------------

def _version(pathway: Pathway, number: int) -> PlanVersion:
    return get_object_or_404(PlanVersion.objects.select_related("meeting"), pathway=pathway, number=number)


@login_required
def plan_current(request, case_id: int):
    case, grant, pathway = _pathway(request, case_id, summary="Handleplan vist")
    version = pathway.versions.order_by("-number").first()
    return render(request, "pathway/plan.html", {
        "case": case, "pathway": pathway, "version": version, "c": version.content if version else None,
        "current": True, "versions": pathway.versions.order_by("-number"),
        "interventions": pathway.interventions.select_related("unit"),
        "agreements": pathway.agreements.filter(status="open"), "manage": grant.allows(Scope.MANAGE),
        # Agreements added between meetings (e.g. from BUA's advice): in the plan now, in the
        # next version's snapshot after the next meeting.
        "added_since": pathway.agreements.filter(status="open").exclude(
            pk__in=[a["id"] for a in (version.content.get("agreements", []) if version else [])]),
    })


@login_required
def plan_version(request, case_id: int, number: int):
    case, grant, pathway = _pathway(request, case_id, summary=f"Handleplan version {number} vist")
    version = _version(pathway, number)
    return render(request, "pathway/plan.html", {
        "case": case, "pathway": pathway, "version": version, "c": version.content, "current": False,
        "versions": pathway.versions.order_by("-number"), "manage": grant.allows(Scope.MANAGE),
    })


@login_required
def plan_pdf(request, case_id: int, number: int):
    from tovholder.pathway.pdf import plan_pdf as build

    case, grant = require_case(request.user, case_id, scope=Scope.CASE, audit=None)
    pathway = Pathway.objects.filter(case=case).first()
    if pathway is None:
        raise Http404
    version = _version(pathway, number)
    audit_record(actor=grant.actor(request.user), action=AuditEvent.Action.EXPORT, basis=grant.basis, case=case,
                 obj=version, summary=f"Handleplan version {number} hentet som PDF")
    response = HttpResponse(build(version, case=case), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="handleplan-{case.reference}-v{number}.pdf"'
    return response


@login_required
def plan_compare(request, case_id: int):
    case, grant, pathway = _pathway(request, case_id, summary="Handleplanens versioner sammenlignet")
    versions = list(pathway.versions.order_by("number"))
    if len(versions) < 2:
        messages.info(request, _("Der er kun én version af handleplanen endnu."))
        return redirect("pathway:plan", case.pk)
    try:
        a_no = int(request.GET.get("fra") or versions[-2].number)
        b_no = int(request.GET.get("til") or versions[-1].number)
    except ValueError:
        raise Http404 from None
    by_no = {v.number: v for v in versions}
    if a_no not in by_no or b_no not in by_no:
        raise Http404
    a, b = by_no[a_no], by_no[b_no]
    return render(request, "pathway/compare.html", {
        "case": case, "pathway": pathway, "a": a, "b": b, "versions": versions,
        "diff": plan_diff(a.content, b.content),
    })


# ---- Interventions ---------------------------------------------------------------------------

@login_required
def intervention_new(request, case_id: int):
    case, grant, pathway = _pathway(request, case_id, Scope.MANAGE)
    form = forms.InterventionForm(request.POST or None, case=case, initial={"status": "planned", "step": 1})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.intervention_add(actor=grant.actor(request.user), basis=grant.basis, case=case,
                                      sector=d["sector"], unit=d["unit"], description=d["description"],
                                      kind=d["kind"], step=d["step"], start_on=d["start_on"], end_on=d["end_on"],
                                      status=d["status"])
        except ValidationError as exc:
            _errors_to_form(form, exc)
        else:
            messages.success(request, _("Indsatsen er tilføjet handleplanen."))
            return redirect("pathway:detail", case.pk)
    return render(request, "pathway/intervention.html", {"case": case, "pathway": pathway, "form": form})


@login_required
def intervention_edit(request, case_id: int, intervention_id: int):
    case, grant, pathway = _pathway(request, case_id, Scope.MANAGE)
    intervention = get_object_or_404(Intervention, pk=intervention_id, pathway=pathway)
    initial = {f: getattr(intervention, f) for f in ("sector", "description", "kind", "step", "status",
                                                     "start_on", "end_on", "version")}
    initial["unit"] = intervention.unit_id
    form = forms.InterventionForm(request.POST or None, case=case, initial=initial)
    for name in ("sector", "unit", "description", "kind"):
        form.fields[name].disabled = True
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.intervention_update(actor=grant.actor(request.user), basis=grant.basis, intervention=intervention,
                                         expected_version=d["version"] or 0, status=d["status"],
                                         start_on=d["start_on"], end_on=d["end_on"], step=d["step"])
        except ValidationError as exc:
            _errors_to_form(form, exc)
        else:
            messages.success(request, _("Indsatsen er opdateret."))
            return redirect("pathway:detail", case.pk)
    return render(request, "pathway/intervention.html",
                  {"case": case, "pathway": pathway, "form": form, "intervention": intervention})


# ---- Deadlines ---------------------------------------------------------------------------

@login_required
def explain(request, case_id: int):
    case, grant, pathway = _pathway(request, case_id, Scope.MANAGE)
    today = timezone.localdate()
    missing = [m for m in case_milestones(case, today) if needs_explanation(m, today)]
    form = forms.ExplanationForm(request.POST or None, initial={
        "clock": request.GET.get("frist") or (missing[0].clock if missing else ""),
        "due_on": request.GET.get("dato") or (missing[0].due if missing else None)})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.deadline_explain(actor=grant.actor(request.user), basis=grant.basis, case=case,
                                      clock=d["clock"], due_on=d["due_on"], text=d["text"])
        except ValidationError as exc:
            _errors_to_form(form, exc)
        else:
            messages.success(request, _("Forklaringen er gemt i forløbet."))
            return redirect("pathway:detail", case.pk)
    clock = form["clock"].value()
    return render(request, "pathway/explain.html", {
        "case": case, "pathway": pathway, "form": form, "missing": missing,
        "clock_label": CLOCK_LABELS.get(clock, ""), "due": form["due_on"].value(),
    })


# ---- Handover ---------------------------------------------------------------------------

@login_required
def handover_new(request, case_id: int):
    case, grant, pathway = _pathway(request, case_id, Scope.MANAGE)
    form = forms.HandoverForm(request.POST or None, case=case, exclude_user_id=pathway.lead_user_id,
                              initial={"version": pathway.version})
    if request.method == "POST" and form.is_valid():
        user, unit = forms.parse_staff(form.cleaned_data["to"])
        try:
            services.handover_propose(actor=grant.actor(request.user), basis=grant.basis, case=case, to_user=user,
                                      to_unit=unit, note=form.cleaned_data["note"],
                                      expected_version=form.cleaned_data["version"])
        except ValidationError as exc:
            _errors_to_form(form, exc)
        else:
            messages.success(request, _("Overdragelsen er sendt. Du er indsatsansvarlig, indtil modtageren accepterer."))
            return redirect("pathway:detail", case.pk)
    return render(request, "pathway/handover_new.html", {"case": case, "pathway": pathway, "form": form})


@login_required
def handover_answer(request, handover_id: int):
    """The receiver's page. They are not on the team yet: the handover itself is their
    access, for this page only, while it waits for their answer."""
    handover = (LeadProfessionalHandover.objects.select_related("pathway__case__child", "from_user", "from_unit",
                                                                "to_unit")
                .filter(pk=handover_id, to_user=request.user, status=LeadProfessionalHandover.Status.PROPOSED).first())
    if handover is None:
        raise Http404
    case = handover.pathway.case
    form = forms.HandoverAnswerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        actor = Actor(user=request.user, unit=handover.to_unit)
        try:
            if form.cleaned_data["decision"] == "accept":
                services.handover_accept(actor=actor, handover=handover, note=form.cleaned_data["note"])
                messages.success(request, _("Du er nu indsatsansvarlig for forløbet."))
                return redirect("pathway:detail", case.pk)
            services.handover_decline(actor=actor, handover=handover, note=form.cleaned_data["note"])
            messages.info(request, _("Du har afvist overdragelsen. Den indsatsansvarlige har fået besked."))
            return redirect("cases:home")
        except ValidationError as exc:
            _errors_to_form(form, exc)
    audit_record(actor=Actor(user=request.user, unit=handover.to_unit), action=AuditEvent.Action.VIEW,
                 basis="handover", case=case, obj=handover, summary="Forslag om overdragelse vist")
    return render(request, "pathway/handover_answer.html", {"handover": handover, "case": case, "form": form})


# ---- Overviews ---------------------------------------------------------------------------

@login_required
def overview(request):
    committee, leading = overview_municipalities(request.user)
    if not committee and not leading:
        raise Http404
    pathways = list(overview_pathways(request.user))
    if pathways:
        audit_record_many(actor=Actor(user=request.user), action=AuditEvent.Action.SEARCH, basis="overview",
                          cases=[p.case for p in pathways], criterion="Overblik over fælles forløb",
                          summary="Vist i overblikket over fælles forløb")
    today = timezone.localdate()
    rows = [{
        "p": p, "case": p.case, "label": CLOCK_LABELS.get(p.case.next_deadline_kind, ""),
        "overdue": p.case.next_deadline is not None and p.case.next_deadline < today,
        "soon": p.case.next_deadline is not None and 0 <= (p.case.next_deadline - today).days <= 7,
    } for p in pathways]
    return render(request, "pathway/overview.html", {
        "rows": rows, "today": today, "overdue": sum(r["overdue"] for r in rows),
    })


@login_required
def digest(request):
    digests = list(LeadDigest.objects.filter(user=request.user).order_by("-day")[:7])
    if digests and digests[0].read_at is None:
        LeadDigest.objects.filter(pk=digests[0].pk).update(read_at=timezone.now())
    case_ids = {item["case_id"] for d in digests for item in d.items}
    if case_ids:
        from tovholder.cases.models import Case

        audit_record_many(actor=Actor(user=request.user), action=AuditEvent.Action.SEARCH, basis="lead",
                          cases=Case.objects.filter(pk__in=case_ids), criterion="Dagens frister",
                          summary="Vist i dagens frister")
    return render(request, "pathway/digest.html", {"digests": digests})


# --- The family's link: the child's voice before a meeting ------------------------------------


def child_voice(request, token: str):
    """Opened with the personal link in a meeting invitation; no login (MitID is the
    documented integration point, as for consent)."""
    from tovholder.letters.tokens import private_response
    from tovholder.pathway.voice import family_actor, link_for_token

    link = link_for_token(token)
    if link is None:
        return private_response(render(request, "pathway/voice_invalid.html", status=404))
    meeting = link.meeting
    case = meeting.pathway.case
    error = ""
    if request.method == "POST":
        text = request.POST.get("text", "")
        try:
            services.child_statement_record(actor=family_actor(link), basis="family", meeting=meeting, text=text,
                                            append=True)
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(request, _("Tak. Det, du har skrevet, er sendt til mødet."))
            return private_response(redirect("pathway:child_voice", token=token))
    else:
        audit_record(actor=family_actor(link), action=AuditEvent.Action.VIEW, basis="family", case=case, obj=meeting,
                     summary="Invitationens link til at skrive til mødet åbnet")
    return private_response(render(request, "pathway/voice.html", {
        "meeting": meeting, "child": case.child, "lead": meeting.pathway.lead_user, "error": error,
        "when": timezone.localtime(meeting.starts_at)}))
