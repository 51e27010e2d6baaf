"""Forms: parse and check input; the rules themselves live in the services."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tovholder.consultation.models import (
    Priority,
    Recommendation,
    ReferralAnswer,
    RejectionReason,
    TargetGroup,
)
from tovholder.consultation.services import Upload
from tovholder.deadlines.workdays import COPENHAGEN
from tovholder.organisations.models import Municipality, Unit

# Magic numbers of the file types we accept; the browser's claimed type is not trusted.
_MAGIC = [
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
]


def sniff(data: bytes) -> str:
    for magic, content_type in _MAGIC:
        if data.startswith(magic):
            return content_type
    return "application/octet-stream"


def uploads_from(files) -> list[Upload]:
    out = []
    for f in files:
        data = f.read()
        out.append(Upload(filename=(f.name or "bilag")[:200], content_type=sniff(data), data=data))
    return out


class AskForm(forms.Form):
    advising_unit = forms.ModelChoiceField(label=_("Hvem vil du have sparring med?"), queryset=Unit.objects.none(),
                                           empty_label=_("Vælg enhed"))
    asking_unit = forms.ModelChoiceField(label=_("Du spørger fra"), queryset=Unit.objects.none(), empty_label=None)
    target_group = forms.ChoiceField(label=_("Målgruppe"), choices=TargetGroup.choices)
    subject = forms.CharField(label=_("Emne"), max_length=200,
                              help_text=_("Kort, fx «Skolefravær og uro, 10-årig pige»."))
    text = forms.CharField(label=_("Dit spørgsmål"), widget=forms.Textarea(attrs={"rows": 8}))
    municipality = forms.ModelChoiceField(label=_("Kommune"), queryset=Municipality.objects.all(), required=False,
                                          empty_label=_("Samme kommune som din enhed"),
                                          help_text=_("Den kommune, barnet bor i (kun til opgørelser)."))

    def __init__(self, *args, advising=None, asking=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["advising_unit"].queryset = advising if advising is not None else Unit.objects.none()
        self.fields["asking_unit"].queryset = asking if asking is not None else Unit.objects.none()


class BookForm(forms.Form):
    asking_unit = forms.ModelChoiceField(label=_("Du booker fra"), queryset=Unit.objects.none(), empty_label=None)
    subject = forms.CharField(label=_("Emne"), max_length=200)
    text = forms.CharField(label=_("Hvad vil du drøfte?"), widget=forms.Textarea(attrs={"rows": 8}))
    municipality = forms.ModelChoiceField(label=_("Kommune"), queryset=Municipality.objects.all(), required=False,
                                          empty_label=_("Samme kommune som din enhed"),
                                          help_text=_("Den kommune, barnet bor i (kun til opgørelser)."))

    def __init__(self, *args, asking=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["asking_unit"].queryset = asking if asking is not None else Unit.objects.none()


class ReplyForm(forms.Form):
    text = forms.CharField(label=_("Besked"), widget=forms.Textarea(attrs={"rows": 6}))
    recommendation = forms.ChoiceField(label=_("Anbefaling"), choices=Recommendation.choices, required=False)


class SeriesForm(forms.Form):
    advising_unit = forms.ModelChoiceField(label=_("Rådgivende enhed"), queryset=Unit.objects.none(), empty_label=None)
    target_group = forms.ChoiceField(label=_("Målgruppe"), choices=TargetGroup.choices)
    first_date = forms.DateField(label=_("Første dato"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    start_time = forms.TimeField(label=_("Klokken"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    duration_minutes = forms.IntegerField(label=_("Varighed (minutter)"), min_value=15, max_value=240, initial=60)
    every_weeks = forms.IntegerField(label=_("Hver N. uge"), min_value=1, max_value=8, initial=1)
    occurrences = forms.IntegerField(label=_("Antal gange"), min_value=1, max_value=52, initial=8)
    capacity = forms.IntegerField(label=_("Pladser pr. gang"), min_value=1, max_value=20, initial=3)
    video_link = forms.URLField(label=_("Videolink"), assume_scheme="https")

    def __init__(self, *args, advising=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["advising_unit"].queryset = advising if advising is not None else Unit.objects.none()

    def first_starts_at(self) -> dt.datetime:
        d = self.cleaned_data
        return dt.datetime.combine(d["first_date"], d["start_time"], tzinfo=COPENHAGEN)


class AgreementForm(forms.Form):
    what = forms.CharField(label=_("Hvad aftaler vi?"), max_length=300)
    how = forms.CharField(label=_("Hvordan gør vi?"), widget=forms.Textarea(attrs={"rows": 5}), required=False)
    responsible = forms.ChoiceField(label=_("Hvem er ansvarlig?"), choices=())
    responsible_name = forms.CharField(label=_("Ansvarlig person"), max_length=200, required=False)
    due_on = forms.DateField(label=_("Senest"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))

    def __init__(self, *args, sectors=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["responsible"].choices = list(sectors)


class ReferralNewForm(forms.Form):
    receiver_unit = forms.ModelChoiceField(label=_("Modtager"), queryset=Unit.objects.none(), empty_label=_("Vælg modtager"))

    def __init__(self, *args, receivers=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["receiver_unit"].queryset = receivers if receivers is not None else Unit.objects.none()


class ReferralForm(forms.Form):
    # The fields may be saved empty as a draft; the completeness check says what is missing.
    no_optional_marker = True

    priority = forms.ChoiceField(label=_("Prioritet"), choices=Priority.choices)
    question = forms.CharField(label=_("Henvisningsårsag og spørgsmål til modtageren"), required=False,
                               widget=forms.Textarea(attrs={"rows": 6}))
    tried = forms.CharField(label=_("Hvad kommunen har afprøvet, og med hvilken effekt"), required=False,
                            widget=forms.Textarea(attrs={"rows": 8}),
                            help_text=_("Udfyldt fra handleplanens indsatser. Skriv effekten af hver."))
    ppr_assessment = forms.CharField(label=_("PPR's vurdering"), required=False,
                                     widget=forms.Textarea(attrs={"rows": 5}))
    ppr_missing_reason = forms.CharField(label=_("Hvis der ikke er en PPR-vurdering: hvorfor?"), required=False,
                                         widget=forms.Textarea(attrs={"rows": 3}))
    formal_referrer_unit = forms.ModelChoiceField(label=_("Egen læge (formel henviser)"), required=False,
                                                  queryset=Unit.objects.filter(kind=Unit.Kind.GP_PRACTICE),
                                                  empty_label=_("Ingen valgt"))
    formal_referrer_name = forms.CharField(label=_("Henvisende læges navn"), max_length=200, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput)


class AnswerForm(forms.Form):
    no_optional_marker = True

    outcome = forms.ChoiceField(label=_("Svar"), choices=ReferralAnswer.Outcome.choices, widget=forms.RadioSelect)
    reason = forms.ChoiceField(label=_("Årsag til afvisning"), choices=[("", "—")] + RejectionReason.choices,
                               required=False, help_text=_("Skal udfyldes, når henvisningen er afvist."))
    expected_wait_weeks = forms.IntegerField(label=_("Forventet ventetid (uger)"), min_value=0, max_value=104,
                                             required=False, help_text=_("Skal udfyldes, når henvisningen er accepteret."))
    text = forms.CharField(label=_("Modtagerens begrundelse eller besked"), required=False,
                           widget=forms.Textarea(attrs={"rows": 4}),
                           help_text=_("Skal udfyldes, når modtageren beder om flere oplysninger."))
    answered_on = forms.DateField(label=_("Svaret den"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                                  initial=timezone.localdate)


class FollowUpForm(forms.Form):
    next_steps = forms.CharField(label=_("Hvad har I aftalt med familien?"), widget=forms.Textarea(attrs={"rows": 5}))


class AdmissionForm(forms.Form):
    unit = forms.ModelChoiceField(label=_("Afdeling"), queryset=Unit.objects.none(), empty_label=_("Vælg afdeling"))
    admitted_on = forms.DateField(label=_("Indlagt den"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    discharged_on = forms.DateField(label=_("Udskrevet den (hvis kendt)"), required=False,
                                    widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))

    def __init__(self, *args, units=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units if units is not None else Unit.objects.none()
