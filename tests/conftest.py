"""Shared fixtures: the test world with named personas, clients logged in as them,
and a guard that no CPR number ever reaches an application log."""

from __future__ import annotations

import logging
import os
import traceback

import pytest

from tests.support.world import World, build_world
from tovholder.children.cpr import CPR_PATTERN


@pytest.fixture(autouse=True)
def _fast_and_quiet(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.SECURE_SSL_REDIRECT = False
    settings.OUTBOX_DIR = tmp_path / "outbox"
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


class _CollectAll(logging.Handler):
    """Keeps each record with its text as logged. It must run before the production
    handlers: their RedactCPR filter rewrites the record in place, and the guard is there
    to catch the code that logs a CPR number, not what the filter left."""

    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.texts: list[str] = []

    def emit(self, record):
        self.records.append(record)
        self.texts.append(_record_text(record))


def _record_text(record: logging.LogRecord) -> str:
    """Everything a handler could write for the record: the message, the formatted
    exception (also when no formatter has run yet: exc_info) and the stack."""
    try:
        text = record.getMessage()
    except Exception:
        text = f"{record.msg} {record.args}"
    if record.exc_text:
        text += "\n" + record.exc_text
    elif record.exc_info and record.exc_info[0] is not None:
        text += "\n" + "".join(traceback.format_exception(*record.exc_info))
    if record.stack_info:
        text += "\n" + record.stack_info
    return text


@pytest.fixture(autouse=True)
def no_cpr_in_logs():
    """Every test doubles as a log audit: a CPR number in any log record fails it."""
    handler = _CollectAll()
    root = logging.getLogger()
    old_level = root.level
    root.handlers.insert(0, handler)  # before the console handler and its RedactCPR filter
    root.setLevel(logging.DEBUG)
    yield handler
    root.removeHandler(handler)
    root.setLevel(old_level)
    offenders = []
    for record, text in zip(handler.records, handler.texts, strict=True):
        if record.name.startswith("django.db.backends"):
            continue  # SQL echo with bound parameters is off in production; not an app log
        if CPR_PATTERN.search(text):
            offenders.append(f"{record.name}: {CPR_PATTERN.sub('[CPR]', text)[:200]}")
    assert not offenders, f"CPR number in application log: {offenders}"


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Transactional tests flush the database between tests. PostgreSQL flushes with
    TRUNCATE (the audit triggers watch rows, not truncation); SQLite deletes rows, so the
    throwaway test database drops only the audit delete trigger. Updates stay blocked."""
    from django.db import connection

    with django_db_blocker.unblock():
        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                cursor.execute("DROP TRIGGER IF EXISTS audit_no_delete")


@pytest.fixture
def world(db) -> World:
    return build_world()


@pytest.fixture
def login(client):
    """login('lars') → a test client signed in as that persona."""
    from django.test import Client

    from tests.support.world import PASSWORD

    clients = {}

    def _login(username: str | None) -> Client:
        if username is None:
            return Client()
        if username not in clients:
            c = Client()
            assert c.login(username=username, password=PASSWORD), username
            clients[username] = c
        return clients[username]

    return _login


def pytest_collection_modifyitems(config, items):
    if os.environ.get("REQUIRE_BROWSER") == "1":
        return
    import shutil

    if shutil.which("chromium") is None:
        skip = pytest.mark.skip(reason="browser test: chromium is not installed")
        for item in items:
            if "browser" in item.keywords:
                item.add_marker(skip)


from tests.support.browser import page  # noqa: E402,F401  (fixture)
