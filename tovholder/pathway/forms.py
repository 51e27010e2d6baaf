"""Forms of the pathway pages. They only parse input; the services decide."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tovholder.deadlines.workdays import COPENHAGEN
from tovholder.organisations.models import Membership, Unit
from tovholder.pathway.models import (
    Agreement,
    ChildVoice,
    Intervention,
    MeetingKind,
    ParentsAgree,
    RatedBy,
    Sector,
)

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
TEXT = forms.Textarea(attrs={"rows": 3})

EXTRA_PARTICIPANTS = 3
NEW_GOALS = 2
NEW_AGREEMENTS = 3


def staff_choices(case) -> list[tuple[str, str]]:
    """Staff who can be invited or take over: the municipality's own units, the region's
    units (BUA, paediatric ward) and the GP practices. Value "user:unit"."""
    rows = (Membership.objects.active()
            .filter(user__is_active=True)
            .exclude(unit__kind__in=[Unit.Kind.SINGLE_ENTRY, Unit.Kind.COMMITTEE])
            .exclude(role=Membership.Role.ADMINISTRATOR)
            .filter(unit__municipality_id__in=[case.municipality_id, None])
            .select_related("user", "unit").order_by("unit__name", "user__first_name"))
    seen = set()
    out = []
    for m in rows:
        key = f"{m.user_id}:{m.unit_id}"
        if key in seen:
            continue
        seen.add(key)
        title = f", {m.user.title}" if m.user.title else ""
        out.append((key, f"{m.user.get_full_name()}{title} — {m.unit.name}"))
    return out


def parse_staff(value: str):
    from tovholder.organisations.models import User

    user_id, unit_id = (int(x) for x in value.split(":"))
    return User.objects.get(pk=user_id), Unit.objects.get(pk=unit_id)


class MeetingScheduleForm(forms.Form):
    kind = forms.ChoiceField(label=_("Mødetype"), choices=MeetingKind.choices)
    date = forms.DateField(label=_("Dato"), widget=DATE)
    start = forms.TimeField(label=_("Fra kl."), widget=TIME)
    end = forms.TimeField(label=_("Til kl."), widget=TIME)
    place = forms.CharField(label=_("Sted"), required=False, max_length=200,
                            help_text=_("Fx Rønde Skole, mødelokale 2. Angiv sted, videolink eller begge."))
    video_link = forms.URLField(label=_("Videolink"), required=False, assume_scheme="https")
    staff = forms.MultipleChoiceField(label=_("Fagpersoner, der inviteres"), required=False,
                                      widget=forms.CheckboxSelectMultiple)
    invite_child = forms.BooleanField(label=_("Barnet inviteres"), required=False, initial=True)
    invite_custody_holders = forms.BooleanField(label=_("Forældremyndighedsindehaverne inviteres"),
                                                required=False, initial=True)
    idempotency_key = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, case, allowed_kinds, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(k, MeetingKind(k).label) for k in allowed_kinds]
        self.fields["staff"].choices = staff_choices(case)
        for i in range(1, EXTRA_PARTICIPANTS + 1):
            self.fields[f"ext_name_{i}"] = forms.CharField(label=_("Navn"), required=False, max_length=200)
            self.fields[f"ext_title_{i}"] = forms.CharField(label=_("Titel"), required=False, max_length=200)
            self.fields[f"ext_sector_{i}"] = forms.ChoiceField(label=_("Part"), choices=Sector.choices,
                                                               initial=Sector.GP, required=False)
            self.fields[f"ext_email_{i}"] = forms.EmailField(label=_("E-mail (til kalenderinvitation)"),
                                                             required=False)

    @property
    def external_rows(self):
        return [(self[f"ext_name_{i}"], self[f"ext_title_{i}"], self[f"ext_sector_{i}"], self[f"ext_email_{i}"])
                for i in range(1, EXTRA_PARTICIPANTS + 1)]

    def clean(self):
        data = super().clean()
        if data.get("date") and data.get("start") and data.get("end"):
            data["starts_at"] = dt.datetime.combine(data["date"], data["start"], tzinfo=COPENHAGEN)
            data["ends_at"] = dt.datetime.combine(data["date"], data["end"], tzinfo=COPENHAGEN)
            if data["ends_at"] <= data["starts_at"]:
                self.add_error("end", _("Mødet skal slutte efter det begynder."))
            elif data["starts_at"] < timezone.now() - dt.timedelta(days=1):
                self.add_error("date", _("Et møde indkaldes til en dato, der ikke er passeret."))
        if not data.get("place") and not data.get("video_link"):
            self.add_error("place", _("Angiv et mødested eller et videolink."))
        return data


class MeetingRecordForm(forms.Form):
    """Bilag 1, written at the meeting."""

    held_on = forms.DateField(label=_("Mødet blev holdt"), widget=DATE)
    child_voice = forms.ChoiceField(label=_("Hvordan er barnets stemme hørt?"), choices=ChildVoice.choices,
                                    widget=forms.RadioSelect)
    child_voice_text = forms.CharField(label=_("Hvad siger barnet?"), required=False, widget=TEXT,
                                       help_text=_("Barnets egne ord, hvis barnet ikke deltog eller sagde noget vigtigt."))
    what_works = forms.CharField(label=_("Hvad fungerer?"), widget=TEXT)
    what_is_hard = forms.CharField(label=_("Hvad er svært?"), widget=TEXT)
    expectations = forms.CharField(label=_("Forventningsafstemning"), widget=TEXT,
                                   help_text=_("Hvad kan familien forvente, og hvornår? Fx ventetid på PPR eller udredning."))
    parents_agree = forms.ChoiceField(label=_("Er forældrene enige i planen?"), choices=ParentsAgree.choices,
                                      widget=forms.RadioSelect)
    parents_comment = forms.CharField(label=_("Forældrenes bemærkninger"), required=False, widget=TEXT)
    next_meeting_on = forms.DateField(label=_("Dato for næste møde"), required=False, widget=DATE)
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, meeting, goals, agreements, **kwargs):
        super().__init__(*args, **kwargs)
        self.meeting = meeting
        self.goals = list(goals)
        self.agreements = list(agreements)
        closing = meeting.kind == MeetingKind.CLOSING
        if closing:
            self.fields["next_meeting_on"].help_text = _("Afslutningsmødet har intet næste møde.")
            self.fields["everyday_support"] = forms.CharField(
                label=_("Hvem følger barnet i hverdagen fremover?"), max_length=300,
                help_text=_("Fx klasselærer Lars Nielsen og sundhedsplejersken på skolen."))
        else:
            self.fields["next_meeting_on"].required = True
            self.fields["next_meeting_on"].help_text = _("Påkrævet: aftal datoen for næste møde, før I går.")
        if meeting.kind == MeetingKind.START:
            self.fields["needs_assessment"] = forms.BooleanField(
                label=_("Der er behov for en udredende eller behandlende indsats"), required=False, initial=True,
                help_text=_("Så skal den være i gang senest 4 uger efter dette møde."))
        for p in meeting.participants.all():
            self.fields[f"attended_{p.pk}"] = forms.BooleanField(label=str(p), required=False, initial=True)
        for i in range(1, 3):
            self.fields[f"extra_name_{i}"] = forms.CharField(label=_("Navn"), required=False, max_length=200)
            self.fields[f"extra_title_{i}"] = forms.CharField(label=_("Titel"), required=False, max_length=200)
            self.fields[f"extra_sector_{i}"] = forms.ChoiceField(label=_("Part"), choices=Sector.choices,
                                                                 required=False, initial=Sector.OTHER)
        for g in self.goals:
            self.fields[f"rating_{g.pk}"] = forms.IntegerField(label=_("Vurdering i dag (0–10)"), min_value=0,
                                                               max_value=10)
            self.fields[f"rated_by_{g.pk}"] = forms.ChoiceField(label=_("Vurderet af"), choices=RatedBy.choices)
            self.fields[f"ended_{g.pk}"] = forms.BooleanField(label=_("Målet er nået"), required=False)
        for i in range(1, NEW_GOALS + 1):
            self.fields[f"goal_child_{i}"] = forms.CharField(label=_("Hvad ønsker barnet at opnå? (barnets ord)"),
                                                             required=False, widget=forms.Textarea(attrs={"rows": 2}))
            self.fields[f"goal_ours_{i}"] = forms.CharField(label=_("Hvad ønsker vi at opnå?"), required=False,
                                                            widget=forms.Textarea(attrs={"rows": 2}))
            self.fields[f"goal_score_{i}"] = forms.IntegerField(label=_("Vurdering i dag (0–10)"), min_value=0,
                                                                max_value=10, required=False)
            self.fields[f"goal_by_{i}"] = forms.ChoiceField(label=_("Vurderet af"), choices=RatedBy.choices,
                                                            required=False)
        for a in self.agreements:
            self.fields[f"agreement_{a.pk}"] = forms.ChoiceField(
                label=a.what, choices=Agreement.Status.choices, initial=Agreement.Status.OPEN)
        for i in range(1, NEW_AGREEMENTS + 1):
            self.fields[f"new_what_{i}"] = forms.CharField(label=_("Hvad"), required=False, max_length=300)
            self.fields[f"new_how_{i}"] = forms.CharField(label=_("Hvordan gør vi?"), required=False,
                                                          widget=forms.Textarea(attrs={"rows": 2}))
            self.fields[f"new_who_{i}"] = forms.ChoiceField(label=_("Hvem er ansvarlig?"), choices=Sector.choices,
                                                            required=False, initial=Sector.SCHOOL)
            self.fields[f"new_name_{i}"] = forms.CharField(label=_("Ansvarlig person"), required=False,
                                                           max_length=200)
            self.fields[f"new_due_{i}"] = forms.DateField(label=_("Senest"), required=False, widget=DATE)

    # Groups for the template ------------------------------------------------------------------
    @property
    def attendance(self):
        return [self[f"attended_{p.pk}"] for p in self.meeting.participants.all()]

    @property
    def extra_rows(self):
        return [(self[f"extra_name_{i}"], self[f"extra_title_{i}"], self[f"extra_sector_{i}"]) for i in range(1, 3)]

    @property
    def goal_rows(self):
        return [(g, self[f"rating_{g.pk}"], self[f"rated_by_{g.pk}"], self[f"ended_{g.pk}"]) for g in self.goals]

    @property
    def new_goal_rows(self):
        return [(i, self[f"goal_child_{i}"], self[f"goal_ours_{i}"], self[f"goal_score_{i}"], self[f"goal_by_{i}"])
                for i in range(1, NEW_GOALS + 1)]

    @property
    def agreement_rows(self):
        return [(a, self[f"agreement_{a.pk}"]) for a in self.agreements]

    @property
    def new_agreement_rows(self):
        return [(i, self[f"new_what_{i}"], self[f"new_how_{i}"], self[f"new_who_{i}"], self[f"new_name_{i}"],
                 self[f"new_due_{i}"]) for i in range(1, NEW_AGREEMENTS + 1)]

    def clean(self):
        data = super().clean()
        new_goals = [i for i in range(1, NEW_GOALS + 1)
                     if (data.get(f"goal_child_{i}") or "").strip() or (data.get(f"goal_ours_{i}") or "").strip()]
        for i in new_goals:
            if data.get(f"goal_score_{i}") is None:
                self.add_error(f"goal_score_{i}", _("Barnet eller familien vurderer målet fra 0 til 10."))
        if not self.goals and not new_goals and self.meeting.kind != MeetingKind.CLOSING:
            self.add_error("goal_child_1", _("Planen skal have mindst ét mål: barnets ord, vores eller begge."))
        for i in range(1, NEW_AGREEMENTS + 1):
            if (data.get(f"new_what_{i}") or "").strip() and not data.get(f"new_who_{i}"):
                self.add_error(f"new_who_{i}", _("Angiv hvem der er ansvarlig."))
        return data

    def record(self):
        from tovholder.pathway.services import ExternalParticipant, MeetingRecord, NewAgreement

        d = self.cleaned_data
        return MeetingRecord(
            held_on=d["held_on"], parents_agree=d["parents_agree"], child_voice=d["child_voice"],
            child_voice_text=d.get("child_voice_text", ""), what_works=d["what_works"],
            what_is_hard=d["what_is_hard"], expectations=d["expectations"],
            parents_comment=d.get("parents_comment", ""), next_meeting_on=d.get("next_meeting_on"),
            attended={p.pk: bool(d.get(f"attended_{p.pk}")) for p in self.meeting.participants.all()},
            extra_participants=[ExternalParticipant(name=d[f"extra_name_{i}"], title=d[f"extra_title_{i}"],
                                                    sector=d[f"extra_sector_{i}"] or Sector.OTHER)
                                for i in range(1, 3) if d.get(f"extra_name_{i}")],
            ratings={g.pk: (d[f"rating_{g.pk}"], d[f"rated_by_{g.pk}"]) for g in self.goals},
            ended_goals={g.pk for g in self.goals if d.get(f"ended_{g.pk}")},
            new_goals=[(d[f"goal_child_{i}"], d[f"goal_ours_{i}"], d.get(f"goal_score_{i}"),
                        d.get(f"goal_by_{i}") or RatedBy.CHILD) for i in range(1, NEW_GOALS + 1)],
            agreement_status={a.pk: d[f"agreement_{a.pk}"] for a in self.agreements},
            new_agreements=[NewAgreement(what=d[f"new_what_{i}"], how=d[f"new_how_{i}"],
                                         responsible=d[f"new_who_{i}"] or Sector.OTHER,
                                         responsible_name=d[f"new_name_{i}"], due_on=d.get(f"new_due_{i}"))
                            for i in range(1, NEW_AGREEMENTS + 1) if (d.get(f"new_what_{i}") or "").strip()],
            needs_assessment=d.get("needs_assessment") if "needs_assessment" in self.fields else None,
            everyday_support=d.get("everyday_support", ""),
        )


class InterventionForm(forms.Form):
    sector = forms.ChoiceField(label=_("Sektor"), choices=[c for c in Sector.choices
                                                          if c[0] not in (Sector.CHILD, Sector.PARENTS)])
    unit = forms.ModelChoiceField(label=_("Enhed"), queryset=Unit.objects.none(), required=False)
    description = forms.CharField(label=_("Indsats"), max_length=300,
                                  help_text=_("Fx samtaleforløb hos PPR-psykolog, 6 gange."))
    kind = forms.ChoiceField(label=_("Art"), choices=Intervention.Kind.choices, widget=forms.RadioSelect)
    step = forms.TypedChoiceField(label=_("Trin i den trinvise indsats"), coerce=int,
                                  choices=[(1, _("Trin 1 — tidlig indsats")), (2, _("Trin 2 — uddybende udredning og indsats")),
                                           (3, _("Trin 3 — udredning, diagnose og behandling")),
                                           (4, _("Trin 4 — opfølgning efter behandling"))])
    status = forms.ChoiceField(label=_("Status"), choices=Intervention.Status.choices)
    start_on = forms.DateField(label=_("Start"), required=False, widget=DATE)
    end_on = forms.DateField(label=_("Slut"), required=False, widget=DATE)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, case, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = Unit.objects.filter(
            municipality_id__in=[case.municipality_id]).exclude(
            kind__in=[Unit.Kind.SINGLE_ENTRY, Unit.Kind.COMMITTEE]) | Unit.objects.filter(municipality__isnull=True)

    def clean(self):
        data = super().clean()
        if data.get("status") and data["status"] != Intervention.Status.PLANNED and not data.get("start_on"):
            self.add_error("start_on", _("En indsats, der er i gang eller afsluttet, har en startdato."))
        if data.get("start_on") and data.get("end_on") and data["end_on"] < data["start_on"]:
            self.add_error("end_on", _("Slutdatoen ligger før startdatoen."))
        return data


class ExplanationForm(forms.Form):
    clock = forms.CharField(widget=forms.HiddenInput)
    due_on = forms.DateField(widget=forms.HiddenInput)
    text = forms.CharField(label=_("Forklaring"), widget=forms.Textarea(attrs={"rows": 4}), min_length=10,
                           help_text=_("Hvorfor blev fristen ikke overholdt, og hvad gøres nu?"))


class HandoverForm(forms.Form):
    to = forms.ChoiceField(label=_("Ny indsatsansvarlig"))
    note = forms.CharField(label=_("Overdragelsesnotat"), widget=forms.Textarea(attrs={"rows": 4}),
                           help_text=_("Hvad skal den nye indsatsansvarlige vide? Hvorfor skiftes der?"))
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, case, exclude_user_id, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to"].choices = [("", "—")] + [
            (k, v) for k, v in staff_choices(case) if not k.startswith(f"{exclude_user_id}:")]


class HandoverAnswerForm(forms.Form):
    decision = forms.ChoiceField(label=_("Dit svar"), widget=forms.RadioSelect,
                                 choices=[("accept", _("Jeg overtager rollen som indsatsansvarlig")),
                                          ("decline", _("Jeg kan ikke overtage rollen"))])
    note = forms.CharField(label=_("Bemærkning"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
                           help_text=_("Påkrævet, hvis du afviser."))


class ChildStatementForm(forms.Form):
    text = forms.CharField(label=_("Barnets udtalelse"), widget=forms.Textarea(attrs={"rows": 5}),
                           help_text=_("Barnets egne ord om hvordan det går, og hvad der er vigtigt for barnet."))


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Hvorfor aflyses mødet?"), max_length=300)
