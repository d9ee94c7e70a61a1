"""Proofs under real concurrency, on PostgreSQL (SQLite serialises writers, so it proves
nothing): parallel bookings of one staff member never double-book, and completing one
appointment twice at once makes its follow-up task once.

Each thread has its own database connection (Django's are per thread) and closes it at the
end; a barrier starts them together. Where the harness widens the race window (a pause
between checking and writing), a control test shows that without the protection the same
race does go wrong, so the passing tests are not passing by luck of timing.
"""

import threading
import time
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections

from engagement import booking, services
from engagement.models import Appointment, FollowUpTask, StaffMember
from opsintel.models import AuditEvent
from tests.engagement.factories import (
    MONDAY,
    LocationFactory,
    PatientFactory,
    StaffFactory,
    at,
    kind,
)

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="concurrency is proven on PostgreSQL only"
    ),
    # Real commits seen by other connections; the seeded appointment types and roles come
    # back for every test (serialized_rollback) since the flush after each would remove them.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

THREADS = 8
NOW = at(MONDAY - timedelta(days=3), "12:00")
PAUSE = 0.3  # seconds between a thread's check and its write, where the harness widens it


def race(work, count=THREADS):
    """Run work(i) in `count` threads started together; return each one's result or error."""
    barrier = threading.Barrier(count, timeout=30)
    outcomes = [None] * count

    def run(i):
        try:
            barrier.wait()
            outcomes[i] = ("ok", work(i))
        except Exception as error:  # collected and asserted on by the test
            outcomes[i] = ("error", error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    return outcomes


@pytest.fixture
def pharmacy():
    location = LocationFactory()
    ann = StaffFactory(name="Ann", location=location)
    patients = [PatientFactory(location=location) for _ in range(THREADS)]
    return location, ann, patients


@pytest.fixture
def slow_checks(monkeypatch):
    """Every booking pauses after checking the rules and before writing."""
    check = booking.problems

    def slow(*args, **kwargs):
        found = check(*args, **kwargs)
        time.sleep(PAUSE)
        return found

    monkeypatch.setattr(booking, "problems", slow)


def book_overlapping(location, ann, patients):
    # MTM: 45 minutes + 10 buffer; starts 09:00, 09:05 … 09:35 all overlap one another.
    def work(i):
        return booking.book(
            patient=patients[i],
            appointment_type=kind("mtm_session"),
            staff=StaffMember.objects.get(pk=ann.pk),
            location=location,
            starts_at=at(MONDAY, "09:00") + timedelta(minutes=5 * i),
            now=NOW,
        ).pk

    return work


def test_parallel_bookings_of_one_pharmacist_never_double_book(pharmacy, slow_checks):
    outcomes = race(book_overlapping(*pharmacy))

    booked = [value for kind_, value in outcomes if kind_ == "ok"]
    errors = [value for kind_, value in outcomes if kind_ == "error"]
    assert len(booked) == 1, outcomes
    assert len(errors) == THREADS - 1
    for error in errors:
        assert isinstance(error, ValidationError), repr(error)
        assert error.message_dict == {"starts_at": ["Ann has another appointment then."]}
    assert list(Appointment.objects.values_list("pk", flat=True)) == booked


def test_control_without_the_staff_lock_the_same_race_double_books(
    pharmacy, slow_checks, monkeypatch
):
    # Shows the harness really races: take the row lock away and several bookings land.
    manager = StaffMember.objects
    monkeypatch.setattr(manager, "select_for_update", lambda *a, **k: manager.all())
    outcomes = race(book_overlapping(*pharmacy))
    assert sum(1 for kind_, _ in outcomes if kind_ == "ok") > 1, outcomes
    assert Appointment.objects.count() > 1


@pytest.fixture
def held_mtm(pharmacy):
    """An MTM session that took place (09:00 Monday), ready to be completed."""
    location, ann, patients = pharmacy
    StaffFactory(name="Bea", location=location)
    return booking.book(
        patient=patients[0],
        appointment_type=kind("mtm_session"),
        staff=ann,
        location=location,
        starts_at=at(MONDAY, "09:00"),
        now=NOW,
    )


def test_completing_at_once_from_many_screens_makes_one_follow_up(held_mtm):
    def work(i):
        appointment = Appointment.objects.get(pk=held_mtm.pk)
        tasks = services.complete(appointment, outcome_notes=f"screen {i}", now=at(MONDAY, "10:00"))
        return [task.pk for task in tasks]

    outcomes = race(work)

    assert all(kind_ == "ok" for kind_, _ in outcomes), outcomes
    [task] = FollowUpTask.objects.all()
    assert {tuple(value) for _, value in outcomes} == {(task.pk,)}
    assert task.due_date == MONDAY + timedelta(days=14)
    assert AuditEvent.objects.filter(description="Appointment completed").count() == 1
    assert Appointment.objects.get(pk=held_mtm.pk).status == "completed"


@pytest.fixture
def slow_assignment(monkeypatch):
    """Every follow-up pauses after looking for an existing task and before inserting."""
    choose = services.choose_assignee

    def slow(location):
        chosen = choose(location)
        time.sleep(PAUSE)
        return chosen

    monkeypatch.setattr(services, "choose_assignee", slow)


def test_the_unique_constraint_settles_a_follow_up_race(held_mtm, slow_assignment):
    # Completed without its follow-up (as after a crash between the two), then every worker
    # repairs it at once: all find none, all insert; the constraint keeps one and the losers
    # return the winner's task.
    Appointment.objects.filter(pk=held_mtm.pk).update(
        status="completed", completed_at=at(MONDAY, "10:00")
    )

    def work(i):
        appointment = Appointment.objects.get(pk=held_mtm.pk)
        return [task.pk for task in services.create_follow_ups(appointment)]

    outcomes = race(work)

    assert all(kind_ == "ok" for kind_, _ in outcomes), outcomes
    [task] = FollowUpTask.objects.all()
    assert {tuple(value) for _, value in outcomes} == {(task.pk,)}
    # Only one insert got through: one creation audited.
    assert AuditEvent.objects.filter(description="Follow-up task created").count() == 1
