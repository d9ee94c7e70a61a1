"""Pharmacy engagement demo data: 2 locations, 12 staff across the five roles, ~600 patients,
three months of appointments before the anchor and two weeks after it, with their follow-up
tasks, reminders and surveys.

Deterministic and idempotent (see opsintel/demo.py): every random choice comes from
`ctx.rng_for("engagement")`. Locations are upserted on their names, staff on theirs, holidays
on (location, date). Everything else the demo owns — the two locations' opening hours, the demo
staff's working hours and time off, the locations' patients, appointments, follow-up tasks,
reminders and surveys — has no natural key, so it is replaced: the rows are deleted and
written again in bulk, the n-th generated row taking the n-th old row's id. `seed_demo` twice
leaves the same rows under the same ids (pages bookmarked on the demo site keep working).
Anything added by hand at the demo locations is reset.

Time: the anchor is midnight starting the first day of the current month, as in the other
apps' demos, and it is the demo's "now": the history is the three calendar months before it
(appointments completed, no-shows, cancelled; tasks done or overdue; reminders sent, failed or
skipped) and the two weeks from the anchor on are still ahead (scheduled or confirmed, their
reminders waiting). The issue asks for "two weeks ahead"; it is ahead of the anchor, not of
the day the demo is looked at, so that the data does not change within a month. Viewed late in
the month, those two weeks lie in the past but are still booked; `seed_demo` in a new month
moves everything along.

Appointments are laid out per staff member and day on the slot grid, inside their working
hours and outside their break, time off and the locations' holidays, each clear of the
previous one plus its buffer, within the staff member's and the type's daily caps and booked
within the type's lead times, so every one is valid under engagement.booking's rules (the
tests check a sample with booking.problems). They are written directly: booking.book per
appointment would be far too slow.

Patterns built in
-----------------
* ~8% of past appointments that were not cancelled are no-shows: more on Monday mornings and
  for patients who have missed one before (some patients miss often); ~6% are cancelled, about
  two in five of them late (inside the type's cancellation window).
* In the past, pharmacists' hours are about half booked (about 60% with the types' buffers),
  managers' less (they also run the pharmacy), so utilization shows below its 75–85% target;
  the weeks ahead fill up less the further away.
  Vaccinations double in the flu season (September to December).
* Surveys on ~40% of completed appointments, mostly 4–5; lower when the appointment ran more
  than 10 minutes late, and for one staff pharmacist (Tomas Varga) who runs late more often.
* Completing an MTM session, chronic disease review or new medication consultation made its
  follow-up task (the type's rule), due that many days later, with the appointment's
  pharmacist; ~90% done on time, some late, a few still open and escalated. Plus refill and
  manual tasks.
* Reminders 24 h and 2 h before on the patient's preferred channel: sent (now and then on the
  second attempt), failed after retries, skipped with the reason (no phone number, no consent,
  opted out, booked inside the lead window) or cancelled with the appointment; ahead of the
  anchor, scheduled.
* Time off: a past vacation and day off (approved), a declined request, a pending request
  ahead, and an approved day ahead whose appointments could not be moved (needs rebooking).

Sizes: 600 patients at size small, x10 medium, x100 large; the locations, staff and their
appointments (as many as their hours hold) are the same at every size.

Demo logins: the five pharmacy personas of the "users" generator (pharmacy-manager,
senior-pharmacist, staff-pharmacist, pharmacy-technician, administrative-staff) are staff at
Maple Street Pharmacy; "ops-director" (who also holds the Pharmacy manager role) manages
Riverside Pharmacy.
"""

import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from engagement.models import (
    Appointment,
    AppointmentType,
    FollowUpTask,
    Location,
    LocationHoliday,
    OpeningHours,
    Patient,
    Reminder,
    Role,
    StaffMember,
    SurveyResponse,
    TimeOff,
    WorkingHours,
)
from opsintel.demo import demo_generator
from opsintel.models import User

PATIENTS_AT_SMALL = 600
HISTORY_MONTHS = 3
DAYS_AHEAD = 14
STEP = 15  # minutes: the slot grid (ENGAGEMENT_SLOT_STEP_MINUTES' default)
BATCH = 1_000

MAPLE, RIVERSIDE = "Maple Street Pharmacy", "Riverside Pharmacy"
# name: (address, time zone, [(weekdays, opens, closes)])
LOCATIONS = {
    MAPLE: (
        "120 Maple Street, Columbus, OH 43215",
        "America/New_York",
        [((0, 1, 2, 3, 4), "08:00", "20:00"), ((5,), "09:00", "17:00")],
    ),
    RIVERSIDE: (
        "45 River Road, Springfield, IL 62701",
        "America/Chicago",
        [((0, 1, 2, 3, 4), "09:00", "19:00"), ((5,), "09:00", "15:00")],
    ),
}

IMMUNIZER, MTM = "certified_immunizer", "mtm_certified"
# name, role, license, qualifications, max a day, how busy (share of grid steps booked),
# demo login, {location: [(weekdays, starts, ends, break starts, break ends)]}
STAFF = [
    ("Greta Lind", Role.PHARMACY_MANAGER, "RPH-OH-0412231", [IMMUNIZER, MTM], 7, 0.5,
     "pharmacy-manager", {MAPLE: [((0, 1, 2, 3, 4), "09:00", "17:00", "12:30", "13:00")]}),
    ("Irene Costa", Role.SENIOR_PHARMACIST, "RPH-OH-0398410", [IMMUNIZER, MTM], 14, 0.72,
     "senior-pharmacist", {MAPLE: [((0, 1, 2, 3, 4), "08:00", "16:00", "12:00", "12:30")]}),
    ("Victor Ames", Role.STAFF_PHARMACIST, "RPH-OH-0455172", [IMMUNIZER], 14, 0.7,
     "staff-pharmacist", {MAPLE: [((0, 1, 2, 3), "11:30", "20:00", "15:30", "16:00"),
                                  ((5,), "09:00", "17:00", "12:30", "13:00")]}),
    ("Hana Okoye", Role.STAFF_PHARMACIST, "RPH-OH-0461980", [IMMUNIZER, MTM], 14, 0.7,
     None, {MAPLE: [((1, 2, 3, 4), "12:00", "20:00", "16:00", "16:30")]}),
    ("Yara Suleiman", Role.PHARMACY_TECHNICIAN, "CPHT-OH-118204", [], 16, 0.6,
     "pharmacy-technician", {MAPLE: [((0, 1, 2, 3, 4), "08:00", "16:30", "12:00", "12:30")]}),
    ("Ben Archer", Role.ADMINISTRATIVE_STAFF, "", [], 12, 0,
     "administrative-staff", {MAPLE: [((0, 1, 2, 3, 4), "09:00", "17:30", "13:00", "13:30")]}),
    ("Morgan Ellis", Role.PHARMACY_MANAGER, "RPH-IL-051298", [IMMUNIZER, MTM], 7, 0.5,
     "ops-director", {RIVERSIDE: [((0, 1, 2, 3, 4), "09:00", "17:00", "12:30", "13:00")]}),
    ("Aisha Grant", Role.SENIOR_PHARMACIST, "RPH-IL-049811", [IMMUNIZER, MTM], 14, 0.72,
     None, {RIVERSIDE: [((0, 1, 2, 3, 4), "09:00", "17:00", "12:00", "12:30")]}),
    ("Tomas Varga", Role.STAFF_PHARMACIST, "RPH-IL-055034", [IMMUNIZER], 14, 0.7,
     None, {RIVERSIDE: [((1, 2, 3, 4), "10:30", "19:00", "14:30", "15:00"),
                        ((5,), "09:00", "15:00", None, None)]}),
    ("Lucy Park", Role.PHARMACY_TECHNICIAN, "CPHT-IL-220931", [], 16, 0.6,
     None, {RIVERSIDE: [((0, 1, 2, 3, 4), "09:00", "15:30", "12:00", "12:30"),
                        ((5,), "09:00", "15:00", None, None)]}),
    ("Omari Wells", Role.ADMINISTRATIVE_STAFF, "", [], 12, 0,
     None, {RIVERSIDE: [((0, 1, 2, 3, 4), "09:00", "17:00", "12:30", "13:00")]}),
    # Works at both: Monday, Wednesday and Friday at Maple Street, Tuesday and Thursday at
    # Riverside.
    ("Nadia Brooks", Role.STAFF_PHARMACIST, "RPH-OH-0470355", [IMMUNIZER, MTM], 14, 0.7,
     None, {MAPLE: [((0, 2, 4), "10:00", "18:00", "13:30", "14:00")],
            RIVERSIDE: [((1, 3), "10:00", "18:00", "13:30", "14:00")]}),
]  # fmt: skip
SLOW = "Tomas Varga"  # runs late more often; his patients rate him lower

# Demand by appointment type code (a type a manager added: 5).
DEMAND = {
    "vaccination": 28,
    "health_screening": 18,
    "chronic_disease_review": 20,
    "new_medication_consultation": 18,
    "mtm_session": 14,
}
FLU_SEASON = (9, 10, 11, 12)

OUTCOMES = {
    "mtm_session": [
        "Reviewed all medicines; duplicate NSAID stopped, plan sent to the prescriber.",
        "Reviewed 9 medicines; timing of levothyroxine changed, written plan given.",
        "Adherence gaps found; pill organiser set up and refill dates aligned.",
    ],
    "health_screening": [
        "BP 128/82, glucose in range; annual re-check advised.",
        "BP 148/94; referred to the prescriber for review.",
        "Cholesterol high; lifestyle advice given, result sent to the prescriber.",
    ],
    "vaccination": [
        "Influenza vaccine given, left deltoid; no reaction after 15 minutes.",
        "COVID-19 booster given; observed 15 minutes, no reaction.",
        "Shingles vaccine dose 1 given; dose 2 due in 2–6 months.",
    ],
    "chronic_disease_review": [
        "HbA1c trending down; adherence good; next review in 3 months.",
        "Home BP readings above target; prescriber asked to review the dose.",
        "Inhaler technique corrected; asthma control improved.",
    ],
    "new_medication_consultation": [
        "Explained dosing and side effects; patient repeated the instructions back.",
        "Interaction with an OTC product flagged; patient advised to stop it.",
        "Counselled on starting metformin with food to limit stomach upset.",
    ],
}
OTHER_OUTCOME = "Appointment completed as planned."
CANCELLATION_REASONS = [
    "Patient unwell",
    "Work conflict",
    "Transport problem",
    "Rebooked by phone",
    "No longer needed",
]
TASK_OUTCOMES = [
    "Called the patient: doing well, no side effects.",
    "Reached the patient; adherence confirmed, no changes.",
    "Left a voicemail, then reached the patient the next day; questions answered.",
    "Patient reports dizziness; prescriber informed.",
]
EXTRA_TASKS = [
    (FollowUpTask.Source.REFILL, "Refill overdue: adherence check call", 45),
    (FollowUpTask.Source.REFILL, "Refill due: confirm pickup", 25),
    (FollowUpTask.Source.MANUAL, "Call back about insurance coverage", 15),
    (FollowUpTask.Source.MANUAL, "Check home blood pressure log", 15),
]
PRIORITY = {
    "new_medication_consultation": FollowUpTask.Priority.HIGH,
    "mtm_session": FollowUpTask.Priority.MEDIUM,
    "chronic_disease_review": FollowUpTask.Priority.MEDIUM,
}
COMMENTS = {
    1: ["Waited a long time and felt rushed.", ""],
    2: ["Ran very late.", "Hard to get answers.", ""],
    3: ["Fine, but I waited.", ""],
    4: ["Helpful.", "Good advice.", ""],
    5: ["Excellent, very thorough.", "Quick and friendly!", "Explained everything clearly.", ""],
}
RECOMMEND = {1: (0, 3), 2: (2, 5), 3: (5, 7), 4: (7, 9), 5: (9, 10)}
FAILURES = {
    "sms": [
        "SMS provider error 30003: unreachable destination handset",
        "SMS provider error 30006: landline or unreachable carrier",
    ],
    "email": ["SMTP 550: mailbox unavailable", "SMTP 552: mailbox full"],
}
FIRST_NAMES = [
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David",
    "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas",
    "Sarah", "Carlos", "Karen", "Daniel", "Nancy", "Luis", "Lisa", "Wei", "Betty", "Ahmed",
    "Margaret", "Kenji", "Sandra", "Fatima", "Dmitri", "Aaliyah", "Jorge", "Mei", "Oluwaseun",
]  # fmt: skip
LAST_NAMES = [
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor",
    "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Nguyen", "Kim",
    "Okafor", "Novak", "Haddad", "Schmidt",
]  # fmt: skip


def anchor():
    """Midnight starting the first day of the current month: the demo's "now"."""
    day = timezone.localdate().replace(day=1)
    return timezone.make_aware(datetime.combine(day, time(0, 0)))


def history_start(now):
    """The first day of the month HISTORY_MONTHS before the anchor's."""
    day = now.date()
    months = day.year * 12 + day.month - 1 - HISTORY_MONTHS
    return date(months // 12, months % 12 + 1, 1)


def template_for(hours):
    # The names engagement.reminders gives its templates.
    return f"appointment_{hours}h"


def _pick(rng, weighted):
    return rng.choices([value for value, _ in weighted], weights=[w for _, w in weighted])[0]


def _clock(text):
    return time.fromisoformat(text) if text else None


def _minutes(clock):
    return clock.hour * 60 + clock.minute


def _local(day, minute, zone):
    """`minute` minutes after midnight on `day`, wall-clock time in `zone`, as UTC."""
    return datetime.combine(day, time(minute // 60, minute % 60), tzinfo=zone).astimezone(UTC)


@demo_generator("engagement", after=["users"])
def seed_engagement(ctx):
    rng = ctx.rng_for("engagement")
    patients_rng, schedule_rng, outcome_rng, message_rng = (
        random.Random(rng.getrandbits(64)) for _ in range(4)
    )
    now = anchor()
    first_day = history_start(now)
    last_day = now.date() + timedelta(days=DAYS_AHEAD - 1)
    locations = _upsert_locations(now.date())
    kinds = list(AppointmentType.objects.filter(active=True).order_by("code"))
    staff = _upsert_staff(locations, kinds)
    old = _delete_replaced(locations, staff)
    _write_opening_hours(locations, old[OpeningHours])
    hours = _write_working_hours(staff, locations, old[WorkingHours])
    time_off = _write_time_off(staff, locations, hours, now, old[TimeOff])
    patients = _write_patients(patients_rng, ctx.scale(PATIENTS_AT_SMALL), locations, now, old)
    world = _World(locations, staff, kinds, hours, time_off, first_day, last_day)
    appointments = _plan_appointments(schedule_rng, world, patients, now)
    _write_appointments(outcome_rng, appointments, staff, now, old)
    _write_tasks(outcome_rng, appointments, patients, staff, now, old[FollowUpTask])
    _write_surveys(outcome_rng, appointments, now, old[SurveyResponse])
    _write_reminders(message_rng, appointments, now, old[Reminder])


# Deleting what is replaced ----------------------------------------------------------------------


def _delete_replaced(locations, staff):
    """Delete the rows this run writes again (children first); return their old ids in order,
    by model, for the new rows to take."""
    location_ids = [location.pk for location in locations.values()]
    staff_ids = [member.pk for member in staff.values()]
    patients = Patient.objects.filter(location__in=location_ids)
    appointments = Appointment.objects.filter(
        Q(location__in=location_ids) | Q(patient__in=patients)
    )
    tasks = FollowUpTask.objects.filter(patient__in=patients)
    scopes = [
        (Reminder, Reminder.objects.filter(Q(appointment__in=appointments) | Q(task__in=tasks))),
        (SurveyResponse, SurveyResponse.objects.filter(appointment__in=appointments)),
        (FollowUpTask, tasks),
        (Appointment, appointments),
        (Patient, patients),
        (TimeOff, TimeOff.objects.filter(staff__in=staff_ids)),
        (WorkingHours, WorkingHours.objects.filter(staff__in=staff_ids)),
        (OpeningHours, OpeningHours.objects.filter(location__in=location_ids)),
    ]
    old = {model: list(rows.order_by("pk").values_list("pk", flat=True)) for model, rows in scopes}
    for model, _ in scopes:
        model.objects.filter(pk__in=old[model]).delete()
    return old


def _reuse(rows, ids):
    """Write `rows` in place of the deleted ones: the n-th row takes the n-th old id (rows
    beyond the old count get new ids)."""
    for row, pk in zip(rows, ids, strict=False):
        row.pk = pk
    if rows:
        type(rows[0]).objects.bulk_create(rows, batch_size=BATCH)
    return rows


# Locations and staff ----------------------------------------------------------------------------


def _nth_weekday(year, month, weekday, n):
    """The n-th (1-based; -1 the last) `weekday` of the month."""
    if n > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    last = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def holidays(today):
    """The days both pharmacies close, from last year to next: {date: name}."""
    days = {}
    for year in range(today.year - 1, today.year + 2):
        days |= {
            date(year, 1, 1): "New Year's Day",
            _nth_weekday(year, 5, 0, -1): "Memorial Day",
            date(year, 7, 4): "Independence Day",
            _nth_weekday(year, 9, 0, 1): "Labor Day",
            _nth_weekday(year, 11, 3, 4): "Thanksgiving Day",
            date(year, 12, 25): "Christmas Day",
        }
    return days


def _upsert_locations(today):
    locations = {}
    closed = holidays(today)
    for name, (address, zone, _) in LOCATIONS.items():
        location, _ = Location.objects.update_or_create(
            name=name, defaults={"address": address, "timezone": zone}
        )
        locations[name] = location
        location.zone = ZoneInfo(zone)
        LocationHoliday.objects.filter(location=location).exclude(date__in=closed).delete()
        LocationHoliday.objects.bulk_create(
            [LocationHoliday(location=location, date=day, name=n) for day, n in closed.items()],
            update_conflicts=True,
            unique_fields=["location", "date"],
            update_fields=["name"],
        )
        location.closed = set(closed)
    return locations


def _write_opening_hours(locations, old_ids):
    rows = [
        OpeningHours(location=locations[name], weekday=weekday, opens=_clock(opens),
                     closes=_clock(closes))
        for name, (_, _, spec) in LOCATIONS.items()
        for weekdays, opens, closes in spec
        for weekday in weekdays
    ]  # fmt: skip
    _reuse(rows, old_ids)


def _deliverable(member, role, qualifications, kinds):
    return [
        kind
        for kind in kinds
        if role in kind.allowed_roles
        and (not kind.required_qualification or kind.required_qualification in qualifications)
    ]


def _upsert_staff(locations, kinds):
    """The 12 staff, on their names; the demo logins linked (each to this record only)."""
    logins = [spec[6] for spec in STAFF if spec[6]]
    users = {user.username: user for user in User.objects.filter(username__in=logins)}
    staff = {}
    for name, role, license_number, qualifications, cap, busy, login, shifts in STAFF:
        user = users.get(login)
        if user is not None:
            StaffMember.objects.filter(user=user).exclude(name=name).update(user=None)
        member, _ = StaffMember.objects.update_or_create(
            name=name,
            defaults={
                "user": user,
                "role": role,
                "license_number": license_number,
                "qualifications": qualifications,
                "max_appointments_per_day": cap,
                "active": True,
            },
        )
        member.locations.set([locations[location] for location in shifts])
        # None listed: every type their role and qualifications allow (booking's rule).
        member.appointment_types.set([])
        member.busy = busy
        member.kinds = _deliverable(member, role, qualifications, kinds)
        staff[name] = member
    return staff


def _write_working_hours(staff, locations, old_ids):
    rows = []
    for name, *_, shifts in STAFF:
        for location, patterns in shifts.items():
            for weekdays, starts, ends, break_starts, break_ends in patterns:
                rows += [
                    WorkingHours(
                        staff=staff[name],
                        location=locations[location],
                        weekday=weekday,
                        starts=_clock(starts),
                        ends=_clock(ends),
                        break_starts=_clock(break_starts),
                        break_ends=_clock(break_ends),
                    )
                    for weekday in weekdays
                ]
    return _reuse(rows, old_ids)


def _working_day(hours, member, day, locations):
    """The first day from `day` on that `member` works (not a holiday)."""
    closed = {location.pk: location.closed for location in locations.values()}
    while True:
        if any(
            h.staff_id == member.pk
            and h.weekday == day.weekday()
            and day not in closed[h.location_id]
            for h in hours
        ):
            return day
        day += timedelta(days=1)


def _write_time_off(staff, locations, hours, now, old_ids):
    """A week's vacation, a conference and a day off in the past (approved), a declined
    request, requests waiting ahead, and a day ahead approved after its appointments were
    booked."""
    today = now.date()
    monday = today - timedelta(days=today.weekday())
    home = {name: next(iter(shifts)) for name, *_, shifts in STAFF}
    managers = {MAPLE: staff["Greta Lind"].user, RIVERSIDE: staff["Morgan Ellis"].user}

    def span(name, first, days, status, reason, decided_days_before=0):
        zone = locations[home[name]].zone
        starts = _local(first, 0, zone)
        decided = status != TimeOff.Status.REQUESTED
        return TimeOff(
            staff=staff[name],
            starts_at=starts,
            ends_at=_local(first + timedelta(days=days), 0, zone),
            reason=reason,
            status=status,
            decided_by=managers[home[name]] if decided else None,
            decided_at=min(starts - timedelta(days=decided_days_before), now - timedelta(hours=20))
            if decided
            else None,
        )

    def workday(name, day):
        return _working_day(hours, staff[name], day, locations)

    approved, declined, requested = (
        TimeOff.Status.APPROVED,
        TimeOff.Status.DECLINED,
        TimeOff.Status.REQUESTED,
    )
    rows = [
        span("Irene Costa", monday - timedelta(weeks=7), 5, approved, "Vacation", 30),
        span("Aisha Grant", monday - timedelta(weeks=10), 3, approved, "Conference", 21),
        span("Victor Ames", workday("Victor Ames", monday - timedelta(weeks=3)), 1, approved,
             "Medical appointment", 10),
        span("Hana Okoye", monday - timedelta(weeks=5), 4, declined, "Family visit", 14),
        span("Nadia Brooks", workday("Nadia Brooks", today + timedelta(days=10)), 2, requested,
             "Moving house"),
        span("Yara Suleiman", workday("Yara Suleiman", today + timedelta(days=22)), 1,
             requested, "Child's school event"),
        # Approved the day before the anchor, after the day's appointments were booked: nobody
        # qualified was free at those times, so they wait to be rebooked.
        span(SLOW, workday(SLOW, today + timedelta(days=8)), 1, approved, "Surgery (own)", 1),
    ]  # fmt: skip
    rows[-1].booked_over = True
    return _reuse(rows, old_ids)


# Patients ---------------------------------------------------------------------------------------


def _write_patients(rng, count, locations, now, old):
    rows = []
    names = list(locations)
    for n in range(1, count + 1):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        has_phone = rng.random() >= 0.04
        has_email = rng.random() >= 0.18
        phone = f"+1555{n:07d}" if has_phone else ""
        email = f"{first}.{last}.{n}@example.org".lower() if has_email else ""
        preferred = (
            Patient.Channel.SMS
            if has_phone and (not has_email or rng.random() < 0.62)
            else Patient.Channel.EMAIL
        )
        # Nearly everyone agreed to their preferred channel; fewer to the other one.
        sms_consent = has_phone and rng.random() < (0.96 if preferred == "sms" else 0.5)
        email_consent = has_email and rng.random() < (0.95 if preferred == "email" else 0.55)
        location = locations[names[0] if rng.random() < 0.55 else names[1]]
        row = Patient(
            location=location,
            name=f"{first} {last}",
            date_of_birth=date(1938, 1, 1) + timedelta(days=rng.randint(0, 365 * 68)),
            email=email,
            phone=phone,
            email_consent=email_consent,
            sms_consent=sms_consent,
            email_opted_out=has_email and rng.random() < 0.03,
            sms_opted_out=has_phone and rng.random() < 0.04,
            preferred_channel=preferred,
            created_at=now - timedelta(days=rng.randint(120, 2_000), minutes=rng.randint(0, 1439)),
        )
        # Hidden traits behind the patterns: how often they book, how reliable they are.
        row.frequency = rng.lognormvariate(0, 0.9)
        row.unreliable = _pick(rng, [(0.6, 70), (1.4, 25), (3.5, 5)])
        rows.append(row)
    return _reuse(rows, old[Patient])


# Appointments -----------------------------------------------------------------------------------


class _World:
    """The schedule's constraints, in memory: shifts, time off, holidays, caps."""

    def __init__(self, locations, staff, kinds, hours, time_off, first_day, last_day):
        self.locations = locations
        self.by_pk = {location.pk: location for location in locations.values()}
        self.staff = staff
        self.kinds = kinds
        self.first_day, self.last_day = first_day, last_day
        self.shifts = {}
        for row in hours:
            self.shifts.setdefault((row.staff_id, row.weekday), []).append(row)
        self.blocking_off, self.booked_over = {}, {}
        for row in time_off:
            if row.status != TimeOff.Status.APPROVED:
                continue
            target = self.booked_over if getattr(row, "booked_over", False) else self.blocking_off
            target.setdefault(row.staff_id, []).append((row.starts_at, row.ends_at))


def _ceil(minute):
    return -(-minute // STEP) * STEP


def _overlaps(start, end, intervals):
    return any(start < other_end and other_start < end for other_start, other_end in intervals)


def _fill(member, day, today):
    """The share of grid steps booked: ahead of the anchor, less the further away."""
    busy = member.busy * (1.12 if day.weekday() == 0 else 1)
    if day < today:
        return busy
    return busy * max(0.2, 1 - (day - today).days / 16)


def _plan_appointments(rng, world, patients, now):
    """Appointment rows (not saved) for every staff member and day, on the slot grid."""
    today = now.date()
    by_location = {}
    for patient in patients:
        by_location.setdefault(patient.location_id, []).append(patient)
    weights = {pk: [p.frequency for p in rows] for pk, rows in by_location.items()}
    booked_days = set()  # (patient pk, day): one appointment a day each
    per_type_day = {}
    planned = []
    day = world.first_day
    while day <= world.last_day:
        for member in world.staff.values():
            if not member.kinds:
                continue
            for shift in world.shifts.get((member.pk, day.weekday()), []):
                location = world.by_pk[shift.location_id]
                if day in location.closed:
                    continue
                planned += _staff_day(
                    rng, world, member, shift, location, day, today, per_type_day,
                    by_location[location.pk], weights[location.pk], booked_days, now,
                )  # fmt: skip
        day += timedelta(days=1)
    planned.sort(key=lambda row: (row.starts_at, row.staff_id))
    return planned


def _staff_day(rng, world, member, shift, location, day, today, per_type_day, patients,
               weights, booked_days, now):  # fmt: skip
    zone = location.zone
    fill = _fill(member, day, today)
    off = world.blocking_off.get(member.pk, [])
    segments = (
        [(shift.starts, shift.break_starts), (shift.break_ends, shift.ends)]
        if shift.break_starts
        else [(shift.starts, shift.ends)]
    )
    free, rows = 0, []
    for seg_start, seg_end in segments:
        minute, end = max(_minutes(seg_start), _ceil(free)), _minutes(seg_end)
        while len(rows) < member.max_appointments_per_day:
            fitting = [
                kind
                for kind in member.kinds
                if minute + kind.duration_minutes <= end
                and (
                    kind.max_bookings_per_day is None
                    or per_type_day.get((location.pk, kind.pk, day), 0) < kind.max_bookings_per_day
                )
            ]
            if not fitting:
                break
            starts = _local(day, minute, zone)
            if rng.random() >= fill:
                minute += STEP
                continue
            kind = rng.choices(fitting, weights=[_demand(kind, day) for kind in fitting])[0]
            ends = starts + timedelta(minutes=kind.duration_minutes)
            if _overlaps(starts, ends, off):
                minute += STEP
                continue
            patient = _patient(rng, patients, weights, booked_days, day)
            if patient is None:
                minute += STEP
                continue
            created = _booked_at(rng, kind, starts, now)
            row = Appointment(
                patient=patient,
                appointment_type=kind,
                staff=member,
                location=location,
                starts_at=starts,
                ends_at=ends,
                blocked_until=ends + timedelta(minutes=kind.buffer_minutes),
                price=kind.price,
                created_at=created,
                needs_rebooking=_overlaps(starts, ends, world.booked_over.get(member.pk, [])),
            )
            row.local_day = day
            rows.append(row)
            per_type_day[location.pk, kind.pk, day] = (
                per_type_day.get((location.pk, kind.pk, day), 0) + 1
            )
            free = minute + kind.duration_minutes + kind.buffer_minutes
            minute = _ceil(free)
    return rows


def _demand(kind, day):
    weight = DEMAND.get(kind.code, 5)
    return weight * 2 if kind.code == "vaccination" and day.month in FLU_SEASON else weight


def _patient(rng, patients, weights, booked_days, day):
    for _ in range(6):
        patient = rng.choices(patients, weights=weights)[0]
        if (patient.pk, day) not in booked_days:
            booked_days.add((patient.pk, day))
            return patient
    return None


def _booked_at(rng, kind, starts, now):
    """When it was booked: within the type's lead times, and before the anchor."""
    earliest = starts - timedelta(days=min(kind.max_lead_days, 45))
    if starts >= now:  # ahead: booked in the weeks before the anchor
        booked = max(now - timedelta(hours=rng.uniform(0.5, 14 * 24)), earliest)
    elif rng.random() < 0.15:  # booked the same day or the day before
        booked = starts - timedelta(hours=max(kind.min_lead_hours, 1) + rng.uniform(0, 20))
    else:
        booked = starts - timedelta(days=rng.uniform(1, 21), minutes=rng.randint(0, 600))
        booked = max(booked, earliest)
    # Whole seconds: what a database round trip keeps on every backend.
    return booked.replace(microsecond=0)


def _write_appointments(rng, rows, staff, now, old):
    """Statuses in time order: whether a patient missed one before changes what they do."""
    missed = set()
    bookers = {}
    for member in staff.values():
        if member.user_id is None:
            continue
        front_desk = member.role in (Role.ADMINISTRATIVE_STAFF, Role.PHARMACY_TECHNICIAN)
        for location in member.locations.all():
            bookers.setdefault(location.pk, []).append((member.user_id, 6 if front_desk else 1))
    for row in rows:
        row.status = Appointment.Status.SCHEDULED
        choices = bookers.get(row.location_id, [])
        if choices and rng.random() < 0.7:
            row.booked_by_id = _pick(rng, choices)
        if row.starts_at >= now:
            _ahead(rng, row, now)
        else:
            _past(rng, row, missed)
    _reuse(rows, old[Appointment])


def _cancel(rng, row, latest):
    window = timedelta(hours=row.appointment_type.cancellation_hours)
    late = rng.random() < 0.35
    start = row.created_at + timedelta(minutes=10)
    if late:
        start = max(start, row.starts_at - window + timedelta(minutes=30))
    else:
        latest = min(latest, row.starts_at - window - timedelta(minutes=30))
    if latest <= start:
        return False
    seconds = int((latest - start).total_seconds())
    row.status = Appointment.Status.CANCELLED
    row.cancelled_at = start + timedelta(seconds=rng.randint(0, seconds))
    row.late_cancellation = row.starts_at - row.cancelled_at < window
    row.cancellation_reason = rng.choice(CANCELLATION_REASONS)
    return True


def _ahead(rng, row, now):
    if rng.random() < 0.03 and _cancel(rng, row, now - timedelta(minutes=5)):
        return
    soon = row.starts_at - now < timedelta(days=3)
    if rng.random() < (0.65 if soon else 0.2):
        row.status = Appointment.Status.CONFIRMED


def _past(rng, row, missed):
    if rng.random() < 0.06 and _cancel(rng, row, row.starts_at - timedelta(minutes=15)):
        return
    local = row.starts_at.astimezone(row.location.zone)
    chance = 0.046 * row.patient.unreliable
    if local.weekday() == 0 and local.hour < 12:
        chance += 0.08
    if row.patient_id in missed:
        chance += 0.12
    if rng.random() < chance:
        row.status = Appointment.Status.NO_SHOW
        missed.add(row.patient_id)
        return
    late = rng.random() < (0.3 if row.staff.name == SLOW else 0.08)
    overrun = rng.randint(11, 30) if late else rng.randint(-6, 6)
    row.status = Appointment.Status.COMPLETED
    row.completed_at = row.ends_at + timedelta(minutes=overrun, seconds=rng.randint(0, 59))
    row.outcome_notes = rng.choice(OUTCOMES.get(row.appointment_type.code, [OTHER_OUTCOME]))
    row.ran_late = late


# Follow-up tasks, surveys, reminders ------------------------------------------------------------


def _end_of(day, zone):
    return _local(day + timedelta(days=1), 0, zone) - timedelta(minutes=1)


def _write_tasks(rng, appointments, patients, staff, now, old_ids):
    today = now.date()
    rows = []
    for appointment in appointments:
        kind = appointment.appointment_type
        if appointment.status != Appointment.Status.COMPLETED or not kind.follow_up_days:
            continue
        rows.append(
            _task(
                rng,
                patient=appointment.patient,
                appointment=appointment,
                reason=kind.follow_up_reason or f"{kind.name} follow-up",
                source=FollowUpTask.Source.APPOINTMENT,
                priority=PRIORITY.get(kind.code, FollowUpTask.Priority.MEDIUM),
                created=appointment.completed_at,
                due=appointment.local_day + timedelta(days=kind.follow_up_days),
                assignee=appointment.staff,
                zone=appointment.location.zone,
                now=now,
            )
        )
    pharmacists = {}
    for member in staff.values():
        if member.role in (Role.SENIOR_PHARMACIST, Role.STAFF_PHARMACIST):
            for location in member.locations.all():
                pharmacists.setdefault(location.pk, []).append(member)
    span = (today - history_start(now)).days
    for _ in range(len(patients) // 4):
        patient = rng.choice(patients)
        source, reason, _ = _pick(rng, [(task, task[2]) for task in EXTRA_TASKS])
        zone = patient.location.zone
        day = today - timedelta(days=rng.randint(1, span))
        created = _local(day, rng.randint(9 * 60, 17 * 60), zone)
        rows.append(
            _task(
                rng,
                patient=patient,
                appointment=None,
                reason=reason,
                source=source,
                priority=_pick(rng, [("low", 30), ("medium", 55), ("high", 15)]),
                created=created,
                due=day + timedelta(days=rng.randint(2, 10)),
                assignee=rng.choice(pharmacists[patient.location_id]),
                zone=zone,
                now=now,
            )
        )
    _reuse(rows, old_ids)


def _task(rng, *, patient, appointment, reason, source, priority, created, due, assignee, zone,
          now):  # fmt: skip
    row = FollowUpTask(
        patient=patient,
        appointment=appointment,
        reason=reason,
        source=source,
        priority=priority,
        due_date=due,
        assignee=assignee,
        status=FollowUpTask.Status.OPEN,
        created_at=created,
    )
    due_end = _end_of(due, zone)
    roll = rng.random()
    if due_end < now:
        if roll < 0.9:  # on time
            done = created + (due_end - created) * rng.uniform(0.3, 1)
        elif roll < 0.97:  # late
            done = due_end + timedelta(days=rng.uniform(0.2, 6))
        else:
            done = None
        if done is None or done >= now:
            row.escalated_at = due_end + timedelta(hours=9)
            return row
        if done > due_end:
            row.escalated_at = due_end + timedelta(hours=9)
    else:
        done = created + (now - created) * rng.uniform(0.4, 1) if roll < 0.25 else None
        if done is None:
            return row
    row.status = FollowUpTask.Status.DONE
    row.completed_at = done.replace(microsecond=0)
    row.outcome = rng.choice(TASK_OUTCOMES)
    return row


def _write_surveys(rng, appointments, now, old_ids):
    rows = []
    for appointment in appointments:
        if appointment.status != Appointment.Status.COMPLETED or rng.random() >= 0.4:
            continue
        submitted = appointment.completed_at + timedelta(minutes=rng.randint(20, 48 * 60))
        if submitted >= now:
            continue
        score = (
            4.7
            - (1.1 if appointment.ran_late else 0)
            - (0.6 if appointment.staff.name == SLOW else 0)
            + rng.gauss(0, 0.55)
        )
        satisfaction = min(5, max(1, round(score)))
        low, high = RECOMMEND[satisfaction]
        rows.append(
            SurveyResponse(
                appointment=appointment,
                satisfaction=satisfaction,
                would_recommend=rng.randint(low, high),
                comment=rng.choice(COMMENTS[satisfaction]),
                submitted_at=submitted,
            )
        )
    _reuse(rows, old_ids)


def _unreachable(patient, channel):
    """Why a reminder cannot go to the patient on this channel ("" when it can)."""
    if channel == Patient.Channel.SMS:
        if not patient.phone:
            return "no phone number"
        if patient.sms_opted_out:
            return "opted out of SMS"
        if not patient.sms_consent:
            return "no consent to SMS"
        return ""
    if not patient.email:
        return "no email address"
    if patient.email_opted_out:
        return "opted out of email"
    if not patient.email_consent:
        return "no consent to email"
    return ""


def _after_quiet_hours(moment, zone):
    """The moment, or the end of the quiet hours it falls in."""
    starts, ends = (time.fromisoformat(t) for t in settings.ENGAGEMENT_QUIET_HOURS)
    local = moment.astimezone(zone)
    if ends <= local.time() < starts:
        return moment
    day = local.date() if local.time() < ends else local.date() + timedelta(days=1)
    return datetime.combine(day, ends, tzinfo=zone).astimezone(UTC)


def _write_reminders(rng, appointments, now, old_ids):
    rows = []
    for appointment in appointments:
        patient = appointment.patient
        channel = patient.preferred_channel
        for hours in settings.ENGAGEMENT_REMINDER_OFFSETS_HOURS:
            send_at = appointment.starts_at - timedelta(hours=hours)
            row = Reminder(
                appointment=appointment,
                channel=channel,
                template=template_for(hours),
                send_at=send_at,
                created_at=appointment.created_at,
            )
            rows.append(row)
            cancelled = appointment.cancelled_at
            if send_at <= appointment.created_at:
                row.status = Reminder.Status.SKIPPED
                row.reason = f"booked inside the lead window ({hours} h before)"
            elif cancelled is not None and cancelled <= send_at:
                row.status = Reminder.Status.CANCELLED
                row.reason = "the appointment was cancelled or moved"
            elif send_at >= now:
                row.status = Reminder.Status.SCHEDULED
            elif reason := _unreachable(patient, channel):
                row.status = Reminder.Status.SKIPPED
                row.reason = reason
                row.attempts = 0
            elif rng.random() < 0.035:
                row.status = Reminder.Status.FAILED
                row.reason = rng.choice(FAILURES[channel])
                row.attempts = 3
            else:
                row.status = Reminder.Status.SENT
                row.attempts = 2 if rng.random() < 0.06 else 1
                sent = _after_quiet_hours(send_at, appointment.location.zone)
                retry = timedelta(minutes=5) if row.attempts == 2 else timedelta()
                row.sent_at = sent + retry + timedelta(seconds=rng.randint(1, 40))
                row.provider_message_id = (
                    f"SM{rng.getrandbits(128):032x}"
                    if channel == Patient.Channel.SMS
                    else f"<{rng.getrandbits(64):016x}@demo.opsintel.invalid>"
                )
    _reuse(rows, old_ids)
