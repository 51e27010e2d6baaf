from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class PaperAnswerForm(forms.Form):
    answer = forms.ChoiceField(
        label=_("Svar på erklæringen"), widget=forms.RadioSelect,
        choices=[("give", _("Ja — samtykke givet")), ("refuse", _("Nej — samtykke ikke givet"))],
    )
    signed_on = forms.DateField(label=_("Dato for underskrift"), widget=forms.DateInput(attrs={"type": "date"}),
                                initial=timezone.localdate)
    scan = forms.FileField(label=_("Scannet erklæring (PDF, JPEG, PNG eller TIFF, højst 10 MB)"))
    version = forms.IntegerField(widget=forms.HiddenInput)


class StaffWithdrawForm(forms.Form):
    note = forms.CharField(
        label=_("Hvordan og hvornår bad personen om at trække samtykket tilbage?"), max_length=300,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Fx «Telefonisk henvendelse fra mor 3. maj kl. 10»."),
    )
    version = forms.IntegerField(widget=forms.HiddenInput)
