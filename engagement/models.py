"""Pharmacy patient engagement: locations and their hours, staff and their schedules, the
appointment types the pharmacy offers, patients, appointments, follow-up tasks, reminders,
surveys, stored reports and KPI alerts.

Scope (engagement.access): a pharmacy manager, senior pharmacist, technician or
administrative staff member sees the data of the locations they work at; a staff pharmacist
sees their own appointments and follow-up tasks (and those patients); platform admins see all.
"""

from datetime import time

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from opsintel.scoping import ScopedQuerySet

WEEKDAYS = [(0, "Monday"), (1, "Tuesday"), (2, "Wednesday"), (3, "Thursday"), (4, "Friday"),
            (5, "Saturday"), (6, "Sunday")]  # fmt: skip


class Role(models.TextChoices):
    PHARMACY_MANAGER = "pharmacy_manager", "Pharmacy manager"
    SENIOR_PHARMACIST = "senior_pharmacist", "Senior pharmacist"
    STAFF_PHARMACIST = "staff_pharmacist", "Staff pharmacist"
    PHARMACY_TECHNICIAN = "pharmacy_technician", "Pharmacy technician"
    ADMINISTRATIVE_STAFF = "administrative_staff", "Administrative staff"


CLINICAL_ROLES = (Role.PHARMACY_MANAGER, Role.SENIOR_PHARMACIST, Role.STAFF_PHARMACIST)


def _staff_member(user):
    return getattr(user, "pharmacy_staff", None) if user.is_authenticated else None


def not_in_the_future(value):
    if value > timezone.localdate():
        raise ValidationError(f"{value:%b %-d, %Y} is in the future.")


def location_ids(user):
    """The locations whose data the user sees (all for a platform admin)."""
    staff = _staff_member(user)
    if staff is None:
        return []
    return list(staff.locations.values_list("pk", flat=True))


def sees_own_only(user):
    """A staff pharmacist works with their own appointments and patients only."""
    staff = _staff_member(user)
    return staff is not None and staff.role == Role.STAFF_PHARMACIST


class LocationQuerySet(ScopedQuerySet):
    def scope_for(self, user):
        return self.filter(pk__in=location_ids(user))


class Location(models.Model):
    name = models.CharField(max_length=100, unique=True)
    address = models.CharField(max_length=255, blank=True)
    timezone = models.CharField(max_length=50, default=settings.TIME_ZONE)

    objects = LocationQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def clean(self):
        from zoneinfo import available_timezones

        if self.timezone not in available_timezones():
            raise ValidationError({"timezone": f"{self.timezone!r} is not a known time zone."})


class OpeningHours(models.Model):
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="hours")
    weekday = models.PositiveSmallIntegerField(choices=WEEKDAYS)
    opens = models.TimeField()
    closes = models.TimeField()

    class Meta:
        ordering = ["location", "weekday", "opens"]
        constraints = [
            models.CheckConstraint(condition=Q(closes__gt=F("opens")), name="opening_hours_order")
        ]

    def __str__(self):
        return (
            f"{self.location} {self.get_weekday_display()} {self.opens:%H:%M}–{self.closes:%H:%M}"
        )


class LocationHoliday(models.Model):
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="holidays")
    date = models.DateField()
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["location", "date"], name="one_holiday_per_day")
        ]

    def __str__(self):
        return f"{self.name} ({self.date})"


class AppointmentType(models.Model):
    """A clinical service the pharmacy books. Its rules: who may deliver it, how long it takes,
    how far ahead it is booked, what cancelling late costs, and the follow-up it asks for."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    duration_minutes = models.PositiveIntegerField(validators=[MinValueValidator(5)])
    price = models.DecimalField(max_digits=8, decimal_places=2, default=0)
    required_qualification = models.CharField(
        max_length=50, blank=True, help_text="e.g. certified_immunizer, mtm_certified"
    )
    allowed_roles = models.JSONField(default=list, help_text="Staff roles that may deliver it")
    max_bookings_per_day = models.PositiveIntegerField(
        null=True, blank=True, help_text="Per location; empty: no limit"
    )
    buffer_minutes = models.PositiveIntegerField(default=0, help_text="Kept free after it")
    min_lead_hours = models.PositiveIntegerField(default=0, help_text="Booked at least this ahead")
    max_lead_days = models.PositiveIntegerField(default=60, help_text="Booked at most this ahead")
    cancellation_hours = models.PositiveIntegerField(
        default=24, help_text="Cancelling later than this before the start is a late cancellation"
    )
    late_cancellation_fee = models.DecimalField(max_digits=8, decimal_places=2, default=0)
    follow_up_days = models.PositiveIntegerField(
        null=True, blank=True, help_text="Completing it creates a follow-up task due this later"
    )
    follow_up_reason = models.CharField(max_length=200, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class StaffQuerySet(ScopedQuerySet):
    def scope_for(self, user):
        return self.filter(locations__in=location_ids(user)).distinct()


class StaffMember(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="pharmacy_staff",
    )
    name = models.CharField(max_length=200)
    role = models.CharField(max_length=30, choices=Role.choices)
    license_number = models.CharField(max_length=40, blank=True)
    qualifications = models.JSONField(default=list, blank=True)
    locations = models.ManyToManyField(Location, related_name="staff")
    appointment_types = models.ManyToManyField(
        AppointmentType, blank=True, related_name="staff", help_text="Services they deliver"
    )
    max_appointments_per_day = models.PositiveIntegerField(default=12)
    active = models.BooleanField(default=True)

    objects = StaffQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def clean(self):
        if self.role in CLINICAL_ROLES and not self.license_number:
            raise ValidationError({"license_number": "Pharmacists need a license number."})


class WorkingHours(models.Model):
    """A staff member's weekly pattern at a location, with an optional break."""

    staff = models.ForeignKey(StaffMember, on_delete=models.CASCADE, related_name="hours")
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="+")
    weekday = models.PositiveSmallIntegerField(choices=WEEKDAYS)
    starts = models.TimeField()
    ends = models.TimeField()
    break_starts = models.TimeField(null=True, blank=True)
    break_ends = models.TimeField(null=True, blank=True)

    class Meta:
        ordering = ["staff", "weekday", "starts"]
        constraints = [
            models.CheckConstraint(condition=Q(ends__gt=F("starts")), name="working_hours_order"),
            models.CheckConstraint(
                condition=Q(break_starts__isnull=True, break_ends__isnull=True)
                | Q(break_ends__gt=F("break_starts")),
                name="break_order",
            ),
        ]

    def __str__(self):
        return f"{self.staff} {self.get_weekday_display()} {self.starts:%H:%M}–{self.ends:%H:%M}"


class TimeOffQuerySet(ScopedQuerySet):
    def scope_for(self, user):
        if sees_own_only(user):
            return self.filter(staff__user=user)
        return self.filter(staff__locations__in=location_ids(user)).distinct()


class TimeOff(models.Model):
    class Status(models.TextChoices):
        REQUESTED = "requested", "Requested"
        APPROVED = "approved", "Approved"
        DECLINED = "declined", "Declined"

    staff = models.ForeignKey(StaffMember, on_delete=models.CASCADE, related_name="time_off")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.REQUESTED)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    objects = TimeOffQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="time_off_order")
        ]

    def __str__(self):
        return f"{self.staff}: {self.starts_at:%Y-%m-%d} – {self.ends_at:%Y-%m-%d}"


class PatientQuerySet(ScopedQuerySet):
    def scope_for(self, user):
        if sees_own_only(user):
            # Their own patients, and new ones at their locations nobody has seen yet (so a
            # pharmacist can book a patient they just registered).
            return self.filter(
                Q(appointments__staff__user=user)
                | Q(location__in=location_ids(user), appointments__isnull=True)
            ).distinct()
        return self.filter(location__in=location_ids(user))


class Patient(models.Model):
    """A pharmacy patient (PHI), with how they agreed to be contacted."""

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        SMS = "sms", "SMS"

    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="patients")
    name = models.CharField(max_length=200)
    date_of_birth = models.DateField(null=True, blank=True, validators=[not_in_the_future])
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=20, blank=True, help_text="E.164, e.g. +15551234567")
    email_consent = models.BooleanField(default=False)
    sms_consent = models.BooleanField(default=False)
    email_opted_out = models.BooleanField(default=False)
    sms_opted_out = models.BooleanField(default=False)
    preferred_channel = models.CharField(
        max_length=10, choices=Channel.choices, default=Channel.SMS
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = PatientQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class AppointmentQuerySet(ScopedQuerySet):
    def scope_for(self, user):
        if sees_own_only(user):
            return self.filter(staff__user=user)
        return self.filter(location__in=location_ids(user))

    def holding_time(self):
        """Appointments that keep their staff member's time (not cancelled)."""
        return self.exclude(status=Appointment.Status.CANCELLED)


class Appointment(models.Model):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        CONFIRMED = "confirmed", "Confirmed"
        CHECKED_IN = "checked_in", "Checked in"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"
        NO_SHOW = "no_show", "No-show"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="appointments")
    appointment_type = models.ForeignKey(
        AppointmentType, on_delete=models.PROTECT, related_name="appointments"
    )
    staff = models.ForeignKey(StaffMember, on_delete=models.PROTECT, related_name="appointments")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="appointments")
    starts_at = models.DateTimeField(db_index=True)
    ends_at = models.DateTimeField()
    # The end plus the type's buffer: the staff member's time it holds (overlap checks).
    blocked_until = models.DateTimeField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.SCHEDULED)
    price = models.DecimalField(max_digits=8, decimal_places=2)
    outcome_notes = models.TextField(blank=True)
    needs_rebooking = models.BooleanField(
        default=False, help_text="Its staff member took time off and nobody could take it over"
    )
    late_cancellation = models.BooleanField(default=False)
    cancellation_reason = models.CharField(max_length=200, blank=True)
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    objects = AppointmentQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at", "pk"]
        indexes = [
            models.Index(fields=["staff", "starts_at"], name="appointment_staff_start"),
            models.Index(fields=["location", "starts_at"], name="appointment_location_start"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="appointment_order"
            ),
        ]

    def __str__(self):
        return f"{self.appointment_type} for {self.patient} at {self.starts_at:%Y-%m-%d %H:%M}"


class TaskQuerySet(ScopedQuerySet):
    def scope_for(self, user):
        if sees_own_only(user):
            return self.filter(assignee__user=user)
        return self.filter(patient__location__in=location_ids(user))


class FollowUpTask(models.Model):
    class Source(models.TextChoices):
        APPOINTMENT = "appointment_outcome", "Appointment outcome"
        MANUAL = "manual", "Manual"
        REFILL = "refill_trigger", "Refill / adherence trigger"

    class Priority(models.TextChoices):
        HIGH = "high", "High"
        MEDIUM = "medium", "Medium"
        LOW = "low", "Low"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        DONE = "done", "Done"
        CANCELLED = "cancelled", "Cancelled"

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="tasks")
    appointment = models.ForeignKey(
        Appointment, null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks"
    )
    reason = models.CharField(max_length=200)
    source = models.CharField(max_length=30, choices=Source.choices, default=Source.MANUAL)
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.MEDIUM)
    due_date = models.DateField(db_index=True)
    assignee = models.ForeignKey(
        StaffMember, null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    outcome = models.TextField(blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)

    objects = TaskQuerySet.as_manager()

    class Meta:
        ordering = ["due_date", "pk"]
        constraints = [
            # Completing an appointment twice never makes its follow-up twice.
            models.UniqueConstraint(
                fields=["appointment", "reason"],
                condition=Q(appointment__isnull=False),
                name="one_task_per_appointment_reason",
            )
        ]

    def __str__(self):
        return f"{self.reason} for {self.patient} by {self.due_date}"


class Reminder(models.Model):
    """One message to a patient about an appointment or a task. Every reminder ends in one
    visible state: sent, failed, skipped (with the reason) or cancelled."""

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        SMS = "sms", "SMS"

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"
        CANCELLED = "cancelled", "Cancelled"

    appointment = models.ForeignKey(
        Appointment, null=True, blank=True, on_delete=models.CASCADE, related_name="reminders"
    )
    task = models.ForeignKey(
        FollowUpTask, null=True, blank=True, on_delete=models.CASCADE, related_name="reminders"
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    template = models.CharField(max_length=50, help_text="Which message, e.g. appointment_24h")
    send_at = models.DateTimeField(db_index=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    reason = models.CharField(max_length=255, blank=True, help_text="Why skipped or failed")
    attempts = models.PositiveSmallIntegerField(default=0)
    provider_message_id = models.CharField(max_length=100, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["send_at", "pk"]
        # The sender's claim query reads only the waiting ones, however much history piles up.
        indexes = [
            models.Index(
                fields=["send_at", "id"],
                condition=Q(status="scheduled"),
                name="reminder_waiting",
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(appointment__isnull=False) | Q(task__isnull=False),
                name="reminder_is_about_something",
            ),
            # Booking twice or re-running the scheduler never makes a second copy.
            models.UniqueConstraint(
                fields=["appointment", "channel", "template"],
                condition=Q(appointment__isnull=False),
                name="one_reminder_per_appointment_template",
            ),
            models.UniqueConstraint(
                fields=["task", "channel", "template"],
                condition=Q(task__isnull=False),
                name="one_reminder_per_task_template",
            ),
        ]

    def __str__(self):
        return f"{self.get_channel_display()} {self.template} at {self.send_at:%Y-%m-%d %H:%M}"


class SurveyResponse(models.Model):
    appointment = models.OneToOneField(Appointment, on_delete=models.CASCADE, related_name="survey")
    satisfaction = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    would_recommend = models.PositiveSmallIntegerField(validators=[MaxValueValidator(10)])
    comment = models.TextField(blank=True)
    submitted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(satisfaction__gte=1, satisfaction__lte=5), name="satisfaction_1_to_5"
            ),
            models.CheckConstraint(condition=Q(would_recommend__lte=10), name="recommend_0_to_10"),
        ]

    def __str__(self):
        return f"Survey for {self.appointment}"


class Report(models.Model):
    """A stored report (daily operations, weekly performance, monthly business review)."""

    class Kind(models.TextChoices):
        DAILY = "daily", "Daily operations"
        WEEKLY = "weekly", "Weekly performance"
        MONTHLY = "monthly", "Monthly business review"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="reports")
    period_start = models.DateField()
    period_end = models.DateField()
    generated_at = models.DateTimeField(default=timezone.now)
    data = models.JSONField()

    class Meta:
        ordering = ["-period_start", "kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "location", "period_start"], name="one_report_per_period"
            )
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.location} {self.period_start}"


class KpiAlert(models.Model):
    """A KPI past its threshold at a location while it stays there: the manager is told once
    when it starts; the row closes when the KPI recovers."""

    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="kpi_alerts")
    kpi = models.CharField(max_length=50)
    message = models.TextField()
    raised_at = models.DateTimeField(default=timezone.now)
    cleared_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-raised_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["location", "kpi"],
                condition=Q(cleared_at__isnull=True),
                name="one_open_kpi_alert",
            )
        ]

    def __str__(self):
        return self.message


def minutes(value):
    """A time of day as minutes after midnight (slot arithmetic)."""
    return value.hour * 60 + value.minute


def time_of(minutes_after_midnight):
    return time(minutes_after_midnight // 60, minutes_after_midnight % 60)
