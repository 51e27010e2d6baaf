"""A withdrawal racing a write must win: two database connections on PostgreSQL.

Every service that acts on a case locks the case row (`lock_case`) and then asks the gate;
withdrawal locks the same row. So the two serialize: a write that had to wait for a
withdrawal sees it and is refused; a write that got the lock first finished before the
withdrawal (it was legitimate then) and nothing can follow it.
"""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections, transaction

from tests.support.world import SYSTEM, make_case
from tovholder.cases.models import Case, CaseTeamMember, Stage
from tovholder.cases.services import case_team_add, lock_case
from tovholder.consent.gate import ConsentRequired, processing_allowed, require_processing_allowed
from tovholder.consent.models import ConsentRequest, How
from tovholder.consent.services import consent_withdraw, family_actor

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def gated_write(case_id: int, user, unit) -> None:
    """The shape of every gated service: lock the case, ask the gate, write."""
    with transaction.atomic():
        case = lock_case(case_id)
        require_processing_allowed(case)
        case_team_add(actor=SYSTEM, basis="system", case=case, user=user, unit=unit)


def wait_until_blocked_on_a_lock(timeout: float = 10.0) -> None:
    """Watch from a third connection until another session waits for a row lock."""
    deadline = time.monotonic() + timeout
    with connections["default"].cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                           "AND datname = current_database()")
            if cursor.fetchone()[0]:
                return
            time.sleep(0.02)
    raise AssertionError("the other connection never waited for the case lock")


class Worker(threading.Thread):
    def __init__(self, fn):
        super().__init__(daemon=True)
        self.fn, self.error = fn, None

    def run(self):
        try:
            self.fn()
        except Exception as exc:  # noqa: BLE001 - the test inspects it
            self.error = exc
        finally:
            connection.close()


def test_a_write_waiting_behind_a_withdrawal_is_refused(world):
    case = make_case(world.demo, stage=Stage.AWAITING_START, lead="lars")
    request = ConsentRequest.objects.filter(case=case).defer("scan").first()
    maria, unit = world.user("maria"), world.unit("706:ppr")
    holding, release = threading.Event(), threading.Event()

    def withdraw():
        with transaction.atomic():
            consent_withdraw(actor=family_actor(request), request=request.pk, how=How.DIGITAL)
            holding.set()
            assert release.wait(10)  # keep the case locked until the writer queues behind us

    withdrawer = Worker(withdraw)
    writer = Worker(lambda: gated_write(case.pk, maria, unit))
    withdrawer.start()
    assert holding.wait(10)
    writer.start()
    wait_until_blocked_on_a_lock()
    release.set()
    withdrawer.join(10)
    writer.join(10)

    assert withdrawer.error is None
    assert isinstance(writer.error, ConsentRequired)
    assert not CaseTeamMember.objects.filter(case=case, user=maria).exists()
    assert Case.objects.get(pk=case.pk).closed_reason == "consent_withdrawn"


def test_a_write_that_got_the_lock_first_finishes_and_nothing_follows_the_withdrawal(world):
    case = make_case(world.demo, stage=Stage.AWAITING_START, lead="lars")
    request = ConsentRequest.objects.filter(case=case).defer("scan").first()
    maria, unit = world.user("maria"), world.unit("706:ppr")
    holding, release = threading.Event(), threading.Event()

    def write_slowly():
        with transaction.atomic():
            locked = lock_case(case.pk)
            require_processing_allowed(locked)
            case_team_add(actor=SYSTEM, basis="system", case=locked, user=maria, unit=unit)
            holding.set()
            assert release.wait(10)

    writer = Worker(write_slowly)
    withdrawer = Worker(lambda: consent_withdraw(actor=family_actor(request), request=request.pk,
                                                 how=How.DIGITAL))
    writer.start()
    assert holding.wait(10)
    withdrawer.start()
    wait_until_blocked_on_a_lock()
    release.set()
    writer.join(10)
    withdrawer.join(10)

    assert writer.error is None and withdrawer.error is None
    assert CaseTeamMember.objects.filter(case=case, user=maria).exists()
    case.refresh_from_db()
    assert case.closed_reason == "consent_withdrawn" and not processing_allowed(case)
    with pytest.raises(ConsentRequired):
        gated_write(case.pk, world.user("jonas"), world.unit("bua"))
