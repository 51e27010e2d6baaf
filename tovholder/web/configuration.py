"""The administrator's configuration pages: municipalities, their clocks and units. No case content."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from tovholder.access import is_administrator
from tovholder.audit.actor import Actor
from tovholder.organisations.models import Membership, Municipality, Unit, User
from tovholder.organisations.services import (
    SETTING_FIELDS,
    membership_end,
    membership_grant,
    municipality_change_settings,
)


class MunicipalitySettingsForm(forms.ModelForm):
    class Meta:
        model = Municipality
        fields = list(SETTING_FIELDS)


class MembershipForm(forms.Form):
    user = forms.ModelChoiceField(label=gettext_lazy("Medarbejder"), queryset=User.objects.none())
    unit = forms.ModelChoiceField(label=gettext_lazy("Enhed"), queryset=Unit.objects.none())
    role = forms.ChoiceField(label=gettext_lazy("Rolle"), choices=Membership.Role.choices)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = User.objects.filter(is_active=True).order_by("first_name", "last_name")
        self.fields["user"].label_from_instance = lambda u: f"{u.get_full_name()} ({u.username})" + (
            f", {u.title}" if u.title else "")
        self.fields["unit"].queryset = Unit.objects.select_related("municipality").order_by("name")


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


@login_required
def membership_add(request):
    """Give a staff member a role: a seat on the committee (or its chair), the inbox, a unit."""
    _require_admin(request.user)
    form = MembershipForm(request.POST or None, initial={"unit": request.GET.get("enhed")})
    if request.method == "POST" and form.is_valid():
        try:
            membership = membership_grant(actor=Actor(user=request.user), **form.cleaned_data)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, _("%(user)s er nu %(role)s i %(unit)s.") % {
                "user": membership.user.get_full_name(), "role": membership.get_role_display().lower(),
                "unit": membership.unit.name})
            return redirect("web:configuration")
    return render(request, "web/membership_form.html", {"form": form})


@login_required
@require_POST
def membership_stop(request, membership_id: int):
    _require_admin(request.user)
    membership = get_object_or_404(Membership, pk=membership_id)
    membership_end(actor=Actor(user=request.user), membership=membership)
    messages.success(request, _("Rollen er afsluttet: %(what)s.") % {"what": str(membership)})
    return redirect("web:configuration")
