"""The committee's pages: the agenda, a meeting, a case at the committee, minutes, set-up.

Views parse input, find the seat or the case through one access path (404 when there is
none), call a service, and render. Every list of children is audited as a read.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tovholder.access import Basis, Grant, Scope, require_case
from tovholder.audit.actor import Actor
from tovholder.cases.models import Case
from tovholder.committee import selectors as sel
from tovholder.committee import services
from tovholder.committee.forms import (
    CancelForm,
    DecisionForm,
    ExemptForm,
    MeetingForm,
    MinuteForm,
    NoteForm,
    ReturnForm,
    SettingsForm,
)
from tovholder.committee.guards import audit_list, municipality_by_code, require_item, require_seat
from tovholder.committee.models import AgendaItem, CommitteeMeeting, DecisionKind, Minute, UnitNote
from tovholder.organisations.models import Unit


def _fail(form, exc: ValidationError) -> None:
    """Put a service's refusal on the form (field errors where it names a field)."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            for message in errors:
                form.add_error(field if field in form.fields else None, message)
    else:
        for message in exc.messages:
            form.add_error(None, message)


def _municipality_param(request) -> int | None:
    return municipality_by_code(request.GET.get("kommune") or request.POST.get("kommune"))


def _seat(request, municipality_id=None, *, member=False, chair=False) -> sel.Seat:
    return require_seat(request.user, municipality_id, member=member, chair=chair)


def _audit_list(request, seat: sel.Seat, cases: list[Case], criterion: str) -> None:
    audit_list(request.user, seat, cases, criterion)


def _item_access(request, item_id: int, *, audit: str = "Sagen vist for koordinationsudvalget") -> tuple[AgendaItem, Case, Grant]:
    return require_item(request.user, item_id, summary=audit)


# --- The agenda ---------------------------------------------------------------------------


@login_required
def agenda(request):
    seat = _seat(request, _municipality_param(request))
    municipality = seat.municipality
    if seat.is_member:
        # On demand as well as in the background loop, so the page is right even if the loop lags.
        services.meetings_generate(actor=services.JOB, municipality=municipality)
        services.agenda_sync(actor=services.JOB, municipality=municipality)
    today = timezone.localdate()
    upcoming = sel.upcoming_meetings(municipality, today=today)
    nxt = next((m for m in upcoming if m.status == CommitteeMeeting.Status.PLANNED), None)
    planned = [m for m in upcoming if m.status == CommitteeMeeting.Status.PLANNED]
    rows = sel.agenda_rows(list(sel.agenda_items(seat)), municipality=municipality, today=today, meetings=planned)
    _audit_list(request, seat, [r.case for r in rows], "Udvalgets dagsorden")
    context = {
        "seat": seat, "municipality": municipality, "rows": rows, "next_meeting": nxt, "today": today,
        "flagged": sum(1 for r in rows if r.misses_deadline),
        "upcoming": upcoming if seat.is_member else [m for m in upcoming if m == nxt],
        "past": sel.past_meetings(municipality, today=today) if seat.is_member else [],
        "settings": sel.settings_for(municipality),
        "compliance": sel.compliance_summary(municipality) if seat.is_member else None,
        "other_seats": [s for s in sel.committee_seats(request.user) if s.municipality.pk != municipality.pk],
        "meeting_form": MeetingForm(initial={"starts_at": "08:30", "ends_at": "09:30"}) if seat.is_chair else None,
    }
    return render(request, "committee/agenda.html", context)


# --- Meetings -----------------------------------------------------------------------------


def _meeting_seat(request, meeting_id: int, **kw) -> tuple[CommitteeMeeting, sel.Seat]:
    meeting = get_object_or_404(CommitteeMeeting.objects.select_related("municipality"), pk=meeting_id)
    return meeting, _seat(request, meeting.municipality_id, **kw)


@login_required
def meeting_detail(request, meeting_id: int):
    meeting, seat = _meeting_seat(request, meeting_id)
    items = sel.meeting_items(meeting, seat)
    if not seat.is_member and not items:
        raise Http404
    rows = sel.agenda_rows(items, municipality=meeting.municipality, meetings=[meeting])
    decided = sel.decisions_at(meeting)
    _audit_list(request, seat, [r.case for r in rows], "Udvalgsmødets dagsorden")
    attendees, present, minutes = [], set(), []
    if seat.is_member:
        attendees = sel.expected_attendees(meeting, items)
        present = set(meeting.attendance.filter(present=True).values_list("user_id", flat=True))
        minutes = sel.meeting_minutes(meeting)
    context = {
        "meeting": meeting, "seat": seat, "rows": [(r, decided.get(r.item.pk)) for r in rows],
        "attendees": attendees, "present": present, "minutes": minutes,
        "drafts": sum(1 for m in minutes if m.status == Minute.Status.DRAFT),
        "sitting": meeting.is_open and meeting.scheduled_on <= timezone.localdate(),
    }
    return render(request, "committee/meeting.html", context)


@login_required
@require_POST
def meeting_attendance(request, meeting_id: int):
    meeting, seat = _meeting_seat(request, meeting_id, member=True)
    ids = {int(v) for v in request.POST.getlist("present") if v.isdigit()}
    expected = {a.user.pk: a.user for a in sel.expected_attendees(meeting)}
    try:
        services.meeting_attendance_record(
            actor=Actor(user=request.user, unit=seat.unit), meeting=meeting,
            present=[expected[i] for i in ids if i in expected], guests=request.POST.get("guests", ""),
            expected_version=int(request.POST.get("version") or 0) or None)
        messages.success(request, _("Fremmødet er gemt."))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("committee:meeting", meeting.pk)


@login_required
def meeting_add(request):
    seat = _seat(request, _municipality_param(request), chair=True)
    form = MeetingForm(request.POST or None, initial={"starts_at": "08:30", "ends_at": "09:30"})
    if request.method == "POST" and form.is_valid():
        try:
            meeting = services.meeting_add(actor=Actor(user=request.user, unit=seat.unit), municipality=seat.municipality,
                                           **form.cleaned_data)
            messages.success(request, _("Mødet er oprettet."))
            return redirect("committee:meeting", meeting.pk)
        except ValidationError as exc:
            _fail(form, exc)
    return render(request, "committee/meeting_form.html", {"form": form, "seat": seat})


@login_required
def meeting_cancel(request, meeting_id: int):
    meeting, seat = _meeting_seat(request, meeting_id, chair=True)
    form = CancelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.meeting_cancel(actor=Actor(user=request.user, unit=seat.unit), meeting=meeting,
                                    reason=form.cleaned_data["reason"])
            messages.success(request, _("Mødet er aflyst. Sagerne går videre til næste møde."))
            return redirect("committee:agenda")
        except ValidationError as exc:
            _fail(form, exc)
    return render(request, "committee/meeting_cancel.html", {"form": form, "meeting": meeting, "seat": seat})


@login_required
@require_POST
def meeting_approve(request, meeting_id: int):
    meeting, seat = _meeting_seat(request, meeting_id, chair=True)
    try:
        n = services.meeting_minutes_approve(actor=Actor(user=request.user, unit=seat.unit), meeting=meeting)
        messages.success(request, _("Mødet er afsluttet. %(n)s referat(er) er godkendt og sendt til familien og egen læge.") % {"n": n})
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("committee:meeting", meeting.pk)


# --- A case at the committee --------------------------------------------------------------


def _item_context(request, item: AgendaItem, case: Case, grant: Grant, meeting: CommitteeMeeting | None) -> dict:
    seat = sel.seat_for(request.user, item.municipality_id)
    rows = sel.agenda_rows([item], municipality=item.municipality, meetings=[meeting] if meeting else None)
    notes = list(UnitNote.objects.filter(item=item).select_related("unit", "author"))
    mine = sel.represented_units(request.user, case.municipality) if item.state == AgendaItem.State.PENDING else []
    by_unit = {n.unit_id: n for n in notes}
    note_forms = [
        (unit, by_unit.get(unit.pk), NoteForm(initial={
            "unit": unit.pk, "text": by_unit[unit.pk].text if unit.pk in by_unit else "",
            "version": by_unit[unit.pk].version if unit.pk in by_unit else 0}, prefix=f"u{unit.pk}"))
        for unit in mine
    ]
    history = sel.item_history(item)
    final = next((d for d in history if d.is_final), None)
    minute = Minute.objects.filter(decision=final).first() if final else None
    return {
        "item": item, "case": case, "grant": grant, "row": rows[0], "meeting": meeting, "seat": seat,
        "notes": notes, "note_forms": note_forms, "history": history, "final": final, "minute": minute,
        "custody_holders": case.child.custody_holders.filter(ended_at__isnull=True),
        "is_member": seat is not None and seat.is_member,
        "is_chair": seat is not None and seat.is_chair,
        "exempt_form": ExemptForm(initial={"meeting": meeting.pk if meeting else None}),
    }


@login_required
def item_detail(request, item_id: int):
    item, case, grant = _item_access(request, item_id)
    return render(request, "committee/item.html", _item_context(request, item, case, grant, None))


@login_required
def item_take(request, meeting_id: int, item_id: int):
    """The meeting takes the case: what the units know, then the decision."""
    meeting, seat = _meeting_seat(request, meeting_id, member=True)
    item, case, grant = _item_access(request, item_id, audit="Sagen behandlet på udvalgsmødet")
    if item.municipality_id != meeting.municipality_id:
        raise Http404
    form = DecisionForm(request.POST or None, municipality=case.municipality,
                        returned=item.origin == AgendaItem.Origin.RETURNED, initial={"version": item.version})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        actor = Actor(user=request.user, unit=seat.unit)
        try:
            if data["kind"] == DecisionKind.POSTPONE:
                services.item_postpone(actor=actor, basis=grant.basis, item=item, meeting=meeting,
                                       reason=data["reason"], expected_version=data["version"])
                messages.success(request, _("Sagen er udsat til næste møde."))
            else:
                lead = data.get("lead")
                services.decision_record(
                    actor=actor, basis=grant.basis, item=item, meeting=meeting, kind=data["kind"],
                    conclusion=data["conclusion"], lead_user=lead.user if lead else None,
                    lead_unit=lead.unit if lead else None, unit=data.get("unit"),
                    referred_to=data["referred_to"], late_explanation=data["late_explanation"],
                    expected_version=data["version"])
                messages.success(request, _("Afgørelsen er registreret, og et udkast til referat er lavet."))
            return redirect(_next_after(meeting, seat, item))
        except ValidationError as exc:
            _fail(form, exc)
    context = _item_context(request, item, case, grant, meeting)
    rows = sel.agenda_rows(sel.meeting_items(meeting, seat), municipality=meeting.municipality, meetings=[meeting])
    order = [r.item.pk for r in rows]
    at = order.index(item.pk) if item.pk in order else None
    context.update({
        "form": form, "position": (at + 1) if at is not None else None, "count": len(order),
        "previous": order[at - 1] if at else None,
        "following": order[at + 1] if at is not None and at + 1 < len(order) else None,
    })
    return render(request, "committee/item.html", context)


def _next_after(meeting: CommitteeMeeting, seat: sel.Seat, item: AgendaItem) -> str:
    """After a decision, on to the next case the meeting has not taken yet."""
    done = sel.decisions_at(meeting)
    rows = sel.agenda_rows(sel.meeting_items(meeting, seat), municipality=meeting.municipality, meetings=[meeting])
    for r in rows:
        if r.item.pk != item.pk and r.item.pk not in done and r.item.state == AgendaItem.State.PENDING:
            return reverse("committee:take", args=[meeting.pk, r.item.pk])
    return reverse("committee:meeting", args=[meeting.pk])


def _back(item: AgendaItem, meeting_id: str | None) -> str:
    if meeting_id and meeting_id.isdigit() and CommitteeMeeting.objects.filter(
            pk=int(meeting_id), municipality_id=item.municipality_id).exists():
        return reverse("committee:take", args=[int(meeting_id), item.pk])
    return reverse("committee:item", args=[item.pk])


@login_required
@require_POST
def item_note(request, item_id: int):
    item, case, grant = _item_access(request, item_id, audit="Enhedens viden skrevet")
    unit_id = request.POST.get("unit", "")
    unit = Unit.objects.filter(pk=int(unit_id)).first() if unit_id.isdigit() else None
    form = NoteForm(request.POST, prefix=f"u{unit.pk}" if unit else None)
    if unit is None or not form.is_valid():
        messages.error(request, _("Skriv hvad enheden ved om barnet."))
    else:
        try:
            services.unit_note_save(actor=grant.actor(request.user), basis=grant.basis, item=item, unit=unit,
                                    text=form.cleaned_data["text"], expected_version=form.cleaned_data["version"])
            messages.success(request, _("%(unit)s: det I ved, er gemt.") % {"unit": unit.name})
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    return redirect(_back(item, request.POST.get("meeting")))


@login_required
def item_exempt(request, item_id: int):
    item, case, grant = _item_access(request, item_id)
    seat = _seat(request, item.municipality_id, member=True)
    form = ExemptForm(request.POST or None, initial={"meeting": request.GET.get("moede")})
    if request.method == "POST" and form.is_valid():
        meeting = None
        if form.cleaned_data.get("meeting"):
            meeting = get_object_or_404(CommitteeMeeting, pk=form.cleaned_data["meeting"],
                                        municipality_id=item.municipality_id)
        try:
            services.case_exempt_from_deadlines(actor=Actor(user=request.user, unit=seat.unit), basis=grant.basis,
                                                item=item, ground=form.cleaned_data["ground"],
                                                reason=form.cleaned_data["reason"], meeting=meeting)
            messages.success(request, _("Forløbet er undtaget fra tidsfristerne."))
            return redirect(_back(item, str(meeting.pk) if meeting else None))
        except ValidationError as exc:
            _fail(form, exc)
    return render(request, "committee/exempt.html", {"form": form, "item": item, "case": case, "seat": seat})


# --- Minutes ------------------------------------------------------------------------------


@login_required
def minute_edit(request, minute_id: int):
    minute = get_object_or_404(Minute.objects.select_related("meeting", "decision", "item"), pk=minute_id)
    seat = _seat(request, minute.meeting.municipality_id, member=True)
    item, case, grant = _item_access(request, minute.item_id, audit="Referat vist")
    form = MinuteForm(request.POST or None, initial={"text": minute.text, "version": minute.version})
    actor = Actor(user=request.user, unit=seat.unit)
    if request.method == "POST":
        try:
            if request.POST.get("action") == "approve":
                if not seat.is_chair:
                    raise Http404
                services.minute_approve(actor=actor, basis=grant.basis, minute=minute)
                messages.success(request, _("Referatet er godkendt og sendt."))
                return redirect("committee:meeting", minute.meeting_id)
            if form.is_valid():
                services.minute_update(actor=actor, basis=grant.basis, minute=minute, text=form.cleaned_data["text"],
                                       expected_version=form.cleaned_data["version"])
                messages.success(request, _("Referatet er gemt."))
                return redirect("committee:meeting", minute.meeting_id)
        except ValidationError as exc:
            _fail(form, exc)
    return render(request, "committee/minute.html", {"form": form, "minute": minute, "case": case, "seat": seat})


# --- Set-up -------------------------------------------------------------------------------


@login_required
def committee_settings(request):
    seat = _seat(request, _municipality_param(request), chair=True)
    current = sel.settings_for(seat.municipality)
    initial = {"weekday": current.weekday, "starts_at": current.starts_at, "ends_at": current.ends_at,
               "location": current.location, "video_link": current.video_link,
               "weeks_ahead": current.weeks_ahead, "version": current.version}
    form = SettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.committee_settings_update(
                actor=Actor(user=request.user, unit=seat.unit), municipality=seat.municipality,
                expected_version=form.cleaned_data.pop("version"), **form.cleaned_data)
            messages.success(request, _("Mødeplanen er gemt, og møderne er planlagt."))
            return redirect("committee:agenda")
        except ValidationError as exc:
            _fail(form, exc)
    return render(request, "committee/settings.html", {
        "form": form, "seat": seat, "members": sel.committee_members(seat.municipality)})


# --- Stalled pathways come back -------------------------------------------------------------


@login_required
def case_return(request, case_id: int):
    case, grant = require_case(request.user, case_id, scope=Scope.MANAGE, summary="Send tilbage til udvalget vist")
    if grant.basis != Basis.LEAD:
        raise Http404
    form = ReturnForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            item = services.committee_return_case(actor=grant.actor(request.user), case=case,
                                                  reason=form.cleaned_data["reason"])
            nxt = sel.next_meeting(item.municipality)
            if nxt:
                messages.success(request, _("Forløbet er på udvalgets dagsorden til mødet %(day)s. Du er inviteret.")
                                 % {"day": nxt.scheduled_on.strftime("%d.%m.%Y")})
            else:
                messages.success(request, _("Forløbet er på udvalgets dagsorden. Du er inviteret."))
            return redirect("cases:detail", case.pk)
        except ValidationError as exc:
            _fail(form, exc)
    return render(request, "committee/return.html", {"form": form, "case": case})
