# ruff: noqa: S608 (SQL built from this module's constants; values are parameters)
"""Sending due reminders at the issue's scale, on PostgreSQL: throughput and queries per reminder.

Scale: 2 locations (New York), 20 pharmacists, 50,000 patients (four in five prefer SMS, the rest
email; ~2% opted out of their channel since booking), 50,000 appointments tomorrow, and one
24 h reminder each, all due at AS_OF (12:00 New York, outside quiet hours). SMS goes through
NullSmsBackend and email through Django's locmem backend, so the figures are our side alone:
claiming, checking, composing, recording.

The script creates a throw-away PostgreSQL database (ENGAGEMENT_BENCH_PG, default
postgres@127.0.0.1:5432, database opsintel_bench_engagement_reminders), migrates it, generates
the data with server-side SQL (generate_series, hash-based pseudo-random columns: the same data
every run), ANALYZEs it and drops the database at the end.

Figures:
1. send_due_reminders(now=AS_OF) with 1,000, 10,000 and 50,000 reminders due (the rest parked
   as cancelled; every run starts from the same rows set back to scheduled): reminders per
   second and queries per reminder (counted by a connection execute wrapper). Queries per
   batch are constant, so queries per reminder stay flat from 1k to 50k.
2. Baseline, in the same run: a naive per-reminder ORM loop (load each reminder, its
   appointment, patient and location one by one, check, send through the same backends, save)
   on a 2,000-reminder sample.
Outcomes are checked: every reminder ends sent or skipped (opted out), none left behind.

Run with `DEBUG=1 .venv/bin/python bench/bench_engagement_reminders.py` (or `make bench`);
about a minute. ENGAGEMENT_BENCH_SCALE=small runs 1k / 5k only.
"""

import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SMALL = os.environ.get("ENGAGEMENT_BENCH_SCALE", "").lower() == "small"
SCALES = (1_000, 5_000) if SMALL else (1_000, 10_000, 50_000)
REMINDERS = SCALES[-1]
SAMPLE = 2_000  # the naive loop's sample
STAFF = 20
AS_OF = datetime(2026, 4, 1, 16, 0, tzinfo=UTC)  # 12:00 in New York (EDT)
AS_OF_SQL = f"timestamptz '{AS_OF.isoformat()}'"
PG_SERVER = os.environ.get("ENGAGEMENT_BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
DB_NAME = "opsintel_bench_engagement_reminders"


def rnd(seed, expression="n"):
    """A deterministic pseudo-random non-negative int from the series number."""
    return f"(hashint8extended({expression}::bigint, {seed}) & 2147483647)"


def generate_data():
    """Fill the migrated database with server-side SQL; no rows go through Python."""
    from django.db import connection

    n = REMINDERS
    statements = [
        "SET synchronous_commit = off",
        """INSERT INTO engagement_location (id, name, address, timezone)
           VALUES (1, 'Main Street', '', 'America/New_York'),
                  (2, 'Harbour', '', 'America/New_York')""",
        f"""INSERT INTO engagement_staffmember (id, user_id, name, role, license_number,
                qualifications, max_appointments_per_day, active)
            SELECT s, NULL, 'Pharmacist ' || s, 'staff_pharmacist', 'RPH' || s,
                   '["certified_immunizer"]'::jsonb, 40, true
            FROM generate_series(1, {STAFF}) s""",
        f"""INSERT INTO engagement_staffmember_locations (staffmember_id, location_id)
            SELECT s, 1 + s % 2 FROM generate_series(1, {STAFF}) s""",
        f"""INSERT INTO engagement_patient (id, location_id, name, date_of_birth, email, phone,
                email_consent, sms_consent, email_opted_out, sms_opted_out, preferred_channel,
                created_at)
            SELECT n, 1 + n % 2, 'Patient ' || n, NULL, 'patient' || n || '@example.org',
                   '+1555' || lpad(n::text, 7, '0'), true, true,
                   {rnd(2)} % 100 < 2, {rnd(3)} % 100 < 2,
                   CASE WHEN {rnd(1)} % 5 = 0 THEN 'email' ELSE 'sms' END,
                   {AS_OF_SQL} - interval '1 year'
            FROM generate_series(1, {n}) n""",
        f"""INSERT INTO engagement_appointment (id, patient_id, appointment_type_id, staff_id,
                location_id, starts_at, ends_at, blocked_until, status, price, outcome_notes,
                needs_rebooking, late_cancellation, cancellation_reason, booked_by_id,
                created_at, cancelled_at, completed_at)
            SELECT n, n, t.id, 1 + n % {STAFF}, 1 + (1 + n % {STAFF}) % 2,
                   {AS_OF_SQL} + interval '1 day' + ({rnd(4)} % 480) * interval '1 minute',
                   {AS_OF_SQL} + interval '1 day' + ({rnd(4)} % 480 + 15) * interval '1 minute',
                   {AS_OF_SQL} + interval '1 day' + ({rnd(4)} % 480 + 20) * interval '1 minute',
                   'scheduled', 0, '', false, false, '', NULL, {AS_OF_SQL} - interval '7 days',
                   NULL, NULL
            FROM generate_series(1, {n}) n
            CROSS JOIN (SELECT id FROM engagement_appointmenttype WHERE code = 'vaccination') t""",
        f"""INSERT INTO engagement_reminder (id, appointment_id, task_id, channel, template,
                send_at, status, reason, attempts, provider_message_id, sent_at, created_at)
            SELECT a.id, a.id, NULL, p.preferred_channel, 'appointment_24h',
                   {AS_OF_SQL} - (a.id % 60) * interval '1 second', 'scheduled', '', 0, '',
                   NULL, {AS_OF_SQL} - interval '7 days'
            FROM engagement_appointment a JOIN engagement_patient p ON p.id = a.patient_id""",
        "ANALYZE",
    ]
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
        for table in ("location", "staffmember", "patient", "appointment", "reminder"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('engagement_{table}', 'id'), "
                f"(SELECT MAX(id) FROM engagement_{table}))"
            )


def reset(due):
    """Reminders 1..due scheduled and due at AS_OF; the rest parked as cancelled."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """UPDATE engagement_reminder
               SET status = CASE WHEN id <= %s THEN 'scheduled' ELSE 'cancelled' END,
                   reason = '', attempts = 0, provider_message_id = '', sent_at = NULL""",
            [due],
        )
        cursor.execute("VACUUM ANALYZE engagement_reminder")


def outcomes():
    from django.db.models import Count

    from engagement.models import Reminder

    rows = Reminder.objects.exclude(status="cancelled").values_list("status").annotate(Count("pk"))
    return dict(rows)


class QueryCounter:
    """Counts the statements sent to the database (without keeping their SQL, as Django's
    debug cursor would)."""

    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def run_ours(due):
    from django.core import mail
    from django.db import connection

    from engagement import messaging, reminders

    reset(due)
    mail.outbox = []
    counter = QueryCounter()
    with connection.execute_wrapper(counter):
        started = time.perf_counter()
        if os.environ.get("ENGAGEMENT_BENCH_PROFILE"):
            import cProfile
            import pstats

            profile = cProfile.Profile()
            counts = profile.runcall(
                reminders.send_due_reminders, now=AS_OF, sms_backend=messaging.NullSmsBackend()
            )
            pstats.Stats(profile).sort_stats("cumulative").print_stats(25)
        else:
            counts = reminders.send_due_reminders(now=AS_OF, sms_backend=messaging.NullSmsBackend())
        seconds = time.perf_counter() - started
    return seconds, counter.count, counts, outcomes()


def naive_send(reminder, sms, now):
    """What a first version would do per reminder: follow each relation with its own query,
    check, send, save the row."""
    from engagement import messaging, reminders
    from engagement.models import Appointment, Reminder

    appointment = Appointment.objects.get(pk=reminder.appointment_id)
    patient = appointment.patient
    location = appointment.location
    problem = reminders.contact_problem(patient, reminder.channel)
    if appointment.status not in reminders.ACTIVE or problem:
        reminder.status, reminder.reason = Reminder.Status.SKIPPED, problem
        reminder.save()
        return
    message = messaging.compose(
        reminder.template, location=location, starts_at=appointment.starts_at
    )
    if reminder.channel == "sms":
        reminder.provider_message_id = sms.send(patient.phone, message.body)
    else:
        reminder.provider_message_id = messaging.send_email(patient.email, message)
    reminder.status, reminder.sent_at, reminder.attempts = "sent", now, reminder.attempts + 1
    reminder.save()


def run_naive(due):
    from django.core import mail
    from django.db import connection

    from engagement import messaging
    from engagement.models import Reminder

    reset(due)
    mail.outbox = []
    sms = messaging.NullSmsBackend()
    counter = QueryCounter()
    with connection.execute_wrapper(counter):
        started = time.perf_counter()
        for pk in Reminder.objects.filter(status="scheduled", send_at__lte=AS_OF).values_list(
            "pk", flat=True
        ):
            naive_send(Reminder.objects.get(pk=pk), sms, AS_OF)
        seconds = time.perf_counter() - started
    return seconds, counter.count


def main():
    started = time.perf_counter()
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {DB_NAME}")
    os.environ["DATABASE_URL"] = f"{PG_SERVER}/{DB_NAME}"
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsintel.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connections

    settings.DEBUG = False
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.ENGAGEMENT_QUIET_HOURS = ("21:00", "08:00")
    try:
        call_command("migrate", verbosity=0, interactive=False)
        built = time.perf_counter()
        generate_data()
        print(
            f"scale: {REMINDERS:,} due reminders (one per appointment, ~20% email), "
            f"{STAFF} staff, 2 locations; generated in {time.perf_counter() - built:.1f} s on "
            f"PostgreSQL (throw-away {DB_NAME}); as of {AS_OF:%Y-%m-%d %H:%M} UTC"
            + (" (small)" if SMALL else "")
        )
        naive_seconds, naive_queries = run_naive(SAMPLE)
        naive_rate = SAMPLE / naive_seconds
        print(
            f"baseline_naive_loop: {naive_rate:,.0f} reminders/s ({SAMPLE:,} reminders in "
            f"{naive_seconds:.2f} s; {naive_queries / SAMPLE:.2f} queries per reminder)"
        )
        per_reminder = {}
        for due in SCALES:
            seconds, queries, counts, final = run_ours(due)
            rate = due / seconds
            per_reminder[due] = queries / due
            left = final.get("scheduled", 0) + final.get("sending", 0)
            print(
                f"send_due_reminders_{due // 1000}k: {rate:,.0f} reminders/s ({due:,} in "
                f"{seconds:.2f} s; {queries} queries, {queries / due:.3f} per reminder; "
                f"sent {counts['sent']:,}, skipped {counts['skipped']:,}, left unsent {left}; "
                f"baseline naive loop {naive_rate:,.0f} reminders/s, ratio "
                f"{rate / naive_rate:.1f}x)"
            )
        figures = ", ".join(f"{due // 1000}k {q:.3f}" for due, q in per_reminder.items())
        spread = max(per_reminder.values()) / min(per_reminder.values())
        print(
            f"queries_per_reminder: {figures} (max/min {spread:.2f}x across scales; baseline "
            f"naive loop {naive_queries / SAMPLE:.2f})"
        )
    finally:
        connections.close_all()
        with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
    print(f"total: {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
