"""Pages of the single entry. Views parse input, fetch through the access policy, call the
services and render; nothing here changes state on its own."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tovholder import access
from tovholder.access import Basis
from tovholder.audit.actor import Actor
from tovholder.audit.models import AuditEvent
from tovholder.audit.services import audit_record
from tovholder.children.cpr import is_replacement_cpr
from tovholder.inbox import forms, selectors, services
from tovholder.inbox.models import Arrival, AttachmentData, OutboundMessage, Segment
from tovholder.inbox.services.handling import default_channel, started_by_us

log = logging.getLogger(__name__)


def _errors(form, exc: ValidationError) -> None:
    """A service's refusal on the form: on the field it names when the form has it (the
    error summary then names and links the field), else for the whole form."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            target = field if field in form.fields else None
            for error in errors:
                for message in error.messages:
                    form.add_error(target, message)
        return
    for message in exc.messages:
        form.add_error(None, message)


def _keeper_actor(request, grant) -> Actor:
    return grant.actor(request.user)


@login_required
def inbox(request):
    """The inbox keeper's work page."""
    if not access.inbox_municipalities(request.user):
        raise Http404
    rows = selectors.new_items(user=request.user)
    quarantined = list(selectors.quarantine(user=request.user)[:50])
    flagged = list(selectors.flagged_outbound(user=request.user))
    handled = list(selectors.handled_items(user=request.user)[:30])
    if rows or handled:
        audit_record(actor=Actor(user=request.user), action=AuditEvent.Action.SEARCH, basis=Basis.INBOX,
                     criterion="Indgangen", summary=f"Indgangen vist ({len(rows)} nye henvendelser)")
    return render(request, "inbox/inbox.html", {
        "rows": rows, "quarantined": quarantined, "flagged": flagged, "handled": handled,
        "overdue": sum(1 for r in rows if r.overdue), "today": timezone.localdate(),
    })


def _item_context(request, item, grant, **overrides) -> dict:
    thread = item.thread
    initial = {"given_name": thread.patient_given, "family_name": thread.patient_family,
               "referral_channel": default_channel(item)}
    is_replacement = bool(thread.patient_cpr) and (thread.patient_is_replacement
                                                   or is_replacement_cpr(thread.patient_cpr))
    if thread.patient_cpr:
        initial["cpr"] = thread.patient_cpr
    if is_replacement:
        initial["birth_date"] = selectors.patient_birth_date(thread=thread)
    candidates = selectors.attach_candidates(item=item)
    # Shown (and so looked up and audited) only while the item waits to be handled.
    known = selectors.known_child(item=item, actor=_keeper_actor(request, grant)) if item.is_new else None
    context = {
        "known_child": known, "patient_is_replacement": is_replacement,
        "item": item, "thread": thread, "grant": grant,
        "row": selectors.item_age(item, timezone.localdate(), item.municipality),
        "segments": list(selectors.thread_segments(thread=thread)),
        "outbound": list(selectors.thread_outbound(thread=thread)),
        "arrivals": list(selectors.thread_arrivals(thread=thread)),
        "open_form": forms.OpenCaseForm(initial=initial, municipality=item.municipality),
        "attach_form": forms.AttachForm(cases=candidates) if candidates.exists() else None,
        "reject_form": forms.RejectForm(),
        "forward_form": forms.ForwardForm(exclude=item.municipality),
        "may_note": item.is_new and (thread.case_id is not None or item.case_id is not None
                                     or started_by_us(thread)),
    }
    context.update(overrides)
    return context


@login_required
def item_detail(request, item_id: int):
    item, grant = access.require_inbox_item(request.user, item_id)
    return render(request, "inbox/item.html", _item_context(request, item, grant))


def _item_action(request, item_id, form_name, build_form, act):
    """POST handling shared by the item's actions: form → service → redirect, or the page
    again with the errors."""
    item, grant = access.require_inbox_item(request.user, item_id, audit=False)
    form = build_form(item)
    if form.is_valid():
        try:
            with transaction.atomic():  # all or nothing, also when a view calls two services
                target = act(item, grant, form)
        except ValidationError as exc:
            _errors(form, exc)
        except IntegrityError:
            # Someone else registered the same child or handled the item at the same moment.
            log.warning("Inbox item %s: %s refused by the database", item.pk, form_name)
            form.add_error(None, _("Henvendelsen blev ændret af en anden samtidig. Intet er gemt; "
                                   "genindlæs siden og prøv igen."))
        except Exception as exc:  # never a bare server error for the keeper: say it, log it
            log.exception("Inbox item %s: %s failed with %s", item.pk, form_name, type(exc).__name__)
            form.add_error(None, _("Henvendelsen kunne ikke behandles på grund af en fejl. Intet er gemt; "
                                   "kontrollér oplysningerne og prøv igen, eller kontakt support."))
        else:
            return target
    context = _item_context(request, item, grant, **{form_name: form})
    return render(request, "inbox/item.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def item_open_case(request, item_id: int):
    def act(item, grant, form):
        data = form.cleaned_data
        case = services.inbox_item_open_case(
            actor=_keeper_actor(request, grant), item=item, cpr=data["cpr"], given_name=data["given_name"],
            family_name=data["family_name"], custody_holders=form.holders(), school=data["school"],
            referral_channel=data["referral_channel"], birth_date=data["birth_date"])
        messages.success(request, _("Forløbet er oprettet. Kvittering er sendt til henviseren, og "
                                    "samtykkeanmodningen er sat i gang."))
        return redirect("cases:detail", case_id=case.pk)

    return _item_action(request, item_id, "open_form",
                        lambda item: forms.OpenCaseForm(request.POST, municipality=item.municipality), act)


@login_required
@require_POST
def item_attach(request, item_id: int):
    def act(item, grant, form):
        services.inbox_item_attach(actor=_keeper_actor(request, grant), item=item, case=form.cleaned_data["case"])
        messages.success(request, _("Henvendelsen er knyttet til forløbet, og henviseren har fået kvittering."))
        return redirect("inbox:inbox")

    return _item_action(request, item_id, "attach_form",
                        lambda item: forms.AttachForm(request.POST, cases=selectors.attach_candidates(item=item)), act)


@login_required
@require_POST
def item_reject(request, item_id: int):
    def act(item, grant, form):
        services.inbox_item_reject(actor=_keeper_actor(request, grant), item=item, reason=form.cleaned_data["reason"])
        messages.success(request, _("Henvendelsen er afvist, og henviseren har fået begrundelsen."))
        return redirect("inbox:inbox")

    return _item_action(request, item_id, "reject_form", lambda item: forms.RejectForm(request.POST), act)


@login_required
@require_POST
def item_forward(request, item_id: int):
    def act(item, grant, form):
        services.inbox_item_forward(actor=_keeper_actor(request, grant), item=item,
                                    to=form.cleaned_data["municipality"], note=form.cleaned_data["note"])
        messages.success(request, _("Henvendelsen er videresendt, og henviseren har fået besked."))
        return redirect("inbox:inbox")

    return _item_action(request, item_id, "forward_form",
                        lambda item: forms.ForwardForm(request.POST, exclude=item.municipality), act)


@login_required
@require_POST
def item_noted(request, item_id: int):
    item, grant = access.require_inbox_item(request.user, item_id, audit=False)
    try:
        services.inbox_item_note(actor=_keeper_actor(request, grant), item=item)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("inbox:item", item_id=item.pk)
    except Exception as exc:  # as in _item_action: a clear message, not a server error
        log.exception("Inbox item %s: noted failed with %s", item.pk, type(exc).__name__)
        messages.error(request, _("Henvendelsen kunne ikke markeres som set på grund af en fejl. Intet er gemt."))
        return redirect("inbox:item", item_id=item.pk)
    messages.success(request, _("Markeret som set."))
    return redirect("inbox:inbox")


@login_required
def thread_detail(request, thread_id: int):
    thread, grant = access.require_thread(request.user, thread_id)
    return render(request, "inbox/thread.html", {
        "thread": thread, "grant": grant, "may_reply": grant.basis == Basis.INBOX,
        "segments": list(selectors.thread_segments(thread=thread)),
        "outbound": list(selectors.thread_outbound(thread=thread)),
        "items": list(thread.items.order_by("received_at")), "reply_form": forms.ReplyForm(),
    })


@login_required
@require_POST
def thread_reply(request, thread_id: int):
    thread, grant = access.require_thread(request.user, thread_id, summary="Svar skrevet")
    if grant.basis != Basis.INBOX:
        raise Http404
    form = forms.ReplyForm(request.POST)
    if form.is_valid():
        try:
            services.thread_reply(actor=grant.actor(request.user), thread=thread, text=form.cleaned_data["text"],
                                  reason=OutboundMessage.Reason.REPLY, basis=grant.basis)
        except ValidationError as exc:
            _errors(form, exc)
        else:
            messages.success(request, _("Svaret er sendt til henviseren."))
            return redirect("inbox:thread", thread_id=thread.pk)
    return render(request, "inbox/thread.html", {
        "thread": thread, "grant": grant, "may_reply": True, "reply_form": form,
        "segments": list(selectors.thread_segments(thread=thread)),
        "outbound": list(selectors.thread_outbound(thread=thread)),
        "items": list(thread.items.order_by("received_at")),
    }, status=400)


_EXTENSIONS = {"application/pdf": "pdf", "image/gif": "gif", "image/jpeg": "jpg", "image/png": "png",
               "image/tiff": "tif", "image/bmp": "bmp"}


@login_required
def attachment(request, segment_id: int):
    """An attachment, served through the access policy (never a public media URL)."""
    segment = Segment.objects.filter(pk=segment_id, kind=Segment.Kind.ATTACHMENT).select_related("thread").first()
    if segment is None:
        raise Http404
    thread, grant = access.require_thread(request.user, segment.thread_id, summary="Bilag vist")
    blob = AttachmentData.objects.filter(segment=segment).first()
    if blob is None:
        raise Http404
    content_type = segment.content_type if segment.content_type in _EXTENSIONS else "application/octet-stream"
    response = HttpResponse(bytes(blob.data), content_type=content_type)
    filename = "".join(c if c.isalnum() or c in " -_" else "_" for c in segment.title)[:80] or "bilag"
    disposition = "inline" if content_type != "application/octet-stream" else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{filename}.{_EXTENSIONS.get(content_type, "bin")}"'
    response["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src 'self'; object-src 'self'"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    return response


@login_required
def quarantine_list(request):
    if not access.inbox_municipalities(request.user):
        raise Http404
    return render(request, "inbox/quarantine.html", {"arrivals": list(selectors.quarantine(user=request.user))})


PREVIEW_BYTES = 200 * 1024


@login_required
def quarantine_detail(request, arrival_id: int, resolve_form=None):
    arrival, grant = access.require_arrival(request.user, arrival_id)
    head = Arrival.objects.filter(pk=arrival.pk).values_list("body", flat=True).first() or b""
    preview = bytes(head[:PREVIEW_BYTES]).decode("utf-8", errors="replace")
    return render(request, "inbox/quarantine_detail.html", {
        "arrival": arrival, "preview": preview, "preview_cut": arrival.size > PREVIEW_BYTES,
        "repeats": arrival.repeats.order_by("received_at").defer("body", "ack_json"),
        "resolve_form": resolve_form or forms.ResolveForm(),
        "open": arrival.state == Arrival.State.QUARANTINED and arrival.resolved_at is None,
    }, status=400 if resolve_form is not None else 200)


@login_required
@require_POST
def quarantine_resolve(request, arrival_id: int):
    arrival, grant = access.require_arrival(request.user, arrival_id, audit=False)
    form = forms.ResolveForm(request.POST)
    if form.is_valid():
        try:
            services.quarantine_resolve(actor=grant.actor(request.user), arrival=arrival, note=form.cleaned_data["note"])
        except ValidationError as exc:
            _errors(form, exc)
        else:
            messages.success(request, _("Beskeden er taget ud af karantæne."))
            return redirect("inbox:inbox")
    return quarantine_detail(request, arrival_id, resolve_form=form)


@login_required
@require_POST
def quarantine_retry(request, arrival_id: int):
    arrival, grant = access.require_arrival(request.user, arrival_id, audit=False)
    try:
        reception = services.quarantine_retry(actor=grant.actor(request.user), arrival=arrival)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("inbox:quarantine_detail", arrival_id=arrival.pk)
    if reception.ack_code == "ok":
        messages.success(request, _("Beskeden kunne nu modtages og ligger i indgangen."))
        return redirect("inbox:inbox")
    messages.error(request, _("Beskeden kan stadig ikke modtages; se fejlene."))
    return redirect("inbox:quarantine_detail", arrival_id=arrival.pk)


@login_required
@require_POST
def outbound_resolve(request, outbound_id: int):
    outbound = OutboundMessage.objects.select_related("entry", "case").defer("body").filter(pk=outbound_id).first()
    keeper = access.inbox_keeper_unit(request.user, outbound.entry.municipality_id) if outbound else None
    if keeper is None:
        raise Http404
    try:
        services.outbound_flag_resolve(actor=Actor(user=request.user, unit=keeper), outbound=outbound,
                                       resend=request.POST.get("action") == "resend")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Sendes igen.") if request.POST.get("action") == "resend" else _("Markeret som håndteret."))
    return redirect("inbox:inbox")


@login_required
def register_contact(request):
    """A letter or phone call, registered by the inbox keeper."""
    entries = selectors.keeper_entries(user=request.user)
    if not entries:
        raise Http404
    form = forms.RegisterContactForm(request.POST or None, request.FILES or None, entries=entries)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        entry = data.get("entry") or entries[0]
        try:
            item = services.contact_register(
                actor=Actor(user=request.user, unit=entry), entry=entry, kind=data["kind"],
                received_at=data["received_at"], referrer_name=data["referrer_name"],
                referrer_organisation=data["referrer_organisation"], referrer_phone=data["referrer_phone"],
                referrer_email=data["referrer_email"], cpr=data["cpr"], given_name=data["given_name"],
                family_name=data["family_name"], text=data["text"], uploads=data["attachments"])
        except ValidationError as exc:
            _errors(form, exc)
        else:
            messages.success(request, _("Henvendelsen er registreret i indgangen."))
            return redirect("inbox:item", item_id=item.pk)
    return render(request, "inbox/register.html", {"form": form, "entry": entries[0]},
                  status=400 if form.errors else 200)


@login_required
def web_referral(request):
    """The referral form for professionals without MedCom."""
    units = selectors.referring_units(user=request.user)
    if not units:
        raise Http404
    initial = {"phone": request.user.phone, "email": request.user.email, "unit": units[0].pk}
    if units[0].municipality_id:
        initial["municipality"] = units[0].municipality_id
    form = forms.WebReferralForm(request.POST or None, request.FILES or None, units=units, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            item = services.web_referral_submit(
                actor=Actor(user=request.user, unit=data["unit"]), referrer_unit=data["unit"],
                municipality=data["municipality"], cpr=data["cpr"], given_name=data["given_name"],
                family_name=data["family_name"], text=data["text"], phone=data["phone"], email=data["email"],
                uploads=data["attachments"])
        except ValidationError as exc:
            _errors(form, exc)
        else:
            messages.success(request, _("Henvendelsen er sendt til den fælles indgang. Du kan følge den og se "
                                        "svarene under Mine henvisninger."))
            return redirect("inbox:thread", thread_id=item.thread_id)
    return render(request, "inbox/referral_form.html", {"form": form}, status=400 if form.errors else 200)


@login_required
def my_referrals(request):
    threads = list(selectors.my_referrals(user=request.user)[:200])
    if threads:
        audit_record(actor=Actor(user=request.user), action=AuditEvent.Action.SEARCH, basis=Basis.REFERRER,
                     criterion="Mine henvisninger", summary=f"Mine henvisninger vist ({len(threads)})")
    return render(request, "inbox/my_referrals.html", {"threads": threads})


def directory(request):
    """Where does a referral about a child living in X go? Public: SOR and EAN are."""
    query = request.GET.get("kommune", "")
    rows = selectors.directory(query=query)
    return render(request, "inbox/directory.html", {"rows": rows, "query": query})

