"""The pharmacy work pages: the role matrix (each role, another app's role and anonymous on
every page), scope (404 outside it), the booking flow through HTTP (a slot booked twice is
refused and written once), an appointment's actions, patients, follow-up tasks, time off, and
query counts that do not grow with the rows.

Times are real (the pages use the clock): appointments are booked on `DAY`, the first weekday
at least two days ahead, in New York wall-clock time."""

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from engagement import booking
from engagement.models import Appointment, FollowUpTask, Patient, TimeOff
from opsintel.models import AuditEvent
from tests.engagement.factories import (
    LocationFactory,
    PatientFactory,
    StaffUserFactory,
    at,
    kind,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
ZONE = ZoneInfo("America/New_York")


def local_today():
    return timezone.localtime(timezone.now(), ZONE).date()


def weekday_from(day, step):
    while day.weekday() >= 5:
        day += timedelta(days=step)
    return day


DAY = weekday_from(local_today() + timedelta(days=2), 1)  # ahead: bookable
PAST_DAY = weekday_from(local_today() - timedelta(days=1), -1)  # behind: completable


def signed_in(user):
    client = Client()
    client.force_login(user)
    client.user = user
    return client


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def staff_user(name, role, location, **kwargs):
    group = {
        "pharmacy_manager": "Pharmacy manager",
        "senior_pharmacist": "Senior pharmacist",
        "staff_pharmacist": "Staff pharmacist",
        "pharmacy_technician": "Pharmacy technician",
        "administrative_staff": "Administrative staff",
    }[role]
    return StaffUserFactory(
        name=name,
        role=role,
        location=location,
        user__username=name.lower(),
        user__roles=[group],
        **kwargs,
    )


def book_at(patient, staff, when, code="health_screening", now=None):
    return booking.book(
        patient=patient,
        appointment_type=kind(code),
        staff=staff,
        location=staff.locations.first(),
        starts_at=when,
        now=now,
    )


@pytest.fixture
def world():
    """Main Street: Mia (manager), Sol (senior), Tia (technician), Ada (front desk) work no
    shifts, so only the staff pharmacists Ann and Bo take appointments there; Harbor: Xen."""
    main = LocationFactory(name="Main Street")
    harbor = LocationFactory(name="Harbor")
    people = {
        "mia": staff_user("Mia", "pharmacy_manager", main, shifts=[]),
        "sol": staff_user("Sol", "senior_pharmacist", main, shifts=[]),
        "ann": staff_user("Ann", "staff_pharmacist", main),
        "bo": staff_user("Bo", "staff_pharmacist", main),
        "tia": staff_user("Tia", "pharmacy_technician", main, shifts=[], license_number=""),
        "ada": staff_user("Ada", "administrative_staff", main, shifts=[], license_number=""),
        "xen": staff_user("Xen", "staff_pharmacist", harbor),
    }
    pat = PatientFactory(name="Pat Lee", location=main, date_of_birth=date(1960, 5, 4))
    far = PatientFactory(name="Far Away", location=harbor)
    return {
        "main": main,
        "harbor": harbor,
        "pat": pat,
        "far": far,
        **people,
        "ann_appt": book_at(pat, people["ann"], at(DAY, "10:00")),
        "bo_appt": book_at(pat, people["bo"], at(DAY, "14:00")),
        "harbor_appt": book_at(far, people["xen"], at(DAY, "10:00")),
    }


# Who may open what ------------------------------------------------------------------------------

PAGES = [
    "index",
    "schedule",
    "book",
    "appointment_detail",
    "patient_list",
    "patient_create",
    "patient_detail",
    "task_list",
    "time_off",
]
OK, FORBIDDEN = 200, 403
EXPECTED = {
    # index: where each role lands (a redirect), else the status on the page
    "mia": {"index": "engagement:dashboard"},
    "sol": {"index": "engagement:schedule"},
    "ann": {"index": "engagement:schedule"},
    "tia": {"index": "engagement:schedule", "task_list": FORBIDDEN},
    "ada": {"index": "engagement:schedule", "task_list": FORBIDDEN},
}


def url(name, world):
    if name == "appointment_detail":
        return reverse(f"engagement:{name}", args=[world["ann_appt"].pk])
    if name == "patient_detail":
        return reverse(f"engagement:{name}", args=[world["pat"].pk])
    return reverse(f"engagement:{name}")


@pytest.mark.parametrize("who", sorted(EXPECTED))
@pytest.mark.parametrize("name", PAGES)
def test_role_matrix(world, who, name):
    expected = EXPECTED[who].get(name, OK)
    response = signed_in(world[who].user).get(url(name, world))
    if isinstance(expected, str):
        assert response.status_code == 302
        assert response["Location"] == reverse(expected)
    else:
        assert response.status_code == expected


@pytest.mark.parametrize("name", PAGES)
def test_another_apps_role_anonymous_and_staffless_users(world, name):
    assert signed_in(UserFactory(roles=["AR manager"])).get(url(name, world)).status_code == 403

    response = Client().get(url(name, world))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))

    # A role in the app but no staff record: the landing page, nothing else.
    response = signed_in(UserFactory(roles=["Pharmacy manager"])).get(url(name, world))
    assert response.status_code == (200 if name == "index" else 403)


def test_scope_answers_404(world):
    mia, ann = signed_in(world["mia"].user), signed_in(world["ann"].user)
    harbor_appt = reverse("engagement:appointment_detail", args=[world["harbor_appt"].pk])
    assert mia.get(harbor_appt).status_code == 404
    # A staff pharmacist sees their own appointments, not a colleague's.
    assert (
        ann.get(reverse("engagement:appointment_detail", args=[world["bo_appt"].pk])).status_code
        == 404
    )
    assert (
        ann.get(reverse("engagement:appointment_detail", args=[world["ann_appt"].pk])).status_code
        == 200
    )
    assert mia.get(reverse("engagement:patient_detail", args=[world["far"].pk])).status_code == 404
    confirm = reverse("engagement:appointment_action", args=[world["bo_appt"].pk, "confirm"])
    assert ann.post(confirm).status_code == 404
    assert Appointment.objects.get(pk=world["bo_appt"].pk).status == "scheduled"


def test_detail_pages_are_audited(world):
    client = signed_in(world["sol"].user)
    client.get(reverse("engagement:appointment_detail", args=[world["ann_appt"].pk]))
    client.get(reverse("engagement:patient_detail", args=[world["pat"].pk]))
    views = AuditEvent.objects.filter(actor=world["sol"].user, action=AuditEvent.Action.VIEW)
    assert sorted((e.object_type, e.object_ids) for e in views) == [
        ("engagement.appointment", [str(world["ann_appt"].pk)]),
        ("engagement.patient", [str(world["pat"].pk)]),
    ]


# The schedule -----------------------------------------------------------------------------------


def test_schedule_shows_the_day_by_staff_member(world):
    response = signed_in(world["ada"].user).get(
        reverse("engagement:schedule"), {"day": DAY.isoformat()}
    )
    columns = [(c["staff"].name, [a.pk for a in c["appointments"]])
               for c in response.context["columns"]]  # fmt: skip
    assert columns == [("Ann", [world["ann_appt"].pk]), ("Bo", [world["bo_appt"].pk])]
    assert response.context["previous_day"] == DAY - timedelta(days=1)
    # A staff pharmacist sees their own column only.
    response = signed_in(world["bo"].user).get(
        reverse("engagement:schedule"), {"day": DAY.isoformat()}
    )
    assert [c["staff"].name for c in response.context["columns"]] == ["Bo"]
    assert [a.pk for a in response.context["columns"][0]["appointments"]] == [world["bo_appt"].pk]


def test_schedule_query_count_does_not_grow(world):
    client = signed_in(world["mia"].user)

    def count():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("engagement:schedule"), {"day": DAY.isoformat()})
        assert response.status_code == 200
        return response.context["total"], len(queries)

    rows, before = count()
    assert rows == 2
    for hh_mm in ("09:00", "11:00", "15:00"):
        book_at(PatientFactory(location=world["main"]), world["ann"], at(DAY, hh_mm))
        book_at(PatientFactory(location=world["main"]), world["bo"], at(DAY, hh_mm))
    rows, after = count()
    assert rows == 8
    assert after == before


# Booking through HTTP ---------------------------------------------------------------------------


def test_booking_flow_and_the_same_slot_booked_twice(world):
    Appointment.objects.all().delete()
    client = signed_in(world["ada"].user)
    page = reverse("engagement:book")

    found = client.get(page, {"q": "pat l"})
    assert [p.name for p in found.context["found"]] == ["Pat Lee"]

    chosen = client.get(page, {"patient": world["pat"].pk})
    assert chosen.context["form"].initial["last_day"] - chosen.context["form"].initial[
        "first_day"
    ] == timedelta(days=6)

    search = {
        "patient": world["pat"].pk,
        "appointment_type": kind("health_screening").pk,
        "location": world["main"].pk,
        "first_day": DAY.isoformat(),
        "last_day": DAY.isoformat(),
    }
    slots = client.get(page, search).context["slots"]
    # Ann and Bo are both free all day, with nothing booked: every 15 minutes from the
    # opening, alternating (fewest appointments, counting slots already offered; then name).
    assert [(timezone.localtime(s["starts_at"], ZONE).strftime("%H:%M"), s["staff"].name)
            for s in slots[:2]] == [("09:00", "Ann"), ("09:15", "Bo")]  # fmt: skip

    post = {**search, "staff": slots[0]["staff"].pk, "starts_at": slots[0]["value"]}
    response = client.post(page, post)
    appointment = Appointment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("engagement:appointment_detail", args=[appointment.pk])
    assert appointment.staff == world["ann"]
    assert appointment.starts_at == at(DAY, "09:00")
    assert appointment.booked_by == world["ada"].user
    assert messages_of(response) == [
        f"Booked: Health screening for Pat Lee with Ann on {DAY:%a %b} {DAY.day} at 09:00."
    ]

    # Someone else took the slot meanwhile (the same form posted again).
    other = PatientFactory(name="Other Person", location=world["main"])
    response = client.post(page, {**post, "patient": other.pk})
    assert response.status_code == 400
    assert "Start: Ann has another appointment then." in response.context["booking_errors"]
    assert "Ann has another appointment then." in response.content.decode()
    assert Appointment.objects.count() == 1
    # The search is shown again, so another slot is one click away.
    first = response.context["slots"][0]
    assert (first["starts_at"], first["staff"]) == (at(DAY, "09:00"), world["bo"])


def test_booking_outside_hours_or_in_the_past_names_the_field(world):
    client = signed_in(world["ada"].user)
    before = Appointment.objects.count()
    base = {
        "patient": world["pat"].pk,
        "appointment_type": kind("health_screening").pk,
        "location": world["main"].pk,
        "staff": world["ann"].pk,
    }
    response = client.post(
        reverse("engagement:book"), {**base, "starts_at": at(DAY, "07:00").isoformat()}
    )
    assert response.status_code == 400
    assert (
        "Start: Main Street is not open for the whole appointment."
        in (response.context["booking_errors"])
    )
    past = at(PAST_DAY, "10:00").isoformat()
    response = client.post(reverse("engagement:book"), {**base, "starts_at": past})
    assert "Start: That time is in the past." in response.context["booking_errors"]
    response = client.post(reverse("engagement:book"), {**base, "patient": world["far"].pk,
                                                         "starts_at": past})  # fmt: skip
    assert response.status_code == 400
    assert any(e.startswith("Patient: Select a valid choice") for e in
               response.context["booking_errors"])  # fmt: skip
    assert Appointment.objects.count() == before


# An appointment's actions -----------------------------------------------------------------------


def action(client, appointment, name, data=None):
    return client.post(
        reverse("engagement:appointment_action", args=[appointment.pk, name]), data or {}
    )


def past_appointment(world, code="mtm_session"):
    when = at(PAST_DAY, "10:00")
    return book_at(world["pat"], world["ann"], when, code=code, now=when - timedelta(days=1))


def test_complete_creates_a_follow_up_task_shown_on_the_task_list(world):
    appointment = past_appointment(world)
    client = signed_in(world["ann"].user)
    detail = client.get(reverse("engagement:appointment_detail", args=[appointment.pk]))
    assert detail.context["actions"]["complete"] is True

    response = action(client, appointment, "complete", {"outcome_notes": "Plan agreed."})
    assert response.status_code == 302
    task = FollowUpTask.objects.get(appointment=appointment)
    assert task.reason == "MTM follow-up call"
    assert task.due_date == local_today() + timedelta(days=14)
    assert messages_of(response)[0].startswith(
        "Appointment completed. Follow-up task created: MTM follow-up call, due "
    )
    appointment.refresh_from_db()
    assert (appointment.status, appointment.outcome_notes) == ("completed", "Plan agreed.")

    tasks = signed_in(world["mia"].user).get(reverse("engagement:task_list"))
    assert [t.pk for t, _ in tasks.context["rows"]] == [task.pk]
    assert "MTM follow-up call" in tasks.content.decode()

    # Then the survey.
    response = action(client, appointment, "survey", {"satisfaction": "5", "would_recommend": "9"})
    assert response.status_code == 302
    assert appointment.survey.satisfaction == 5
    response = action(client, appointment, "survey", {"satisfaction": "9", "would_recommend": "9"})
    assert response.status_code == 400
    assert any(e.startswith("Satisfaction (1–5):") for e in response.context["action_errors"])


def test_a_refused_action_shows_why_and_changes_nothing(world):
    client = signed_in(world["mia"].user)
    future = world["ann_appt"]
    # Not started yet: no completing (the button is not even offered).
    assert (
        client.get(reverse("engagement:appointment_detail", args=[future.pk])).context["actions"][
            "complete"
        ]
        is False
    )
    response = action(client, future, "complete")
    assert response.status_code == 400
    assert response.context["action_errors"] == [
        "Status: An appointment can't be completed before it starts."
    ]
    assert Appointment.objects.get(pk=future.pk).status == "scheduled"
    assert action(client, future, "explode").status_code == 404
    # The role matrix holds for POSTs too: the front desk books, it does not check in.
    assert action(signed_in(world["ada"].user), future, "check-in").status_code == 403


def test_confirm_cancel_with_the_late_fee_and_reschedule(world):
    health = kind("health_screening")
    health.cancellation_hours, health.late_cancellation_fee = 24 * 30, "15.00"
    health.save()
    client = signed_in(world["ada"].user)
    appointment = world["ann_appt"]

    assert action(client, appointment, "confirm").status_code == 302
    assert Appointment.objects.get(pk=appointment.pk).status == "confirmed"

    detail = client.get(
        reverse("engagement:appointment_detail", args=[appointment.pk]),
        {"first_day": DAY.isoformat(), "last_day": DAY.isoformat()},
    )
    assert "a late-cancellation fee of $15.00 applies" in detail.content.decode()
    slot = next(s for s in detail.context["reschedule_slots"] if s["staff"] == world["bo"])
    response = action(
        client, appointment, "reschedule", {"staff": world["bo"].pk, "starts_at": slot["value"]}
    )
    assert response.status_code == 302
    moved = Appointment.objects.get(pk=appointment.pk)
    assert (moved.staff, moved.starts_at) == (world["bo"], slot["starts_at"])

    response = action(client, appointment, "cancel", {"reason": ""})
    assert response.status_code == 400
    assert response.context["action_errors"] == ["Reason: Say why the appointment is cancelled."]
    response = action(client, appointment, "cancel", {"reason": "Patient is unwell"})
    assert messages_of(response) == [
        "Appointment cancelled. Late cancellation: the $15.00 fee applies."
    ]
    cancelled = Appointment.objects.get(pk=appointment.pk)
    assert (cancelled.status, cancelled.late_cancellation) == ("cancelled", True)


# Patients ---------------------------------------------------------------------------------------


def registration(world, **fields):
    return {
        "location": world["main"].pk,
        "name": "Rae Park",
        "date_of_birth": "1971-02-03",
        "email": "rae@example.org",
        "phone": "+1 (555) 010-0200",
        "preferred_channel": "sms",
        "sms_consent": "on",
        **fields,
    }


def test_register_a_patient_with_duplicate_warning(world):
    client = signed_in(world["ada"].user)
    page = reverse("engagement:patient_create")
    response = client.post(page, registration(world))
    rae = Patient.objects.get(name="Rae Park")
    assert response["Location"] == reverse("engagement:patient_detail", args=[rae.pk])
    assert (rae.phone, rae.sms_consent, rae.email_consent) == ("+15550100200", True, False)

    response = client.post(page, registration(world, name="rae park"))
    assert response.status_code == 400
    assert "Possible duplicate" in response.content.decode()
    assert Patient.objects.filter(name__iexact="rae park").count() == 1

    response = client.post(page, registration(world, name="rae park", confirm_duplicate="on"))
    assert response.status_code == 302
    assert Patient.objects.filter(name__iexact="rae park").count() == 2


def test_registration_errors_name_the_field(world):
    client = signed_in(world["ada"].user)
    response = client.post(
        reverse("engagement:patient_create"),
        registration(world, phone="", location=world["harbor"].pk),
    )
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert errors["sms_consent"] == ["SMS consent needs a phone number."]
    assert errors["preferred_channel"] == ["SMS needs a phone number."]
    assert errors["location"][0].startswith("Select a valid choice")
    assert not Patient.objects.filter(name="Rae Park").exists()


def test_patient_detail_lists_appointments_and_tasks(world):
    response = signed_in(world["sol"].user).get(
        reverse("engagement:patient_detail", args=[world["pat"].pk])
    )
    assert [a.pk for a in response.context["appointments"]] == [
        world["bo_appt"].pk, world["ann_appt"].pk,
    ]  # fmt: skip


# Follow-up tasks --------------------------------------------------------------------------------


def task(world, days, assignee, priority="medium", **fields):
    return FollowUpTask.objects.create(
        patient=fields.pop("patient", world["pat"]),
        reason=fields.pop("reason", f"Call in {days}"),
        due_date=local_today() + timedelta(days=days),
        assignee=assignee,
        priority=priority,
        **fields,
    )


def test_task_list_overdue_first_and_scoped(world):
    later = task(world, 3, world["ann"], "high")
    overdue = task(world, -2, world["bo"], "low")
    today_low = task(world, 0, world["ann"], "low")
    today_high = task(world, 0, world["ann"], "high")
    task(world, 1, world["xen"], patient=world["far"])
    task(world, -5, world["ann"], status="done")

    rows = signed_in(world["sol"].user).get(reverse("engagement:task_list")).context["rows"]
    assert [t.pk for t, _ in rows] == [overdue.pk, today_high.pk, today_low.pk, later.pk]
    assert [t.overdue for t, _ in rows] == [True, False, False, False]
    rows = signed_in(world["ann"].user).get(reverse("engagement:task_list")).context["rows"]
    assert [t.pk for t, _ in rows] == [today_high.pk, today_low.pk, later.pk]


def test_complete_a_task_needs_an_outcome(world):
    item = task(world, 0, world["ann"])
    client = signed_in(world["ann"].user)
    done = reverse("engagement:task_complete", args=[item.pk])
    response = client.post(done, {"outcome": "  "})
    assert response.status_code == 400
    assert "Say what came of the follow-up." in response.content.decode()
    assert FollowUpTask.objects.get(pk=item.pk).status == "open"

    response = client.post(done, {"outcome": "Taking it as prescribed."})
    assert response.status_code == 302
    item.refresh_from_db()
    assert (item.status, item.outcome) == ("done", "Taking it as prescribed.")
    # Bo's task is not Ann's to close.
    theirs = task(world, 0, world["bo"])
    bo_done = reverse("engagement:task_complete", args=[theirs.pk])
    assert client.post(bo_done, {"outcome": "x"}).status_code == 404


def test_task_list_query_count_does_not_grow(world):
    client = signed_in(world["mia"].user)

    def count():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("engagement:task_list"))
        return len(response.context["rows"]), len(queries)

    for days in range(2):
        task(world, days, world["ann"])
    rows, before = count()
    for days in range(6):
        task(world, days - 3, world["bo"], patient=PatientFactory(location=world["main"]))
    rows_after, after = count()
    assert (rows, rows_after) == (2, 8)
    assert after == before


# Time off ---------------------------------------------------------------------------------------


def test_request_and_approve_time_off_moves_what_it_can(world):
    # Bo is busy at 14:00 already, so Ann's 14:00 cannot move; her 10:00 can.
    ann_late = book_at(PatientFactory(location=world["main"]), world["ann"], at(DAY, "14:00"))
    ann = signed_in(world["ann"].user)
    response = ann.post(
        reverse("engagement:time_off"),
        {"starts_at": f"{DAY}T00:00", "ends_at": f"{DAY + timedelta(days=1)}T00:00",
         "reason": "Family"},
    )  # fmt: skip
    assert response.status_code == 302
    request = TimeOff.objects.get(staff=world["ann"])
    assert (request.starts_at, request.status) == (at(DAY, "00:00"), "requested")

    # Staff pharmacists do not decide; the technician neither.
    decide = reverse("engagement:time_off_decide", args=[request.pk, "approve"])
    assert ann.post(decide).status_code == 403
    assert signed_in(world["tia"].user).post(decide).status_code == 403
    sol = signed_in(world["sol"].user)
    assert [r.pk for r in sol.get(reverse("engagement:time_off")).context["team"]] == [request.pk]
    assert (
        sol.post(reverse("engagement:time_off_decide", args=[request.pk, "maybe"])).status_code
        == 404
    )

    response = sol.post(decide)
    assert messages_of(response) == [
        "Time off for Ann approved: 1 appointment moved to Bo, 1 needs rebooking."
    ]
    assert Appointment.objects.get(pk=world["ann_appt"].pk).staff == world["bo"]
    assert Appointment.objects.get(pk=ann_late.pk).needs_rebooking is True

    # An overlapping request is refused, naming the field.
    response = ann.post(
        reverse("engagement:time_off"),
        {"starts_at": f"{DAY}T12:00", "ends_at": f"{DAY}T13:00"},
    )
    assert response.status_code == 400
    assert response.context["form"].errors["starts_at"][0].startswith("It overlaps Ann's approved")
    assert TimeOff.objects.count() == 1


def test_decline_and_colleagues_out_of_scope(world):
    request = TimeOff.objects.create(
        staff=world["xen"], starts_at=at(DAY, "09:00"), ends_at=at(DAY, "17:00")
    )
    mia = signed_in(world["mia"].user)
    decline = reverse("engagement:time_off_decide", args=[request.pk, "decline"])
    assert mia.post(decline).status_code == 404
    mine = TimeOff.objects.create(
        staff=world["bo"], starts_at=at(DAY, "09:00"), ends_at=at(DAY, "17:00")
    )
    response = mia.post(reverse("engagement:time_off_decide", args=[mine.pk, "decline"]))
    assert messages_of(response) == ["Time off for Bo declined."]
    assert TimeOff.objects.get(pk=mine.pk).status == "declined"


def test_a_user_without_staff_record_cannot_request_time_off(world):
    admin = signed_in(UserFactory(roles=["Pharmacy manager"]))
    response = admin.post(reverse("engagement:time_off"), {"starts_at": f"{DAY}T09:00"})
    assert response.status_code == 403
