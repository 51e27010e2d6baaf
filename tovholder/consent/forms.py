from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class PaperAnswerForm(forms.Form):
    answer = forms.ChoiceField(
        label=_("Svar på erklæringen"), widget=forms.RadioSelect,
        choices=[("give", _("Ja — samtykke givet")), ("refuse", _("Nej — samtykke ikke givet"))],
    )
    signed_on = forms.DateField(label=_("Dato for underskrift"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
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


PARTY_FIELDS = [("committee", _("Koordinationsudvalget (kommunens enheder)")), ("bua", _("Børne- og Ungdomspsykiatrien")),
                ("paediatric_ward", _("Børne- og ungeafdelingen")), ("gp_practice", _("Egen læge"))]


class ConsentTextForm(forms.Form):
    """A new version of the municipality's consent text."""

    body_template = forms.CharField(
        label=_("Tekst"), widget=forms.Textarea(attrs={"rows": 24}),
        help_text=_("Pladsholdere: {barn} (barnets navn), {kommune}, {parter} (listen herunder), "
                    "{gyldighed} (højst 1 år) og {kontakt}."),
    )
    contact = forms.CharField(label=_("Kontakt ved spørgsmål og tilbagetrækning"), max_length=200)
    valid_from = forms.DateField(label=_("Gælder fra"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                                 initial=timezone.localdate)

    def __init__(self, *args, parties=(), **kwargs):
        super().__init__(*args, **kwargs)
        current = {p["kind"]: p["label"] for p in parties}
        for kind, label in PARTY_FIELDS:
            self.fields[f"party_{kind}"] = forms.BooleanField(label=label, required=False,
                                                              initial=kind in current)
            self.fields[f"label_{kind}"] = forms.CharField(label=_("Navn i teksten"), required=False,
                                                           max_length=300, initial=current.get(kind, ""))

    def party_rows(self):
        return [(self[f"party_{kind}"], self[f"label_{kind}"]) for kind, _label in PARTY_FIELDS]

    def parties(self) -> list[dict]:
        return [{"kind": kind, "label": self.cleaned_data[f"label_{kind}"].strip()}
                for kind, _label in PARTY_FIELDS if self.cleaned_data.get(f"party_{kind}")]
