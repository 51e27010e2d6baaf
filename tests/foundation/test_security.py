"""Security basics: deploy checks, headers, throttled login, idle timeout, argon2."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from tests.support.world import PASSWORD

ROOT = Path(__file__).resolve().parents[2]


def test_check_deploy_is_clean_with_production_settings():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tovholder.settings", "SECRET_KEY": "p" * 60 + "Q9!z",
           "DEBUG": "False", "SECURE": "True", "ALLOWED_HOSTS": "tovholder.example.dk"}
    env.pop("DATABASE_URL", None)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                            cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tovholder.settings", "DEBUG": "False"}
    env.pop("SECRET_KEY", None)
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode != 0 and "SECRET_KEY" in result.stderr


def test_argon2_is_the_production_password_hasher():
    from importlib import import_module

    assert "Argon2" in import_module("tovholder.settings").PASSWORD_HASHERS[0]


def test_sessions_time_out_after_idle_minutes():
    assert settings.SESSION_COOKIE_AGE == 30 * 60 and settings.SESSION_SAVE_EVERY_REQUEST


@pytest.mark.django_db
def test_pages_carry_a_content_security_policy_and_no_store(world, login):
    response = login("lars").get(reverse("cases:home"))
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert response["Cache-Control"] == "no-store"
    assert response["X-Frame-Options"] == "DENY"


@pytest.mark.django_db
def test_login_is_throttled_after_repeated_failures(world, client):
    url = reverse("web:login")
    for _ in range(settings.LOGIN_THROTTLE_LIMIT):
        client.post(url, {"username": "lars", "password": "wrong"})
    response = client.post(url, {"username": "lars", "password": PASSWORD})
    assert response.status_code == 200
    assert "For mange mislykkede forsøg" in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_the_log_filter_redacts_cpr_numbers(caplog):
    import logging

    from tovholder.web.logfilter import RedactCPR

    record = logging.LogRecord("x", logging.INFO, __file__, 1, "child %s", ("0101901235",), None)
    RedactCPR().filter(record)
    assert "0101901235" not in record.getMessage() and "[CPR]" in record.getMessage()
