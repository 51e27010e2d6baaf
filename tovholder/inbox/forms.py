"""Forms of the single entry's pages. They only parse input; the services decide."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tovholder.cases.models import ReferralChannel
from tovholder.children.models import CustodyHolder
from tovholder.inbox.models import InboxItem
from tovholder.inbox.services.handling import MAX_UPLOAD_BYTES, Upload
from tovholder.organisations.models import Municipality, Unit


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        uploads = []
        for f in files:
            if f.size > MAX_UPLOAD_BYTES:
                raise forms.ValidationError(_("%(name)s er for stor.") % {"name": f.name})
            uploads.append(Upload(name=f.name, content_type=f.content_type or "", data=f.read()))
        return uploads


class OpenCaseForm(forms.Form):
    cpr = forms.CharField(label=_("Barnets CPR-nummer eller erstatnings-CPR-nummer"), max_length=11,
                          # a replacement number may have letters
                          widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "text"}))
    birth_date = forms.DateField(
        label=_("Fødselsdato"), required=False,
        help_text=_("Kun ved erstatnings-CPR-nummer: udfyld, hvis nummeret ikke indeholder "
                    "fødselsdatoen. Ved almindeligt CPR-nummer læses den af nummeret."),
        input_formats=["%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y", "%d/%m/%Y"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    given_name = forms.CharField(label=_("Fornavn"), max_length=100)
    family_name = forms.CharField(label=_("Efternavn"), max_length=100)
    school = forms.ModelChoiceField(label=_("Skole"), queryset=Unit.objects.none(), required=False,
                                    empty_label=_("(ingen / ukendt)"))
    referral_channel = forms.ChoiceField(label=_("Henvisningsvej"), choices=ReferralChannel.choices)
    holder1_name = forms.CharField(label=_("Forældremyndighedsindehaver 1: navn"), max_length=200, required=False)
    holder1_relation = forms.ChoiceField(label=_("Relation"), choices=CustodyHolder.Relation.choices,
                                         initial=CustodyHolder.Relation.MOTHER)
    holder1_email = forms.EmailField(label=_("E-mail"), required=False)
    holder1_phone = forms.CharField(label=_("Telefon"), max_length=30, required=False)
    holder1_digital_post = forms.BooleanField(label=_("Har Digital Post"), required=False, initial=True)
    holder2_name = forms.CharField(label=_("Forældremyndighedsindehaver 2: navn"), max_length=200, required=False)
    holder2_relation = forms.ChoiceField(label=_("Relation"), choices=CustodyHolder.Relation.choices,
                                         initial=CustodyHolder.Relation.FATHER)
    holder2_email = forms.EmailField(label=_("E-mail"), required=False)
    holder2_phone = forms.CharField(label=_("Telefon"), max_length=30, required=False)
    holder2_digital_post = forms.BooleanField(label=_("Har Digital Post"), required=False, initial=True)

    def __init__(self, *args, municipality=None, **kwargs):
        super().__init__(*args, **kwargs)
        if municipality is not None:
            self.fields["school"].queryset = Unit.objects.filter(kind=Unit.Kind.SCHOOL, municipality=municipality)

    def holders(self):
        from tovholder.inbox.services.handling import CustodyHolderInput

        out = []
        for n in (1, 2):
            name = self.cleaned_data.get(f"holder{n}_name", "").strip()
            if name:
                out.append(CustodyHolderInput(
                    name=name, relation=self.cleaned_data[f"holder{n}_relation"],
                    email=self.cleaned_data.get(f"holder{n}_email", ""),
                    phone=self.cleaned_data.get(f"holder{n}_phone", ""),
                    has_digital_post=self.cleaned_data.get(f"holder{n}_digital_post", False)))
        return out


class AttachForm(forms.Form):
    case = forms.ModelChoiceField(label=_("Forløb"), queryset=None)

    def __init__(self, *args, cases=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["case"].queryset = cases
        self.fields["case"].label_from_instance = lambda c: f"{c.child.full_name} · {c.reference} · {c.get_stage_display()}"


class RejectForm(forms.Form):
    reason = forms.CharField(label=_("Begrundelse (sendes til henviseren)"), max_length=1000,
                             widget=forms.Textarea(attrs={"rows": 4}))


class ForwardForm(forms.Form):
    municipality = forms.ModelChoiceField(label=_("Barnets bopælskommune"), queryset=Municipality.objects.none())
    note = forms.CharField(label=_("Bemærkning til modtageren"), max_length=1000, required=False,
                           widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, exclude=None, **kwargs):
        super().__init__(*args, **kwargs)
        entries = Unit.objects.filter(kind=Unit.Kind.SINGLE_ENTRY).values("municipality_id")
        qs = Municipality.objects.filter(pk__in=entries).order_by("name")
        if exclude is not None:
            qs = qs.exclude(pk=exclude.pk)
        self.fields["municipality"].queryset = qs


class ReplyForm(forms.Form):
    text = forms.CharField(label=_("Svar til henviseren"), max_length=10000, widget=forms.Textarea(attrs={"rows": 5}))


class ResolveForm(forms.Form):
    note = forms.CharField(label=_("Hvad er gjort ved beskeden?"), max_length=500,
                           widget=forms.Textarea(attrs={"rows": 3}))


class WebReferralForm(forms.Form):
    unit = forms.ModelChoiceField(label=_("Du henviser fra"), queryset=Unit.objects.none(), empty_label=None)
    municipality = forms.ModelChoiceField(label=_("Barnets bopælskommune"), queryset=Municipality.objects.none(),
                                          help_text=_("Henvendelsen går til den fælles indgang i den kommune, "
                                                      "hvor barnet bor."))
    cpr = forms.CharField(label=_("Barnets CPR-nummer"), max_length=11,
                          widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric"}))
    given_name = forms.CharField(label=_("Barnets fornavn"), max_length=100)
    family_name = forms.CharField(label=_("Barnets efternavn"), max_length=100)
    text = forms.CharField(label=_("Hvad drejer henvendelsen sig om?"), max_length=20000,
                           widget=forms.Textarea(attrs={"rows": 8}),
                           help_text=_("Beskriv bekymringen, hvad der er prøvet, og hvad I ønsker af "
                                       "koordinationsudvalget. Forældrene skal være orienteret."))
    phone = forms.CharField(label=_("Dit telefonnummer"), max_length=40)
    email = forms.EmailField(label=_("Din e-mail"), required=False)
    attachments = MultipleFileField(label=_("Bilag (PDF eller billeder)"))

    def __init__(self, *args, units=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = Unit.objects.filter(pk__in=[u.pk for u in units])
        entries = Unit.objects.filter(kind=Unit.Kind.SINGLE_ENTRY).values("municipality_id")
        self.fields["municipality"].queryset = Municipality.objects.filter(pk__in=entries).order_by("name")


class RegisterContactForm(forms.Form):
    kind = forms.ChoiceField(label=_("Hvordan kom henvendelsen?"), widget=forms.RadioSelect,
                             choices=[(InboxItem.Kind.PHONE, _("Telefon")), (InboxItem.Kind.LETTER, _("Brev"))])
    received_at = forms.DateTimeField(label=_("Hvornår?"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"},
                                                                                       format="%Y-%m-%dT%H:%M"),
                                      input_formats=["%Y-%m-%dT%H:%M"])
    referrer_name = forms.CharField(label=_("Fra hvem (navn)?"), max_length=200)
    referrer_organisation = forms.CharField(label=_("Organisation (skole, afdeling, praksis …)"), max_length=200,
                                            required=False)
    referrer_phone = forms.CharField(label=_("Telefon"), max_length=40, required=False)
    referrer_email = forms.EmailField(label=_("E-mail"), required=False)
    cpr = forms.CharField(label=_("Barnets CPR-nummer (hvis oplyst)"), max_length=11, required=False,
                          widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric"}))
    given_name = forms.CharField(label=_("Barnets fornavn"), max_length=100, required=False)
    family_name = forms.CharField(label=_("Barnets efternavn"), max_length=100, required=False)
    text = forms.CharField(label=_("Hvad drejer henvendelsen sig om?"), max_length=20000,
                           widget=forms.Textarea(attrs={"rows": 8}))
    attachments = MultipleFileField(label=_("Indscannet brev eller bilag (PDF eller billeder)"))

    def __init__(self, *args, entries=(), **kwargs):
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("received_at", timezone.localtime().replace(second=0, microsecond=0))
        kwargs["initial"].setdefault("kind", InboxItem.Kind.PHONE)
        super().__init__(*args, **kwargs)
        if len(entries) > 1:  # a keeper of several inboxes says which one
            self.fields["entry"] = forms.ModelChoiceField(
                label=_("Indgang"), queryset=Unit.objects.filter(pk__in=[e.pk for e in entries]), empty_label=None)
            self.order_fields(["entry"])
