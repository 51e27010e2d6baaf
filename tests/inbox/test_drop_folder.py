"""A drop folder of message files, imported the same way the HTTP endpoint receives them."""

from __future__ import annotations

import shutil
import uuid

import pytest
from django.core.management import call_command
from django.utils import timezone

from tests.inbox.helpers import SAMPLES, ack_header, bundle_of, sample
from tests.support.world import SYSTEM
from tovholder.inbox.models import Arrival, InboxItem, OutboundMessage
from tovholder.medcom import build_acknowledgement, interpret, serialize

pytestmark = pytest.mark.django_db


def test_it_imports_a_folder_and_moves_each_file_to_done_or_failed(world, aliases, tmp_path, sent, capsys):
    for path in SAMPLES:
        shutil.copy(path, tmp_path / path.name)
    (tmp_path / "broken.json").write_bytes(b"{ no")
    (tmp_path / "notes.txt").write_bytes(b"hello")

    call_command("medcom_import", str(tmp_path))

    assert sorted(p.name.split("-", 1)[1] for p in (tmp_path / "done").iterdir()) == sorted(p.name for p in SAMPLES)
    assert sorted(p.name.split("-", 1)[1] for p in (tmp_path / "failed").iterdir()) == ["broken.json", "notes.txt"]
    assert not [p for p in tmp_path.iterdir() if p.is_file()]
    assert InboxItem.objects.count() == len(SAMPLES)
    assert Arrival.objects.filter(channel="folder").count() == len(SAMPLES) + 2
    # Every file got its acknowledgement through the transport, ok or fatal-error.
    codes = [ack_header(bundle_of(d.body, d.content_type))["response"]["code"] for d in sent]
    assert codes.count("ok") == len(SAMPLES) and codes.count("fatal-error") == 2
    assert f"{len(SAMPLES) + 2} file(s) imported." in capsys.readouterr().out


def test_a_file_dropped_again_is_a_duplicate(world, aliases, tmp_path, sent):
    path = sample("R-Tek-J")
    shutil.copy(path, tmp_path / path.name)
    call_command("medcom_import", str(tmp_path))
    shutil.copy(path, tmp_path / path.name)
    call_command("medcom_import", str(tmp_path))
    assert InboxItem.objects.count() == 1
    assert list(Arrival.objects.order_by("pk").values_list("state", flat=True)) == ["accepted", "duplicate"]
    assert sent[0].body == sent[1].body, "the same acknowledgement"
    assert len(list((tmp_path / "done").iterdir())) == 2


def test_an_acknowledgement_dropped_in_the_folder_is_matched_and_not_answered(world, gp_message, post, tmp_path, sent):
    from tovholder.inbox.services import inbox_item_open_case, outbox_deliver

    post(*gp_message())
    item = InboxItem.objects.get()
    inbox_item_open_case(actor=SYSTEM, item=item, cpr=item.thread.patient_cpr, given_name="A", family_name="B")
    outbox_deliver()
    ours = interpret(bundle_of(sent[0].body))
    ack = build_acknowledgement(ours, code="ok", our_org=ours.receiver, ack_id=str(uuid.uuid4()),
                                ack_bundle_id=str(uuid.uuid4()), now=timezone.now())
    (tmp_path / "ack.xml").write_bytes(serialize(ack, "xml"))
    sent.clear()

    call_command("medcom_import", str(tmp_path))
    assert OutboundMessage.objects.get().status == OutboundMessage.Status.ACKED
    assert sent == [], "an acknowledgement is never acknowledged"
    assert (tmp_path / "done").exists()


def test_the_worker_imports_the_drop_folder_when_it_is_set(world, aliases, tmp_path, settings):
    from tovholder.inbox.jobs import drop_folder

    assert drop_folder() == 0
    settings.MEDCOM_DROP_DIR = str(tmp_path)
    shutil.copy(sample("S-C-new"), tmp_path / "a.json")
    assert drop_folder() == 1
    assert InboxItem.objects.count() == 1


def test_a_file_over_the_limit_is_refused_reading_only_its_beginning(world, tmp_path, monkeypatch):
    from tovholder.inbox import dropfolder

    monkeypatch.setattr(dropfolder, "MAX_BODY_BYTES", 1000)
    (tmp_path / "big.json").write_bytes(b"{" + b" " * 5000 + b"}")
    dropfolder.import_folder(tmp_path)
    arrival = Arrival.objects.get()
    assert arrival.truncated and arrival.size == 5002 and arrival.state == Arrival.State.QUARANTINED
    assert (tmp_path / "failed").exists()
