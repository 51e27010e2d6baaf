"""Fixed consultation times ("Samrum"): published by target group with capacity, booked
for a case, cancellations free the seat, no overbooking."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection

from tests.consultation.helpers import actor, consented_case
from tovholder.access import ConsultationBasis
from tovholder.cases.models import Notice
from tovholder.consultation import services as svc
from tovholder.consultation.models import Consultation, ConsultationSlot, SlotBooking
from tovholder.deadlines.workdays import COPENHAGEN


def publish(world, *, first=None, capacity=2, occurrences=3, group="adhd", key=""):
    first = first or dt.datetime(2026, 12, 2, 8, 30, tzinfo=COPENHAGEN)
    return svc.slot_series_publish(
        actor=actor(world, "jonas"), advising_unit=world.unit("bua"), target_group=group, first_starts_at=first,
        duration_minutes=60, occurrences=occurrences, capacity=capacity, video_link="https://video.rm.dk/samrum-adhd",
        idempotency_key=key)


def book(world, slot, *, username="lars", unit="706:school:0", case=None, key=""):
    return svc.slot_book(actor=actor(world, username, unit), basis=ConsultationBasis.ASKER, slot=slot,
                         asking_unit=world.unit(unit), subject="Drøftelse", text="Skal vi henvise?", case=case,
                         idempotency_key=key)


@pytest.mark.django_db
@time_machine.travel(dt.datetime(2026, 11, 23, 9, tzinfo=COPENHAGEN), tick=False)
def test_it_publishes_weekly_slots_at_the_same_local_time_across_daylight_saving(world):
    series = publish(world, first=dt.datetime(2027, 3, 17, 8, 30, tzinfo=COPENHAGEN), occurrences=3)
    starts = [s.starts_at.astimezone(COPENHAGEN) for s in series.slots.order_by("starts_at")]
    assert [(s.date(), s.hour, s.minute) for s in starts] == [
        (dt.date(2027, 3, 17), 8, 30), (dt.date(2027, 3, 24), 8, 30), (dt.date(2027, 3, 31), 8, 30)]
    assert starts[2].utcoffset() == dt.timedelta(hours=2)  # summer time began 28 March


@pytest.mark.django_db
@time_machine.travel(dt.datetime(2026, 11, 23, 9, tzinfo=COPENHAGEN), tick=False)
def test_it_publishes_a_series_once_when_sent_twice(world):
    assert publish(world, key="s1").pk == publish(world, key="s1").pk
    assert ConsultationSlot.objects.count() == 3


@pytest.mark.django_db
def test_it_lets_only_an_advising_unit_publish(world):
    with pytest.raises(ValidationError):
        svc.slot_series_publish(
            actor=actor(world, "lars"), advising_unit=world.unit("bua"), target_group="adhd",
            first_starts_at=dt.datetime(2030, 1, 2, 8, 30, tzinfo=COPENHAGEN), duration_minutes=60,
            occurrences=1, capacity=1, video_link="https://video.example/x")


@pytest.mark.django_db
@time_machine.travel(dt.datetime(2026, 11, 23, 9, tzinfo=COPENHAGEN), tick=False)
def test_it_books_a_slot_for_a_case_up_to_its_capacity_and_a_cancellation_frees_the_seat(world):
    slot = publish(world, capacity=2).slots.order_by("starts_at").first()
    case = consented_case(world)
    first = book(world, slot, case=case)
    assert first.subject_link.case == case and first.booking.seat == 1
    second = book(world, slot, username="maria", unit="706:ppr")
    assert second.booking.seat == 2 and second.is_anonymous
    with pytest.raises(ValidationError) as exc:
        book(world, slot, username="ida", unit="706:health_visitors")
    assert exc.value.code == "slot_full"
    svc.booking_cancel(actor=actor(world, "lars"), basis=ConsultationBasis.ASKER, consultation=first)
    third = book(world, slot, username="ida", unit="706:health_visitors")
    assert third.booking.seat == 1
    assert SlotBooking.objects.filter(slot=slot, cancelled_at__isnull=True).count() == 2
    first.refresh_from_db()
    assert first.status == Consultation.Status.CANCELLED


@pytest.mark.django_db
@time_machine.travel(dt.datetime(2026, 11, 23, 9, tzinfo=COPENHAGEN), tick=False)
def test_it_books_once_on_a_double_click(world):
    slot = publish(world, capacity=2).slots.first()
    assert book(world, slot, key="dbl").pk == book(world, slot, key="dbl").pk
    assert SlotBooking.objects.filter(slot=slot).count() == 1


@pytest.mark.django_db
@time_machine.travel(dt.datetime(2026, 11, 23, 9, tzinfo=COPENHAGEN), tick=False)
def test_it_refuses_a_slot_that_has_begun(world):
    slot = publish(world).slots.order_by("starts_at").first()
    with time_machine.travel(slot.starts_at + dt.timedelta(minutes=1), tick=False):
        with pytest.raises(ValidationError):
            book(world, slot)


@pytest.mark.django_db
@time_machine.travel(dt.datetime(2026, 11, 23, 9, tzinfo=COPENHAGEN), tick=False)
def test_it_tells_everyone_who_booked_when_the_advising_unit_cancels_the_slot(world):
    slot = publish(world).slots.first()
    case = consented_case(world)
    booked = book(world, slot, case=case)
    svc.slot_cancel(actor=actor(world, "jonas"), slot=slot)
    booked.refresh_from_db()
    assert booked.status == Consultation.Status.CANCELLED
    assert "aflyst" in Notice.objects.get(user=world.user("lars"), case=case).text


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_it_never_overbooks_when_two_people_take_the_last_seat_at_once(world):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    slot = publish(world, first=dt.datetime.now(COPENHAGEN) + dt.timedelta(days=7), capacity=1).slots.first()
    barrier = threading.Barrier(2)
    results: list[str] = []

    def attempt(username, unit):
        from django.db import connections

        try:
            barrier.wait()
            book(world, slot, username=username, unit=unit)
            results.append("booked")
        except ValidationError as exc:
            results.append(exc.code or "error")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt, args=a) for a in (("lars", "706:school:0"), ("maria", "706:ppr"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["booked", "slot_full"]
    assert SlotBooking.objects.filter(slot=slot, cancelled_at__isnull=True).count() == 1
