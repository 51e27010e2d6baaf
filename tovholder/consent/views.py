"""Consent pages: the family's own link (public, no login) and the staff's pages.

MitID: the family pages are opened with a personal link from the letter (the token is the
credential). A MitID login is the integration point for a stronger identification: a
view decorator that, before `request_for_token` is trusted, sends the visitor through the
municipality's MitID broker (OIDC) and checks that the CPR it returns is the request's
person (`request.custody_holder.cpr`, or the child's). See tovholder/letters/README.md.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tovholder.access import Scope, inbox_municipalities, require_case
from tovholder.audit.actor import Actor
from tovholder.audit.models import AuditEvent
from tovholder.audit.services import audit_record, audit_record_many
from tovholder.consent.forms import PaperAnswerForm, StaffWithdrawForm
from tovholder.consent.models import ConsentRequest, ConsentRound, How
from tovholder.consent.selectors import manage_grant, waiting_for_consent, waiting_rows
from tovholder.consent.services import (
    consent_answer,
    consent_register_paper,
    consent_renewal_start,
    consent_request_start,
    consent_withdraw,
    consent_withdraw_on_request,
    declaration_for,
    family_actor,
    request_for_token,
)
from tovholder.consent.texts import declaration_blocks
from tovholder.letters.tokens import private_response

# --- The family's link ----------------------------------------------------------------------


def _invalid(request) -> HttpResponse:
    return private_response(render(request, "consent/link_invalid.html", status=404))


@require_GET
def link(request, token: str):
    req = request_for_token(token)
    if req is None:
        return _invalid(request)
    case = req.case
    audit_record(actor=family_actor(req), action=AuditEvent.Action.VIEW, basis="family", case=case, obj=req,
                 summary=f"Samtykkeerklæringen åbnet af {req.person_name} via personligt link")
    today = timezone.localdate()
    can_answer = (req.status == ConsentRequest.Status.PENDING and req.round.status == ConsentRound.Status.OPEN
                  and case.is_open)
    in_force = req.status == ConsentRequest.Status.GIVEN and req.round.status in (
        ConsentRound.Status.OPEN, ConsentRound.Status.COMPLETE)
    context = {
        "req": req,
        "case": case,
        "token": token,
        "blocks": declaration_blocks(declaration_for(req)),
        "can_answer": can_answer,
        "can_withdraw": in_force,
        "in_force": in_force,
        "expired": req.status == ConsentRequest.Status.GIVEN and req.expires_on and req.expires_on <= today,
        "last_day": req.expires_on - timezone.timedelta(days=1) if req.expires_on else None,
        "closed": not case.is_open,
    }
    return private_response(render(request, "consent/link.html", context))


@require_POST
def link_answer(request, token: str):
    req = request_for_token(token)
    if req is None:
        return _invalid(request)
    answer = request.POST.get("answer")
    if answer not in ("give", "refuse"):
        messages.error(request, "Vælg ja eller nej.")
        return private_response(redirect("consent:link", token=token))
    try:
        consent_answer(actor=family_actor(req), request=req, give=answer == "give", how=How.DIGITAL)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Tak. Dit svar er registreret." if answer == "give"
                         else "Dit nej er registreret. Der sker ikke mere med henvendelsen.")
    return private_response(redirect("consent:link", token=token))


@require_POST
def link_withdraw(request, token: str):
    req = request_for_token(token)
    if req is None:
        return _invalid(request)
    try:
        consent_withdraw(actor=family_actor(req), request=req, how=How.DIGITAL)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Dit samtykke er trukket tilbage. Der udveksles ikke flere oplysninger.")
    return private_response(redirect("consent:link", token=token))


# --- Staff ----------------------------------------------------------------------------------

def _managed_request(request, request_id: int, *, summary: str):
    req = ConsentRequest.objects.filter(pk=request_id).defer("scan").select_related("text", "round").first()
    if req is None:
        raise Http404
    case, _grant = require_case(request.user, req.case_id, scope=Scope.INTAKE, summary=summary)
    grant = manage_grant(request.user, case)
    if grant is None:
        raise Http404
    req.case = case
    return req, case, grant


@login_required
@require_http_methods(["GET", "POST"])
def paper_answer(request, request_id: int):
    req, case, grant = _managed_request(request, request_id, summary="Samtykke: registrering af papirsvar")
    form = PaperAnswerForm(request.POST or None, request.FILES or None, initial={"version": req.version})
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["scan"]
        try:
            consent_register_paper(
                actor=grant.actor(request.user), basis=grant.basis, request=req,
                give=form.cleaned_data["answer"] == "give", signed_on=form.cleaned_data["signed_on"],
                scan=(upload.name, upload.content_type or "", upload.read()),
                expected_version=form.cleaned_data["version"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Papirsvaret fra {req.person_name} er registreret.")
            return redirect("cases:detail", case_id=case.pk)
    return render(request, "consent/paper_form.html", {"req": req, "case": case, "form": form})


@login_required
@require_http_methods(["GET", "POST"])
def staff_withdraw(request, request_id: int):
    req, case, grant = _managed_request(request, request_id, summary="Samtykke: tilbagetrækning")
    form = StaffWithdrawForm(request.POST or None, initial={"version": req.version})
    if request.method == "POST" and form.is_valid():
        try:
            consent_withdraw_on_request(actor=grant.actor(request.user), basis=grant.basis, request=req,
                                        note=form.cleaned_data["note"],
                                        expected_version=form.cleaned_data["version"])
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Samtykket fra {req.person_name} er trukket tilbage. Forløbet er afsluttet.")
            return redirect("cases:detail", case_id=case.pk)
    return render(request, "consent/withdraw_form.html", {"req": req, "case": case, "form": form})


@login_required
@require_GET
def scan(request, request_id: int):
    req, case, grant = _managed_request(request, request_id, summary="Samtykke: scannet erklæring")
    full = ConsentRequest.objects.only("scan", "scan_name", "scan_content_type").get(pk=req.pk)
    if not full.scan_name:
        raise Http404
    audit_record(actor=grant.actor(request.user), action=AuditEvent.Action.EXPORT, basis=grant.basis, case=case,
                 obj=req, summary=f"Scannet samtykkeerklæring hentet ({req.person_name})")
    response = HttpResponse(bytes(full.scan), content_type=full.scan_content_type or "application/octet-stream")
    response["Content-Disposition"] = f'attachment; filename="samtykke-{req.pk}"'
    return response


@login_required
@require_POST
def request_start(request, case_id: int):
    case, _grant = require_case(request.user, case_id, scope=Scope.INTAKE, audit=None)
    grant = manage_grant(request.user, case)
    if grant is None:
        raise Http404
    try:
        consent_request_start(actor=grant.actor(request.user), case=case)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Anmodningen om samtykke er sendt til alle, der skal give det.")
    return redirect("cases:detail", case_id=case.pk)


@login_required
@require_POST
def renewal_start(request, case_id: int):
    case, _grant = require_case(request.user, case_id, scope=Scope.INTAKE, audit=None)
    grant = manage_grant(request.user, case)
    if grant is None:
        raise Http404
    try:
        consent_renewal_start(actor=grant.actor(request.user), case=case, basis=grant.basis)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Familien er bedt om at forny samtykket.")
    return redirect("cases:detail", case_id=case.pk)


@login_required
@require_GET
def waiting(request):
    municipality_ids = inbox_municipalities(request.user)
    if not municipality_ids:
        raise Http404
    cases = list(waiting_for_consent(municipality_ids=municipality_ids))
    if cases:
        audit_record_many(actor=Actor(user=request.user), action=AuditEvent.Action.SEARCH, basis="inbox",
                          cases=cases, criterion="Afventer samtykke", summary="Vist i listen over samtykker")
    today = timezone.localdate()
    rows = waiting_rows(cases, today)
    return render(request, "consent/waiting.html", {
        "initial": [r for r in rows if r.consent_round.kind == ConsentRound.Kind.INITIAL],
        "renewal": [r for r in rows if r.consent_round.kind == ConsentRound.Kind.RENEWAL],
        "today": today, "several": len(municipality_ids) > 1,
    })


@login_required
@require_http_methods(["GET", "POST"])
def text_edit(request, code: str):
    """The administrator publishes a new version of a municipality's consent text."""
    from tovholder.access import is_administrator
    from tovholder.consent.forms import ConsentTextForm
    from tovholder.consent.models import ConsentText
    from tovholder.consent.services import consent_text_current, consent_text_publish
    from tovholder.consent.texts import render_text
    from tovholder.organisations.models import Municipality

    if not is_administrator(request.user):
        raise Http404
    municipality = Municipality.objects.filter(code=code).first()
    if municipality is None:
        raise Http404
    current = consent_text_current(municipality=municipality)
    form = ConsentTextForm(request.POST or None, parties=current.parties,
                           initial={"body_template": current.body_template, "contact": current.contact})
    if request.method == "POST" and form.is_valid():
        try:
            text = consent_text_publish(
                actor=Actor(user=request.user), municipality=municipality,
                body_template=form.cleaned_data["body_template"], parties=form.parties(),
                contact=form.cleaned_data["contact"], valid_from=form.cleaned_data["valid_from"])
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Version {text.version} af samtykketeksten er gemt. Samtykker, der allerede "
                                      "er givet, beholder deres version.")
            return redirect("consent:text_edit", code=municipality.code)
    versions = ConsentText.objects.filter(municipality=municipality).order_by("-version")
    return render(request, "consent/text_edit.html", {
        "municipality": municipality, "current": current, "form": form, "versions": versions,
        "preview": render_text(current, child_name="Emma Eksempel"),
    })
