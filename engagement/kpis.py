"""The pharmacy's KPIs, each defined once here and computed in the database.

Every function takes location ids (one location, or every location the user sees) and local
dates: a day runs from midnight to midnight in its location's time zone. Appointment facts are
aggregated with GROUP BY in a fixed number of queries whatever their count; the staff
calendar (weekly working hours, holidays, approved time off: a few rows per person) is read in
one query per table and laid over the calendar days here.

Definitions (an appointment belongs to the period in which it starts):
- completion rate = completed ÷ (completed + no-shows). Cancellations are not in the
  denominator: a cancelled slot is a booking that went away, not a visit that failed, and the
  late ones are charged by the type's policy instead. Appointments not yet completed or marked
  no-show are not judged either.
- no-show rate = no-shows ÷ (completed + no-shows), so the two rates add up to 1.
- satisfaction = mean survey satisfaction (1–5) of the period's appointments.
- NPS = % promoters (would recommend 9–10) − % detractors (0–6), −100..100.
- follow-ups on time = tasks done on or before their due date (local date of completion) ÷
  tasks due in the period that are done or overdue; open tasks not yet due and cancelled
  tasks are not judged.
- utilization = booked minutes (appointments not cancelled) ÷ scheduled minutes: weekly
  working hours less breaks, location holidays and approved time off, of the staff who deliver
  appointments (pharmacists and technicians; administrative staff book, they do not deliver).
- revenue = sum of the price of completed appointments; revenue per pharmacist = revenue ÷
  active pharmacists (the clinical roles) at the locations; appointments per pharmacist per day
  = completed ÷ (pharmacists × days the location is open in the period), summed over locations.

Targets come from settings.ENGAGEMENT_TARGETS ({"min": …} and/or {"max": …}); a value on a
threshold meets it, so the utilization band 75–85% includes both ends.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import (
    Case,
    Count,
    DateField,
    DurationField,
    ExpressionWrapper,
    F,
    IntegerField,
    Q,
    Sum,
    Value,
    When,
)
from django.db.models.functions import ExtractHour, ExtractIsoWeekDay, TruncDate
from django.urls import reverse
from django.utils import timezone

from engagement.models import (
    CLINICAL_ROLES,
    Appointment,
    FollowUpTask,
    KpiAlert,
    Location,
    LocationHoliday,
    OpeningHours,
    Role,
    StaffMember,
    TimeOff,
    WorkingHours,
)
from opsintel.notices import notify

GOOD, BAD = "good", "bad"
DELIVERING_ROLES = (*CLINICAL_ROLES, Role.PHARMACY_TECHNICIAN)
UNDER_WAY = (
    Appointment.Status.SCHEDULED,
    Appointment.Status.CONFIRMED,
    Appointment.Status.CHECKED_IN,
)
WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class Kpi:
    key: str
    label: str
    unit: str  # rate (0..1), score (1..5), money, number, nps (-100..100)


KPIS = (
    Kpi("completion_rate", "Appointment completion rate", "rate"),
    Kpi("no_show_rate", "No-show rate", "rate"),
    Kpi("satisfaction", "Patient satisfaction", "score"),
    Kpi("nps", "Net promoter score", "nps"),
    Kpi("follow_ups_on_time", "Follow-ups completed on time", "rate"),
    Kpi("utilization", "Staff utilization", "rate"),
    Kpi("revenue", "Revenue", "money"),
    Kpi("revenue_per_pharmacist", "Revenue per pharmacist", "money"),
    Kpi("appointments_per_pharmacist_day", "Appointments per pharmacist per day", "number"),
)
KPI_BY_KEY = {kpi.key: kpi for kpi in KPIS}


# Formatting (stored in reports as text, so a report reads the same after targets change) ----


def display(value, unit):
    if value is None:
        return "—"
    if unit == "rate":
        return f"{value * 100:.1f}%"
    if unit == "score":
        return f"{value:.2f} / 5"
    if unit == "money":
        return f"${Decimal(value):,.2f}"
    if unit == "nps":
        return f"{value:+.0f}"
    return f"{value:.1f}"


def target_of(key):
    return settings.ENGAGEMENT_TARGETS.get(key)


def status(key, value):
    """GOOD or BAD against the KPI's target; None without a target or without data."""
    target = target_of(key)
    if target is None or value is None:
        return None
    low, high = target.get("min"), target.get("max")
    if (low is not None and value < low) or (high is not None and value > high):
        return BAD
    return GOOD


def target_display(key):
    target = target_of(key)
    if target is None:
        return ""
    unit = KPI_BY_KEY[key].unit
    low, high = target.get("min"), target.get("max")
    if low is not None and high is not None:
        return f"{display(low, unit)}–{display(high, unit)}"
    if low is not None:
        return f"at least {display(low, unit)}"
    return f"at most {display(high, unit)}"


def figure(key, value):
    kpi = KPI_BY_KEY[key]
    return {
        "key": key,
        "label": kpi.label,
        "unit": kpi.unit,
        "value": value,
        "display": display(value, kpi.unit),
        "target": target_display(key),
        "status": status(key, value),
    }


# Periods, time zones and the staff calendar ---------------------------------------------------


class _Scope:
    """The locations asked about, grouped by time zone (a day's bounds depend on it)."""

    def __init__(self, location_ids):
        rows = Location.objects.filter(pk__in=list(location_ids)).values_list("pk", "timezone")
        self.zones = defaultdict(list)
        for pk, zone in rows:
            self.zones[zone].append(pk)
        self.ids = [pk for ids in self.zones.values() for pk in ids]
        self.zone_of = {pk: ZoneInfo(zone) for zone, ids in self.zones.items() for pk in ids}

    def bounds(self, zone, first_day, last_day):
        tz = ZoneInfo(zone)
        start = datetime.combine(first_day, time(), tzinfo=tz)
        end = datetime.combine(last_day + timedelta(days=1), time(), tzinfo=tz)
        return start, end

    def within(self, periods, field, location_field):
        """Q: `field` (a moment) falls in any of the periods, in its location's time zone."""
        condition = Q(pk__in=[])
        first, last = min(p[1] for p in periods), max(p[2] for p in periods)
        for zone, ids in self.zones.items():
            start, end = self.bounds(zone, first, last)
            condition |= Q(
                **{f"{location_field}__in": ids, f"{field}__gte": start, f"{field}__lt": end}
            )
        return condition

    def period_of(self, periods, field, location_field):
        """An expression naming the period a row's `field` falls in (None: in none)."""
        whens = []
        for key, first_day, last_day in periods:
            for zone, ids in self.zones.items():
                start, end = self.bounds(zone, first_day, last_day)
                whens.append(
                    When(
                        Q(
                            **{
                                f"{location_field}__in": ids,
                                f"{field}__gte": start,
                                f"{field}__lt": end,
                            }
                        ),
                        then=Value(key),
                    )
                )
        return Case(*whens, default=Value(None), output_field=IntegerField())

    def local_today(self, now):
        return {zone: timezone.localtime(now, ZoneInfo(zone)).date() for zone in self.zones}


def _days(first_day, last_day):
    return [first_day + timedelta(days=n) for n in range((last_day - first_day).days + 1)]


def _overlap_minutes(start, end, other_start, other_end):
    seconds = (min(end, other_end) - max(start, other_start)).total_seconds()
    return max(0.0, seconds / 60)


class _Calendar:
    """Working hours, holidays, time off and opening days of the scope: one query each."""

    def __init__(self, scope, first_day, last_day):
        self.scope = scope
        self.shifts = defaultdict(list)  # (location, weekday) → [(staff, starts, ends, b1, b2)]
        for row in WorkingHours.objects.filter(
            location_id__in=scope.ids, staff__active=True, staff__role__in=DELIVERING_ROLES
        ).values_list(
            "location_id", "weekday", "staff_id", "starts", "ends", "break_starts", "break_ends"
        ):
            self.shifts[row[0], row[1]].append(row[2:])
        self.holidays = set(
            LocationHoliday.objects.filter(
                location_id__in=scope.ids, date__gte=first_day, date__lte=last_day
            ).values_list("location_id", "date")
        )
        self.open_weekdays = defaultdict(set)
        for location_id, weekday in OpeningHours.objects.filter(
            location_id__in=scope.ids
        ).values_list("location_id", "weekday"):
            self.open_weekdays[location_id].add(weekday)
        self.time_off = defaultdict(list)
        earliest = datetime.combine(first_day - timedelta(days=1), time(), tzinfo=ZoneInfo("UTC"))
        latest = datetime.combine(last_day + timedelta(days=2), time(), tzinfo=ZoneInfo("UTC"))
        for staff_id, starts_at, ends_at in (
            TimeOff.objects.filter(
                status=TimeOff.Status.APPROVED,
                staff__hours__location_id__in=scope.ids,
                starts_at__lt=latest,
                ends_at__gt=earliest,
            )
            .distinct()
            .values_list("staff_id", "starts_at", "ends_at")
        ):
            self.time_off[staff_id].append((starts_at, ends_at))
        self.pharmacists = defaultdict(set)  # location → staff ids
        for location_id, staff_id in StaffMember.objects.filter(
            active=True, role__in=CLINICAL_ROLES, locations__in=scope.ids
        ).values_list("locations", "pk"):
            self.pharmacists[location_id].add(staff_id)

    def scheduled_minutes(self, first_day, last_day):
        """{staff id: scheduled working minutes} over the days, less breaks, holidays and
        approved time off."""
        minutes = defaultdict(float)
        for day in _days(first_day, last_day):
            for location_id in self.scope.ids:
                if (location_id, day) in self.holidays:
                    continue
                zone = self.scope.zone_of[location_id]
                for staff_id, starts, ends, break_starts, break_ends in self.shifts[
                    location_id, day.weekday()
                ]:
                    pieces = [(starts, ends)]
                    if break_starts and break_ends:
                        pieces = [(starts, break_starts), (break_ends, ends)]
                    for piece_start, piece_end in pieces:
                        start = datetime.combine(day, piece_start, tzinfo=zone)
                        end = datetime.combine(day, piece_end, tzinfo=zone)
                        if end <= start:
                            continue
                        off = sum(
                            _overlap_minutes(start, end, a, b) for a, b in self.time_off[staff_id]
                        )
                        minutes[staff_id] += (end - start).total_seconds() / 60 - off
        return minutes

    def pharmacist_days(self, first_day, last_day):
        """Σ over locations of pharmacists × days open (not a holiday) in the period."""
        total = 0
        for location_id in self.scope.ids:
            open_days = sum(
                1
                for day in _days(first_day, last_day)
                if day.weekday() in self.open_weekdays[location_id]
                and (location_id, day) not in self.holidays
            )
            total += len(self.pharmacists[location_id]) * open_days
        return total

    def pharmacist_count(self):
        return len(set().union(*self.pharmacists.values())) if self.pharmacists else 0


# The aggregates -------------------------------------------------------------------------------

_COMPLETED = Q(status=Appointment.Status.COMPLETED)
_NO_SHOW = Q(status=Appointment.Status.NO_SHOW)
_CANCELLED = Q(status=Appointment.Status.CANCELLED)
_LENGTH = ExpressionWrapper(F("ends_at") - F("starts_at"), output_field=DurationField())


def _appointment_aggregates():
    return {
        "completed": Count("pk", filter=_COMPLETED),
        "no_show": Count("pk", filter=_NO_SHOW),
        "cancelled": Count("pk", filter=_CANCELLED),
        "under_way": Count("pk", filter=Q(status__in=UNDER_WAY)),
        "booked_time": Sum(_LENGTH, filter=~_CANCELLED),
        "revenue": Sum("price", filter=_COMPLETED),
        "surveys": Count("survey"),
        "satisfaction_total": Sum("survey__satisfaction"),
        "promoters": Count("survey", filter=Q(survey__would_recommend__gte=9)),
        "detractors": Count("survey", filter=Q(survey__would_recommend__lte=6)),
    }


def _appointment_rows(scope, periods, group_by=()):
    """{(period key, *group values): aggregates} for appointments starting in the periods."""
    rows = (
        Appointment.objects.filter(scope.within(periods, "starts_at", "location_id"))
        .annotate(period=scope.period_of(periods, "starts_at", "location_id"))
        .order_by()
        .values("period", *group_by)
        .annotate(**_appointment_aggregates())
    )
    return {(row["period"], *(row[g] for g in group_by)): row for row in rows}


def _task_rows(scope, periods, now):
    """{period key: {"judged", "on_time"}} for follow-up tasks due in the periods."""
    first = min(p[1] for p in periods)
    last = max(p[2] for p in periods)
    today = scope.local_today(now)
    overdue = Q(pk__in=[])
    done_day = []
    for zone, ids in scope.zones.items():
        overdue |= Q(patient__location_id__in=ids, due_date__lt=today[zone])
        done_day.append(
            When(
                patient__location_id__in=ids, then=TruncDate("completed_at", tzinfo=ZoneInfo(zone))
            )
        )
    done = Q(status=FollowUpTask.Status.DONE)
    period = Case(
        *(When(due_date__gte=a, due_date__lte=b, then=Value(key)) for key, a, b in periods),
        default=Value(None),
        output_field=IntegerField(),
    )
    rows = (
        FollowUpTask.objects.filter(
            patient__location_id__in=scope.ids, due_date__gte=first, due_date__lte=last
        )
        .exclude(status=FollowUpTask.Status.CANCELLED)
        .annotate(period=period, done_day=Case(*done_day, output_field=DateField()))
        .order_by()
        .values("period")
        .annotate(
            judged=Count("pk", filter=done | (Q(status=FollowUpTask.Status.OPEN) & overdue)),
            on_time=Count("pk", filter=done & Q(done_day__lte=F("due_date"))),
        )
    )
    return {row["period"]: row for row in rows}


def _minutes(duration):
    return duration.total_seconds() / 60 if duration else 0.0


CENT = Decimal("0.01")


def _money(value):
    # SQLite's SUM drops a Decimal's scale ("170"); money always shows its cents.
    return (value or Decimal(0)).quantize(CENT)


def _share(part, whole):
    return part / whole if whole else None


def _values(row, tasks, scheduled, pharmacist_count, pharmacist_days):
    completed, no_show = row.get("completed", 0), row.get("no_show", 0)
    judged = completed + no_show
    surveys = row.get("surveys", 0)
    revenue = _money(row.get("revenue"))
    nps = None
    if surveys:
        nps = round((row["promoters"] - row["detractors"]) * 100 / surveys, 1)
    return {
        "completion_rate": _share(completed, judged),
        "no_show_rate": _share(no_show, judged),
        "satisfaction": _share(row.get("satisfaction_total") or 0, surveys),
        "nps": nps,
        "follow_ups_on_time": _share(tasks.get("on_time", 0), tasks.get("judged", 0)),
        "utilization": _share(_minutes(row.get("booked_time")), scheduled),
        "revenue": revenue,
        "revenue_per_pharmacist": (
            (revenue / pharmacist_count).quantize(CENT) if pharmacist_count else None
        ),
        "appointments_per_pharmacist_day": _share(completed, pharmacist_days),
    }


def _counts(row):
    return {
        "completed": row.get("completed", 0),
        "no_show": row.get("no_show", 0),
        "cancelled": row.get("cancelled", 0),
        "under_way": row.get("under_way", 0),
        "surveys": row.get("surveys", 0),
    }


def _figures_by_period(location_ids, periods, now):
    scope = _Scope(location_ids)
    if not scope.ids:
        return scope, {key: ({}, {}) for key, _, _ in periods}
    first = min(p[1] for p in periods)
    last = max(p[2] for p in periods)
    calendar = _Calendar(scope, first, last)
    appointments = _appointment_rows(scope, periods)
    tasks = _task_rows(scope, periods, now or timezone.now())
    result = {}
    for key, first_day, last_day in periods:
        row = appointments.get((key,), {})
        scheduled = sum(calendar.scheduled_minutes(first_day, last_day).values())
        values = _values(
            row,
            tasks.get(key, {}),
            scheduled,
            calendar.pharmacist_count(),
            calendar.pharmacist_days(first_day, last_day),
        )
        result[key] = (values, _counts(row))
    return scope, result


# The public readers ---------------------------------------------------------------------------


def kpis(location_ids, first_day, last_day, *, now=None):
    """Every KPI over the days (inclusive) at the locations:
    {"first_day", "last_day", "values": {key: value}, "figures": [figure …], "counts": {…}}."""
    _, by_period = _figures_by_period(location_ids, [(0, first_day, last_day)], now)
    values, counts = by_period[0]
    if not values:
        values = dict.fromkeys(KPI_BY_KEY)
    return {
        "first_day": first_day,
        "last_day": last_day,
        "values": values,
        "figures": [figure(kpi.key, values[kpi.key]) for kpi in KPIS],
        "counts": counts or _counts({}),
    }


def trend(location_ids, last_day, weeks=8, *, now=None):
    """Weekly points ending on `last_day`: {"weeks": [(first, last) …], "points": {key:
    [(week's last day, value) …]}}, oldest first (a week without data gives None)."""
    periods = [
        (
            n,
            last_day - timedelta(days=7 * (weeks - n) - 1),
            last_day - timedelta(days=7 * (weeks - 1 - n)),
        )
        for n in range(weeks)
    ]
    _, by_period = _figures_by_period(location_ids, periods, now)
    points = {kpi.key: [] for kpi in KPIS}
    for key, _, week_last in periods:
        values = by_period[key][0]
        for kpi in KPIS:
            points[kpi.key].append((week_last, values.get(kpi.key)))
    return {"weeks": [(a, b) for _, a, b in periods], "points": points}


def per_staff(location_ids, first_day, last_day):
    """One row per staff member who delivers appointments at the locations (or had one)."""
    scope = _Scope(location_ids)
    if not scope.ids:
        return []
    periods = [(0, first_day, last_day)]
    calendar = _Calendar(scope, first_day, last_day)
    scheduled = calendar.scheduled_minutes(first_day, last_day)
    rows = _appointment_rows(scope, periods, group_by=("staff_id",))
    staff_ids = set(scheduled) | {staff_id for _, staff_id in rows}
    people = (
        StaffMember.objects.filter(
            Q(pk__in=staff_ids) | Q(active=True, role__in=DELIVERING_ROLES, locations__in=scope.ids)
        )
        .distinct()
        .order_by("name", "pk")
        .values_list("pk", "name", "role")
    )
    roles = dict(Role.choices)
    table = []
    for staff_id, name, role in people:
        row = rows.get((0, staff_id), {})
        completed, no_show = row.get("completed", 0), row.get("no_show", 0)
        surveys = row.get("surveys", 0)
        minutes = scheduled.get(staff_id, 0.0)
        table.append(
            {
                "staff_id": staff_id,
                "name": name,
                "role": roles.get(role, role),
                "booked": completed + no_show + row.get("under_way", 0),
                "completed": completed,
                "no_show": no_show,
                "cancelled": row.get("cancelled", 0),
                "completion_rate": _share(completed, completed + no_show),
                "satisfaction": _share(row.get("satisfaction_total") or 0, surveys),
                "revenue": _money(row.get("revenue")),
                "booked_hours": round(_minutes(row.get("booked_time")) / 60, 2),
                "scheduled_hours": round(minutes / 60, 2),
                "utilization": _share(_minutes(row.get("booked_time")), minutes),
            }
        )
    return table


def service_mix(location_ids, first_day, last_day):
    """Per appointment type: booked (not cancelled), completed, revenue and share of bookings."""
    scope = _Scope(location_ids)
    if not scope.ids:
        return []
    periods = [(0, first_day, last_day)]
    rows = list(
        Appointment.objects.filter(scope.within(periods, "starts_at", "location_id"))
        .order_by()
        .values("appointment_type__name")
        .annotate(
            booked=Count("pk", filter=~_CANCELLED),
            completed=Count("pk", filter=_COMPLETED),
            revenue=Sum("price", filter=_COMPLETED),
        )
        .order_by("-booked", "appointment_type__name")
    )
    total = sum(row["booked"] for row in rows)
    return [
        {
            "service": row["appointment_type__name"],
            "booked": row["booked"],
            "completed": row["completed"],
            "revenue": _money(row["revenue"]),
            "share": _share(row["booked"], total),
        }
        for row in rows
    ]


def peak_hours(location_ids, first_day, last_day):
    """Appointments (not cancelled) by local weekday × starting hour:
    {"weekdays": ["Mon" …], "rows": [{"hour": 9, "cells": [{"count", "level"} × 7]} …],
    "max": n}; hours from the first to the last with any appointment; level is count ÷ max."""
    scope = _Scope(location_ids)
    empty = {"weekdays": list(WEEKDAY_NAMES), "rows": [], "max": 0}
    if not scope.ids:
        return empty
    periods = [(0, first_day, last_day)]

    def local(extract):
        return Case(
            *(
                When(location_id__in=ids, then=extract("starts_at", tzinfo=ZoneInfo(zone)))
                for zone, ids in scope.zones.items()
            ),
            output_field=IntegerField(),
        )

    counts = {
        (row["weekday"], row["hour"]): row["n"]
        for row in Appointment.objects.filter(scope.within(periods, "starts_at", "location_id"))
        .exclude(_CANCELLED)
        .annotate(weekday=local(ExtractIsoWeekDay), hour=local(ExtractHour))
        .order_by()
        .values("weekday", "hour")
        .annotate(n=Count("pk"))
    }
    if not counts:
        return empty
    top = max(counts.values())
    hours = [hour for _, hour in counts]
    return {
        "weekdays": list(WEEKDAY_NAMES),
        "max": top,
        "rows": [
            {
                "hour": hour,
                "label": f"{hour:02d}:00",
                "cells": [
                    {
                        "count": counts.get((weekday, hour), 0),
                        "level": round(counts.get((weekday, hour), 0) / top, 2),
                    }
                    for weekday in range(1, 8)
                ],
            }
            for hour in range(min(hours), max(hours) + 1)
        ],
    }


def today(location_ids, *, now=None):
    """Today's appointments by status and the utilization right now: staff in an appointment
    now ÷ staff working now (in their hours, not on a break, a holiday or time off)."""
    now = now or timezone.now()
    scope = _Scope(location_ids)
    result = {"counts": _counts({}), "in_appointment": 0, "working": 0, "utilization": None}
    if not scope.ids:
        return result
    local_days = scope.local_today(now)
    day_q, working_q, holiday_q = Q(pk__in=[]), Q(pk__in=[]), Q(pk__in=[])
    for zone, ids in scope.zones.items():
        start, end = scope.bounds(zone, local_days[zone], local_days[zone])
        day_q |= Q(location_id__in=ids, starts_at__gte=start, starts_at__lt=end)
        moment = timezone.localtime(now, ZoneInfo(zone)).time()
        working_q |= Q(
            location_id__in=ids,
            weekday=local_days[zone].weekday(),
            starts__lte=moment,
            ends__gt=moment,
        ) & ~Q(break_starts__lte=moment, break_ends__gt=moment)
        holiday_q |= Q(location_id__in=ids, location__holidays__date=local_days[zone])
    counts = (
        Appointment.objects.filter(day_q)
        .order_by()
        .aggregate(
            **{
                key: value
                for key, value in _appointment_aggregates().items()
                if key in ("completed", "no_show", "cancelled", "under_way")
            }
        )
    )
    working = set(
        WorkingHours.objects.filter(working_q, staff__active=True, staff__role__in=DELIVERING_ROLES)
        .exclude(holiday_q)
        .exclude(
            staff__time_off__status=TimeOff.Status.APPROVED,
            staff__time_off__starts_at__lte=now,
            staff__time_off__ends_at__gt=now,
        )
        .values_list("staff_id", flat=True)
    )
    busy = (
        Appointment.objects.filter(
            location_id__in=scope.ids,
            staff_id__in=working,
            starts_at__lte=now,
            ends_at__gt=now,
        )
        .exclude(status__in=(Appointment.Status.CANCELLED, Appointment.Status.NO_SHOW))
        .values("staff_id")
        .distinct()
        .count()
        if working
        else 0
    )
    result.update(
        counts={**_counts({}), **counts},
        in_appointment=busy,
        working=len(working),
        utilization=_share(busy, len(working)),
    )
    return result


# Alerts ---------------------------------------------------------------------------------------

ALERT_DAYS = 7


def check_alerts(*, now=None):
    """Per location, the KPIs with a target over the last 7 full days (ending yesterday): one
    outside its target opens a KpiAlert and tells the location's pharmacy managers once; one
    back within its target closes it, so a later crossing tells them again. A KPI without data
    in the window leaves its alert as it is. Returns the alerts opened by this run.

    Two runs racing each other both try to open the same alert; the partial unique constraint
    (one open alert per location and KPI) lets one in, and the other tells nobody."""
    now = now or timezone.now()
    raised = []
    open_alerts = defaultdict(dict)
    for alert in KpiAlert.objects.filter(cleared_at__isnull=True):
        open_alerts[alert.location_id][alert.kpi] = alert
    for location in Location.objects.order_by("pk"):
        last_day = timezone.localtime(now, ZoneInfo(location.timezone)).date() - timedelta(days=1)
        first_day = last_day - timedelta(days=ALERT_DAYS - 1)
        figures = kpis([location.pk], first_day, last_day, now=now)["figures"]
        for item in figures:
            current = open_alerts[location.pk].get(item["key"])
            if item["status"] == GOOD and current is not None:
                KpiAlert.objects.filter(pk=current.pk, cleared_at__isnull=True).update(
                    cleared_at=now
                )
            elif item["status"] == BAD and current is None:
                alert = _raise(location, item, first_day, last_day, now)
                if alert is not None:
                    raised.append(alert)
    return raised


def managers_of(location):
    """The users of the location's active pharmacy managers (who get its alerts and reports)."""
    return [
        staff.user
        for staff in StaffMember.objects.filter(
            locations=location,
            role=Role.PHARMACY_MANAGER,
            active=True,
            user__isnull=False,
            user__is_active=True,
        ).select_related("user")
    ]


def _raise(location, item, first_day, last_day, now):
    message = (
        f"{location.name}: {item['label'].lower()} {item['display']} over "
        f"{first_day:%b %d}–{last_day:%b %d} (target {item['target']})"
    )
    try:
        with transaction.atomic():
            alert = KpiAlert.objects.create(
                location=location, kpi=item["key"], message=message, raised_at=now
            )
            notify(
                managers_of(location),
                title=f"Pharmacy KPI alert: {message}",
                body=(
                    f"{message}. You will not be told again until it is back within its "
                    "target. The dashboard shows the trend and the per-staff figures."
                ),
                link=f"{reverse('engagement:dashboard')}?location={location.pk}",
                app_label="engagement",
            )
    except IntegrityError:
        return None  # another run opened it a moment ago and told the managers
    return alert
