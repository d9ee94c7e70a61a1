"""The engagement demo data: deterministic and idempotent (same rows under the same ids), the
promised sizes, valid under the booking rules, and the patterns the dashboards show."""

from collections import defaultdict
from datetime import datetime, time, timedelta
from itertools import pairwise
from statistics import mean
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from engagement import booking
from engagement.demo import DAYS_AHEAD, SLOW, anchor, history_start
from engagement.models import (
    Appointment,
    FollowUpTask,
    Location,
    LocationHoliday,
    OpeningHours,
    Patient,
    Reminder,
    StaffMember,
    SurveyResponse,
    TimeOff,
    WorkingHours,
)

pytestmark = pytest.mark.django_db

MODELS = [
    Location,
    OpeningHours,
    LocationHoliday,
    StaffMember,
    WorkingHours,
    TimeOff,
    Patient,
    Appointment,
    FollowUpTask,
    Reminder,
    SurveyResponse,
]
PERSONAS = {
    "pharmacy-manager": "pharmacy_manager",
    "senior-pharmacist": "senior_pharmacist",
    "staff-pharmacist": "staff_pharmacist",
    "pharmacy-technician": "pharmacy_technician",
    "administrative-staff": "administrative_staff",
    "ops-director": "pharmacy_manager",
}


def seed():
    call_command("seed_demo", "--force", "--only", "engagement")


def snapshot():
    """Every column of every demo row, ids included (re-seeding keeps them)."""
    rows = {model._meta.label: list(model.objects.order_by("pk").values_list()) for model in MODELS}
    rows["staff_locations"] = sorted(StaffMember.locations.through.objects.values_list())
    return rows


def local(moment, appointment):
    return moment.astimezone(ZoneInfo(appointment.location.timezone))


def past_appointments():
    return Appointment.objects.filter(starts_at__lt=anchor())


def test_seeding_twice_leaves_identical_rows(capsys):
    seed()
    first = snapshot()
    seed()
    assert snapshot() == first

    assert Location.objects.count() == 2
    assert StaffMember.objects.count() == 12
    assert Patient.objects.count() == 600
    assert 5_000 <= Appointment.objects.count() <= 9_000
    staff = dict(StaffMember.objects.values_list("user__username", "role"))
    assert {login: staff[login] for login in PERSONAS} == PERSONAS
    # Every role, clinical staff licensed, immunizers and MTM-certified pharmacists.
    assert set(StaffMember.objects.values_list("role", flat=True)) == set(PERSONAS.values()) | {
        "pharmacy_technician",
        "administrative_staff",
    }
    for member in StaffMember.objects.filter(role__in=["pharmacy_manager", "staff_pharmacist"]):
        assert member.license_number
        assert "certified_immunizer" in member.qualifications
    certified = [m for m in StaffMember.objects.all() if "mtm_certified" in m.qualifications]
    assert len(certified) >= 4
    assert StaffMember.objects.filter(locations__isnull=False).distinct().count() == 12
    assert any(member.locations.count() == 2 for member in StaffMember.objects.all())
    assert set(OpeningHours.objects.values_list("weekday", flat=True)) == set(range(6))


def test_history_and_the_weeks_ahead(capsys):
    seed()
    now = anchor()
    appointments = Appointment.objects.all()
    first = min(appointments.values_list("starts_at", flat=True))
    last = max(appointments.values_list("starts_at", flat=True))
    assert first.date() - history_start(now) < timedelta(days=4)
    assert now + timedelta(days=DAYS_AHEAD - 2) < last < now + timedelta(days=DAYS_AHEAD)
    assert set(past_appointments().values_list("status", flat=True)) == {
        "completed",
        "no_show",
        "cancelled",
    }
    ahead = appointments.filter(starts_at__gte=now)
    assert set(ahead.values_list("status", flat=True)) == {"scheduled", "confirmed", "cancelled"}
    assert not appointments.filter(created_at__gte=now).exists()
    # Ahead, the weeks fill up less the further away they are.
    week1 = ahead.filter(starts_at__lt=now + timedelta(days=7)).count()
    assert week1 > ahead.count() - week1
    # Cancelled in time or late, per the type's policy.
    for row in appointments.filter(status="cancelled").select_related("appointment_type"):
        window = timedelta(hours=row.appointment_type.cancellation_hours)
        assert row.created_at < row.cancelled_at < row.starts_at
        assert row.late_cancellation == (row.starts_at - row.cancelled_at < window)
    cancelled = past_appointments().filter(status="cancelled")
    assert 0.2 < cancelled.filter(late_cancellation=True).count() / cancelled.count() < 0.5


def test_appointments_are_valid_under_the_booking_rules(capsys):
    seed()
    holding = list(
        Appointment.objects.holding_time()
        .filter(needs_rebooking=False)
        .select_related("appointment_type", "location", "staff")
        .order_by("staff", "starts_at")
    )
    # No staff member is ever double-booked, buffers included.
    for staff, rows in _by(holding, "staff_id").items():
        for before, after in pairwise(rows):
            assert after.starts_at >= before.blocked_until, (staff, before.pk, after.pk)
    # Each inside its staff member's hours at that location, outside the break, not on a
    # holiday, not in approved time off.
    shifts = _by(WorkingHours.objects.all(), "staff_id")
    closed = set(LocationHoliday.objects.values_list("location", "date"))
    time_off = _by(TimeOff.objects.filter(status="approved"), "staff_id")
    for row in holding:
        starts, ends = local(row.starts_at, row), local(row.ends_at, row)
        assert (row.location_id, starts.date()) not in closed
        assert any(
            shift.location_id == row.location_id
            and shift.weekday == starts.weekday()
            and shift.starts <= starts.time()
            and ends.time() <= shift.ends
            and not (shift.break_starts and starts.time() < shift.break_ends
                     and shift.break_starts < ends.time())
            for shift in shifts[row.staff_id]
        ), row.pk  # fmt: skip
        assert not any(
            off.starts_at < row.ends_at and row.starts_at < off.ends_at
            for off in time_off.get(row.staff_id, [])
        )
    # And booking's own rules, as of when each was booked, on a sample.
    for row in holding[:: len(holding) // 80]:
        assert (
            booking.problems(
                row.appointment_type,
                row.location,
                row.staff,
                row.starts_at,
                now=row.created_at,
                ignore=(row.starts_at, row.blocked_until),
            )
            == []
        ), row.pk
    # The appointments of the day approved off after booking wait to be rebooked.
    rebook = Appointment.objects.filter(needs_rebooking=True)
    assert rebook.exists()
    assert {row.staff.name for row in rebook} == {SLOW}
    assert all(row.starts_at >= anchor() for row in rebook)


def _by(rows, key):
    grouped = defaultdict(list)
    for row in rows:
        grouped[getattr(row, key)].append(row)
    return grouped


def test_no_shows_surveys_and_tasks_follow_their_patterns(capsys):
    seed()
    past = list(
        past_appointments()
        .exclude(status="cancelled")
        .select_related("location")
        .order_by("starts_at", "pk")
    )

    def no_show_rate(rows):
        return sum(row.status == "no_show" for row in rows) / len(rows)

    assert 0.06 <= no_show_rate(past) <= 0.10
    monday_morning = [
        row for row in past
        if local(row.starts_at, row).weekday() == 0 and local(row.starts_at, row).hour < 12
    ]  # fmt: skip
    others = [row for row in past if row not in set(monday_morning)]
    assert no_show_rate(monday_morning) > no_show_rate(others) + 0.04
    missed, after_a_miss, no_miss = set(), [], []
    for row in past:
        (after_a_miss if row.patient_id in missed else no_miss).append(row)
        if row.status == "no_show":
            missed.add(row.patient_id)
    assert no_show_rate(after_a_miss) > no_show_rate(no_miss) + 0.05

    completed = past_appointments().filter(status="completed")
    surveys = SurveyResponse.objects.select_related("appointment__staff")
    assert 0.3 < surveys.count() / completed.count() < 0.45
    assert 4.2 < mean(s.satisfaction for s in surveys) < 4.7
    assert sum(s.satisfaction >= 4 for s in surveys) / surveys.count() > 0.8

    def satisfaction(rows):
        return mean(s.satisfaction for s in rows)

    late = [s for s in surveys if s.appointment.completed_at > s.appointment.ends_at
            + timedelta(minutes=10)]  # fmt: skip
    on_time = [s for s in surveys if s not in set(late)]
    assert satisfaction(late) < satisfaction(on_time) - 0.5
    slow = [s for s in surveys if s.appointment.staff.name == SLOW]
    assert satisfaction(slow) < satisfaction([s for s in surveys if s not in set(slow)]) - 0.3

    # One follow-up task per completed appointment whose type asks for one.
    with_rule = completed.filter(appointment_type__follow_up_days__isnull=False)
    tasks = FollowUpTask.objects.filter(source="appointment_outcome")
    assert sorted(tasks.values_list("appointment", flat=True)) == sorted(
        with_rule.values_list("pk", flat=True)
    )
    for task in tasks.select_related("appointment__appointment_type", "appointment__location")[
        :200
    ]:
        kind = task.appointment.appointment_type
        day = local(task.appointment.starts_at, task.appointment).date()
        assert task.due_date == day + timedelta(days=kind.follow_up_days)
        assert task.reason == kind.follow_up_reason
        assert task.assignee_id == task.appointment.staff_id
    # Due: the due day is over at the patient's location.
    due, on_time, overdue = [], [], []
    for task in FollowUpTask.objects.select_related("patient__location"):
        zone = ZoneInfo(task.patient.location.timezone)
        due_end = datetime.combine(task.due_date + timedelta(days=1), time(0), tzinfo=zone)
        if due_end > anchor():
            continue
        due.append(task)
        if task.status == "done" and task.completed_at < due_end:
            on_time.append(task)
        if task.status == "open":
            overdue.append(task)
            assert task.escalated_at is not None
    assert 0.85 < len(on_time) / len(due) < 0.95
    assert overdue
    assert FollowUpTask.objects.filter(source="refill_trigger").exists()


def test_reminders_end_in_a_visible_state(capsys):
    seed()
    now = anchor()
    assert Reminder.objects.count() == 2 * Appointment.objects.count()
    reminders = Reminder.objects.select_related("appointment")
    assert set(reminders.values_list("template", flat=True)) == {
        "appointment_24h",
        "appointment_2h",
    }
    states = defaultdict(int)
    for reminder in reminders:
        states[reminder.status] += 1
        appointment = reminder.appointment
        assert reminder.send_at < appointment.starts_at
        if reminder.status == "scheduled":
            assert reminder.send_at >= now
        else:
            assert reminder.status in ("sent", "failed", "skipped", "cancelled")
        if reminder.status == "sent":
            assert reminder.send_at <= reminder.sent_at < now
            assert reminder.provider_message_id
            assert reminder.attempts >= 1
        if reminder.status in ("failed", "skipped", "cancelled"):
            assert reminder.reason
        if reminder.status == "cancelled":
            assert appointment.cancelled_at <= reminder.send_at
        if reminder.reason.startswith("booked inside the lead window"):
            assert reminder.send_at <= appointment.created_at
    assert states["sent"] > 0.6 * sum(states.values())
    assert 0 < states["failed"] < 0.06 * sum(states.values())
    reasons = set(Reminder.objects.filter(status="skipped").values_list("reason", flat=True))
    assert {"opted out of SMS", "no consent to SMS", "no consent to email"} <= reasons
    assert "booked inside the lead window (24 h before)" in reasons
