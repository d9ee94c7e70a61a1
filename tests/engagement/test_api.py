"""The engagement API (/api/engagement/). Times are New York wall-clock times; "now" is the
Friday before MONDAY at noon unless a test moves the clock. Expected numbers are worked out
by hand in each test."""

from datetime import date, timedelta
from urllib.parse import urlencode

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from engagement import booking
from engagement.models import (
    Appointment,
    FollowUpTask,
    Patient,
    Reminder,
    Role,
    SurveyResponse,
)
from opsintel.models import AuditEvent
from tests.engagement.factories import (
    MONDAY,
    LocationFactory,
    PatientFactory,
    StaffFactory,
    at,
    kind,
)
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

NOW = at(MONDAY - timedelta(days=3), "12:00")  # Friday, March 13, 2026, noon


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    """The API books, checks in and completes as of clock["now"]."""
    moment = {"now": NOW}
    monkeypatch.setattr(timezone, "now", lambda: moment["now"])
    return moment


def url(route, *args, **query):
    path = reverse(f"engagement-api:{route}", args=args)
    if query:
        path += "?" + urlencode(query, doseq=True)
    return path


def local(day, hh_mm):
    """How the API writes that New York moment."""
    return at(day, hh_mm).isoformat()


def member(name, role, location, **fields):
    """A staff member with a login holding the matching pharmacy role."""
    user = UserFactory(username=name.lower(), roles=[Role(role).label])
    return StaffFactory(name=name, role=role, location=location, user=user, **fields)


@pytest.fixture
def world():
    main = LocationFactory(name="Main Street")
    harbor = LocationFactory(name="Harbor")
    people = {
        "main": main,
        "harbor": harbor,
        # Ann and Bob work Mon–Fri 09:00–17:00 (break 12:00–13:00); the others deliver nothing.
        "ann": member("Ann", "staff_pharmacist", main),
        "bob": member("Bob", "staff_pharmacist", main),
        "maria": member("Maria", "pharmacy_manager", main, shifts=[]),
        "sam": member("Sam", "senior_pharmacist", main, shifts=[]),
        "tess": member("Tess", "pharmacy_technician", main, shifts=[], qualifications=[]),
        "dan": member("Dan", "administrative_staff", main, shifts=[], qualifications=[]),
        "oscar": member("Oscar", "pharmacy_manager", harbor, shifts=[]),
        "pat": PatientFactory(location=main, name="Pat Jones"),
        "fay": PatientFactory(location=harbor, name="Fay Far"),
    }
    return people


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def as_user(api):
    def login(staff_member):
        api.force_authenticate(staff_member.user)
        return api

    return login


def book(world, staff, when, code="vaccination", patient=None):
    return booking.book(
        patient=patient or world["pat"],
        appointment_type=kind(code),
        staff=staff,
        location=staff.locations.first(),
        starts_at=when,
    )


def booking_body(world, staff, when, code="vaccination", patient=None):
    return {
        "patient": (patient or world["pat"]).pk,
        "appointment_type": kind(code).pk,
        "staff": staff.pk,
        "location": world["main"].pk,
        "starts_at": local(MONDAY, when) if isinstance(when, str) else when.isoformat(),
    }


def errors(response):
    assert response.status_code == 400, response.content
    return response.json()


def results(response):
    assert response.status_code == 200, response.content
    return response.json()["results"]


# Paths, tokens and access ---------------------------------------------------------------------


def test_the_paths():
    assert url("api-root") == "/api/engagement/"
    assert url("appointment-type-list") == "/api/engagement/appointment-types/"
    assert url("slots") == "/api/engagement/slots/"
    assert url("appointment-list") == "/api/engagement/appointments/"
    assert url("appointment-cancel", 3) == "/api/engagement/appointments/3/cancel/"
    assert url("appointment-reschedule", 3) == "/api/engagement/appointments/3/reschedule/"
    assert url("appointment-status", 3) == "/api/engagement/appointments/3/status/"
    assert url("appointment-survey", 3) == "/api/engagement/appointments/3/survey/"
    assert url("appointment-reminders", 3) == "/api/engagement/appointments/3/reminders/"
    assert url("task-list") == "/api/engagement/tasks/"
    assert url("task-complete", 4) == "/api/engagement/tasks/4/complete/"
    assert url("patient-list") == "/api/engagement/patients/"
    assert url("kpis") == "/api/engagement/kpis/"


def test_bearer_token_from_the_token_endpoint(api, world):
    book(world, world["ann"], at(MONDAY, "10:00"))
    assert api.get(url("appointment-list")).status_code == 401
    response = api.post(reverse("api:token_obtain"), {"username": "maria", "password": PASSWORD})
    assert response.status_code == 200, response.content
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access']}")
    [row] = results(api.get(url("appointment-list")))
    assert (row["patient"]["name"], row["staff"]["name"]) == ("Pat Jones", "Ann")
    response = api.post(
        url("appointment-list"), booking_body(world, world["bob"], "10:00"), format="json"
    )
    assert response.status_code == 201, response.content
    assert Appointment.objects.get(pk=response.json()["id"]).booked_by == world["maria"].user


def test_api_root_lists_the_endpoints(as_user, world):
    root = as_user(world["dan"]).get(url("api-root")).json()
    assert set(root) == {
        "appointment-types",
        "slots",
        "appointments",
        "tasks",
        "patients",
        "kpis",
    }


def test_other_apps_roles_get_403_and_nothing_is_written(api, make_user, world):
    appointment = book(world, world["ann"], at(MONDAY, "10:00"))
    api.force_authenticate(make_user("Care manager", "AR manager"))
    for path in (
        url("api-root"),
        url("appointment-type-list"),
        url("slots", type="vaccination", location=world["main"].pk, start=str(MONDAY)),
        url("appointment-list"),
        url("appointment-detail", appointment.pk),
        url("appointment-reminders", appointment.pk),
        url("task-list"),
        url("patient-list"),
        url("kpis"),
    ):
        assert api.get(path).status_code == 403, path
    for path, body in (
        (url("appointment-list"), booking_body(world, world["bob"], "11:00")),
        (url("appointment-cancel", appointment.pk), {"reason": "x"}),
        (url("appointment-status", appointment.pk), {"action": "confirm"}),
        (url("patient-list"), {"name": "New", "location": world["main"].pk}),
    ):
        assert api.post(path, body, format="json").status_code == 403, path
    assert Appointment.objects.get().status == "scheduled"
    assert Appointment.objects.count() == 1
    assert Patient.objects.count() == 2


# Appointment types and slots ------------------------------------------------------------------


def test_appointment_types_with_their_rules(as_user, world):
    rows = as_user(world["dan"]).get(url("appointment-type-list")).json()
    assert [row["code"] for row in rows] == [
        "chronic_disease_review",
        "health_screening",
        "mtm_session",
        "new_medication_consultation",
        "vaccination",
    ]
    mtm = rows[2]
    assert (mtm["duration_minutes"], mtm["price"], mtm["buffer_minutes"]) == (45, "85.00", 10)
    assert mtm["allowed_roles"] == ["pharmacy_manager", "senior_pharmacist", "staff_pharmacist"]
    assert (mtm["follow_up_days"], mtm["follow_up_reason"]) == (14, "MTM follow-up call")


def test_slot_search(as_user, world):
    book(world, world["ann"], at(MONDAY, "09:00"))  # Ann is held 09:00–09:20
    api = as_user(world["dan"])
    query = {"type": "vaccination", "location": world["main"].pk, "start": str(MONDAY)}
    slots = api.get(url("slots", **query, limit=3)).json()
    # 09:00 and 09:15: Ann is held, Bob is free. 09:30: both are free and each has one
    # (Ann booked, Bob offered twice → 2): Ann, so the suggestions spread.
    assert [(slot["starts_at"], slot["staff"]["name"]) for slot in slots] == [
        (local(MONDAY, "09:00"), "Bob"),
        (local(MONDAY, "09:15"), "Bob"),
        (local(MONDAY, "09:30"), "Ann"),
    ]
    assert slots[0]["ends_at"] == local(MONDAY, "09:15")
    # By id, over two days, the Tuesday ones follow Monday's.
    saturday = MONDAY + timedelta(days=5)
    by_id = api.get(
        url("slots", **{**query, "type": kind("vaccination").pk}, end=str(saturday), limit=100)
    ).json()
    assert len(by_id) == 100
    # Nobody works Saturdays or Sundays; a search of only those days finds nothing.
    weekend = {**query, "start": str(saturday), "end": str(saturday + timedelta(days=1))}
    assert api.get(url("slots", **weekend)).json() == []


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ({}, {"type", "location", "start"}),
        ({"type": "nope"}, {"type"}),
        ({"start": "16/03/2026"}, {"start"}),
        ({"end": str(MONDAY - timedelta(days=1))}, {"end"}),
        ({"end": str(MONDAY + timedelta(days=31))}, {"end"}),  # 32 days
        ({"limit": "0"}, {"limit"}),
        ({"limit": "101"}, {"limit"}),
        ({"location": "harbor"}, {"location"}),
    ],
)
def test_bad_slot_parameters_are_named(as_user, world, query, fields):
    good = {"type": "vaccination", "location": world["main"].pk, "start": str(MONDAY)}
    params = {**good, **query} if query else {}
    if query.get("location") == "harbor":
        params["location"] = world["harbor"].pk  # not one of Dan's locations
    assert set(errors(as_user(world["dan"]).get(url("slots", **params)))) == fields


def test_a_search_of_exactly_31_days_is_allowed(as_user, world):
    query = {"type": "vaccination", "location": world["main"].pk, "start": str(MONDAY)}
    response = as_user(world["dan"]).get(
        url("slots", **query, end=str(MONDAY + timedelta(days=30)), limit=1)
    )
    assert response.status_code == 200, response.content


# Booking --------------------------------------------------------------------------------------


def test_booking_a_slot_and_its_reminders(as_user, world):
    api = as_user(world["dan"])
    response = api.post(
        url("appointment-list"), booking_body(world, world["ann"], "10:00"), format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "scheduled"
    assert (body["starts_at"], body["ends_at"]) == (local(MONDAY, "10:00"), local(MONDAY, "10:15"))
    assert (body["staff"]["name"], body["location"]["name"]) == ("Ann", "Main Street")
    assert body["price"] == "0.00"
    reminders = api.get(url("appointment-reminders", body["id"])).json()
    assert [(r["template"], r["channel"], r["status"]) for r in reminders] == [
        ("appointment_24h", "sms", "scheduled"),
        ("appointment_2h", "sms", "scheduled"),
    ]
    assert [r["send_at"] for r in reminders] == [
        local(MONDAY - timedelta(days=1), "10:00"),
        local(MONDAY, "08:00"),
    ]


def test_double_booking_the_same_slot_is_refused(as_user, world):
    api = as_user(world["dan"])
    other = PatientFactory(location=world["main"])
    first = api.post(
        url("appointment-list"), booking_body(world, world["ann"], "10:00"), format="json"
    )
    assert first.status_code == 201, first.content
    second = api.post(
        url("appointment-list"),
        booking_body(world, world["ann"], "10:00", patient=other),
        format="json",
    )
    assert errors(second) == {"starts_at": ["Ann has another appointment then."]}
    assert Appointment.objects.count() == 1
    assert Reminder.objects.count() == 2


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"starts_at": local(MONDAY, "08:00")}, "starts_at"),  # before opening
        ({"starts_at": local(MONDAY, "12:15")}, "starts_at"),  # Ann's break
        ({"starts_at": local(MONDAY - timedelta(days=7), "10:00")}, "starts_at"),  # the past
        ({"starts_at": "tomorrow"}, "starts_at"),
        ({"staff": "dan"}, "staff"),  # not qualified
        ({"staff": "oscar"}, "staff"),  # another location's: unknown to Dan
        ({"patient": "fay"}, "patient"),  # another location's patient
        ({"appointment_type": 999}, "appointment_type"),
    ],
)
def test_bad_bookings_name_the_field_and_write_nothing(as_user, world, change, field):
    body = booking_body(world, world["ann"], "10:00")
    for key, value in change.items():
        body[key] = world[value].pk if value in world else value
    assert field in errors(as_user(world["dan"]).post(url("appointment-list"), body, format="json"))
    assert not Appointment.objects.exists()
    assert not Reminder.objects.exists()


# Appointments: reading ------------------------------------------------------------------------


def test_a_staff_pharmacist_sees_only_their_own_appointments(as_user, world):
    mine = book(world, world["ann"], at(MONDAY, "10:00"))
    theirs = book(world, world["bob"], at(MONDAY, "10:00"))
    book(world, world["bob"], at(MONDAY, "11:00"))
    api = as_user(world["ann"])
    assert [row["id"] for row in results(api.get(url("appointment-list")))] == [mine.pk]
    assert api.get(url("appointment-detail", mine.pk)).status_code == 200
    assert api.get(url("appointment-detail", theirs.pk)).status_code == 404
    assert api.get(url("appointment-reminders", theirs.pk)).status_code == 404
    # The manager sees the location's three; Harbor's manager none of them.
    assert len(results(as_user(world["maria"]).get(url("appointment-list")))) == 3
    assert results(as_user(world["oscar"]).get(url("appointment-list"))) == []
    assert as_user(world["oscar"]).get(url("appointment-detail", mine.pk)).status_code == 404


def test_appointment_filters(as_user, world):
    tuesday = MONDAY + timedelta(days=1)
    a = book(world, world["ann"], at(MONDAY, "10:00"))
    b = book(world, world["bob"], at(MONDAY, "14:00"))
    c = book(world, world["ann"], at(tuesday, "09:00"))
    d = book(world, world["bob"], at(tuesday + timedelta(days=1), "09:00"))
    booking.cancel(d)
    api = as_user(world["maria"])

    def ids(**query):
        return [row["id"] for row in results(api.get(url("appointment-list", **query)))]

    assert ids() == [a.pk, b.pk, c.pk, d.pk]
    assert ids(day=str(MONDAY)) == [a.pk, b.pk]
    assert ids(**{"from": str(tuesday)}) == [c.pk, d.pk]
    assert ids(to=str(tuesday)) == [a.pk, b.pk, c.pk]
    assert ids(**{"from": str(tuesday), "to": str(tuesday)}) == [c.pk]
    assert ids(staff=world["bob"].pk) == [b.pk, d.pk]
    assert ids(status="cancelled") == [d.pk]
    assert ids(status=["scheduled", "cancelled"], staff=world["ann"].pk) == [a.pk, c.pk]
    assert ids(location=world["harbor"].pk) == []
    assert set(errors(api.get(url("appointment-list", day="monday", status="gone")))) == {
        "day",
        "status",
    }


def test_reading_appointments_is_audited(as_user, world):
    appointment = book(world, world["ann"], at(MONDAY, "10:00"))
    api = as_user(world["maria"])
    api.get(url("appointment-detail", appointment.pk))
    api.get(url("appointment-list"))
    views = AuditEvent.objects.filter(action="view", actor=world["maria"].user)
    assert sorted(views.values_list("object_type", "object_ids")) == [
        ("engagement.appointment", [str(appointment.pk)]),
        ("engagement.appointment", [str(appointment.pk)]),
    ]


def test_the_appointment_list_takes_the_same_queries_for_more_rows(as_user, world):
    api = as_user(world["maria"])

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert api.get(url("appointment-list")).status_code == 200
        return len(captured)

    book(world, world["ann"], at(MONDAY, "10:00"))
    queries()  # the first request also loads the user's roles
    few = queries()
    for when in ("09:00", "11:00", "14:00"):
        patient = PatientFactory(location=world["main"])
        book(world, world["bob"], at(MONDAY, when), patient=patient)
        book(world, world["ann"], at(MONDAY + timedelta(days=1), when), "health_screening")
    assert Appointment.objects.count() == 7
    assert queries() == few


# Appointments: writing ------------------------------------------------------------------------


def test_cancel_and_reschedule(as_user, world):
    appointment = book(world, world["ann"], at(MONDAY, "10:00"))
    book(world, world["bob"], at(MONDAY, "11:00"))
    api = as_user(world["dan"])
    moved = api.post(
        url("appointment-reschedule", appointment.pk),
        {"starts_at": local(MONDAY, "11:00"), "staff": world["bob"].pk},
        format="json",
    )
    assert errors(moved) == {"starts_at": ["Bob has another appointment then."]}
    moved = api.post(
        url("appointment-reschedule", appointment.pk),
        {"starts_at": local(MONDAY, "11:30")},
        format="json",
    )
    assert moved.status_code == 200, moved.content
    assert (moved.json()["starts_at"], moved.json()["staff"]["name"]) == (
        local(MONDAY, "11:30"),
        "Ann",
    )
    assert appointment.reminders.get(template="appointment_2h").send_at == at(MONDAY, "09:30")
    # Friday noon to Monday 11:30 is more than the 24 h window: not a late cancellation.
    cancelled = api.post(
        url("appointment-cancel", appointment.pk), {"reason": "Feeling better"}, format="json"
    )
    assert cancelled.status_code == 200, cancelled.content
    body = cancelled.json()
    assert (body["status"], body["late_cancellation"], body["cancellation_reason"]) == (
        "cancelled",
        False,
        "Feeling better",
    )
    assert set(appointment.reminders.values_list("status", flat=True)) == {"cancelled"}
    again = api.post(url("appointment-cancel", appointment.pk), {}, format="json")
    assert errors(again) == {"status": ["A cancelled appointment can't be cancelled."]}
    back = api.post(
        url("appointment-reschedule", appointment.pk),
        {"starts_at": local(MONDAY, "14:00")},
        format="json",
    )
    assert errors(back) == {"status": ["A cancelled appointment can't be rescheduled."]}
    assert Appointment.objects.get(pk=appointment.pk).starts_at == at(MONDAY, "11:30")


def test_appointment_life_cycle_and_its_follow_up(as_user, world, clock):
    appointment = book(world, world["ann"], at(MONDAY, "10:00"), "new_medication_consultation")
    api = as_user(world["ann"])

    def act(action, **body):
        return api.post(
            url("appointment-status", appointment.pk), {"action": action, **body}, format="json"
        )

    assert act("confirm").json()["status"] == "confirmed"
    assert errors(act("check_in")) == {"status": ["Check-in opens on the day of the appointment."]}
    clock["now"] = at(MONDAY, "09:50")
    assert act("check_in").json()["status"] == "checked_in"
    assert errors(act("complete")) == {
        "status": ["An appointment can't be completed before it starts."]
    }
    clock["now"] = at(MONDAY, "10:25")
    done = act("complete", outcome_notes="Explained the dosing.")
    assert done.status_code == 200, done.content
    assert (done.json()["status"], done.json()["outcome_notes"]) == (
        "completed",
        "Explained the dosing.",
    )
    # The type's rule: a check-in 7 days after; Ann, Bob and Maria have no open work, and
    # ties go by name, so it is Ann's.
    [task] = results(api.get(url("task-list")))
    assert (task["reason"], task["due_date"], task["source"], task["assignee"]["name"]) == (
        "New medication check-in",
        str(MONDAY + timedelta(days=7)),
        "appointment_outcome",
        "Ann",
    )
    assert errors(act("no_show")) == {
        "status": ["A completed appointment can't be marked as a no-show."]
    }
    assert set(errors(act("finish"))) == {"action"}


def test_no_show(as_user, world, clock):
    appointment = book(world, world["ann"], at(MONDAY, "10:00"))
    clock["now"] = at(MONDAY, "10:20")
    response = as_user(world["sam"]).post(
        url("appointment-status", appointment.pk), {"action": "no_show"}, format="json"
    )
    assert response.json()["status"] == "no_show"


def test_role_matrix_on_appointment_writes(as_user, world, clock):
    ann_s = book(world, world["ann"], at(MONDAY, "10:00"))
    bob_s = book(world, world["bob"], at(MONDAY, "10:00"))
    clock["now"] = at(MONDAY, "10:20")
    status_url = url("appointment-status", ann_s.pk)
    complete = {"action": "complete", "outcome_notes": "Fine"}
    # Administrative staff and technicians book, but do not deliver care.
    for person in ("dan", "tess"):
        response = as_user(world[person]).post(status_url, complete, format="json")
        assert response.status_code == 403, person
    # A staff pharmacist works their own appointments only; another's is not found.
    api = as_user(world["ann"])
    for path, body in (
        (url("appointment-status", bob_s.pk), complete),
        (url("appointment-cancel", bob_s.pk), {"reason": "x"}),
        (url("appointment-reschedule", bob_s.pk), {"starts_at": local(MONDAY, "15:00")}),
        (url("appointment-survey", bob_s.pk), {"satisfaction": 5, "would_recommend": 10}),
    ):
        assert api.post(path, body, format="json").status_code == 404, path
    assert Appointment.objects.get(pk=bob_s.pk).status == "scheduled"
    assert api.post(status_url, complete, format="json").json()["status"] == "completed"
    # Another location's manager: not found either.
    response = as_user(world["oscar"]).post(url("appointment-cancel", bob_s.pk), {}, format="json")
    assert response.status_code == 404
    assert Appointment.objects.get(pk=bob_s.pk).status == "scheduled"


# Surveys --------------------------------------------------------------------------------------


def test_survey_submission(as_user, world, clock):
    appointment = book(world, world["ann"], at(MONDAY, "10:00"))
    api = as_user(world["dan"])
    survey = url("appointment-survey", appointment.pk)
    good = {"satisfaction": 5, "would_recommend": 9, "comment": "Quick and kind."}
    assert errors(api.post(survey, good, format="json")) == {
        "appointment": ["Only a completed appointment can be rated."]
    }
    clock["now"] = at(MONDAY, "10:30")
    as_user(world["ann"]).post(
        url("appointment-status", appointment.pk), {"action": "complete"}, format="json"
    )
    api = as_user(world["dan"])
    assert errors(api.post(survey, {**good, "satisfaction": 6}, format="json")) == {
        "satisfaction": ["Satisfaction is from 1 to 5."]
    }
    assert set(errors(api.post(survey, {"would_recommend": 11}, format="json"))) == {
        "satisfaction",
        "would_recommend",
    }
    assert not SurveyResponse.objects.exists()
    response = api.post(survey, good, format="json")
    assert response.status_code == 201, response.content
    assert (response.json()["satisfaction"], response.json()["would_recommend"]) == (5, 9)
    assert errors(api.post(survey, good, format="json")) == {
        "appointment": ["This appointment has already been rated."]
    }
    assert SurveyResponse.objects.count() == 1


# Follow-up tasks ------------------------------------------------------------------------------


def test_creating_and_completing_follow_up_tasks(as_user, world):
    api = as_user(world["maria"])
    body = {"patient": world["pat"].pk, "reason": "Refill due", "due_date": "2026-03-20"}
    created = api.post(url("task-list"), {**body, "source": "refill_trigger"}, format="json")
    assert created.status_code == 201, created.content
    task = created.json()
    assert (task["status"], task["priority"], task["source"], task["assignee"]["name"]) == (
        "open",
        "medium",
        "refill_trigger",
        "Ann",
    )
    assert task["overdue"] is False
    assert errors(
        api.post(url("task-list"), {**body, "due_date": "2026-03-12"}, format="json")
    ) == {"due_date": ["The due date is in the past."]}
    bad = {**body, "priority": "urgent", "patient": world["fay"].pk}
    assert set(errors(api.post(url("task-list"), bad, format="json"))) == {"priority", "patient"}
    assert FollowUpTask.objects.count() == 1
    complete = url("task-complete", task["id"])
    assert errors(api.post(complete, {"outcome": ""}, format="json")) == {
        "outcome": ["This field may not be blank."]
    }
    done = api.post(complete, {"outcome": "Refilled"}, format="json")
    assert (done.json()["status"], done.json()["outcome"]) == ("done", "Refilled")
    assert errors(api.post(complete, {"outcome": "Again"}, format="json")) == {
        "status": ["A done task can't be completed."]
    }


def test_task_scope_and_roles(as_user, world):
    ann_s = FollowUpTask.objects.create(
        patient=world["pat"], reason="Call", due_date=MONDAY, assignee=world["ann"]
    )
    bob_s = FollowUpTask.objects.create(
        patient=world["pat"], reason="Call", due_date=MONDAY - timedelta(days=7),
        assignee=world["bob"],
    )  # fmt: skip
    ann = as_user(world["ann"])
    assert [row["id"] for row in results(ann.get(url("task-list")))] == [ann_s.pk]
    response = ann.post(url("task-complete", bob_s.pk), {"outcome": "Done"}, format="json")
    assert response.status_code == 404
    rows = results(as_user(world["sam"]).get(url("task-list", status="open")))
    assert [(row["id"], row["overdue"]) for row in rows] == [(bob_s.pk, True), (ann_s.pk, False)]
    for person in ("dan", "tess"):
        api = as_user(world[person])
        assert api.get(url("task-list")).status_code == 403
        body = {"patient": world["pat"].pk, "reason": "x", "due_date": str(MONDAY)}
        assert api.post(url("task-list"), body, format="json").status_code == 403
    assert FollowUpTask.objects.get(pk=bob_s.pk).status == "open"


# Patients -------------------------------------------------------------------------------------


def test_registering_a_patient(as_user, world):
    api = as_user(world["dan"])
    body = {
        "location": world["main"].pk,
        "name": "Rita Moreno",
        "date_of_birth": "1961-02-03",
        "phone": "+1 (555) 010-2030",
        "sms_consent": True,
        "preferred_channel": "sms",
    }
    response = api.post(url("patient-list"), body, format="json")
    assert response.status_code == 201, response.content
    patient = Patient.objects.get(pk=response.json()["id"])
    assert (patient.phone, patient.sms_consent, patient.location) == (
        "+15550102030",
        True,
        world["main"],
    )
    assert AuditEvent.objects.filter(action="create", object_type="engagement.patient").exists()
    # The same name and birthday again must be confirmed as someone else.
    again = errors(api.post(url("patient-list"), body, format="json"))
    assert set(again) == {"confirm_duplicate"}
    response = api.post(url("patient-list"), {**body, "confirm_duplicate": True}, format="json")
    assert response.status_code == 201, response.content
    assert Patient.objects.filter(name="Rita Moreno").count() == 2


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"phone": "555-0102"}, "phone"),
        ({"phone": "", "sms_consent": True}, "sms_consent"),
        ({"email_consent": True}, "email_consent"),
        ({"email": "not-an-address"}, "email"),
        ({"name": ""}, "name"),
        ({"location": "harbor"}, "location"),
        ({"preferred_channel": "fax"}, "preferred_channel"),
    ],
)
def test_bad_registrations_name_the_field(as_user, world, change, field):
    body = {"location": world["main"].pk, "name": "Rita", "phone": "+15550102030"}
    body.update(change)
    if body["location"] == "harbor":
        body["location"] = world["harbor"].pk
    assert field in errors(as_user(world["dan"]).post(url("patient-list"), body, format="json"))
    assert Patient.objects.count() == 2


def test_patient_search_is_scoped(as_user, world):
    jo = PatientFactory(location=world["main"], name="Jo Jonas")
    PatientFactory(location=world["main"], name="Kim Lee")
    book(world, world["ann"], at(MONDAY, "10:00"), patient=jo)
    names = [row["name"] for row in results(as_user(world["dan"]).get(url("patient-list")))]
    assert names == ["Jo Jonas", "Kim Lee", "Pat Jones"]
    found = results(as_user(world["dan"]).get(url("patient-list", name="jon")))
    assert [row["name"] for row in found] == ["Jo Jonas", "Pat Jones"]
    # A staff pharmacist: the patients of their own appointments, and new ones at their
    # location nobody has seen yet (Kim, Pat); once Pat is seen by Bob, Ann no longer sees him.
    ann = as_user(world["ann"])
    assert [row["name"] for row in results(ann.get(url("patient-list")))] == [
        "Jo Jonas",
        "Kim Lee",
        "Pat Jones",
    ]
    book(world, world["bob"], at(MONDAY, "11:00"), patient=world["pat"])
    assert ann.get(url("patient-detail", world["pat"].pk)).status_code == 404
    detail = ann.get(url("patient-detail", jo.pk)).json()
    assert (detail["location"]["name"], detail["preferred_channel"]) == ("Main Street", "sms")
    assert AuditEvent.objects.filter(
        action="view", object_type="engagement.patient", object_ids=[str(jo.pk)]
    ).exists()


# KPIs -----------------------------------------------------------------------------------------


def test_kpis(as_user, world, clock):
    done = book(world, world["ann"], at(MONDAY, "10:00"))
    missed = book(world, world["bob"], at(MONDAY, "10:00"))
    clock["now"] = at(MONDAY, "11:00")
    api = as_user(world["maria"])
    api.post(url("appointment-status", done.pk), {"action": "complete"}, format="json")
    api.post(url("appointment-status", missed.pk), {"action": "no_show"}, format="json")
    response = api.get(url("kpis", start=str(MONDAY), end=str(MONDAY)))
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["locations"], body["first_day"], body["last_day"]) == (
        [world["main"].pk],
        str(MONDAY),
        str(MONDAY),
    )
    # One completed and one no-show: 1 ÷ (1 + 1) each way.
    assert (body["values"]["completion_rate"], body["values"]["no_show_rate"]) == (0.5, 0.5)
    assert body["counts"]["completed"] == 1
    figure = next(f for f in body["figures"] if f["key"] == "completion_rate")
    assert figure["status"] == "bad"
    # The default period is the 30 days up to today.
    default = api.get(url("kpis", location=world["main"].pk)).json()
    assert (default["first_day"], default["last_day"]) == (
        str(MONDAY - timedelta(days=29)),
        str(MONDAY),
    )


def test_kpis_need_performance_and_good_parameters(as_user, world):
    for person in ("ann", "tess", "dan"):
        assert as_user(world[person]).get(url("kpis")).status_code == 403, person
    api = as_user(world["sam"])
    assert as_user(world["sam"]).get(url("kpis")).status_code == 200
    assert set(errors(api.get(url("kpis", location=world["harbor"].pk)))) == {"location"}
    assert set(errors(api.get(url("kpis", start="2026-03-10", end="2026-03-01")))) == {"end"}
    assert set(errors(api.get(url("kpis", start="March")))) == {"start"}
    harbor = as_user(world["oscar"]).get(url("kpis", start=str(date(2026, 3, 1)))).json()
    assert harbor["locations"] == [world["harbor"].pk]


# Schema ---------------------------------------------------------------------------------------


def test_schema_documents_the_engagement_api_without_warnings(tmp_path):
    out = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    for path in (
        "/api/engagement/appointment-types/:",
        "/api/engagement/slots/:",
        "/api/engagement/appointments/{id}/reschedule/:",
        "/api/engagement/appointments/{id}/status/:",
        "/api/engagement/appointments/{id}/survey/:",
        "/api/engagement/appointments/{id}/reminders/:",
        "/api/engagement/tasks/{id}/complete/:",
        "/api/engagement/patients/:",
        "/api/engagement/kpis/:",
    ):
        assert path in text
    for enum in ("AppointmentStatusEnum:", "FollowUpTaskPriorityEnum:", "ReminderStatusEnum:"):
        assert enum in text
