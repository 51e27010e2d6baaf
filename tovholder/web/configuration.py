"""The administrator's configuration pages: municipalities, their clocks and units. No case content."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from tovholder.access import is_administrator
from tovholder.audit.actor import Actor
from tovholder.organisations.models import Membership, Municipality, Unit
from tovholder.organisations.services import SETTING_FIELDS, municipality_change_settings


class MunicipalitySettingsForm(forms.ModelForm):
    class Meta:
        model = Municipality
        fields = list(SETTING_FIELDS)


def _require_admin(user) -> None:
    if not is_administrator(user):
        raise Http404


@login_required
def configuration(request):
    _require_admin(request.user)
    municipalities = Municipality.objects.select_related("region").order_by("name")
    units = Unit.objects.select_related("municipality").order_by("municipality__name", "kind", "name")
    memberships = (Membership.objects.active().select_related("user", "unit")
                   .order_by("unit__name", "role", "user__last_name"))
    return render(request, "web/configuration.html",
                  {"municipalities": municipalities, "units": units, "memberships": memberships})


@login_required
def municipality_settings(request, code: str):
    _require_admin(request.user)
    municipality = get_object_or_404(Municipality, code=code)
    form = MunicipalitySettingsForm(request.POST or None, instance=Municipality.objects.get(pk=municipality.pk))
    if request.method == "POST" and form.is_valid():
        municipality_change_settings(actor=Actor(user=request.user), municipality=municipality,
                                     **{f: form.cleaned_data[f] for f in SETTING_FIELDS})
        messages.success(request, _("Indstillingerne er gemt."))
        return redirect("web:configuration")
    return render(request, "web/municipality_settings.html", {"municipality": municipality, "form": form})
