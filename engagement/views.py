"""The pharmacy's work pages. Thin: check the role (engagement.access), load rows through the
scoped querysets (404 outside the scope), call booking or services, render.

- index: managers land on the dashboard, staff on the schedule, anyone else on the landing;
- schedule: one day at one location, by staff member and time;
- book: the front desk's flow (patient → service → slots → Book);
- appointment_detail (+ appointment_action): one appointment and what can be done with it;
- patient_list / patient_create / patient_detail: registration and records (PHI, audited);
- task_list (+ task_complete): open follow-up tasks, overdue first;
- time_off (+ time_off_decide): own requests; the team's for those who schedule it.

Times are shown in the location's time zone (the one its opening hours are in).
"""

from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import BooleanField, Case, Value, When
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from engagement import access, booking, services
from engagement.context import render_page, require
from engagement.forms import (
    BookForm,
    CancelForm,
    CompleteForm,
    CompleteTaskForm,
    DayRangeForm,
    PatientForm,
    SlotChoiceForm,
    SlotSearchForm,
    SurveyForm,
    TimeOffForm,
)
from engagement.models import (
    Appointment,
    FollowUpTask,
    Location,
    Patient,
    StaffMember,
    TimeOff,
    WorkingHours,
    sees_own_only,
)
from opsintel.audit import Action, record_event, view_record
from opsintel.forms import add_errors
from opsintel.scoping import get_visible_or_404
from opsintel.views import app_index

PAGE_SIZE = 50
SLOTS_SHOWN = 12
SEARCH_DAYS = 7
OPEN = (Appointment.Status.SCHEDULED, Appointment.Status.CONFIRMED)


def _zone(location):
    return ZoneInfo(location.timezone if location else settings.TIME_ZONE)


def _today(location):
    return timezone.localtime(timezone.now(), _zone(location)).date()


def _day_bounds(day, zone):
    start = datetime.combine(day, datetime.min.time(), tzinfo=zone)
    return start, datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=zone)


def _render(request, template, context, *, location=None, status=200):
    """Render with times in the location's time zone."""
    with timezone.override(_zone(location)):
        response = render_page(request, template, context)
    response.status_code = status
    return response


def _error_list(form, error=None):
    """Every problem as "Field: message", for pages whose inputs are hidden (slot buttons)."""
    found = []
    items = error.message_dict.items() if error is not None else form.errors.items()
    for field, messages_ in items:
        label = form.fields[field].label if field in form.fields else None
        label = label or (field.replace("_", " ").capitalize() if field != "__all__" else "")
        found.extend(f"{label}: {message}" if label else message for message in messages_)
    return found


def _named(error):
    """A service's ValidationError as "Field: message" lines."""
    if not hasattr(error, "error_dict"):
        return list(error.messages)
    return [
        message if field == "__all__" else f"{field.replace('_', ' ').capitalize()}: {message}"
        for field, messages_ in error.message_dict.items()
        for message in messages_
    ]


# Where each person lands -----------------------------------------------------------------------


def index(request):
    # SETTINGS is the manager's alone (and platform admins'): they run the pharmacy on numbers.
    if access.can(request.user, access.SETTINGS):
        return redirect("engagement:dashboard")
    if access.can(request.user, access.BOOK):
        return redirect("engagement:schedule")
    return app_index(request, "engagement")


# The day's schedule ----------------------------------------------------------------------------


def _pick_location(request, locations):
    """The location asked for (?location=id) among the user's, else their first."""
    wanted = request.GET.get("location")
    if wanted:
        for location in locations:
            if str(location.pk) == wanted:
                return location
        messages.warning(request, "That location is not one of yours: showing your first.")
    return locations[0] if locations else None


def _parse_day(request, location):
    raw = request.GET.get("day")
    if raw:
        try:
            return datetime.strptime(raw, "%Y-%m-%d").date()
        except ValueError:
            messages.warning(request, f"Ignored the day {raw!r}: use YYYY-MM-DD.")
    return _today(location)


def schedule(request):
    """One day at one location: each staff member's appointments by time. A staff pharmacist
    sees their own."""
    require(request, access.BOOK)
    locations = list(Location.objects.visible_to(request.user))
    location = _pick_location(request, locations)
    context = {"locations": locations, "location": location}
    if location is None:
        return _render(request, "engagement/schedule.html", context)
    zone = _zone(location)
    day = _parse_day(request, location)
    start, end = _day_bounds(day, zone)
    appointments = (
        Appointment.objects.visible_to(request.user)
        .filter(location=location, starts_at__gte=start, starts_at__lt=end)
        .select_related("patient", "appointment_type", "staff")
        .order_by("staff__name", "staff_id", "starts_at", "pk")
    )
    staff = StaffMember.objects.visible_to(request.user).filter(
        hours__location=location, hours__weekday=day.weekday(), active=True
    )
    if sees_own_only(request.user):
        staff = staff.filter(user=request.user)
    shifts = {
        row.staff_id: row
        for row in WorkingHours.objects.filter(
            location=location, weekday=day.weekday(), staff__in=staff
        )
    }
    columns = {member.pk: {"staff": member, "shift": shifts.get(member.pk), "appointments": []}
               for member in staff.distinct().order_by("name", "pk")}  # fmt: skip
    for appointment in appointments:
        column = columns.setdefault(
            appointment.staff_id, {"staff": appointment.staff, "shift": None, "appointments": []}
        )
        column["appointments"].append(appointment)
    counts = Counter(a.status for column in columns.values() for a in column["appointments"])
    context.update(
        {
            "day": day,
            "today": _today(location),
            "previous_day": day - timedelta(days=1),
            "next_day": day + timedelta(days=1),
            "columns": sorted(columns.values(), key=lambda c: (c["staff"].name, c["staff"].pk)),
            "total": sum(counts.values()),
            "counts": [
                (label, counts[value])
                for value, label in Appointment.Status.choices
                if counts[value]
            ],
        }
    )
    return _render(request, "engagement/schedule.html", context, location=location)


# Booking ---------------------------------------------------------------------------------------


def _search_initial(request, locations):
    location = _pick_location(request, locations) if locations else None
    first = _today(location)
    return {
        "location": location,
        "first_day": first,
        "last_day": first + timedelta(days=SEARCH_DAYS - 1),
    }


def _book_context(request, data):
    """The booking page for the patient search (`q`) and slot search given in `data`."""
    user = request.user
    locations = list(Location.objects.visible_to(user))
    query = (data.get("q") or "").strip()
    patients = Patient.objects.visible_to(user).select_related("location")
    found = list(patients.filter(name__icontains=query)[:20]) if query else []
    patient = None
    if data.get("patient"):
        patient = patients.filter(pk=data["patient"]).first() if data["patient"].isdigit() else None
        if patient is None:
            messages.warning(request, "That patient is not one of yours: search again.")
    context = {"query": query, "found": found, "patient": patient, "slots": None}
    if patient is None:
        return context, None
    has_search = "appointment_type" in data
    if has_search:
        form = SlotSearchForm(data, user=user)
    else:
        initial = _search_initial(request, locations)
        if patient.location in locations:
            initial["location"] = patient.location
        form = SlotSearchForm(initial={"patient": patient.pk, **initial}, user=user)
    context["form"] = form
    if has_search and form.is_valid():
        search = form.cleaned_data
        slots = booking.find_slots(
            search["appointment_type"],
            search["location"],
            search["first_day"],
            search["last_day"],
            limit=SLOTS_SHOWN,
        )
        context["slots"] = [
            {"starts_at": slot.starts_at, "value": slot.starts_at.isoformat(), "staff": slot.staff}
            for slot in slots
        ]
        context["search"] = search
        context["hidden"] = {
            "patient": patient.pk,
            "appointment_type": search["appointment_type"].pk,
            "location": search["location"].pk,
            "first_day": search["first_day"].isoformat(),
            "last_day": search["last_day"].isoformat(),
        }
        return context, search["location"]
    return context, None


def book(request):
    """Front desk: choose the patient, the service, the location and days; pick a slot."""
    require(request, access.BOOK)
    if request.method != "POST":
        context, location = _book_context(request, request.GET)
        return _render(request, "engagement/book.html", context, location=location)
    form = BookForm(request.POST, user=request.user)
    errors = []
    if form.is_valid():
        data = form.cleaned_data
        try:
            appointment = booking.book(
                patient=data["patient"],
                appointment_type=data["appointment_type"],
                staff=data["staff"],
                location=data["location"],
                starts_at=data["starts_at"],
                booked_by=request.user,
            )
        except ValidationError as error:
            errors = _error_list(form, error)
        else:
            when = timezone.localtime(appointment.starts_at, _zone(appointment.location))
            messages.success(
                request,
                f"Booked: {appointment.appointment_type.name} for {appointment.patient.name} "
                f"with {appointment.staff.name} on {when:%a %b} {when.day} at {when:%H:%M}.",
            )
            return redirect("engagement:appointment_detail", appointment.pk)
    else:
        errors = _error_list(form)
    # Show the same search again, so another slot is one click away.
    query = request.POST.copy()
    for name in ("staff", "starts_at", "csrfmiddlewaretoken"):
        query.pop(name, None)
    context, location = _book_context(request, query)
    context["booking_errors"] = errors
    return _render(request, "engagement/book.html", context, location=location, status=400)


# One appointment ------------------------------------------------------------------------------


def _appointments():
    return Appointment.objects.select_related(
        "patient", "appointment_type", "staff", "location", "booked_by"
    )


def _late_fee(appointment, now):
    """The fee cancelling now would cost, or None outside the type's window (or no fee)."""
    kind = appointment.appointment_type
    inside = appointment.starts_at - now < timedelta(hours=kind.cancellation_hours)
    return kind.late_cancellation_fee if inside and kind.late_cancellation_fee else None


def _actions(request, appointment):
    """Which buttons the page shows: by status and by the user's role."""
    status, S = appointment.status, Appointment.Status
    book_ok = access.can(request.user, access.BOOK)
    care_ok = access.can(request.user, access.CARE)
    # The services' own rules: check-in opens on the day; completing and no-shows once it began.
    zone = _zone(appointment.location)
    now = timezone.now()
    on_the_day = timezone.localtime(now, zone).date() >= (
        timezone.localtime(appointment.starts_at, zone).date()
    )
    started = now >= appointment.starts_at
    return {
        "confirm": book_ok and status == S.SCHEDULED,
        "check_in": care_ok and status in OPEN and on_the_day,
        "complete": care_ok and status in (*OPEN, S.CHECKED_IN) and started,
        "no_show": care_ok and status in OPEN and started,
        # Once it began, it either happened (complete) or did not (no-show).
        "cancel": book_ok and status in OPEN and not started,
        "reschedule": book_ok and status in OPEN and not started,
        "survey": book_ok and status == S.COMPLETED and not hasattr(appointment, "survey"),
    }


def _render_appointment(request, appointment, *, status=200, forms=None, errors=()):
    forms = forms or {}
    may = _actions(request, appointment)
    now = timezone.now()
    reschedule_days = forms.get("reschedule_days")
    slots = None
    if may["reschedule"]:
        if reschedule_days is None:
            if "first_day" in request.GET:
                reschedule_days = DayRangeForm(request.GET)
            else:
                today = _today(appointment.location)
                reschedule_days = DayRangeForm(
                    initial={"first_day": today, "last_day": today + timedelta(SEARCH_DAYS - 1)}
                )
        if reschedule_days.is_bound and reschedule_days.is_valid():
            slots = [
                {"starts_at": s.starts_at, "value": s.starts_at.isoformat(), "staff": s.staff}
                for s in booking.find_slots(
                    appointment.appointment_type,
                    appointment.location,
                    reschedule_days.cleaned_data["first_day"],
                    reschedule_days.cleaned_data["last_day"],
                    limit=SLOTS_SHOWN,
                )
            ]
    context = {
        "appointment": appointment,
        "actions": may,
        "reminders": list(appointment.reminders.all()),
        "tasks": list(
            FollowUpTask.objects.visible_to(request.user)
            .filter(appointment=appointment)
            .select_related("assignee")
        ),
        "survey": getattr(appointment, "survey", None),
        "late_fee": _late_fee(appointment, now) if may["cancel"] else None,
        "complete_form": forms.get("complete") or CompleteForm(),
        "cancel_form": forms.get("cancel") or CancelForm(),
        "survey_form": forms.get("survey") or SurveyForm(),
        "reschedule_days": reschedule_days,
        "reschedule_slots": slots,
        "action_errors": list(errors),
    }
    return _render(
        request,
        "engagement/appointment_detail.html",
        context,
        location=appointment.location,
        status=status,
    )


def appointment_detail(request, pk):
    require(request, access.BOOK)
    appointment = view_record(request, _appointments(), pk=pk)
    return _render_appointment(request, appointment)


def _confirm(request, appointment):
    services.confirm(appointment, by=request.user)
    return "Appointment confirmed."


def _check_in(request, appointment):
    services.check_in(appointment, by=request.user)
    return f"{appointment.patient.name} checked in."


def _complete(request, appointment):
    form = CompleteForm(request.POST)
    if not form.is_valid():
        raise _FormInvalid("complete", form)
    try:
        tasks = services.complete(
            appointment, outcome_notes=form.cleaned_data["outcome_notes"], by=request.user
        )
    except ValidationError as error:
        raise _FormInvalid("complete", form, error) from error
    text = "Appointment completed."
    for task in tasks or []:
        due = f"{task.due_date:%b} {task.due_date.day}"
        text += f" Follow-up task created: {task.reason}, due {due}"
        text += f" ({task.assignee.name})." if task.assignee_id else "."
    return text


def _no_show(request, appointment):
    services.mark_no_show(appointment, by=request.user)
    return f"{appointment.patient.name} marked as a no-show."


def _cancel(request, appointment):
    form = CancelForm(request.POST)
    if not form.is_valid():
        raise _FormInvalid("cancel", form)
    try:
        done = booking.cancel(appointment, reason=form.cleaned_data["reason"], by=request.user)
    except ValidationError as error:
        raise _FormInvalid("cancel", form, error) from error
    fee = done.appointment_type.late_cancellation_fee
    if done.late_cancellation and fee:
        return f"Appointment cancelled. Late cancellation: the ${fee} fee applies."
    if done.late_cancellation:
        return "Appointment cancelled (late cancellation)."
    return "Appointment cancelled."


def _reschedule(request, appointment):
    form = SlotChoiceForm(request.POST, user=request.user)
    if not form.is_valid():
        raise _FormInvalid("reschedule", form)
    try:
        moved = booking.reschedule(
            appointment,
            starts_at=form.cleaned_data["starts_at"],
            staff=form.cleaned_data["staff"],
            by=request.user,
        )
    except ValidationError as error:
        raise _FormInvalid("reschedule", form, error) from error
    when = timezone.localtime(moved.starts_at, _zone(moved.location))
    return f"Moved to {when:%a %b} {when.day} at {when:%H:%M} with {moved.staff.name}."


def _survey(request, appointment):
    form = SurveyForm(request.POST)
    if not form.is_valid():
        raise _FormInvalid("survey", form)
    try:
        services.submit_survey(appointment, **form.cleaned_data)
    except ValidationError as error:
        raise _FormInvalid("survey", form, error) from error
    return "Survey recorded. Thank you."


class _FormInvalid(Exception):
    def __init__(self, name, form, error=None):
        super().__init__(name)
        self.name, self.form, self.error = name, form, error


ACTIONS = {
    "confirm": (access.BOOK, _confirm),
    "check-in": (access.CARE, _check_in),
    "complete": (access.CARE, _complete),
    "no-show": (access.CARE, _no_show),
    "cancel": (access.BOOK, _cancel),
    "reschedule": (access.BOOK, _reschedule),
    "survey": (access.BOOK, _survey),
}


@require_POST
def appointment_action(request, pk, action):
    """confirm | check-in | complete | no-show | cancel | reschedule | survey. A refusal shows
    on the appointment's page (400) and changes nothing."""
    if action not in ACTIONS:
        raise Http404("No such action.")
    capability, run = ACTIONS[action]
    require(request, capability)
    appointment = get_visible_or_404(_appointments(), request.user, pk=pk)
    try:
        with transaction.atomic():
            text = run(request, appointment)
    except _FormInvalid as invalid:
        errors = _error_list(invalid.form, invalid.error)
        fresh = _appointments().get(pk=appointment.pk)
        return _render_appointment(
            request, fresh, status=400, forms={invalid.name: invalid.form}, errors=errors
        )
    except ValidationError as error:
        fresh = _appointments().get(pk=appointment.pk)
        return _render_appointment(request, fresh, status=400, errors=_named(error))
    messages.success(request, text)
    return redirect("engagement:appointment_detail", appointment.pk)


# Patients -------------------------------------------------------------------------------------


def patient_list(request):
    require(request, access.BOOK)
    query = request.GET.get("q", "").strip()
    patients = Patient.objects.visible_to(request.user).select_related("location")
    if query:
        patients = patients.filter(name__icontains=query)
    page = Paginator(patients.order_by("name", "pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    return _render(request, "engagement/patient_list.html", {"page": page, "query": query})


def patient_create(request):
    """Register a patient with contact details, consents and opt-outs. A likely duplicate
    (same name and date of birth at the location) is shown and must be confirmed."""
    require(request, access.BOOK)
    if request.method == "POST":
        form = PatientForm(request.POST, user=request.user)
        if form.is_valid():
            with transaction.atomic():
                patient = form.save()
                record_event(Action.CREATE, request=request, objects=patient,
                             description="Patient registered")  # fmt: skip
            messages.success(request, f"{patient.name} registered.")
            if Patient.objects.visible_to(request.user).filter(pk=patient.pk).exists():
                return redirect("engagement:patient_detail", patient.pk)
            return redirect(f"{reverse('engagement:book')}?q={patient.name}")
        status = 400
    else:
        locations = Location.objects.visible_to(request.user)
        form = PatientForm(user=request.user, initial={"location": locations.first()})
        status = 200
    return _render(request, "engagement/patient_form.html", {"form": form}, status=status)


def patient_detail(request, pk):
    require(request, access.BOOK)
    patient = view_record(request, Patient.objects.select_related("location"), pk=pk)
    appointments = (
        Appointment.objects.visible_to(request.user)
        .filter(patient=patient)
        .select_related("appointment_type", "staff", "location")
        .order_by("-starts_at", "-pk")
    )
    tasks = (
        FollowUpTask.objects.visible_to(request.user)
        .filter(patient=patient)
        .select_related("assignee")
        .order_by("status", "due_date", "pk")
    )
    context = {"patient": patient, "appointments": appointments, "tasks": tasks}
    return _render(request, "engagement/patient_detail.html", context, location=patient.location)


# Follow-up tasks ------------------------------------------------------------------------------


def _render_tasks(request, *, bound=None, status=200):
    today = timezone.localdate()
    show_done = request.GET.get("status") == "done"
    tasks = (
        FollowUpTask.objects.visible_to(request.user)
        .filter(status=FollowUpTask.Status.DONE if show_done else FollowUpTask.Status.OPEN)
        .select_related("patient", "assignee", "appointment__appointment_type")
        .annotate(
            overdue=Case(
                When(due_date__lt=today, then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            ),
            rank=Case(
                When(priority=FollowUpTask.Priority.HIGH, then=Value(0)),
                When(priority=FollowUpTask.Priority.MEDIUM, then=Value(1)),
                default=Value(2),
            ),
        )
    )
    order = ("-completed_at", "pk") if show_done else ("-overdue", "due_date", "rank", "pk")
    page = Paginator(tasks.order_by(*order), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        (task, bound if bound is not None and bound.task.pk == task.pk else None)
        for task in page.object_list
    ]
    rows = [(task, form or CompleteTaskForm(task=task)) for task, form in rows]
    if bound is not None and all(task.pk != bound.task.pk for task, _ in rows):
        rows.insert(0, (bound.task, bound))
    context = {"page": page, "rows": rows, "today": today, "show_done": show_done}
    return _render(request, "engagement/task_list.html", context, status=status)


def task_list(request):
    """Open follow-up tasks, overdue first, then by due date and priority (a staff pharmacist:
    their own); ?status=done lists the done ones."""
    require(request, access.CARE)
    return _render_tasks(request)


@require_POST
def task_complete(request, pk):
    require(request, access.CARE)
    task = get_visible_or_404(
        FollowUpTask.objects.select_related("patient", "assignee"), request.user, pk=pk
    )
    form = CompleteTaskForm(request.POST, task=task)
    if form.is_valid():
        try:
            services.complete_task(task, outcome=form.cleaned_data["outcome"], by=request.user)
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, f"Follow-up done: {task.reason} for {task.patient.name}.")
            return redirect("engagement:task_list")
    return _render_tasks(request, bound=form, status=400)


# Time off -------------------------------------------------------------------------------------


def _staff_zone(staff):
    location = staff.locations.first() if staff is not None else None
    return _zone(location), location


def _render_time_off(request, *, form=None, status=200):
    staff = access.staff_of(request.user)
    _, location = _staff_zone(staff)
    context = {"own": [], "team": [], "form": None, "decides": False}
    if staff is not None:
        context["own"] = list(TimeOff.objects.filter(staff=staff).order_by("-starts_at")[:20])
        context["form"] = form or TimeOffForm()
    if access.can(request.user, access.SCHEDULE_TEAM):
        context["decides"] = True
        since = timezone.now() - timedelta(days=30)
        team = (
            TimeOff.objects.visible_to(request.user)
            .filter(ends_at__gte=since)
            .select_related("staff", "decided_by")
            .order_by("status", "starts_at", "pk")
        )
        if staff is not None:
            team = team.exclude(staff=staff)
        context["team"] = list(team)
    return _render(request, "engagement/time_off.html", context, location=location, status=status)


def time_off(request):
    """Request one's own time off; those who schedule the team also see and decide theirs."""
    staff = access.staff_of(request.user)
    if staff is None and not access.can(request.user, access.SCHEDULE_TEAM):
        raise PermissionDenied("Only pharmacy staff request time off.")
    if request.method != "POST":
        return _render_time_off(request)
    if staff is None:
        raise PermissionDenied("Only pharmacy staff request time off.")
    zone, _ = _staff_zone(staff)
    form = TimeOffForm(request.POST)
    with timezone.override(zone):
        valid = form.is_valid()
    if valid:
        try:
            services.request_time_off(
                staff,
                starts_at=form.cleaned_data["starts_at"],
                ends_at=form.cleaned_data["ends_at"],
                reason=form.cleaned_data["reason"],
                by=request.user,
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, "Time off requested: your manager decides.")
            return redirect("engagement:time_off")
    return _render_time_off(request, form=form, status=400)


def _approval_text(result):
    """ "2 appointments moved to Bo, 1 to Cy, 1 needs rebooking" """
    moved = Counter(appointment.staff.name for appointment in result["moved"])
    parts = []
    for position, (name, count) in enumerate(sorted(moved.items(), key=lambda i: (-i[1], i[0]))):
        noun = f" appointment{'s' if count != 1 else ''}" if position == 0 else ""
        parts.append(f"{count}{noun} moved to {name}")
    rebook = len(result["needs_rebooking"])
    if rebook:
        parts.append(f"{rebook} need{'s' if rebook == 1 else ''} rebooking")
    return ", ".join(parts) if parts else "no appointments affected"


@require_POST
def time_off_decide(request, pk, decision):
    if decision not in ("approve", "decline"):
        raise Http404("No such decision.")
    require(request, access.SCHEDULE_TEAM)
    request_ = get_visible_or_404(TimeOff.objects.select_related("staff"), request.user, pk=pk)
    try:
        if decision == "approve":
            result = services.approve_time_off(request_, by=request.user)
            messages.success(
                request, f"Time off for {request_.staff.name} approved: {_approval_text(result)}."
            )
        else:
            services.decline_time_off(request_, by=request.user)
            messages.success(request, f"Time off for {request_.staff.name} declined.")
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return _render_time_off(request, status=400)
    return redirect("engagement:time_off")
