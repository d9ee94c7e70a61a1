"""Reminders: scheduled when an appointment is booked, cancelled with it, sent by Celery.
(Scheduling part; sending and backends in engagement.messaging.)"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from engagement.models import Reminder


def _template(hours):
    return f"appointment_{hours}h"


def schedule_for_appointment(appointment, *, now=None, replace=False):
    """One reminder per offset in ENGAGEMENT_REMINDER_OFFSETS_HOURS on the patient's preferred
    channel. A reminder whose time has already passed (booked inside the lead window) is
    recorded as skipped with that reason, so every reminder ends in a visible state."""
    now = now or timezone.now()
    channel = appointment.patient.preferred_channel
    with transaction.atomic():
        for hours in settings.ENGAGEMENT_REMINDER_OFFSETS_HOURS:
            send_at = appointment.starts_at - timedelta(hours=hours)
            values = {"send_at": send_at, "status": Reminder.Status.SCHEDULED, "reason": ""}
            if send_at <= now:
                values.update(
                    status=Reminder.Status.SKIPPED,
                    reason=f"booked inside the lead window ({hours} h before)",
                )
            lookup = {"appointment": appointment, "channel": channel, "template": _template(hours)}
            if replace:
                Reminder.objects.update_or_create(**lookup, defaults=values)
            else:
                Reminder.objects.get_or_create(**lookup, defaults=values)


def cancel_for_appointment(appointment):
    return appointment.reminders.filter(status=Reminder.Status.SCHEDULED).update(
        status=Reminder.Status.CANCELLED, reason="the appointment was cancelled or moved"
    )
