"""The demo `make run` loads: every stage present, every persona's home page works."""

import pytest
from django.core.management import call_command
from django.urls import reverse

from tovholder.cases.models import Case, Stage
from tovholder.demo.region import DEMO_PASSWORD, PERSONAS


@pytest.mark.django_db
def test_the_demo_has_cases_in_every_stage_and_every_persona_can_work(client, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("demo_load")
    stages = set(Case.objects.values_list("stage", flat=True))
    assert stages == {s.value for s in Stage}
    reasons = set(Case.objects.filter(stage=Stage.CLOSED).values_list("closed_reason", flat=True))
    assert {"no_consent", "ordinary_route", "pathway_completed"} <= reasons
    for username, *_ in PERSONAS:
        assert client.login(username=username, password=DEMO_PASSWORD), username
        assert client.get(reverse("cases:home")).status_code == 200
        client.logout()
