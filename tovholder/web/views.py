from __future__ import annotations

import hashlib
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from tovholder.web.models import LoginFailure


def _username_key(username: str) -> str:
    return hashlib.sha256(username.strip().lower().encode()).hexdigest()


def _address(request) -> str:
    return request.META.get("REMOTE_ADDR", "")[:64]


class ThrottledAuthenticationForm(AuthenticationForm):
    def clean(self):
        username = self.cleaned_data.get("username") or ""
        since = timezone.now() - timedelta(seconds=settings.LOGIN_THROTTLE_WINDOW)
        failures = LoginFailure.objects.filter(at__gte=since).filter(
            Q(username_key=_username_key(username)) | Q(address=_address(self.request))
        )
        if failures.count() >= settings.LOGIN_THROTTLE_LIMIT:
            raise ValidationError(
                _("For mange mislykkede forsøg. Vent et kvarter, og prøv igen."), code="throttled"
            )
        try:
            return super().clean()
        except ValidationError:
            LoginFailure.objects.create(username_key=_username_key(username), address=_address(self.request))
            raise


class LoginView(auth_views.LoginView):
    form_class = ThrottledAuthenticationForm
    template_name = "web/login.html"
    redirect_authenticated_user = True
