"""Forms parse input for the pages; the services decide what is allowed."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from tovholder.committee.models import DecisionKind, ExemptionGround, Weekday
from tovholder.committee.selectors import lead_candidates, takeover_units
from tovholder.organisations.models import Membership, Municipality


class LeadChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, m: Membership) -> str:
        title = f", {m.user.title}" if m.user.title else ""
        return f"{m.user}{title} — {m.unit.name}"


class DecisionForm(forms.Form):
    kind = forms.ChoiceField(label=_("Afgørelse"), widget=forms.RadioSelect)
    lead = LeadChoiceField(label=_("Indsatsansvarlig (person og enhed)"), queryset=Membership.objects.none(),
                           required=False, empty_label=_("Vælg den indsatsansvarlige"))
    unit = forms.ModelChoiceField(label=_("Enheden, der overtager"), queryset=None, required=False,
                                  empty_label=_("Vælg enhed"))
    referred_to = forms.CharField(label=_("Anbefalet henvist til"), max_length=200, required=False)
    reason = forms.CharField(label=_("Hvorfor udsættes sagen?"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    conclusion = forms.CharField(label=_("Kort konklusion (står i referatet)"), required=False,
                                 widget=forms.Textarea(attrs={"rows": 3}))
    late_explanation = forms.CharField(label=_("Forklaring på overskredet frist"), required=False,
                                       widget=forms.Textarea(attrs={"rows": 2}))
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, municipality: Municipality, returned: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lead"].queryset = lead_candidates(municipality)
        self.fields["unit"].queryset = takeover_units(municipality)
        if returned:
            kinds = [DecisionKind.CONTINUE, DecisionKind.ORDINARY_ROUTE, DecisionKind.EVERYDAY_SUPPORT,
                     DecisionKind.REFERRED_ON, DecisionKind.POSTPONE]
        else:
            kinds = [DecisionKind.PATHWAY, DecisionKind.ORDINARY_ROUTE, DecisionKind.EVERYDAY_SUPPORT,
                     DecisionKind.REFERRED_ON, DecisionKind.POSTPONE]
        self.fields["kind"].choices = [(k.value, k.label) for k in kinds]


class NoteForm(forms.Form):
    unit = forms.IntegerField(widget=forms.HiddenInput)
    text = forms.CharField(label=_("Det ved enheden om barnet"), max_length=4000, widget=forms.Textarea(attrs={"rows": 4}))
    version = forms.IntegerField(widget=forms.HiddenInput)


class ExemptForm(forms.Form):
    ground = forms.ChoiceField(label=_("Grundlag"), choices=ExemptionGround.choices, widget=forms.RadioSelect)
    reason = forms.CharField(label=_("Begrundelse"), max_length=280, widget=forms.Textarea(attrs={"rows": 3}))
    meeting = forms.IntegerField(required=False, widget=forms.HiddenInput)


class SettingsForm(forms.Form):
    weekday = forms.TypedChoiceField(label=_("Ugedag"), choices=Weekday.choices, coerce=int)
    starts_at = forms.TimeField(label=_("Starter"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    ends_at = forms.TimeField(label=_("Slutter"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    location = forms.CharField(label=_("Sted"), max_length=200, required=False)
    video_link = forms.URLField(label=_("Videolink (fx så BUA kan deltage til sparring)"), required=False,
                                assume_scheme="https")
    weeks_ahead = forms.IntegerField(label=_("Planlæg møder så mange uger frem"), min_value=1, max_value=26)
    version = forms.IntegerField(widget=forms.HiddenInput)

    def clean(self):
        data = super().clean()
        if data.get("starts_at") and data.get("ends_at") and data["ends_at"] <= data["starts_at"]:
            self.add_error("ends_at", _("Mødet skal slutte efter, det begynder."))
        return data


class MeetingForm(forms.Form):
    day = forms.DateField(label=_("Dato"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    starts_at = forms.TimeField(label=_("Starter"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    ends_at = forms.TimeField(label=_("Slutter"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    location = forms.CharField(label=_("Sted"), max_length=200, required=False)
    video_link = forms.URLField(label=_("Videolink"), required=False, assume_scheme="https")


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Hvorfor aflyses mødet?"), max_length=300)


class MinuteForm(forms.Form):
    text = forms.CharField(label=_("Referat"), max_length=6000, widget=forms.Textarea(attrs={"rows": 14}))
    version = forms.IntegerField(widget=forms.HiddenInput)


class ReturnForm(forms.Form):
    reason = forms.CharField(
        label=_("Hvorfor er forløbet gået i stå, og hvad har du brug for fra udvalget?"), max_length=4000,
        widget=forms.Textarea(attrs={"rows": 5}))
