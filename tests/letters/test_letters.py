"""The Digital Post adapter: one letter per recipient, a pluggable backend, delivery by the
background loop (claimed, idempotent, retried), the local outbox staff and family can read."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from tests.support.world import SYSTEM, make_case, make_child
from tovholder.audit.models import AuditEvent
from tovholder.cases import notify
from tovholder.cases.models import Stage
from tovholder.letters.backends import Delivery
from tovholder.letters.models import Letter
from tovholder.letters.services import letters_deliver

pytestmark = pytest.mark.django_db

PDF = ("plan.pdf", "application/pdf", b"%PDF-1.4 the plan")


class RecordingBackend:
    sent: list = []

    def send(self, letter, *, body, attachments):
        RecordingBackend.sent.append((letter.pk, body, [a.filename for a in attachments]))
        return Delivery(reference=f"dp:{letter.pk}")


class BrokenBackend:
    def send(self, letter, *, body, attachments):
        raise ConnectionError("Digital Post is down")


def minutes(case, **kw):
    return notify.tell_family(actor=SYSTEM, case=case, subject="Referat fra koordinationsudvalget",
                              body="Kære [[NAVN]]\n\nHer er referatet.", reason="minutes", **kw)


def outbox_copy(letter) -> dict:
    return json.loads((Path(settings.OUTBOX_DIR) / "letters" / f"{letter.pk}.json").read_text())


def test_it_writes_one_letter_to_each_custody_holder_and_the_child_from_15(world):
    young = make_child(world.demo, birth=dt.date(2008, 1, 1), parents=2)
    case = make_case(world.demo, stage=Stage.AWAITING_COMMITTEE, child=young, lead=None)
    letters = minutes(case, attachments=[PDF])
    assert sorted(x.recipient_kind for x in letters) == ["child", "custody_holder", "custody_holder"]
    assert all(x.status == "queued" and x.attachments.count() == 1 for x in letters)
    holder = young.custody_holders.first()
    assert letters[0].body.startswith(f"Kære {holder.name}")
    assert len(minutes(case, include_child=False)) == 2


def test_a_child_of_14_gets_no_letter_and_a_parent_without_digital_post_gets_paper(world):
    child = make_child(world.demo, birth=dt.date(2013, 1, 1), parents=1, digital_post=False)
    case = make_case(world.demo, stage=Stage.AWAITING_COMMITTEE, child=child, lead=None)
    (letter,) = minutes(case)
    assert (letter.recipient_kind, letter.channel) == ("custody_holder", "paper")
    letters_deliver()
    letter.refresh_from_db()
    assert letter.status == "sent" and letter.read_token_hash is None
    assert outbox_copy(letter)["channel"] == "paper"


def test_delivery_claims_each_letter_once_however_often_it_runs(world, settings):
    settings.DIGITAL_POST_BACKEND = "tests.letters.test_letters.RecordingBackend"
    RecordingBackend.sent = []
    letters = minutes(world.case, attachments=[PDF])
    assert letters_deliver() == 2
    assert letters_deliver() == 0
    assert sorted(pk for pk, _b, _a in RecordingBackend.sent) == sorted(x.pk for x in letters)
    assert all(files == ["plan.pdf"] for _pk, _b, files in RecordingBackend.sent)
    for letter in letters:
        letter.refresh_from_db()
        assert (letter.status, letter.external_ref) == ("sent", f"dp:{letter.pk}")
    assert AuditEvent.objects.filter(case=world.case, actor="worker:letters_deliver").count() == 2


def test_a_failing_backend_is_retried_then_marked_for_a_person(world, settings):
    settings.DIGITAL_POST_BACKEND = "tests.letters.test_letters.BrokenBackend"
    letters = minutes(world.case)
    for attempt in (1, 2, 3):
        assert letters_deliver() == 0
        letter = Letter.objects.get(pk=letters[0].pk)
        assert letter.attempts == attempt and letter.claimed_at is None
    assert letter.status == "failed" and letter.last_error == "ConnectionError"
    assert letters_deliver() == 0
    settings.DIGITAL_POST_BACKEND = "tests.letters.test_letters.RecordingBackend"
    assert letters_deliver() == 0  # failed letters wait for a person


def test_a_claim_left_by_a_dead_worker_is_taken_again_later(world):
    (letter, _other) = minutes(world.case)
    Letter.objects.filter(pk=letter.pk).update(claimed_at=timezone.now())
    assert letters_deliver() == 1  # only the other one
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=11)):
        assert letters_deliver() == 1
    assert Letter.objects.get(pk=letter.pk).status == "sent"


def test_the_family_reads_their_letter_and_attachments_through_their_own_link(world, client):
    letters = minutes(world.case, attachments=[PDF])
    letters_deliver()
    copy = outbox_copy(letters[0])
    read_url = copy["read_url"]
    assert read_url.startswith(settings.SITE_URL) and "/breve/post/" in read_url
    path = read_url[len(settings.SITE_URL.rstrip("/")):]
    page = client.get(path)
    assert page.status_code == 200 and "Her er referatet." in page.content.decode()
    assert page["Referrer-Policy"] == "strict-origin"
    attachment = letters[0].attachments.get()
    file = client.get(reverse("letters:family_attachment", args=[path.split("/")[3], attachment.pk]))
    assert file.status_code == 200 and file.content == b"%PDF-1.4 the plan"
    other = letters[1].attachments.get()
    assert client.get(reverse("letters:family_attachment", args=[path.split("/")[3], other.pk])).status_code == 404
    assert AuditEvent.objects.filter(case=world.case, basis="recipient").count() == 2
    assert client.get(reverse("letters:family_read", args=["y" * 43])).status_code == 404
    with time_machine.travel(timezone.now() + dt.timedelta(days=401)):
        assert client.get(path).status_code == 404


def test_staff_with_access_read_the_letters_the_inbox_keeper_only_the_consent_letters(world, login):
    (letter, _) = minutes(world.case, attachments=[PDF])
    assert world.case.child.full_name in login("lars").get(
        reverse("letters:case_letters", args=[world.case.pk])).content.decode()
    assert "Referat fra koordinationsudvalget" in login("lars").get(
        reverse("letters:case_letters", args=[world.case.pk])).content.decode()
    assert login("lars").get(reverse("letters:detail", args=[letter.pk])).status_code == 200
    assert "Referat" not in login("ida").get(reverse("letters:case_letters", args=[world.case.pk])).content.decode()
    assert login("ida").get(reverse("letters:detail", args=[letter.pk])).status_code == 404
    assert login("anne").get(reverse("letters:detail", args=[letter.pk])).status_code == 404
    download = login("maria").get(reverse("letters:attachment", args=[letter.pk, letter.attachments.get().pk]))
    assert download.status_code == 200
    assert AuditEvent.objects.filter(case=world.case, action="export", user=world.user("maria")).exists()


def test_staff_never_see_the_recipients_personal_link(world, login):
    from tests.consent.helpers import open_case

    case = open_case(world, parents=1)
    letter = Letter.objects.get(case=case, reason="consent_request")
    letters_deliver()
    html = login("ida").get(reverse("letters:detail", args=[letter.pk])).content.decode()
    from tests.consent.helpers import LINK

    assert "personligt link" in html and not LINK.search(html)
    assert LINK.search(outbox_copy(letter)["body"])


def test_the_api_lists_a_cases_letters(world, login):
    minutes(world.case)
    data = login("lars").get(f"/api/cases/{world.case.pk}/letters").json()
    assert [x["reason"] for x in data] == ["minutes", "minutes"]
    assert login("ida").get(f"/api/cases/{world.case.pk}/letters").json() == []
    assert login("anne").get(f"/api/cases/{world.case.pk}/letters").status_code == 404


def test_only_the_demo_lets_staff_open_the_familys_copy(world, login, settings):
    (letter, _) = minutes(world.case)
    letters_deliver()
    settings.LETTERS_DEMO_MAILBOX = False
    assert "/breve/post/" not in login("lars").get(reverse("letters:detail", args=[letter.pk])).content.decode()
    settings.LETTERS_DEMO_MAILBOX = True
    html = login("lars").get(reverse("letters:detail", args=[letter.pk])).content.decode()
    assert outbox_copy(letter)["read_url"] in html and "kun i demoen" in html


def test_the_outbox_command_lists_the_read_links(world, capsys):
    from django.core.management import call_command

    (letter, _) = minutes(world.case)
    letters_deliver()
    call_command("letters_outbox", case=world.case.pk)
    assert outbox_copy(letter)["read_url"] in capsys.readouterr().out
