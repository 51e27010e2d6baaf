"""The insight page, its exports, the relational coordination survey and the case audit."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tovholder.access import Scope, require_case
from tovholder.audit.actor import Actor
from tovholder.audit.models import AuditEvent
from tovholder.audit.services import audit_record
from tovholder.insight.access import Area, may_answer_survey, may_manage_survey, require_insight
from tovholder.insight.caseaudit import case_audit_report
from tovholder.insight.exports import XLSX, table_csv, tables_csv, tables_xlsx
from tovholder.insight.facts import facts_updated_at
from tovholder.insight.metrics import Insight, Period, insight_for
from tovholder.insight.models import (
    Agreement,
    Dimension,
    PartnerGroup,
    SurveyQuestion,
    SurveyResponse,
    SurveyRound,
)
from tovholder.insight.page import figures, visible
from tovholder.insight.services import (
    DEFAULT_QUESTIONS,
    partner_group_add,
    question_text,
    survey_question_set,
    survey_response_submit,
    survey_round_close,
    survey_round_open,
)
from tovholder.insight.survey import (
    MIN_ANSWERS,
    change_table,
    group_results,
    survey_counts,
    survey_tables,
)
from tovholder.insight.tables import SMALL_CELL
from tovholder.organisations.models import Membership, Municipality, Unit


class PeriodForm(forms.Form):
    omraade = forms.ChoiceField(label=gettext_lazy("Område"), required=False)
    fra = forms.DateField(label=gettext_lazy("Fra og med"), required=False,
                          widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    til = forms.DateField(label=gettext_lazy("Til og med"), required=False,
                          widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))

    def __init__(self, *args, areas: list[Area], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["omraade"].choices = [(a.code, a.label) for a in areas]

    def clean(self):
        data = super().clean()
        start, end = data.get("fra"), data.get("til")
        if start and end and start > end:
            raise forms.ValidationError(_("Periodens start skal ligge før dens slutning."))
        if start and end and (end - start).days > 366 * 30:
            raise forms.ValidationError(_("Vælg en periode på højst 30 år."))
        return data


def _selection(request) -> tuple[Area, list[Area], Period, PeriodForm]:
    area, areas = require_insight(request.user, request.GET.get("omraade") or None)
    default = Period.default()
    form = PeriodForm(request.GET or None, areas=areas,
                      initial={"omraade": area.code, "fra": default.start, "til": default.end})
    period = default
    if request.GET and form.is_valid():
        start = form.cleaned_data.get("fra") or default.start
        end = form.cleaned_data.get("til") or max(default.end, start)
        period = Period(start, end)
    return area, areas, period, form


def _heading(area: Area, period: Period) -> list[str]:
    lines = [f"{_('Område')}: {area.label}",
             f"{_('Periode')}: {period.start:%d.%m.%Y}–{period.end:%d.%m.%Y} ({_('opgjort pr.')} {period.asof:%d.%m.%Y})"]
    if not area.exact:
        lines.append(_("Tal fra 1 til %(n)s vises som <%(m)s.") % {"n": SMALL_CELL - 1, "m": SMALL_CELL})
    return lines


def _insight(area: Area, period: Period) -> Insight:
    return visible(insight_for(area, period))


@login_required
def home(request):
    area, areas, period, form = _selection(request)
    insight = _insight(area, period)
    query = f"omraade={area.code}&fra={period.start:%Y-%m-%d}&til={period.end:%Y-%m-%d}"
    return render(request, "insight/home.html", {
        "area": area, "areas": areas, "period": period, "form": form, "insight": insight,
        "figures": figures(insight), "query": query, "updated_at": facts_updated_at(),
        "small_cell": SMALL_CELL,
    })


@login_required
def export(request, table: str, fmt: str):
    """One table as CSV or XLSX, or every table as one workbook (`alle.xlsx`). Audited."""
    if fmt not in ("csv", "xlsx"):
        raise Http404
    area, _areas, period, _form = _selection(request)
    insight = _insight(area, period)
    if table == "alle":
        if fmt != "xlsx":
            raise Http404
        tables = insight.all_tables()
    else:
        found = insight.table(table)
        if found is None:
            raise Http404
        tables = [found]
    audit_record(actor=Actor(user=request.user), action=AuditEvent.Action.EXPORT, basis="insight",
                 summary=f"Indsigt eksporteret ({fmt}): {table} · {area.label} · "
                         f"{period.start:%d.%m.%Y}–{period.end:%d.%m.%Y}")
    name = f"indsigt-{table}-{area.code}-{period.start:%Y%m%d}-{period.end:%Y%m%d}"
    heading = _heading(area, period)
    if fmt == "csv":
        response = HttpResponse(table_csv(tables[0], heading=heading), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(tables_xlsx(tables, heading=heading), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


# ---- Relational coordination -------------------------------------------------------------------

def _survey_area(request) -> tuple[Area, list[Area], Municipality]:
    area, areas = require_insight(request.user, request.GET.get("omraade") or None)
    municipal = [a for a in areas if not a.is_region]
    if area.is_region:
        if not municipal:
            raise Http404
        area = municipal[0]
    return area, municipal, Municipality.objects.get(pk=area.pk)


@login_required
def survey(request):
    """The survey's results for one municipality: per partner group and question the
    distribution at each round, and the change between rounds."""
    area, areas, municipality = _survey_area(request)
    rounds = list(SurveyRound.objects.filter(municipality=municipality).order_by("opens_on", "pk"))
    groups = list(PartnerGroup.objects.filter(municipality=municipality, active=True))
    group = next((g for g in groups if g.key == request.GET.get("gruppe")), groups[0] if groups else None)
    counts = survey_counts(municipality=municipality)
    questions = group_results(municipality=municipality, group=group, rounds=rounds, counts=counts) if group else []
    return render(request, "insight/survey.html", {
        "area": area, "areas": areas, "municipality": municipality, "rounds": rounds, "groups": groups,
        "group": group, "questions": questions, "query": f"omraade={area.code}",
        "change": change_table(municipality=municipality, groups=groups, rounds=rounds, counts=counts),
        "may_manage": may_manage_survey(request.user, municipality),
        "min_answers": MIN_ANSWERS, "scale": Agreement.choices,
    })


@login_required
def survey_export(request, table: str, fmt: str):
    if fmt not in ("csv", "xlsx"):
        raise Http404
    area, _areas, municipality = _survey_area(request)
    tables = survey_tables(municipality=municipality)
    if table != "alle":
        tables = [t for t in tables if t.key == table]
    if not tables or (table == "alle" and fmt != "xlsx"):
        raise Http404
    audit_record(actor=Actor(user=request.user), action=AuditEvent.Action.EXPORT, basis="insight",
                 summary=f"Relationel koordinering eksporteret ({fmt}): {table} · {area.label}")
    heading = [f"{_('Område')}: {area.label}", _("Relationel koordinering")]
    name = f"relationel-koordinering-{table}-{area.code}"
    if fmt == "csv":
        response = HttpResponse(table_csv(tables[0], heading=heading), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(tables_xlsx(tables, heading=heading), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


def _answerable_rounds(user) -> list[tuple[SurveyRound, Unit]]:
    found = []
    for r in SurveyRound.objects.filter(status=SurveyRound.Status.OPEN).select_related("municipality"):
        unit = may_answer_survey(user, r.municipality)
        if unit is not None:
            found.append((r, unit))
    return found


@login_required
def survey_rounds(request):
    """The staff member's open survey rounds."""
    if not Membership.objects.active().filter(user=request.user).exists():
        raise Http404
    rows = []
    for r, _unit in _answerable_rounds(request.user):
        answered = set(SurveyResponse.objects.filter(round=r, respondent=request.user)
                       .values_list("partner_group_id", flat=True))
        groups = list(PartnerGroup.objects.filter(municipality=r.municipality, active=True))
        rows.append({"round": r, "answered": len(answered), "groups": len(groups)})
    return render(request, "insight/survey_rounds.html", {"rows": rows})


class AnswerForm(forms.Form):
    def __init__(self, *args, questions: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(str(v), label) for v, label in Agreement.choices]
        for dimension, text in questions.items():
            self.fields[dimension] = forms.TypedChoiceField(
                label=text, choices=choices, coerce=int, required=False, widget=forms.RadioSelect)


@login_required
def survey_answer(request, round_id: int):
    """Answer a round about one partner group; answering again edits the answers."""
    survey_round = SurveyRound.objects.select_related("municipality").filter(
        pk=round_id, status=SurveyRound.Status.OPEN).first()
    if survey_round is None:
        raise Http404
    unit = may_answer_survey(request.user, survey_round.municipality)
    if unit is None:
        raise Http404
    groups = list(PartnerGroup.objects.filter(municipality=survey_round.municipality, active=True))
    key = request.POST.get("gruppe") or request.GET.get("gruppe")
    group = next((g for g in groups if g.key == key), groups[0] if groups else None)
    if group is None:
        raise Http404
    existing = SurveyResponse.objects.filter(round=survey_round, respondent=request.user, partner_group=group).first()
    initial = dict(existing.answers.values_list("dimension", "value")) if existing else {}
    questions = {d: question_text(survey_round.questions.get(d, str(label)), group.name)
                 for d, label in Dimension.choices}
    form = AnswerForm(request.POST or None, questions=questions, initial={k: str(v) for k, v in initial.items()})
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            survey_response_submit(actor=Actor(user=request.user, unit=unit), survey_round=survey_round,
                                   partner_group=group, answers=form.cleaned_data, respondent_kind=unit.kind)
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(request, _("Tak — dine svar om %(g)s er gemt.") % {"g": group.name})  # in a sentence
            following = next((g for g in groups if g.pk != group.pk and g.pk not in set(
                SurveyResponse.objects.filter(round=survey_round, respondent=request.user)
                .values_list("partner_group_id", flat=True))), None)
            url = reverse("insight:survey_answer", args=[survey_round.pk])
            return redirect(f"{url}?gruppe={following.key}" if following else url)
    answered = set(SurveyResponse.objects.filter(round=survey_round, respondent=request.user)
                   .values_list("partner_group_id", flat=True))
    return render(request, "insight/survey_answer.html", {
        "round": survey_round, "groups": groups, "group": group, "form": form, "answered": answered,
        "existing": existing, "error": error,
    })


class RoundForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Måling"), choices=SurveyRound.Kind.choices)
    opens_on = forms.DateField(label=gettext_lazy("Åbner"), widget=forms.DateInput(attrs={"type": "date"}))
    title = forms.CharField(label=gettext_lazy("Titel (valgfri)"), required=False, max_length=120)


class GroupForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Ny samarbejdspartner"), max_length=100)


class WordingForm(forms.Form):
    def __init__(self, *args, current: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        for dimension, label in Dimension.choices:
            self.fields[dimension] = forms.CharField(
                label=label, max_length=300, initial=current.get(dimension, ""),
                help_text=_("Skriv {gruppe} der, hvor samarbejdspartnerens navn skal stå."))


@login_required
def survey_manage(request):
    """Open and close rounds, set the wording, add partner groups (committee chairs and
    administrators of the municipality)."""
    area, _areas, municipality = _survey_area(request)
    if not may_manage_survey(request.user, municipality):
        raise Http404
    actor = Actor(user=request.user)
    current = dict(SurveyQuestion.objects.filter(municipality=municipality).values_list("dimension", "text"))
    current = {**{str(k): v for k, v in DEFAULT_QUESTIONS.items()}, **current}
    action = request.POST.get("action")
    round_form = RoundForm(request.POST if action == "open" else None,
                           initial={"opens_on": timezone.localdate()})
    group_form = GroupForm(request.POST if action == "group" else None)
    wording_form = WordingForm(request.POST if action == "wording" else None, current=current)
    error = ""
    back = f"{reverse('insight:survey_manage')}?omraade={area.code}"
    try:
        if action == "open" and round_form.is_valid():
            survey_round_open(actor=actor, municipality=municipality, **round_form.cleaned_data)
            messages.success(request, _("Målingen er åbnet."))
            return redirect(back)
        if action == "close":
            found = SurveyRound.objects.filter(municipality=municipality, pk=request.POST.get("round")).first()
            if found is None:
                raise Http404
            survey_round_close(actor=actor, survey_round=found)
            messages.success(request, _("Målingen er lukket."))
            return redirect(back)
        if action == "group" and group_form.is_valid():
            partner_group_add(actor=actor, municipality=municipality, name=group_form.cleaned_data["name"])
            messages.success(request, _("Samarbejdspartneren er tilføjet."))
            return redirect(back)
        if action == "wording" and wording_form.is_valid():
            with transaction.atomic():
                for dimension, text in wording_form.cleaned_data.items():
                    survey_question_set(actor=actor, municipality=municipality, dimension=dimension, text=text)
            messages.success(request, _("Spørgsmålene er gemt. Åbne og tidligere målinger beholder deres ordlyd."))
            return redirect(back)
    except ValidationError as exc:
        error = " ".join(exc.messages)
    return render(request, "insight/survey_manage.html", {
        "area": area, "municipality": municipality, "round_form": round_form, "group_form": group_form,
        "wording_form": wording_form, "error": error,
        "rounds": SurveyRound.objects.filter(municipality=municipality).annotate(
            answers=Count("responses")).order_by("opens_on", "pk"),
        "groups": PartnerGroup.objects.filter(municipality=municipality),
    })


# ---- The case audit ------------------------------------------------------------------------------

@login_required
def case_audit(request, case_id: int):
    """One case's whole history for a case audit (those with the audit scope; 404 otherwise)."""
    case, grant = require_case(request.user, case_id, scope=Scope.AUDIT, summary="Gennemgang af forløbet vist")
    return render(request, "insight/case_audit.html", {"case": case, "tables": case_audit_report(case)})


@login_required
def case_audit_export(request, case_id: int, fmt: str):
    if fmt not in ("csv", "xlsx"):
        raise Http404
    case, grant = require_case(request.user, case_id, scope=Scope.AUDIT, audit=AuditEvent.Action.EXPORT,
                               summary=f"Gennemgang af forløbet eksporteret ({fmt})")
    tables = case_audit_report(case)
    heading = [f"{_('Gennemgang af forløb')} {case.reference}", f"{_('Udskrevet')} {timezone.localtime():%d.%m.%Y %H:%M}"]
    name = f"gennemgang-{case.reference}"
    if fmt == "csv":
        response = HttpResponse(tables_csv(tables, heading=heading), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(tables_xlsx(tables, heading=heading), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


def case_audit_panel(request, case, grant) -> str | None:
    """A link on the case page to the case audit, for those who may audit the case."""
    if not grant.allows(Scope.AUDIT):
        return None
    return render_to_string("insight/_case_panel.html", {"case": case}, request=request)
