"""Reminders: scheduling, every way a send ends, retries, quiet hours, the panel.

The pharmacy is in New York; quiet hours are 21:00–08:00 there. An appointment on Monday
10:00 has its reminders on Sunday 10:00 (24 h) and Monday 08:00 (2 h).
"""

import socket
import threading
import time
from datetime import UTC, datetime, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from engagement import booking, messaging, reminders
from engagement.models import Appointment, FollowUpTask, Reminder
from opsintel.models import AuditEvent
from tests.engagement.factories import (
    MONDAY,
    LocationFactory,
    PatientFactory,
    StaffFactory,
    StaffUserFactory,
    at,
    kind,
)

pytestmark = pytest.mark.django_db
NOW = at(MONDAY - timedelta(days=3), "12:00")  # the Friday before
SUNDAY = MONDAY - timedelta(days=1)
OVERDUE_BADGE = '<span class="badge">Overdue</span>'


class FakeSms(messaging.SmsBackend):
    """Records what it sends; `script` lists what each call does (an exception to raise, or
    None to succeed); after the script every call succeeds."""

    def __init__(self, *script):
        self.script = list(script)
        self.sent = []
        self.calls = 0

    def send(self, to, body):
        self.calls += 1
        step = self.script.pop(0) if self.script else None
        if step is not None:
            raise step
        self.sent.append((to, body))
        return f"SM{self.calls:04d}"


@pytest.fixture(autouse=True)
def quiet_hours(settings):
    settings.ENGAGEMENT_QUIET_HOURS = ("21:00", "08:00")
    settings.ENGAGEMENT_REMINDER_OFFSETS_HOURS = (24, 2)
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def pharmacy():
    location = LocationFactory(name="Main Street")
    return {
        "location": location,
        "ann": StaffFactory(name="Ann", location=location),
        "patient": PatientFactory(location=location, name="Pat Doe", phone="+15550000001"),
    }


def book(pharmacy, when=None, patient=None, now=NOW):
    return booking.book(
        patient=patient or pharmacy["patient"],
        appointment_type=kind("vaccination"),
        staff=pharmacy["ann"],
        location=pharmacy["location"],
        starts_at=when or at(MONDAY, "10:00"),
        now=now,
    )


def states(appointment):
    return sorted(appointment.reminders.values_list("template", "status", "reason"))


def send(when, sms=None, **options):
    return reminders.send_due_reminders(now=when, sms_backend=sms or FakeSms(), **options)


def counts(**nonzero):
    base = dict.fromkeys(
        ("sent", "failed", "skipped", "retrying", "held", "released", "reclaimed"), 0
    )
    return {**base, **nonzero}


# Scheduling ------------------------------------------------------------------------------------


def test_booking_schedules_one_reminder_per_offset_on_the_preferred_channel(pharmacy):
    appointment = book(pharmacy)
    assert sorted(
        appointment.reminders.values_list("template", "channel", "status", "send_at")
    ) == [
        ("appointment_24h", "sms", "scheduled", at(SUNDAY, "10:00")),
        ("appointment_2h", "sms", "scheduled", at(MONDAY, "08:00")),
    ]


def test_offsets_come_from_settings(pharmacy, settings):
    settings.ENGAGEMENT_REMINDER_OFFSETS_HOURS = (48,)
    appointment = book(pharmacy)
    assert list(appointment.reminders.values_list("template", "send_at")) == [
        ("appointment_48h", at(MONDAY - timedelta(days=2), "10:00"))
    ]


@pytest.mark.parametrize(
    ("patient", "reason"),
    [
        ({"sms_opted_out": True}, "opted out of SMS"),
        ({"sms_consent": False}, "no consent to SMS"),
        ({"phone": ""}, "no phone number"),
        ({"preferred_channel": "email", "email_opted_out": True}, "opted out of email"),
        ({"preferred_channel": "email", "email_consent": False}, "no consent to email"),
        ({"preferred_channel": "email", "email": ""}, "no email address"),
    ],
)
def test_a_reminder_that_cannot_go_out_is_skipped_at_booking_with_the_reason(
    pharmacy, patient, reason
):
    someone = PatientFactory(location=pharmacy["location"], **patient)
    appointment = book(pharmacy, patient=someone)
    assert states(appointment) == [
        ("appointment_24h", "skipped", reason),
        ("appointment_2h", "skipped", reason),
    ]


def test_booked_inside_the_lead_window(pharmacy):
    appointment = book(pharmacy, now=at(SUNDAY, "12:00"))
    assert states(appointment) == [
        ("appointment_24h", "skipped", "booked inside the lead window (24 h before)"),
        ("appointment_2h", "scheduled", ""),
    ]


def test_cancelling_the_appointment_cancels_its_reminders_and_nothing_is_sent(pharmacy):
    appointment = book(pharmacy)
    booking.cancel(appointment, now=at(SUNDAY, "09:00"))
    assert {status for _, status, _ in states(appointment)} == {"cancelled"}
    sms = FakeSms()
    assert send(at(MONDAY, "09:00"), sms) == counts()
    assert sms.calls == 0


def test_moving_the_appointment_moves_its_reminders(pharmacy):
    appointment = book(pharmacy)
    send(at(SUNDAY, "10:00"))  # the 24 h reminder went out for 10:00
    booking.reschedule(appointment, starts_at=at(MONDAY, "15:00"), now=at(SUNDAY, "11:00"))
    # The 24 h reminder went out for the old time; the new time gets its own.
    assert sorted(appointment.reminders.values_list("template", "status", "send_at")) == [
        ("appointment_24h", "scheduled", at(SUNDAY, "15:00")),
        ("appointment_2h", "scheduled", at(MONDAY, "13:00")),
    ]
    sms = FakeSms()
    assert send(at(SUNDAY, "15:00"), sms) == counts(sent=1)
    assert "Mon Mar 16 at 15:00" in sms.sent[0][1]


# Sending ---------------------------------------------------------------------------------------


def test_a_due_sms_is_sent_once_with_where_and_when_only(pharmacy):
    appointment = book(pharmacy)
    sms = FakeSms()
    assert send(at(SUNDAY, "10:00"), sms) == counts(sent=1)
    ((to, body),) = sms.sent
    assert to == "+15550000001"
    assert body.startswith("Reminder: your appointment at Main Street is tomorrow, Mon Mar 16")
    assert "Pat" not in body
    assert "accination" not in body
    sent = appointment.reminders.get(template="appointment_24h")
    assert (sent.status, sent.sent_at, sent.provider_message_id, sent.attempts) == (
        "sent",
        at(SUNDAY, "10:00"),
        "SM0001",
        1,
    )
    assert appointment.reminders.get(template="appointment_2h").status == "scheduled"
    # Never twice: the next run finds nothing due.
    assert send(at(SUNDAY, "10:05"), sms) == counts()
    assert sms.calls == 1


def test_a_due_email_goes_through_djangos_backend(pharmacy):
    patient = PatientFactory(location=pharmacy["location"], preferred_channel="email",
                             email="pat@example.org")  # fmt: skip
    appointment = book(pharmacy, patient=patient)
    assert send(at(SUNDAY, "10:00")) == counts(sent=1)
    (email,) = mail.outbox
    assert email.to == ["pat@example.org"]
    assert email.subject == "Appointment reminder"
    sent = appointment.reminders.get(template="appointment_24h")
    assert sent.provider_message_id == email.message()["Message-ID"]


def test_a_mail_server_that_is_down_delays_email_only(pharmacy, settings):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", closed_port, 2
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    patient = PatientFactory(location=pharmacy["location"], preferred_channel="email")
    by_email = book(pharmacy, patient=patient, when=at(MONDAY, "10:00"))
    by_sms = book(pharmacy, when=at(MONDAY, "10:30"))
    assert send(at(SUNDAY, "10:30")) == counts(sent=1, retrying=1)
    waiting = by_email.reminders.get(template="appointment_24h")
    assert (waiting.status, waiting.send_at) == ("scheduled", at(SUNDAY, "10:31"))
    assert waiting.reason.startswith("attempt 1 failed: the mail server did not take the message")
    assert by_sms.reminders.get(template="appointment_24h").status == "sent"


def test_the_sms_backend_comes_from_settings(pharmacy, settings, tmp_path):
    settings.ENGAGEMENT_SMS_BACKEND = "engagement.messaging.FileSmsBackend"
    settings.ENGAGEMENT_SMS_FILE_PATH = str(tmp_path)
    book(pharmacy)
    assert reminders.send_due_reminders(now=at(SUNDAY, "10:00")) == counts(sent=1)
    assert '"to": "+15550000001"' in (tmp_path / "sms.jsonl").read_text()


def test_a_transient_failure_is_retried_with_backoff_then_sent(pharmacy):
    appointment = book(pharmacy)
    busy = messaging.TransientSendError("provider answered 503")
    sms = FakeSms(busy, busy)
    reminder = appointment.reminders.get(template="appointment_24h")

    assert send(at(SUNDAY, "10:00"), sms) == counts(retrying=1)
    reminder.refresh_from_db()
    assert (reminder.status, reminder.attempts, reminder.send_at, reminder.reason) == (
        "scheduled",
        1,
        at(SUNDAY, "10:01"),
        "attempt 1 failed: provider answered 503",
    )
    assert send(at(SUNDAY, "10:00:59"), sms) == counts()  # not due again yet
    assert send(at(SUNDAY, "10:01"), sms) == counts(retrying=1)
    reminder.refresh_from_db()
    assert (reminder.attempts, reminder.send_at) == (2, at(SUNDAY, "10:03"))
    assert send(at(SUNDAY, "10:03"), sms) == counts(sent=1)
    reminder.refresh_from_db()
    assert (reminder.status, reminder.attempts, reminder.reason) == ("sent", 3, "")
    assert reminder.provider_message_id == "SM0003"


def test_it_fails_after_five_attempts_at_1_2_4_8_minutes(pharmacy):
    appointment = book(pharmacy)
    sms = FakeSms(*[messaging.TransientSendError("timed out")] * 10)
    reminder = appointment.reminders.get(template="appointment_24h")
    tries = []
    for minute in ("10:00", "10:01", "10:03", "10:07", "10:15"):
        send(at(SUNDAY, minute), sms)
        reminder.refresh_from_db()
        tries.append((reminder.status, reminder.attempts, reminder.send_at))
    assert tries == [
        ("scheduled", 1, at(SUNDAY, "10:01")),
        ("scheduled", 2, at(SUNDAY, "10:03")),
        ("scheduled", 3, at(SUNDAY, "10:07")),
        ("scheduled", 4, at(SUNDAY, "10:15")),
        ("failed", 5, at(SUNDAY, "10:15")),
    ]
    assert reminder.reason == "gave up after 5 attempts: timed out"
    assert send(at(SUNDAY, "11:00"), sms) == counts()
    assert sms.calls == 5


def test_a_refused_message_fails_at_once(pharmacy):
    appointment = book(pharmacy)
    sms = FakeSms(messaging.PermanentSendError("not a valid phone number"))
    assert send(at(SUNDAY, "10:00"), sms) == counts(failed=1)
    reminder = appointment.reminders.get(template="appointment_24h")
    assert (reminder.status, reminder.attempts, reminder.reason) == (
        "failed",
        1,
        "rejected: not a valid phone number",
    )
    assert send(at(SUNDAY, "10:30"), sms) == counts()


def test_checks_at_send_time_opted_out_since_booking(pharmacy):
    appointment = book(pharmacy)
    patient = pharmacy["patient"]
    patient.sms_opted_out = True
    patient.save()
    sms = FakeSms()
    assert send(at(SUNDAY, "10:00"), sms) == counts(skipped=1)
    assert sms.calls == 0
    assert appointment.reminders.get(template="appointment_24h").reason == "opted out of SMS"


def test_checks_at_send_time_appointment_no_longer_on(pharmacy):
    appointment = book(pharmacy)
    # Checked in early, say: the status changed without a cancellation.
    Appointment.objects.filter(pk=appointment.pk).update(status=Appointment.Status.CHECKED_IN)
    assert send(at(MONDAY, "08:00")) == counts(skipped=2)
    assert states(appointment) == [
        ("appointment_24h", "skipped", "the appointment is checked in"),
        ("appointment_2h", "skipped", "the appointment is checked in"),
    ]


def test_a_crashed_workers_claim_is_reclaimed_after_15_minutes(pharmacy):
    appointment = book(pharmacy)
    claimed = at(SUNDAY, "10:00")
    # A worker claimed the 24 h reminder at 10:00 and died.
    appointment.reminders.filter(template="appointment_24h").update(
        status=Reminder.Status.SENDING, sent_at=claimed
    )
    sms = FakeSms()
    assert send(at(SUNDAY, "10:14"), sms) == counts()  # it may still be working
    assert send(at(SUNDAY, "10:16"), sms) == counts(reclaimed=1, sent=1)
    reminder = appointment.reminders.get(template="appointment_24h")
    assert (reminder.status, reminder.attempts, reminder.sent_at) == (
        "sent",
        2,
        at(SUNDAY, "10:16"),
    )


def test_two_runs_at_once_send_nothing_twice(pharmacy):
    for hour in ("10:00", "10:30", "11:00", "11:30"):
        book(pharmacy, when=at(MONDAY, hour))
    sms = FakeSms()
    first = send(at(SUNDAY, "12:00"), sms, batch=3)
    second = send(at(SUNDAY, "12:00"), sms, batch=3)
    assert (first, second) == (counts(sent=4), counts())
    assert sms.calls == 4


def test_queries_per_batch_do_not_grow_with_the_batch(pharmacy):
    def queries_to_send(hours):
        for hour in hours:
            book(pharmacy, when=at(MONDAY, hour))
        with CaptureQueriesContext(connection) as captured:
            result = send(at(SUNDAY, "18:00"))
        return result["sent"], len(captured)

    few = queries_to_send(["09:00"])
    many = queries_to_send(["09:30", "10:00", "10:30", "11:00", "13:00", "13:30", "14:00"])
    assert few[0] == 1
    assert many[0] == 7
    assert few[1] == many[1]


# Quiet hours -----------------------------------------------------------------------------------


def test_quiet_hours_are_read_in_the_locations_time_zone(settings):
    ten_pm_new_york = datetime(2026, 3, 17, 2, 0, tzinfo=UTC)
    new_york, los_angeles = ZoneInfo("America/New_York"), ZoneInfo("America/Los_Angeles")
    assert reminders.quiet_until(ten_pm_new_york, new_york) == datetime(
        2026, 3, 17, 8, 0, tzinfo=new_york
    )
    assert reminders.quiet_until(ten_pm_new_york, los_angeles) is None  # 19:00 there
    settings.ENGAGEMENT_QUIET_HOURS = ("12:00", "13:00")
    assert reminders.quiet_until(datetime(2026, 3, 16, 16, 30, tzinfo=UTC), new_york) == (
        datetime(2026, 3, 16, 13, 0, tzinfo=new_york)
    )
    settings.ENGAGEMENT_QUIET_HOURS = None
    assert reminders.quiet_until(ten_pm_new_york, new_york) is None


def test_a_reminder_due_in_quiet_hours_is_held_until_they_end(pharmacy):
    appointment = book(pharmacy, when=at(MONDAY, "09:30"))  # the 2 h reminder: 07:30
    sms = FakeSms()
    send(at(SUNDAY, "09:30"), sms)
    assert send(at(MONDAY, "07:30"), sms) == counts(held=1)
    held = appointment.reminders.get(template="appointment_2h")
    assert (held.status, held.send_at, held.reason) == (
        "scheduled",
        at(MONDAY, "08:00"),
        "quiet hours: held until 08:00",
    )
    assert send(at(MONDAY, "08:00"), sms) == counts(sent=1)
    held.refresh_from_db()
    assert (held.status, held.reason, held.attempts) == ("sent", "", 1)


def test_quiet_hours_that_end_after_the_appointment_skip_it(pharmacy, settings):
    settings.ENGAGEMENT_QUIET_HOURS = ("21:00", "09:30")
    appointment = book(pharmacy, when=at(MONDAY, "09:00"))  # the 2 h reminder: 07:00
    send(at(SUNDAY, "09:30"))
    assert send(at(MONDAY, "07:00")) == counts(skipped=1)
    assert appointment.reminders.get(template="appointment_2h").reason == (
        "quiet hours (until 09:30) end after the appointment starts"
    )


# Notices and manual reminders ------------------------------------------------------------------


def test_notify_patient_is_due_now_and_idempotent(pharmacy):
    appointment = book(pharmacy)
    notice = reminders.notify_patient(appointment, "needs_rebooking", now=at(SUNDAY, "09:00"))
    again = reminders.notify_patient(appointment, "needs_rebooking", now=at(SUNDAY, "09:30"))
    assert notice.pk == again.pk
    assert (notice.status, notice.send_at, notice.channel) == (
        "scheduled",
        at(SUNDAY, "09:00"),
        "sms",
    )
    Appointment.objects.filter(pk=appointment.pk).update(needs_rebooking=True)
    sms = FakeSms()
    assert send(at(SUNDAY, "09:05"), sms) == counts(sent=1)
    assert "cannot go ahead" in sms.sent[0][1]
    with pytest.raises(ValidationError) as error:
        reminders.notify_patient(appointment, "hello")
    assert "template" in error.value.message_dict


def test_a_cancellation_notice_survives_the_cancellation(pharmacy):
    appointment = book(pharmacy)
    booking.cancel(appointment, now=at(SUNDAY, "09:00"))
    reminders.notify_patient(appointment, "cancelled", now=at(SUNDAY, "09:00"))
    sms = FakeSms()
    assert send(at(SUNDAY, "09:01"), sms) == counts(sent=1)
    assert "is cancelled" in sms.sent[0][1]


def test_a_notice_to_an_opted_out_channel_is_recorded_as_skipped(pharmacy):
    patient = PatientFactory(location=pharmacy["location"], sms_opted_out=True)
    appointment = book(pharmacy, patient=patient)
    notice = reminders.notify_patient(appointment, "moved", now=at(SUNDAY, "09:00"))
    assert (notice.status, notice.reason) == ("skipped", "opted out of SMS")


def test_a_manual_reminder_on_an_opted_out_channel_is_refused(pharmacy):
    patient = PatientFactory(location=pharmacy["location"], sms_opted_out=True,
                             preferred_channel="email")  # fmt: skip
    appointment = book(pharmacy, patient=patient)
    before = Reminder.objects.count()
    with pytest.raises(ValidationError) as error:
        reminders.send_reminder_now(appointment, "sms", now=at(SUNDAY, "09:00"))
    assert error.value.message_dict == {"channel": ["The patient has opted out of SMS."]}
    with pytest.raises(ValidationError) as error:
        reminders.send_reminder_now(appointment, "fax")
    assert list(error.value.message_dict) == ["channel"]
    assert Reminder.objects.count() == before


def test_a_manual_reminder_is_sent_once(pharmacy):
    appointment = book(pharmacy)
    reminder = reminders.send_reminder_now(appointment, "sms", now=at(SUNDAY, "09:00"))
    assert (reminder.template, reminder.status, reminder.send_at) == (
        "manual_reminder",
        "scheduled",
        at(SUNDAY, "09:00"),
    )
    assert send(at(SUNDAY, "09:00")) == counts(sent=1)
    with pytest.raises(ValidationError, match="went out on"):
        reminders.send_reminder_now(appointment, "sms", now=at(SUNDAY, "09:10"))


def test_a_follow_up_task_reminder_the_day_before(pharmacy):
    task = FollowUpTask.objects.create(
        patient=pharmacy["patient"], reason="Adherence call", due_date=MONDAY
    )
    reminder = reminders.schedule_for_task(task, now=NOW)
    assert (reminder.template, reminder.send_at) == ("task_due", at(SUNDAY, "10:00"))
    sms = FakeSms()
    assert send(at(SUNDAY, "10:00"), sms) == counts(sent=1)
    assert "follow-up around Mon Mar 16" in sms.sent[0][1]


# Concurrency on PostgreSQL ---------------------------------------------------------------------


class SlowSms(FakeSms):
    def __init__(self):
        super().__init__()
        self.lock = threading.Lock()

    def send(self, to, body):
        time.sleep(0.01)
        with self.lock:
            self.calls += 1
            self.sent.append((to, body))
            return f"SM{self.calls:04d}"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_workers_at_once_on_postgresql_never_send_one_reminder_twice(pharmacy):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    for day in range(5):
        for hour in ("09:00", "09:30", "10:00", "10:30", "11:00", "13:00", "14:00", "15:00"):
            book(pharmacy, when=at(MONDAY + timedelta(days=day), hour))
    due = Reminder.objects.filter(status="scheduled").count()
    assert due == 80
    sms = SlowSms()
    results, errors = [], []
    start = threading.Barrier(2)

    def worker():
        try:
            start.wait()
            results.append(send(at(MONDAY + timedelta(days=5), "12:00"), sms, batch=7))
        except Exception as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    # Every reminder went out, and there were exactly as many sends as reminders: none twice.
    assert Reminder.objects.filter(status="sent").count() == due
    assert sms.calls == due
    assert Reminder.objects.values("provider_message_id").distinct().count() == due
    assert sum(result["sent"] for result in results) == due
    assert all(result["sent"] for result in results)  # both workers took part


# The panel -------------------------------------------------------------------------------------


def staff_client(client, location, role, group):
    member = StaffUserFactory(role=role, user__roles=[group], location=location, shifts=[])
    client.force_login(member.user)
    return client


@pytest.mark.parametrize(
    ("role", "group", "status"),
    [
        ("pharmacy_manager", "Pharmacy manager", 200),
        ("pharmacy_technician", "Pharmacy technician", 200),
        ("senior_pharmacist", "Senior pharmacist", 200),
        ("staff_pharmacist", "Staff pharmacist", 403),
        ("administrative_staff", "Administrative staff", 403),
    ],
)
def test_the_panel_by_role(client, pharmacy, role, group, status):
    staff_client(client, pharmacy["location"], role, group)
    assert client.get(reverse("engagement:reminders")).status_code == status


def test_the_panel_lists_what_did_not_go_out_in_scope_and_is_audited(client, pharmacy):
    opted_out = PatientFactory(location=pharmacy["location"], name="Olive Out",
                               sms_opted_out=True)  # fmt: skip
    skipped = book(pharmacy, when=at(MONDAY, "10:00"), patient=opted_out)
    sent = book(pharmacy, when=at(MONDAY, "11:00"))
    send(at(SUNDAY, "11:00"), FakeSms())
    late = book(pharmacy, when=at(MONDAY, "15:00"))  # its 24 h reminder: Sunday 15:00
    # Elsewhere: a failed reminder the user must not see.
    other = LocationFactory(name="Elsewhere")
    far = book({"location": other, "ann": StaffFactory(location=other),
                "patient": PatientFactory(location=other, name="Far Away")})  # fmt: skip
    send(at(SUNDAY, "10:00"), FakeSms(messaging.PermanentSendError("bad number")))
    assert far.reminders.get(template="appointment_24h").status == "failed"

    staff_client(client, pharmacy["location"], "pharmacy_manager", "Pharmacy manager")
    # Sunday 15:30: the late appointment's 24 h reminder is 30 minutes overdue.
    with mock.patch("django.utils.timezone.now", return_value=at(SUNDAY, "15:30")):
        page = client.get(reverse("engagement:reminders"))
        assert page.status_code == 200
        text = page.content.decode()
        assert "Olive Out" in text
        assert "opted out of SMS" in text
        assert text.count("Olive Out") == 2  # both reminders
        assert "Far Away" not in text
        assert OVERDUE_BADGE in text
        assert reverse("engagement:appointment_detail", args=[skipped.pk]) in text
        assert reverse("engagement:appointment_detail", args=[sent.pk]) not in text
        event = AuditEvent.objects.get(action="view", object_type="engagement.patient")
        assert sorted(event.object_ids) == sorted({str(skipped.patient_id), str(late.patient_id)})

        only_late = client.get(
            reverse("engagement:reminders"), {"status": "overdue"}
        ).content.decode()
        assert "Olive Out" not in only_late
        assert OVERDUE_BADGE in only_late
        by_reason = client.get(
            reverse("engagement:reminders"), {"reason": "opted_out"}
        ).content.decode()
        assert "Olive Out" in by_reason
        assert OVERDUE_BADGE not in by_reason
        nothing = client.get(reverse("engagement:reminders"), {"reason": "rejected"}).content
        assert b"No undelivered reminder matches these filters" in nothing
        ignored = client.get(reverse("engagement:reminders"), {"status": "lost"}, follow=True)
        assert ignored.status_code == 200
        assert b"Ignored the status filter" in ignored.content
