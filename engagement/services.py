"""Write use-cases of the pharmacy app beyond booking (engagement.booking books, cancels and
reschedules): the appointment lifecycle, follow-up tasks, time off and surveys.

Every function validates first and raises a ValidationError naming the field; nothing is
written when it does. Each change is audited. Appointment moves lock the appointment's row, so
two people pressing "complete" at once complete it once.
"""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from engagement import booking, reminders
from engagement.models import (
    CLINICAL_ROLES,
    Appointment,
    FollowUpTask,
    Location,
    Reminder,
    Role,
    StaffMember,
    SurveyResponse,
    TimeOff,
)
from opsintel.assignment import Agent, UtilizationBoard
from opsintel.audit import Action, record_event
from opsintel.notices import notify

Status = Appointment.Status


# --- Appointment lifecycle ------------------------------------------------------------------


def _refuse(appointment, verb):
    state = appointment.get_status_display().lower()
    article = "An" if state[0] in "aeiou" else "A"
    raise ValidationError({"status": f"{article} {state} appointment can't be {verb}."})


def _locked(appointment):
    """The appointment's current row, locked until the transaction ends: a concurrent move
    waits, then sees this one's result."""
    return Appointment.objects.select_for_update().get(pk=appointment.pk)


def _sync(appointment, current, fields):
    # The caller's instance shows the new state, as if it had been reloaded.
    for name in fields:
        setattr(appointment, name, getattr(current, name))


def confirm(appointment, *, by=None):
    """The patient said they will come."""
    with transaction.atomic():
        current = _locked(appointment)
        if current.status != Status.SCHEDULED:
            _refuse(current, "confirmed")
        current.status = Status.CONFIRMED
        current.save(update_fields=["status"])
        record_event(Action.UPDATE, actor=by, objects=current, description="Appointment confirmed")
    _sync(appointment, current, ["status"])
    return appointment


def check_in(appointment, *, by=None, now=None):
    """The patient arrived. Check-in opens on the appointment's (local) day."""
    now = now or timezone.now()
    with transaction.atomic():
        current = _locked(appointment)
        if current.status not in (Status.SCHEDULED, Status.CONFIRMED):
            _refuse(current, "checked in")
        zone = ZoneInfo(current.location.timezone)
        if (
            timezone.localtime(now, zone).date()
            < timezone.localtime(current.starts_at, zone).date()
        ):
            raise ValidationError({"status": "Check-in opens on the day of the appointment."})
        current.status = Status.CHECKED_IN
        current.save(update_fields=["status"])
        record_event(Action.UPDATE, actor=by, objects=current, description="Patient checked in")
    _sync(appointment, current, ["status"])
    return appointment


def complete(appointment, *, outcome_notes="", by=None, now=None):
    """The appointment took place: record the outcome and create the follow-up task its type
    asks for. Completing it again (a double submit, a retried request) changes nothing and
    returns the same tasks."""
    now = now or timezone.now()
    with transaction.atomic():
        current = _locked(appointment)
        if current.status == Status.COMPLETED:
            _sync(appointment, current, ["status", "outcome_notes", "completed_at"])
            return create_follow_ups(current)
        if current.status not in (Status.SCHEDULED, Status.CONFIRMED, Status.CHECKED_IN):
            _refuse(current, "completed")
        if now < current.starts_at:
            raise ValidationError({"status": "An appointment can't be completed before it starts."})
        current.status = Status.COMPLETED
        current.outcome_notes = outcome_notes
        current.completed_at = now
        current.save(update_fields=["status", "outcome_notes", "completed_at"])
        record_event(Action.UPDATE, actor=by, objects=current, description="Appointment completed")
        tasks = create_follow_ups(current, by=by, now=now)
    _sync(appointment, current, ["status", "outcome_notes", "completed_at"])
    return tasks


def mark_no_show(appointment, *, by=None, now=None):
    """The patient did not come. Only once the appointment has started; reminders still
    waiting (none should be, but a late-booked one may) are cancelled."""
    now = now or timezone.now()
    with transaction.atomic():
        current = _locked(appointment)
        if current.status not in (Status.SCHEDULED, Status.CONFIRMED):
            _refuse(current, "marked as a no-show")
        if now < current.starts_at:
            raise ValidationError(
                {"status": "A patient can only be a no-show once the appointment has started."}
            )
        current.status = Status.NO_SHOW
        current.save(update_fields=["status"])
        reminders.cancel_for_appointment(current)
        record_event(
            Action.UPDATE, actor=by, objects=current, description="Appointment marked no-show"
        )
    _sync(appointment, current, ["status"])
    return appointment


def create_follow_ups(appointment, *, by=None, now=None):
    """The follow-up tasks a completed appointment's type asks for (at most one: the type's
    follow-up rule), due that many days after the local date of completion. Safe to call any
    number of times, also concurrently: the unique (appointment, reason) constraint keeps one
    task, and a caller that loses the race gets the winner's."""
    kind = appointment.appointment_type
    if appointment.status != Status.COMPLETED or not kind.follow_up_days:
        return []
    reason = kind.follow_up_reason or f"Follow-up after {kind.name}"
    zone = ZoneInfo(appointment.location.timezone)
    completed_on = timezone.localtime(appointment.completed_at or timezone.now(), zone).date()
    existing = FollowUpTask.objects.filter(appointment=appointment, reason=reason).first()
    if existing is not None:
        return [existing]
    try:
        with transaction.atomic():
            task = _new_task(
                patient=appointment.patient,
                reason=reason,
                due_date=completed_on + timedelta(days=kind.follow_up_days),
                source=FollowUpTask.Source.APPOINTMENT,
                priority=FollowUpTask.Priority.MEDIUM,
                appointment=appointment,
                by=by,
                now=now,
            )
    except IntegrityError:
        # Another completion created it between our look and our insert.
        task = FollowUpTask.objects.get(appointment=appointment, reason=reason)
    return [task]


# --- Follow-up tasks ------------------------------------------------------------------------


def eligible_assignees(location):
    """Who may work a location's follow-up tasks: its active clinical staff."""
    return StaffMember.objects.filter(active=True, role__in=CLINICAL_ROLES, locations=location)


def choose_assignee(location):
    """The eligible staff member with the least open follow-up work relative to their capacity
    (max appointments per day), through the shared engine; ties go by name. Everyone over
    capacity still gets work (the least utilized); nobody eligible: None."""
    staff = list(
        eligible_assignees(location)
        .annotate(
            open_tasks=Count(
                "tasks", filter=Q(tasks__status=FollowUpTask.Status.OPEN), distinct=True
            )
        )
        .order_by("name", "pk")
    )
    if not staff:
        return None
    board = UtilizationBoard(
        [Agent(member.pk, capacity=member.max_appointments_per_day or None) for member in staff],
        {member.pk: member.open_tasks for member in staff},
    )
    chosen = board.pick(overflow=True)
    return next(member for member in staff if member.pk == chosen)


def _new_task(*, patient, reason, due_date, source, priority, appointment, by, now=None):
    task = FollowUpTask.objects.create(
        patient=patient,
        appointment=appointment,
        reason=reason,
        source=source,
        priority=priority,
        due_date=due_date,
        assignee=choose_assignee(patient.location),
    )
    # The patient hears the day before that the pharmacy will be in touch.
    reminders.schedule_for_task(task, now=now)
    record_event(Action.CREATE, actor=by, objects=task, description="Follow-up task created")
    return task


def create_task(
    *,
    patient,
    reason,
    due_date,
    source=FollowUpTask.Source.MANUAL,
    priority=FollowUpTask.Priority.MEDIUM,
    appointment=None,
    by=None,
    now=None,
):
    """A follow-up task for the patient, given to the eligible colleague with the least open
    work. A due date before today (the patient's location's date) is refused."""
    reason = (reason or "").strip()
    errors = {}
    if not reason:
        errors["reason"] = "Say what the follow-up is for."
    elif len(reason) > 200:
        errors["reason"] = "Keep the reason under 200 characters."
    if source not in FollowUpTask.Source.values:
        errors["source"] = f"Unknown source {source!r}."
    if priority not in FollowUpTask.Priority.values:
        errors["priority"] = f"Unknown priority {priority!r}."
    if due_date is None:
        errors["due_date"] = "Give a due date."
    else:
        zone = ZoneInfo(patient.location.timezone)
        today = timezone.localtime(now or timezone.now(), zone).date()
        if due_date < today:
            errors["due_date"] = "The due date is in the past."
    if appointment is not None and appointment.patient_id != patient.pk:
        errors["appointment"] = "That appointment is another patient's."
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            return _new_task(
                patient=patient,
                reason=reason,
                due_date=due_date,
                source=source,
                priority=priority,
                appointment=appointment,
                by=by,
                now=now,
            )
    except IntegrityError:
        raise ValidationError(
            {"reason": "That appointment already has a follow-up task for this reason."}
        ) from None


def _locked_open_task(task, verb):
    current = FollowUpTask.objects.select_for_update().get(pk=task.pk)
    if current.status != FollowUpTask.Status.OPEN:
        state = current.get_status_display().lower()
        raise ValidationError({"status": f"A {state} task can't be {verb}."})
    return current


def _cancel_task_reminders(task):
    task.reminders.filter(status=Reminder.Status.SCHEDULED).update(
        status=Reminder.Status.CANCELLED, reason="the task was closed"
    )


def complete_task(task, *, outcome, by=None, now=None):
    """The follow-up was done; `outcome` says what came of it."""
    now = now or timezone.now()
    outcome = (outcome or "").strip()
    if not outcome:
        raise ValidationError({"outcome": "Say what came of the follow-up."})
    with transaction.atomic():
        current = _locked_open_task(task, "completed")
        current.status = FollowUpTask.Status.DONE
        current.outcome = outcome
        current.completed_at = now
        current.save(update_fields=["status", "outcome", "completed_at"])
        _cancel_task_reminders(current)
        record_event(Action.UPDATE, actor=by, objects=current, description="Follow-up task done")
    task.status, task.outcome, task.completed_at = current.status, outcome, now
    return task


def cancel_task(task, *, reason="", by=None, now=None):
    """The follow-up is no longer needed (the reason is kept as its outcome)."""
    now = now or timezone.now()
    with transaction.atomic():
        current = _locked_open_task(task, "cancelled")
        current.status = FollowUpTask.Status.CANCELLED
        current.outcome = (reason or "").strip()
        current.completed_at = now
        current.save(update_fields=["status", "outcome", "completed_at"])
        _cancel_task_reminders(current)
        record_event(
            Action.UPDATE, actor=by, objects=current, description="Follow-up task cancelled"
        )
    task.status, task.outcome, task.completed_at = current.status, current.outcome, now
    return task


def escalate_overdue_tasks(*, today=None):
    """Open tasks past their due date that were never escalated are escalated now: each
    location's pharmacy managers get one notice listing that location's newly overdue tasks.
    A task is escalated once, so a re-run (or a second worker running at the same time) tells
    nobody again. `today` defaults to each location's own date. Returns how many escalated."""
    now = timezone.now()
    escalated = 0
    for location in Location.objects.all():
        day = today or timezone.localtime(now, ZoneInfo(location.timezone)).date()
        with transaction.atomic():
            overdue = FollowUpTask.objects.filter(
                patient__location=location,
                status=FollowUpTask.Status.OPEN,
                escalated_at__isnull=True,
                due_date__lt=day,
            )
            # Rows another run holds are its to escalate; ours are locked until we commit.
            tasks = list(
                overdue.select_for_update(skip_locked=True, of=("self",))
                .select_related("assignee")
                .order_by("due_date", "pk")
            )
            if not tasks:
                continue
            FollowUpTask.objects.filter(pk__in=[t.pk for t in tasks]).update(escalated_at=now)
            escalated += len(tasks)
            record_event(
                Action.UPDATE,
                objects=tasks,
                description=f"{len(tasks)} overdue follow-up tasks escalated at {location}",
            )
            managers = [
                member.user
                for member in StaffMember.objects.filter(
                    active=True, role=Role.PHARMACY_MANAGER, locations=location, user__isnull=False
                ).select_related("user")
            ]
            notify(
                managers,
                title=f"{len(tasks)} overdue follow-up task{'s' if len(tasks) != 1 else ''} "
                f"at {location}",
                body=_overdue_body(tasks),
                link=reverse("engagement:task_list") + "?overdue=1",
                app_label="engagement",
            )
    return escalated


def _overdue_body(tasks):
    # Emailed as well as shown in the app: task numbers and reasons, no patient names (PHI).
    lines = [
        f"#{task.pk} {task.reason}: due {task.due_date:%b %-d}, "
        f"{task.assignee.name if task.assignee else 'unassigned'}"
        for task in tasks
    ]
    return "These follow-up tasks are past due:\n" + "\n".join(lines)


# --- Time off -------------------------------------------------------------------------------


def _home_zone(staff):
    # Times in messages read as the staff member's pharmacy clock shows them.
    location = staff.locations.order_by("pk").first()
    return ZoneInfo(location.timezone) if location else timezone.get_default_timezone()


def request_time_off(staff, *, starts_at, ends_at, reason="", by=None):
    """A time-off request (a manager approves or declines it). It may not overlap the staff
    member's own requested or approved time off."""
    errors = {}
    if starts_at is None:
        errors["starts_at"] = "Give the start."
    if ends_at is None:
        errors["ends_at"] = "Give the end."
    elif starts_at is not None and ends_at <= starts_at:
        errors["ends_at"] = "The time off must end after it starts."
    if len(reason or "") > 200:
        errors["reason"] = "Keep the reason under 200 characters."
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        # Two requests of one person at once: the second sees the first.
        StaffMember.objects.select_for_update().get(pk=staff.pk)
        clash = (
            TimeOff.objects.filter(
                staff=staff,
                status__in=(TimeOff.Status.REQUESTED, TimeOff.Status.APPROVED),
                starts_at__lt=ends_at,
                ends_at__gt=starts_at,
            )
            .order_by("starts_at")
            .first()
        )
        if clash is not None:
            zone = _home_zone(staff)
            starts, ends = (
                timezone.localtime(moment, zone) for moment in (clash.starts_at, clash.ends_at)
            )
            raise ValidationError(
                {
                    "starts_at": f"It overlaps {staff}'s {clash.get_status_display().lower()} "
                    f"time off from {starts:%b %-d %H:%M} to {ends:%b %-d %H:%M}."
                }
            )
        time_off = TimeOff.objects.create(
            staff=staff, starts_at=starts_at, ends_at=ends_at, reason=reason or ""
        )
        record_event(Action.CREATE, actor=by, objects=time_off, description="Time off requested")
    return time_off


def _decide(time_off, status, by, now):
    current = TimeOff.objects.select_for_update().get(pk=time_off.pk)
    if current.status != TimeOff.Status.REQUESTED:
        raise ValidationError(
            {"status": f"This time off was already {current.get_status_display().lower()}."}
        )
    current.status, current.decided_by, current.decided_at = status, by, now
    current.save(update_fields=["status", "decided_by", "decided_at"])
    time_off.status, time_off.decided_by, time_off.decided_at = status, by, now
    return current


def approve_time_off(time_off, *, by, now=None):
    """Approve, then deal with the appointments it hits (not yet started, still to happen):
    each moves to another qualified staff member free at the very same time (the least busy
    that day first), or, when nobody is, is marked for rebooking and its reminders stop.
    Either way the patient is told. Returns {"moved": [...], "needs_rebooking": [...]}."""
    from engagement.reminders import notify_patient

    now = now or timezone.now()
    moved, stranded = [], []
    with transaction.atomic():
        StaffMember.objects.select_for_update().get(pk=time_off.staff_id)
        current = _decide(time_off, TimeOff.Status.APPROVED, by, now)
        affected = (
            Appointment.objects.filter(
                staff_id=current.staff_id,
                status__in=(Status.SCHEDULED, Status.CONFIRMED),
                starts_at__lt=current.ends_at,
                ends_at__gt=current.starts_at,
                starts_at__gte=now,
            )
            .select_related("appointment_type", "location", "patient")
            .order_by("starts_at", "pk")
        )
        for appointment in affected:
            colleague = _free_colleague(appointment, now)
            if colleague is not None:
                appointment.staff = colleague
                appointment.needs_rebooking = False
                appointment.save(update_fields=["staff", "needs_rebooking"])
                record_event(
                    Action.UPDATE,
                    actor=by,
                    objects=appointment,
                    description=f"Moved to {colleague} (time off approved)",
                )
                notify_patient(appointment, "moved", now=now)
                moved.append(appointment)
            else:
                appointment.needs_rebooking = True
                appointment.save(update_fields=["needs_rebooking"])
                reminders.cancel_for_appointment(appointment)
                record_event(
                    Action.UPDATE,
                    actor=by,
                    objects=appointment,
                    description="Needs rebooking (time off approved, nobody free)",
                )
                notify_patient(appointment, "needs_rebooking", now=now)
                stranded.append(appointment)
        record_event(
            Action.UPDATE,
            actor=by,
            objects=current,
            description=f"Time off approved: {len(moved)} appointments moved, "
            f"{len(stranded)} to rebook",
        )
    return {"moved": moved, "needs_rebooking": stranded}


def _free_colleague(appointment, now):
    """Another qualified staff member who can take the appointment at its time, locked so no
    booking takes that time from them before we commit; None when nobody can."""
    kind, location = appointment.appointment_type, appointment.location
    colleagues = [
        m for m in booking.qualified_staff(kind, location) if m.pk != appointment.staff_id
    ]
    if not colleagues:
        return None
    zone = ZoneInfo(location.timezone)
    day = timezone.localtime(appointment.starts_at, zone).date()
    busy = dict(
        Appointment.objects.holding_time()
        .filter(
            staff__in=colleagues,
            starts_at__gte=datetime.combine(day, time.min, tzinfo=zone),
            starts_at__lt=datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone),
        )
        .order_by()
        .values_list("staff")
        .annotate(count=Count("pk"))
    )
    colleagues.sort(key=lambda m: (busy.get(m.pk, 0), m.name, m.pk))
    # The appointment was booked under the lead-time rules; handing it to a colleague at the
    # same time must not be refused for being "too soon", so judge as of its booking window.
    judged_at = min(now, appointment.starts_at - timedelta(hours=kind.min_lead_hours))
    for member in colleagues:
        StaffMember.objects.select_for_update().get(pk=member.pk)
        if not booking.problems(kind, location, member, appointment.starts_at, now=judged_at):
            return member
    return None


def decline_time_off(time_off, *, by, now=None):
    now = now or timezone.now()
    with transaction.atomic():
        current = _decide(time_off, TimeOff.Status.DECLINED, by, now)
        record_event(Action.UPDATE, actor=by, objects=current, description="Time off declined")
    return time_off


# --- Surveys --------------------------------------------------------------------------------


def _score(value, low, high, field, errors):
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        errors[field] = f"Give a whole number from {low} to {high}."
        return None
    return value


def submit_survey(appointment, *, satisfaction, would_recommend, comment=""):
    """The patient's survey about a completed appointment: satisfaction 1–5, would recommend
    0–10. One per appointment."""
    errors = {}
    satisfaction = _score(satisfaction, 1, 5, "satisfaction", errors)
    would_recommend = _score(would_recommend, 0, 10, "would_recommend", errors)
    comment = (comment or "").strip()
    if len(comment) > 2000:
        errors["comment"] = "Keep the comment under 2,000 characters."
    if appointment.status != Status.COMPLETED:
        errors["appointment"] = "Only a completed appointment can be rated."
    elif SurveyResponse.objects.filter(appointment=appointment).exists():
        errors["appointment"] = "This appointment has already been rated."
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            response = SurveyResponse.objects.create(
                appointment=appointment,
                satisfaction=satisfaction,
                would_recommend=would_recommend,
                comment=comment,
            )
            record_event(Action.CREATE, objects=response, description="Survey submitted")
    except IntegrityError:
        raise ValidationError({"appointment": "This appointment has already been rated."}) from None
    return response
