"""Engagement slot search at the issue's scale, on PostgreSQL: "slot search for a week across
20 staff and 5,000 existing appointments: p95 latency".

Scale: one location open Mon–Sat (08:00–20:00, Saturday 09:00–17:00), 20 pharmacists (all
immunizers and MTM certified) working Mon–Fri 08:00–18:00 with a 12:00–12:30 break, half of
them Saturday 09:00–17:00 too, and 5,000 appointments (2,000 patients) over the five weeks
around the searched one, laid on the slot grid per staff member and day with their buffers,
every tenth cancelled; the searched week is about two-thirds booked. One staff member has
approved time off on the week's Wednesday. ENGAGEMENT_BENCH_SCALE=small runs 10 staff and 1,000
appointments.

The script creates a throw-away PostgreSQL database (ENGAGEMENT_BENCH_PG, default
postgres:postgres@127.0.0.1:5432, database opsintel_bench_engagement), migrates it, writes the
data in bulk (the same data every run), ANALYZEs it and drops the database at the end.

Figures (timed against data as of the Friday before the searched week, 12:00):
1. slot_search_week_p95: engagement.booking.find_slots(chronic disease review, location,
   Monday, Sunday, limit=20): p50/p95 over 30 runs and queries per call; the same with
   limit=1,000 (every free slot of the week: the whole grid is examined).
2. The baseline in the same run: the same search done naively, every candidate (time × staff
   member, in find_slots' order, until one is free) checked with booking.problems, which
   loads that day's rules with its own queries. limit=20 is timed in full (one run); the
   whole week is timed on its Monday and projected to the week by its share of the grid.
   Both check that the naive search finds the same slots.
3. Queries per call at half the appointments and at all of them (constant: the search loads
   the week in a fixed number of queries whatever the data).

Figures are printed, never asserted. Run with `DEBUG=1 .venv/bin/python
bench/bench_engagement.py` (or `make bench`).
"""

import os
import statistics
import sys
import time
from datetime import date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SMALL = os.environ.get("ENGAGEMENT_BENCH_SCALE", "").lower() == "small"
STAFF = 10 if SMALL else 20
APPOINTMENTS = 1_000 if SMALL else 5_000
PATIENTS = 2_000
RUNS = 30
ZONE = ZoneInfo("America/New_York")
MONDAY = date(2026, 6, 8)  # the searched week; no holiday, no clock change
SUNDAY = MONDAY + timedelta(days=6)
NOW = datetime.combine(MONDAY - timedelta(days=3), clock(12, 0), tzinfo=ZONE)
TYPE = "chronic_disease_review"

PG_SERVER = os.environ.get("ENGAGEMENT_BENCH_PG", "postgresql://postgres:postgres@127.0.0.1:5432")
DB_NAME = "opsintel_bench_engagement"


def percentiles(times):
    """(p50, p95) in milliseconds."""
    cuts = statistics.quantiles(times, n=20, method="inclusive")
    return statistics.median(times) * 1000, cuts[18] * 1000


def mix(n, salt):
    """A deterministic pseudo-random int in [0, 100) (no random state to keep)."""
    return (n * 2_654_435_761 + salt * 40_503) % 4_294_967_291 % 100


# Data -------------------------------------------------------------------------------------------


def generate_data():
    from engagement.models import (
        Appointment,
        AppointmentType,
        Location,
        OpeningHours,
        Patient,
        StaffMember,
        TimeOff,
        WorkingHours,
    )

    location = Location.objects.create(name="Bench Pharmacy", timezone=str(ZONE))
    OpeningHours.objects.bulk_create(
        [OpeningHours(location=location, weekday=d, opens=clock(8), closes=clock(20))
         for d in range(5)]
        + [OpeningHours(location=location, weekday=5, opens=clock(9), closes=clock(17))]
    )  # fmt: skip
    staff = StaffMember.objects.bulk_create(
        [
            StaffMember(
                name=f"Pharmacist {n:02d}",
                role="staff_pharmacist",
                license_number=f"RPH{n:05d}",
                qualifications=["certified_immunizer", "mtm_certified"],
                max_appointments_per_day=18,
            )
            for n in range(1, STAFF + 1)
        ]
    )
    StaffMember.locations.through.objects.bulk_create(
        [StaffMember.locations.through(staffmember_id=m.pk, location_id=location.pk)
         for m in staff]
    )  # fmt: skip
    hours = []
    for n, member in enumerate(staff):
        hours += [
            WorkingHours(staff=member, location=location, weekday=d, starts=clock(8),
                         ends=clock(18), break_starts=clock(12), break_ends=clock(12, 30))
            for d in range(5)
        ]  # fmt: skip
        if n % 2 == 0:
            hours.append(
                WorkingHours(
                    staff=member, location=location, weekday=5, starts=clock(9), ends=clock(17)
                )
            )
    WorkingHours.objects.bulk_create(hours)
    wednesday = MONDAY + timedelta(days=2)
    TimeOff.objects.create(
        staff=staff[0],
        starts_at=datetime.combine(wednesday, clock(0), tzinfo=ZONE),
        ends_at=datetime.combine(wednesday + timedelta(days=1), clock(0), tzinfo=ZONE),
        status="approved",
    )
    patients = Patient.objects.bulk_create(
        [
            Patient(location=location, name=f"Patient {n:05d}", phone=f"+1555{n:07d}")
            for n in range(PATIENTS)
        ]
    )
    kinds = list(AppointmentType.objects.filter(allowed_roles__contains="staff_pharmacist"))
    kinds = [k for k in kinds if k.max_bookings_per_day is None] or kinds
    rows = []
    n = 0
    # Five weeks: two before, the searched one, two after; the searched week first, so
    # trimming to APPOINTMENTS keeps it whole.
    days = [MONDAY - timedelta(days=14) + timedelta(days=d) for d in range(35)]
    days.sort(key=lambda d: (d < MONDAY or d > SUNDAY, d))
    shifts = {(h.staff_id, h.weekday): h for h in hours}
    for day in days:
        for member in staff:
            shift = shifts.get((member.pk, day.weekday()))
            if shift is None or (member == staff[0] and day == wednesday):
                continue
            for start_min, end_min in _segments(shift):
                minute = start_min
                while True:
                    kind = kinds[mix(n, 1) % len(kinds)]
                    if minute + kind.duration_minutes > end_min:
                        break
                    n += 1
                    if mix(n, 2) >= 66:  # a third of the grid stays free
                        minute += 15
                        continue
                    starts = datetime.combine(day, clock(minute // 60, minute % 60), tzinfo=ZONE)
                    ends = starts + timedelta(minutes=kind.duration_minutes)
                    rows.append(
                        Appointment(
                            patient=patients[mix(n, 3) * 97 % PATIENTS],
                            appointment_type=kind,
                            staff=member,
                            location=location,
                            starts_at=starts,
                            ends_at=ends,
                            blocked_until=ends + timedelta(minutes=kind.buffer_minutes),
                            price=kind.price,
                            status="cancelled" if mix(n, 4) < 10 else "scheduled",
                            created_at=NOW - timedelta(days=20),
                        )
                    )
                    held = kind.duration_minutes + kind.buffer_minutes
                    minute += -(-held // 15) * 15
    rows = rows[:APPOINTMENTS]
    Appointment.objects.bulk_create(rows, batch_size=2_000)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    in_week = sum(MONDAY <= r.starts_at.date() <= SUNDAY for r in rows)
    return location, AppointmentType.objects.get(code=TYPE), len(rows), in_week


def _segments(shift):
    def m(value):
        return value.hour * 60 + value.minute

    if shift.break_starts:
        return [(m(shift.starts), m(shift.break_starts)), (m(shift.break_ends), m(shift.ends))]
    return [(m(shift.starts), m(shift.ends))]


# The naive baseline ------------------------------------------------------------------------------


def naive_find_slots(kind, location, first_day, last_day, *, now, limit):
    """find_slots' search order, every candidate checked with booking.problems (its own
    queries per call)."""
    from engagement import booking
    from engagement.models import Appointment, OpeningHours

    staff = booking.qualified_staff(kind, location)
    slots = []
    day = first_day
    while day <= last_day and len(slots) < limit:
        midnight = datetime.combine(day, clock(0), tzinfo=ZONE)
        # The least busy first, as find_slots ranks them: a count per staff member and day.
        taken = {
            member.pk: Appointment.objects.holding_time()
            .filter(staff=member, starts_at__gte=midnight, starts_at__lt=midnight + timedelta(1))
            .count()
            for member in staff
        }
        for row in OpeningHours.objects.filter(location=location, weekday=day.weekday()):
            moment = datetime.combine(day, row.opens, tzinfo=ZONE)
            end = datetime.combine(day, row.closes, tzinfo=ZONE)
            while moment < end and len(slots) < limit:
                # Slots already offered count too, so suggestions spread (as find_slots does).
                for member in sorted(staff, key=lambda m: (taken[m.pk], m.name, m.pk)):
                    if not booking.problems(kind, location, member, moment, now=now):
                        slots.append((moment, member.pk))
                        taken[member.pk] += 1
                        break
                moment += timedelta(minutes=15)
        day += timedelta(days=1)
    return slots


# Figures ----------------------------------------------------------------------------------------


def timed(function, runs):
    function()  # warm-up
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return times


def queries_of(function):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        result = function()
    return len(captured), result


def bench_slot_search(location, kind):
    from engagement import booking

    def search(limit):
        return booking.find_slots(kind, location, MONDAY, SUNDAY, now=NOW, limit=limit)

    figures = {}
    for limit in (20, 1_000):
        queries, slots = queries_of(lambda limit=limit: search(limit))
        p50, p95 = percentiles(timed(lambda limit=limit: search(limit), RUNS))
        figures[limit] = (p50, p95, queries, slots)

    # Baseline, limit 20: in full, once (it is slow).
    started = time.perf_counter()
    naive_queries, naive_slots = queries_of(
        lambda: naive_find_slots(kind, location, MONDAY, SUNDAY, now=NOW, limit=20)
    )
    naive_20 = time.perf_counter() - started
    same = [(s.starts_at, s.staff_id) for s in figures[20][3]] == naive_slots
    p50, p95, queries, slots = figures[20]
    print(
        f"slot_search_week_p95: {p95:.1f} ms (p50 {p50:.1f} ms over {RUNS} runs of find_slots"
        f"({TYPE}, Mon–Sun, limit=20), {len(slots)} slots, {queries} queries per call; "
        f"baseline booking.problems per candidate {naive_20 * 1000:.0f} ms, {naive_queries} "
        f"queries, ratio {naive_20 * 1000 / p50:.0f}x at p50; same slots: "
        f"{'yes' if same else 'NO'})"
    )

    # Baseline, the whole week: timed on Monday, projected by Monday's share of the grid.
    p50, p95, queries, slots = figures[1_000]
    started = time.perf_counter()
    monday_queries, monday_slots = queries_of(
        lambda: naive_find_slots(kind, location, MONDAY, MONDAY, now=NOW, limit=1_000)
    )
    monday = time.perf_counter() - started
    grid = {MONDAY + timedelta(days=d): (12 * 4 if d < 5 else 8 * 4) for d in range(6)}
    projected = monday * sum(grid.values()) / grid[MONDAY]
    ours_monday = [s for s in slots if s.starts_at.astimezone(ZONE).date() == MONDAY]
    same = [(s.starts_at, s.staff_id) for s in ours_monday] == monday_slots
    print(
        f"slot_search_week_all_p95: {p95:.1f} ms (p50 {p50:.1f} ms over {RUNS} runs, "
        f"limit=1,000: all {len(slots)} free start times of the week, {queries} queries per "
        f"call; baseline booking.problems per candidate {projected:.1f} s projected from "
        f"Monday's {monday:.2f} s and {monday_queries:,} queries, ratio "
        f"{projected * 1000 / p50:.0f}x at p50; Monday's slots the same: "
        f"{'yes' if same else 'NO'})"
    )
    return figures


def bench_query_count(location, kind, count):
    """Queries per call with half the appointments removed (then put back)."""
    from django.db import transaction

    from engagement import booking
    from engagement.models import Appointment

    full, _ = queries_of(
        lambda: booking.find_slots(kind, location, MONDAY, SUNDAY, now=NOW, limit=1_000)
    )
    with transaction.atomic():
        ids = list(Appointment.objects.order_by("pk").values_list("pk", flat=True)[::2])
        Appointment.objects.filter(pk__in=ids).delete()
        half, slots = queries_of(
            lambda: booking.find_slots(kind, location, MONDAY, SUNDAY, now=NOW, limit=1_000)
        )
        transaction.set_rollback(True)
    print(
        f"slot_search_queries: {full} per call with {count:,} appointments (baseline "
        f"{half} with {count - len(ids):,}, {len(slots)} slots then; constant: "
        f"{'yes' if half == full else 'NO'})"
    )


# Main -------------------------------------------------------------------------------------------


def admin_connection():
    import psycopg

    return psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True)


def main():
    started = time.perf_counter()
    with admin_connection() as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {DB_NAME}")
    # A throw-away database of its own, chosen before Django reads its settings.
    os.environ["DATABASE_URL"] = f"{PG_SERVER}/{DB_NAME}"
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsintel.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connections

    settings.DEBUG = False  # Django would keep every SQL statement in memory
    try:
        call_command("migrate", verbosity=0, interactive=False)
        built = time.perf_counter()
        location, kind, count, in_week = generate_data()
        print(
            f"scale: {STAFF} staff, {count:,} appointments ({in_week:,} in the searched week "
            f"{MONDAY:%Y-%m-%d}–{SUNDAY:%m-%d}), {PATIENTS:,} patients"
            f"{' (small)' if SMALL else ''}; generated in {time.perf_counter() - built:.1f} s "
            f"on PostgreSQL (throw-away {DB_NAME}); slot step "
            f"{settings.ENGAGEMENT_SLOT_STEP_MINUTES} min"
        )
        bench_slot_search(location, kind)
        bench_query_count(location, kind, count)
    finally:
        connections.close_all()
        with admin_connection() as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
    print(f"total: {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
