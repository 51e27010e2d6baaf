"""Two members saving the same decision at the same moment (PostgreSQL: real row locks)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from tests.committee.helpers import actor, consented_case, item_for
from tovholder.committee.models import AgendaItem, CommitteeDecision, CommitteeMeeting, Minute
from tovholder.committee.services import decision_record

pytestmark = [pytest.mark.django_db(transaction=True)]


def test_it_records_one_decision_when_two_members_submit_at_once(world):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises writers")
    from django.utils import timezone

    now = timezone.now()
    meeting = CommitteeMeeting.objects.create(
        municipality=world.syddjurs, kind="extra", scheduled_on=timezone.localdate(),
        starts_at=now - timezone.timedelta(minutes=5), ends_at=now + timezone.timedelta(minutes=55))
    item = item_for(consented_case(world))
    results, errors = [], []
    barrier = threading.Barrier(2)

    def submit(username):
        try:
            barrier.wait()
            d = decision_record(actor=actor(world, username), basis="committee", item=AgendaItem.objects.get(pk=item.pk),
                                meeting=meeting, kind="everyday_support", conclusion="Råd til skolen.")
            results.append(d.pk)
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit, args=(u,)) for u in ("karen", "mads")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert len(set(results)) == 1
    assert CommitteeDecision.objects.filter(item=item).count() == 1
    assert Minute.objects.filter(item=item).count() == 1
