"""Slot search and booking.

A slot for an appointment type at a location is a start time at which a qualified staff
member can deliver it: inside the location's opening hours and the staff member's working
hours, outside their break and approved time off, not a location holiday, clear of their
other appointments (each holds its staff member from its start to its end plus its type's
buffer; the new one needs its own buffer clear after it too), within the staff member's and
the type's daily caps, and within the type's lead-time window. Times are wall-clock times in
the location's time zone, so a day when the clocks change keeps its 09:00 opening.

`book` checks the very same rules (`problems`) inside a transaction that first locks the staff
member's row: two concurrent bookings of one staff member run one after the other, and the
second sees the first, so nobody is ever double-booked.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from engagement.models import (
    Appointment,
    LocationHoliday,
    OpeningHours,
    StaffMember,
    TimeOff,
    WorkingHours,
)
from opsintel.audit import Action, record_event


@dataclass(frozen=True)
class Slot:
    starts_at: datetime
    ends_at: datetime
    staff: StaffMember

    @property
    def staff_id(self):
        return self.staff.pk


def qualified_staff(appointment_type, location):
    """Active staff at the location allowed to deliver the type (role, qualification, and the
    services they deliver — none listed means every type their role allows)."""
    staff = StaffMember.objects.filter(
        active=True, locations=location, role__in=appointment_type.allowed_roles
    ).annotate(types=Count("appointment_types"))
    staff = staff.filter(Q(types=0) | Q(appointment_types=appointment_type)).distinct()
    required = appointment_type.required_qualification
    members = list(staff.order_by("name", "pk"))
    if required:
        members = [member for member in members if required in (member.qualifications or [])]
    return members


def _aware(day, clock, zone):
    return datetime.combine(day, clock, tzinfo=zone)


def _overlaps(start, end, intervals):
    return any(start < other_end and other_start < end for other_start, other_end in intervals)


class _Day:
    """Everything the rules need about one location day, loaded once for a search."""

    def __init__(self, appointment_type, location, staff, first, last):
        self.type = appointment_type
        self.location = location
        self.zone = ZoneInfo(location.timezone)
        self.staff = {member.pk: member for member in staff}
        self.opening = {}
        for row in OpeningHours.objects.filter(location=location):
            self.opening.setdefault(row.weekday, []).append((row.opens, row.closes))
        self.holidays = set(
            LocationHoliday.objects.filter(
                location=location, date__range=(first, last)
            ).values_list("date", flat=True)
        )
        self.hours = {}
        for row in WorkingHours.objects.filter(location=location, staff__in=self.staff):
            self.hours.setdefault((row.staff_id, row.weekday), []).append(row)
        window_start = _aware(first, datetime.min.time(), self.zone) - timedelta(days=1)
        window_end = _aware(last, datetime.min.time(), self.zone) + timedelta(days=2)
        self.time_off = {}
        for row in TimeOff.objects.filter(
            staff__in=self.staff,
            status=TimeOff.Status.APPROVED,
            starts_at__lt=window_end,
            ends_at__gt=window_start,
        ):
            self.time_off.setdefault(row.staff_id, []).append((row.starts_at, row.ends_at))
        self.busy = {}
        self.per_staff_day = {}
        self.per_type_day = {}
        appointments = Appointment.objects.holding_time().filter(
            starts_at__lt=window_end, blocked_until__gt=window_start
        )
        for staff_id, type_id, location_id, starts, blocked in appointments.filter(
            Q(staff__in=self.staff) | Q(location=location, appointment_type=appointment_type)
        ).values_list(
            "staff_id", "appointment_type_id", "location_id", "starts_at", "blocked_until"
        ):
            day = timezone.localtime(starts, self.zone).date()
            if staff_id in self.staff:
                self.busy.setdefault(staff_id, []).append((starts, blocked))
                self.per_staff_day[staff_id, day] = self.per_staff_day.get((staff_id, day), 0) + 1
            if type_id == appointment_type.pk and location_id == location.pk:
                self.per_type_day[day] = self.per_type_day.get(day, 0) + 1

    def problems(self, member, starts_at, now, *, ignore=None):
        """Why `member` cannot deliver the type at `starts_at` (empty: they can). `ignore` is an
        interval already counted (the appointment being moved)."""
        found = []
        kind = self.type
        duration = timedelta(minutes=kind.duration_minutes)
        ends_at = starts_at + duration
        held_until = ends_at + timedelta(minutes=kind.buffer_minutes)
        local = timezone.localtime(starts_at, self.zone)
        day, weekday = local.date(), local.weekday()
        local_end = timezone.localtime(ends_at, self.zone)
        if starts_at < now:
            found.append(("starts_at", "That time is in the past."))
        if starts_at < now + timedelta(hours=kind.min_lead_hours):
            found.append(
                ("starts_at", f"{kind.name} is booked at least {kind.min_lead_hours} h ahead.")
            )
        if starts_at > now + timedelta(days=kind.max_lead_days):
            found.append(
                ("starts_at", f"{kind.name} is booked at most {kind.max_lead_days} days ahead.")
            )
        if day in self.holidays:
            found.append(("starts_at", f"{self.location} is closed on {day:%B %-d} (holiday)."))
        if local_end.date() != day or not any(
            opens <= local.time() and local_end.time() <= closes
            for opens, closes in self.opening.get(weekday, [])
        ):
            found.append(("starts_at", f"{self.location} is not open for the whole appointment."))
        if member.pk not in self.staff:
            found.append(("staff", f"{member} is not qualified for {kind.name} here."))
            return found
        shifts = self.hours.get((member.pk, weekday), [])
        shift = next(
            (
                row
                for row in shifts
                if row.starts <= local.time() and local_end.time() <= row.ends
                and local_end.date() == day
            ),
            None,
        )  # fmt: skip
        if shift is None:
            found.append(("starts_at", f"{member} is not working then."))
        elif shift.break_starts and _overlaps(
            local.time(), local_end.time(), [(shift.break_starts, shift.break_ends)]
        ):
            found.append(("starts_at", f"That is during {member}'s break."))
        if _overlaps(starts_at, ends_at, self.time_off.get(member.pk, [])):
            found.append(("starts_at", f"{member} has time off then."))
        busy = [interval for interval in self.busy.get(member.pk, []) if interval != ignore]
        if _overlaps(starts_at, held_until, busy):
            found.append(("starts_at", f"{member} has another appointment then."))
        taken = self.per_staff_day.get((member.pk, day), 0) - (1 if ignore else 0)
        if taken >= member.max_appointments_per_day:
            found.append(("staff", f"{member} is fully booked on {day:%B %-d}."))
        cap = kind.max_bookings_per_day
        if cap is not None and self.per_type_day.get(day, 0) - (1 if ignore else 0) >= cap:
            found.append(("starts_at", f"{kind.name} is fully booked on {day:%B %-d}."))
        return found

    def book(self, member, starts_at):
        """Count a slot just offered, so a search spreads load and respects the caps."""
        day = timezone.localtime(starts_at, self.zone).date()
        held = starts_at + timedelta(minutes=self.type.duration_minutes + self.type.buffer_minutes)
        self.busy.setdefault(member.pk, []).append((starts_at, held))
        self.per_staff_day[member.pk, day] = self.per_staff_day.get((member.pk, day), 0) + 1
        self.per_type_day[day] = self.per_type_day.get(day, 0) + 1


def find_slots(appointment_type, location, first_day, last_day, *, now=None, limit=20):
    """Free slots, earliest first; at one time, the qualified staff member with the fewest
    appointments that day first (so load spreads). Each start time is offered once."""
    now = now or timezone.now()
    staff = qualified_staff(appointment_type, location)
    if not staff or last_day < first_day:
        return []
    rules = _Day(appointment_type, location, staff, first_day, last_day)
    step = timedelta(minutes=settings.ENGAGEMENT_SLOT_STEP_MINUTES)
    slots, offered = [], {}
    day = first_day
    while day <= last_day and len(slots) < limit:
        for opens, closes in sorted(rules.opening.get(day.weekday(), [])):
            moment = _aware(day, opens, rules.zone)
            last_start = _aware(day, closes, rules.zone)
            while moment < last_start and len(slots) < limit:
                # Fewest appointments that day first, counting the slots already offered, so
                # the suggestions spread over whoever is free.
                ranked = sorted(
                    staff,
                    key=lambda m: (
                        rules.per_staff_day.get((m.pk, day), 0) + offered.get((m.pk, day), 0),
                        m.name,
                        m.pk,
                    ),
                )
                for member in ranked:
                    if not rules.problems(member, moment, now):
                        offered[member.pk, day] = offered.get((member.pk, day), 0) + 1
                        slots.append(
                            Slot(
                                moment,
                                moment + timedelta(minutes=appointment_type.duration_minutes),
                                member,
                            )
                        )
                        break
                moment += step
        day += timedelta(days=1)
    return slots


def problems(appointment_type, location, staff, starts_at, *, now=None, ignore=None):
    """Every reason this booking cannot be made, as (field, message) pairs."""
    now = now or timezone.now()
    day = timezone.localtime(starts_at, ZoneInfo(location.timezone)).date()
    qualified = [m for m in qualified_staff(appointment_type, location) if m.pk == staff.pk]
    rules = _Day(appointment_type, location, qualified, day, day)
    if not qualified:
        reasons = []
        if not staff.active:
            reasons.append(("staff", f"{staff} is not active."))
        else:
            reasons.append(
                ("staff", f"{staff} is not qualified to deliver {appointment_type.name} here.")
            )
        return reasons + [p for p in rules.problems(staff, starts_at, now) if p[0] != "staff"]
    return rules.problems(staff, starts_at, now, ignore=ignore)


def _raise(found):
    errors = {}
    for field, message in found:
        errors.setdefault(field, []).append(message)
    raise ValidationError(errors)


def book(*, patient, appointment_type, staff, location, starts_at, booked_by=None, now=None):
    """Book an appointment, or raise a ValidationError naming every problem (nothing written).

    The staff member's row is locked first, so concurrent bookings of one person queue up and
    the later ones see the earlier ones."""
    from engagement import reminders

    if patient.location_id != location.pk and not location.staff.filter(pk=staff.pk).exists():
        _raise([("location", f"{staff} does not work at {location}.")])
    with transaction.atomic():
        StaffMember.objects.select_for_update().get(pk=staff.pk)
        found = problems(appointment_type, location, staff, starts_at, now=now)
        if found:
            _raise(found)
        ends_at = starts_at + timedelta(minutes=appointment_type.duration_minutes)
        appointment = Appointment.objects.create(
            patient=patient,
            appointment_type=appointment_type,
            staff=staff,
            location=location,
            starts_at=starts_at,
            ends_at=ends_at,
            blocked_until=ends_at + timedelta(minutes=appointment_type.buffer_minutes),
            price=appointment_type.price,
            booked_by=booked_by,
        )
        reminders.schedule_for_appointment(appointment, now=now)
        record_event(
            Action.CREATE, actor=booked_by, objects=appointment, description="Appointment booked"
        )
    return appointment


def cancel(appointment, *, reason="", by=None, now=None):
    """Cancel under the type's policy: inside its cancellation window it is a late cancellation
    (and the fee applies). Waiting reminders are cancelled."""
    from engagement import reminders

    now = now or timezone.now()
    if appointment.status not in (Appointment.Status.SCHEDULED, Appointment.Status.CONFIRMED):
        state = appointment.get_status_display().lower()
        raise ValidationError({"status": f"A {state} appointment can't be cancelled."})
    window = timedelta(hours=appointment.appointment_type.cancellation_hours)
    with transaction.atomic():
        appointment.status = Appointment.Status.CANCELLED
        appointment.cancelled_at = now
        appointment.cancellation_reason = reason[:200]
        appointment.late_cancellation = appointment.starts_at - now < window
        appointment.save(
            update_fields=["status", "cancelled_at", "cancellation_reason", "late_cancellation"]
        )
        reminders.cancel_for_appointment(appointment)
        record_event(
            Action.UPDATE, actor=by, objects=appointment, description="Appointment cancelled"
        )
    return appointment


def reschedule(appointment, *, starts_at, staff=None, by=None, now=None):
    """Move an appointment (same type and location) under the same rules as a new booking."""
    from engagement import reminders

    if appointment.status not in (Appointment.Status.SCHEDULED, Appointment.Status.CONFIRMED):
        state = appointment.get_status_display().lower()
        raise ValidationError({"status": f"A {state} appointment can't be moved."})
    staff = staff or appointment.staff
    with transaction.atomic():
        StaffMember.objects.select_for_update().get(pk=staff.pk)
        ignore = (
            (appointment.starts_at, appointment.blocked_until)
            if staff.pk == appointment.staff_id
            else None
        )
        found = problems(
            appointment.appointment_type,
            appointment.location,
            staff,
            starts_at,
            now=now,
            ignore=ignore,
        )
        if found:
            _raise(found)
        kind = appointment.appointment_type
        appointment.staff = staff
        appointment.starts_at = starts_at
        appointment.ends_at = starts_at + timedelta(minutes=kind.duration_minutes)
        appointment.blocked_until = appointment.ends_at + timedelta(minutes=kind.buffer_minutes)
        appointment.needs_rebooking = False
        appointment.save()
        reminders.cancel_for_appointment(appointment)
        reminders.schedule_for_appointment(appointment, now=now, replace=True)
        record_event(
            Action.UPDATE, actor=by, objects=appointment, description="Appointment rescheduled"
        )
    return appointment
