"""Reminders: scheduled when an appointment is booked, cancelled with it, sent by Celery.

Every reminder ends in one visible state, with the reason when it did not go out:
- sent (sent_at, provider_message_id);
- skipped: opted out, no consent, no phone number / email address, booked inside the lead
  window, quiet hours that end after the appointment, the appointment no longer on;
- failed: the provider refused it, or it still failed after MAX_ATTEMPTS tries;
- cancelled: the appointment was cancelled or moved.

Sending (send_due_reminders, run by a Celery beat task every minute) claims due reminders
batch by batch: one statement moves them from `scheduled` to `sending`, under
SELECT … FOR UPDATE SKIP LOCKED on PostgreSQL, so two workers never hold the same reminder and a
reminder is never sent twice. While a reminder is `sending`, its sent_at holds the moment it was
claimed (there is no column of its own for that); the outcome is written back only where the
claim is still ours, a constant number of UPDATE statements per batch.

A crashed worker leaves its claims in `sending`. After STALE_CLAIM (15 min) the next run puts
them back to `scheduled` (counted as an attempt). A worker stops sending from a batch once it
has held it for CLAIM_BUDGET (10 min, plus at most one provider timeout) and hands the rest
back, so a claim that is reclaimed is never still being worked. The one window left: a worker
that dies after the provider accepted a message but before the batch's outcome was written
sends it again after the reclaim; the provider APIs we speak have no idempotency key to close it.
"""

import logging
import smtplib
import time as monotonic_clock
from datetime import datetime, timedelta
from datetime import time as clock_time
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import get_connection
from django.db import connection, transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from engagement import messaging
from engagement.models import Appointment, FollowUpTask, Reminder
from opsintel.audit import Action, record_event

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
STALE_CLAIM = timedelta(minutes=15)
CLAIM_BUDGET = timedelta(minutes=10)
OVERDUE = timedelta(minutes=15)  # a scheduled reminder this late shows on the panel
NOTICES = ("moved", "needs_rebooking", "cancelled")  # sent at once, not before the visit
MANUAL = "manual_reminder"
TASK = "task_due"
TASK_SEND_TIME = clock_time(10, 0)  # local time, the day before the follow-up is due
ACTIVE = (Appointment.Status.SCHEDULED, Appointment.Status.CONFIRMED)
CHANNEL_LABELS = {Reminder.Channel.EMAIL: "email", Reminder.Channel.SMS: "SMS"}

# The panel's reason filter: code → (label, how the reason text starts).
REASONS = {
    "opted_out": ("Opted out", "opted out of"),
    "no_consent": ("No consent", "no consent to"),
    "no_phone": ("No phone number", "no phone number"),
    "no_email": ("No email address", "no email address"),
    "lead_window": ("Booked inside the lead window", "booked inside the lead window"),
    "quiet_hours": ("Quiet hours", "quiet hours"),
    "appointment": ("Appointment no longer on", "the appointment"),
    "follow_up": ("Follow-up closed", "the follow-up"),
    "rejected": ("Refused by the provider", "rejected:"),
    "gave_up": ("Still failing after retries", "gave up after"),
    "retrying": ("Failed, retrying", "attempt "),
}


def _template(hours):
    return f"appointment_{hours}h"


def contact_problem(patient, channel):
    """Why `patient` cannot be reached on `channel` ("" when they can)."""
    label = CHANNEL_LABELS[channel]
    if getattr(patient, f"{channel}_opted_out"):
        return f"opted out of {label}"
    if not getattr(patient, f"{channel}_consent"):
        return f"no consent to {label}"
    if channel == Reminder.Channel.SMS and not patient.phone:
        return "no phone number"
    if channel == Reminder.Channel.EMAIL and not patient.email:
        return "no email address"
    return ""


# Scheduling ------------------------------------------------------------------------------------


def schedule_for_appointment(appointment, *, now=None, replace=False):
    """One reminder per offset in ENGAGEMENT_REMINDER_OFFSETS_HOURS on the patient's preferred
    channel. One that cannot go out is recorded as skipped with the reason straight away (its
    time already passed: booked inside the lead window; the channel opted out, without consent
    or without a contact), so the panel shows it. `replace` (a moved appointment) starts each
    reminder afresh for the new time."""
    now = now or timezone.now()
    channel = appointment.patient.preferred_channel
    problem = contact_problem(appointment.patient, channel)
    with transaction.atomic():
        for hours in settings.ENGAGEMENT_REMINDER_OFFSETS_HOURS:
            send_at = appointment.starts_at - timedelta(hours=hours)
            values = {"send_at": send_at, "status": Reminder.Status.SCHEDULED, "reason": ""}
            if send_at <= now:
                values.update(
                    status=Reminder.Status.SKIPPED,
                    reason=f"booked inside the lead window ({hours} h before)",
                )
            elif problem:
                values.update(status=Reminder.Status.SKIPPED, reason=problem)
            lookup = {"appointment": appointment, "channel": channel, "template": _template(hours)}
            if replace:
                values.update(attempts=0, provider_message_id="", sent_at=None)
                Reminder.objects.update_or_create(**lookup, defaults=values)
            else:
                Reminder.objects.get_or_create(**lookup, defaults=values)


def cancel_for_appointment(appointment):
    """Cancel the appointment's waiting reminders, except a notice that still holds: the
    cancellation notice of a cancelled appointment, the "moved" notice of one still on, and the
    rebooking notice while it still needs rebooking."""
    keep = []
    if appointment.status == Appointment.Status.CANCELLED:
        keep = ["cancelled"]
    else:
        keep = ["moved"] + (["needs_rebooking"] if appointment.needs_rebooking else [])
    return (
        appointment.reminders.filter(status=Reminder.Status.SCHEDULED)
        .exclude(template__in=keep)
        .update(status=Reminder.Status.CANCELLED, reason="the appointment was cancelled or moved")
    )


def notify_patient(appointment, template, *, now=None):
    """Tell the patient at once that their appointment moved, needs rebooking or is cancelled
    (`template`: one of NOTICES). Due now on their preferred channel; recorded as skipped with
    the reason when that channel cannot be used. Idempotent: one per appointment, template and
    channel, so approving the same time off twice tells the patient once."""
    if template not in NOTICES:
        raise ValidationError({"template": f"Unknown notice {template!r}; use one of {NOTICES}."})
    now = now or timezone.now()
    patient = appointment.patient
    channel = patient.preferred_channel
    problem = contact_problem(patient, channel)
    reminder, _ = Reminder.objects.get_or_create(
        appointment=appointment,
        channel=channel,
        template=template,
        defaults={
            "send_at": now,
            "status": Reminder.Status.SKIPPED if problem else Reminder.Status.SCHEDULED,
            "reason": problem,
        },
    )
    return reminder


def schedule_for_task(task, *, now=None):
    """A message the day before a follow-up task is due (10:00 at the patient's location) that
    the pharmacy will be in touch; due now when that time has passed, skipped when the task is
    already overdue. Idempotent per task and channel."""
    now = now or timezone.now()
    patient = task.patient
    zone = ZoneInfo(patient.location.timezone)
    channel = patient.preferred_channel
    send_at = datetime.combine(task.due_date - timedelta(days=1), TASK_SEND_TIME, tzinfo=zone)
    values = {"send_at": max(send_at, now), "status": Reminder.Status.SCHEDULED, "reason": ""}
    problem = contact_problem(patient, channel)
    if task.due_date < now.astimezone(zone).date():
        values.update(status=Reminder.Status.SKIPPED, reason="the follow-up is already overdue")
    elif problem:
        values.update(status=Reminder.Status.SKIPPED, reason=problem)
    reminder, _ = Reminder.objects.get_or_create(
        task=task, channel=channel, template=TASK, defaults=values
    )
    return reminder


def send_reminder_now(appointment, channel, *, by=None, now=None):
    """A manual reminder on `channel`, due now (the next sending run takes it; the caller may
    queue one on commit). Refused with a ValidationError naming the field when the channel
    cannot be used (opted out, no consent, no contact), the appointment is not on, or a manual
    reminder already went out on that channel: a patient never gets it twice."""
    now = now or timezone.now()
    if channel not in CHANNEL_LABELS:
        choices = ", ".join(CHANNEL_LABELS)
        raise ValidationError({"channel": f"Unknown channel {channel!r}; use one of {choices}."})
    if appointment.status not in ACTIVE:
        state = appointment.get_status_display().lower()
        raise ValidationError({"appointment": f"The appointment is {state}: no reminder."})
    problem = contact_problem(appointment.patient, channel)
    if problem:
        raise ValidationError({"channel": f"The patient has {problem}."})
    with transaction.atomic():
        reminder, created = Reminder.objects.select_for_update().get_or_create(
            appointment=appointment,
            channel=channel,
            template=MANUAL,
            defaults={"send_at": now},
        )
        if not created:
            if reminder.status == Reminder.Status.SENT:
                when = timezone.localtime(reminder.sent_at).strftime("%b %d %H:%M")
                raise ValidationError(
                    {"channel": f"A manual {CHANNEL_LABELS[channel]} reminder went out on {when}."}
                )
            if reminder.status not in (Reminder.Status.SCHEDULED, Reminder.Status.SENDING):
                # Skipped, failed or cancelled before: try again from the start.
                reminder.status = Reminder.Status.SCHEDULED
                reminder.reason = ""
                reminder.attempts = 0
                reminder.send_at = now
                reminder.save(update_fields=["status", "reason", "attempts", "send_at"])
        record_event(
            Action.CREATE,
            actor=by,
            objects=reminder,
            description=f"Manual {CHANNEL_LABELS[channel]} reminder for appointment "
            f"{appointment.pk}",
        )
    return reminder


# Sending ---------------------------------------------------------------------------------------


def quiet_until(moment, zone):
    """When the quiet hours that `moment` falls in end (aware), or None outside them.
    ENGAGEMENT_QUIET_HOURS = ("21:00", "08:00") in the location's time zone; they may span
    midnight; equal or empty ends mean no quiet hours."""
    hours = settings.ENGAGEMENT_QUIET_HOURS
    if not hours:
        return None
    starts, ends = (clock_time.fromisoformat(value) for value in hours)
    if starts == ends:
        return None
    local = moment.astimezone(zone)
    now = local.time()
    if starts < ends:
        inside, end_day = starts <= now < ends, local.date()
    else:
        inside = now >= starts or now < ends
        end_day = local.date() + timedelta(days=1) if now >= starts else local.date()
    if not inside:
        return None
    return datetime.combine(end_day, ends, tzinfo=zone)


def _still_wanted(reminder):
    """Why the reminder should no longer go out ("" when it should)."""
    appointment, task = reminder.appointment, reminder.task
    if task is not None:
        if task.status != FollowUpTask.Status.OPEN:
            return f"the follow-up is {task.get_status_display().lower()}"
        return ""
    if reminder.template == "cancelled":
        if appointment.status != Appointment.Status.CANCELLED:
            return "the appointment is no longer cancelled"
        return ""
    if appointment.status not in ACTIVE:
        return f"the appointment is {appointment.get_status_display().lower()}"
    if reminder.template == "needs_rebooking" and not appointment.needs_rebooking:
        return "the appointment no longer needs rebooking"
    return ""


class _Run:
    """What one sending run shares: the backends, its clock and the time zones it met."""

    def __init__(self, now, sms_backend, email_connection):
        self.fixed_now = now
        self.sms = sms_backend if sms_backend is not None else messaging.get_sms_backend()
        self.email = email_connection or get_connection()
        self.email_open = self.email_tried = False
        self.zones = {}

    def mail(self):
        """The email connection, opened at the first email and kept for the run (one SMTP
        session, not one per message). A server that is down is not our problem here: each
        send then opens its own connection and fails as a transient error."""
        if not self.email_tried:
            self.email_tried = True
            try:
                self.email.open()
                self.email_open = True
            except (OSError, smtplib.SMTPException):
                logger.warning("Could not open the email connection", exc_info=True)
        return self.email

    def close(self):
        if self.email_open:
            self.email.close()

    def now(self):
        return self.fixed_now or timezone.now()

    def zone(self, name):
        if name not in self.zones:
            self.zones[name] = ZoneInfo(name)
        return self.zones[name]


def send_due_reminders(*, now=None, batch=500, sms_backend=None, email_connection=None):
    """Send every reminder due by `now`, `batch` at a time; returns counts by outcome:
    sent, failed, skipped, retrying (a transient failure: tried again after 1, 2, 4, 8 min),
    held (quiet hours: due again when they end), released (handed back unsent when a batch ran
    past CLAIM_BUDGET) and reclaimed (claims of a crashed worker put back first).

    Queries per batch are constant: claim (2), load (1), outcome (at most 4 UPDATEs)."""
    run = _Run(now, sms_backend, email_connection)
    counts = dict.fromkeys(
        ("sent", "failed", "skipped", "retrying", "held", "released", "reclaimed"), 0
    )
    counts["reclaimed"] = _reclaim(run.now())
    try:
        while True:
            claim = run.now()
            reminders = _claim(claim, batch)
            if not reminders:
                break
            deadline = monotonic_clock.monotonic() + CLAIM_BUDGET.total_seconds()
            outcomes = {}
            for reminder in reminders:
                if monotonic_clock.monotonic() > deadline:
                    outcomes[reminder.pk] = _released()
                    continue
                outcomes[reminder.pk] = _deliver(reminder, run)
            _record(reminders, outcomes, claim)
            for outcome in outcomes.values():
                counts[outcome["kind"]] += 1
            if len(reminders) < batch or any(o["kind"] == "released" for o in outcomes.values()):
                break
    finally:
        run.close()
    return counts


def _reclaim(moment):
    """Put claims older than STALE_CLAIM back to scheduled (an attempt spent; the last allowed
    one fails the reminder)."""
    stale = Reminder.objects.filter(
        status=Reminder.Status.SENDING, sent_at__lt=moment - STALE_CLAIM
    )
    given_up = stale.filter(attempts__gte=MAX_ATTEMPTS - 1).update(
        status=Reminder.Status.FAILED,
        attempts=MAX_ATTEMPTS,
        sent_at=None,
        reason=f"gave up after {MAX_ATTEMPTS} attempts: the worker stopped while sending",
    )
    back = stale.update(
        status=Reminder.Status.SCHEDULED,
        attempts=F("attempts") + 1,
        sent_at=None,
        reason="attempt interrupted: the worker stopped while sending",
    )
    if given_up or back:
        logger.warning("Reclaimed %s reminders left sending (%s failed)", back, given_up)
    return given_up + back


def _claim(moment, batch):
    """Take up to `batch` due reminders for this worker: scheduled → sending, stamped `moment`.
    SKIP LOCKED: rows another worker is claiming right now are left to it."""
    with transaction.atomic():
        ids = list(
            Reminder.objects.select_for_update(skip_locked=True)
            .filter(status=Reminder.Status.SCHEDULED, send_at__lte=moment)
            .order_by("send_at", "pk")
            .values_list("pk", flat=True)[:batch]
        )
        if not ids:
            return []
        Reminder.objects.filter(pk__in=ids, status=Reminder.Status.SCHEDULED).update(
            status=Reminder.Status.SENDING, sent_at=moment
        )
    return list(
        Reminder.objects.filter(pk__in=ids, status=Reminder.Status.SENDING, sent_at=moment)
        .select_related(
            "appointment__patient",
            "appointment__location",
            "task__patient__location",
        )
        .order_by("send_at", "pk")
    )


def _released():
    return {"kind": "released", "status": Reminder.Status.SCHEDULED, "sent_at": None}


def _skipped(reason):
    return {"kind": "skipped", "status": Reminder.Status.SKIPPED, "reason": reason,
            "sent_at": None}  # fmt: skip


def _deliver(reminder, run):
    """Check the reminder still makes sense, then send it; its outcome as column values."""
    appointment, task = reminder.appointment, reminder.task
    patient = appointment.patient if appointment is not None else task.patient
    location = appointment.location if appointment is not None else patient.location
    why_not = _still_wanted(reminder)
    if why_not:
        return _skipped(why_not)
    problem = contact_problem(patient, reminder.channel)
    if problem:
        return _skipped(problem)
    moment = run.now()
    zone = run.zone(location.timezone)
    until = quiet_until(moment, zone)
    if until is not None:
        local_end = f"{until:%H:%M}"
        if appointment is not None and until >= appointment.starts_at:
            return _skipped(f"quiet hours (until {local_end}) end after the appointment starts")
        return {
            "kind": "held",
            "status": Reminder.Status.SCHEDULED,
            "send_at": until,
            "sent_at": None,
            "reason": f"quiet hours: held until {local_end}",
        }
    attempts = reminder.attempts + 1
    try:
        message = messaging.compose(
            reminder.template,
            location=location,
            starts_at=appointment.starts_at if appointment is not None else None,
            due_date=task.due_date if task is not None else None,
        )
        if reminder.channel == Reminder.Channel.SMS:
            message_id = run.sms.send(patient.phone, message.body)
        else:
            message_id = messaging.send_email(patient.email, message, connection=run.mail())
    except messaging.PermanentSendError as error:
        return {
            "kind": "failed",
            "status": Reminder.Status.FAILED,
            "attempts": attempts,
            "sent_at": None,
            "reason": f"rejected: {error}"[:255],
        }
    except Exception as error:  # any other failure is retried, then recorded
        if not isinstance(error, messaging.TransientSendError):
            logger.exception("Sending reminder %s failed unexpectedly", reminder.pk)
        return _retry(reminder, attempts, error, moment)
    return {
        "kind": "sent",
        "status": Reminder.Status.SENT,
        "attempts": attempts,
        "sent_at": run.now(),
        "provider_message_id": str(message_id)[:100],
        "reason": "",
    }


def _retry(reminder, attempts, error, moment):
    if attempts >= MAX_ATTEMPTS:
        return {
            "kind": "failed",
            "status": Reminder.Status.FAILED,
            "attempts": attempts,
            "sent_at": None,
            "reason": f"gave up after {attempts} attempts: {error}"[:255],
        }
    return {
        "kind": "retrying",
        "status": Reminder.Status.SCHEDULED,
        "attempts": attempts,
        "sent_at": None,
        # 1, 2, 4, 8 minutes after the 1st, 2nd, 3rd, 4th failure.
        "send_at": moment + timedelta(minutes=2 ** (attempts - 1)),
        "reason": f"attempt {attempts} failed: {error}"[:255],
    }


OUTCOME_COLUMNS = ("status", "reason", "attempts", "send_at", "sent_at", "provider_message_id")


def _record(reminders, outcomes, claim):
    """Write the batch's outcomes, only where the claim is still ours (a reminder cancelled or
    rescheduled meanwhile keeps what that wrote). PostgreSQL: one UPDATE … FROM unnest(arrays)
    for the whole batch; elsewhere one UPDATE per resulting status with a CASE on the id."""
    if connection.vendor == "postgresql":
        _record_postgresql(reminders, outcomes, claim)
    else:
        _record_portable(outcomes, claim)


def _record_postgresql(reminders, outcomes, claim):
    # Each row gets every column: what the outcome says, else the value the claim loaded.
    rows = [
        [outcomes[r.pk].get(name, getattr(r, name)) for name in OUTCOME_COLUMNS] for r in reminders
    ]
    columns = list(zip(*rows, strict=True))
    types = ("text", "text", "integer", "timestamptz", "timestamptz", "text")
    unnest = ", ".join(f"%s::{kind}[]" for kind in types)
    assignments = ", ".join(f"{name} = v.{name}" for name in OUTCOME_COLUMNS)
    table = Reminder._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""UPDATE {table} AS r SET {assignments}
                FROM unnest(%s::bigint[], {unnest}) AS v (id, {", ".join(OUTCOME_COLUMNS)})
                WHERE r.id = v.id AND r.status = %s AND r.sent_at = %s""",  # noqa: S608 (constants)
            [[r.pk for r in reminders], *map(list, columns), Reminder.Status.SENDING, claim],
        )


def _record_portable(outcomes, claim):
    by_status = {}
    for pk, outcome in outcomes.items():
        by_status.setdefault(outcome["status"], {})[pk] = outcome
    for status, rows in by_status.items():
        columns = {name for outcome in rows.values() for name in outcome} - {"kind", "status"}
        values = {"status": status}
        for name in sorted(columns):
            field = Reminder._meta.get_field(name)
            given = {pk: outcome[name] for pk, outcome in rows.items() if name in outcome}
            distinct = set(given.values())
            if len(given) == len(rows) and len(distinct) == 1:
                values[name] = distinct.pop()
            else:
                # Rows without a value for the column keep theirs.
                values[name] = Case(
                    *(When(pk=pk, then=Value(v, output_field=field)) for pk, v in given.items()),
                    default=F(name),
                    output_field=field,
                )
        Reminder.objects.filter(
            pk__in=list(rows), status=Reminder.Status.SENDING, sent_at=claim
        ).update(**values)


# The panel -------------------------------------------------------------------------------------


def undelivered_for(user, *, now=None, status="", reason="", channel=""):
    """Reminders in the user's scope that did not reach the patient: failed and skipped ones,
    and scheduled or sending ones more than OVERDUE late; newest first."""
    now = now or timezone.now()
    late = now - OVERDUE
    visible = Q(appointment__in=Appointment.objects.visible_to(user)) | Q(
        task__in=FollowUpTask.objects.visible_to(user)
    )
    states = {
        "failed": Q(status=Reminder.Status.FAILED),
        "skipped": Q(status=Reminder.Status.SKIPPED),
        "overdue": Q(status=Reminder.Status.SCHEDULED, send_at__lt=late)
        | Q(status=Reminder.Status.SENDING, sent_at__lt=late),
    }
    wanted = states[status] if status else states["failed"] | states["skipped"] | states["overdue"]
    rows = Reminder.objects.filter(visible).filter(wanted)
    if reason:
        rows = rows.filter(reason__startswith=REASONS[reason][1])
    if channel:
        rows = rows.filter(channel=channel)
    return rows.select_related(
        "appointment__patient", "appointment__location", "task__patient"
    ).order_by("-send_at", "-pk")
