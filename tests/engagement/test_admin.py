"""The engagement admin: every changelist renders without N+1 queries, the settings managers
own (appointment types, staff and their hours) are edited with errors on the fields, what the
app writes is read-only, and opening a patient or an appointment (PHI) is audited."""

from datetime import date, timedelta

import pytest
from django.urls import reverse

from engagement import booking
from engagement.models import (
    AppointmentType,
    FollowUpTask,
    KpiAlert,
    Report,
    SurveyResponse,
    TimeOff,
    WorkingHours,
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

pytestmark = pytest.mark.django_db

MODELS = [
    "location",
    "appointmenttype",
    "staffmember",
    "timeoff",
    "patient",
    "appointment",
    "followuptask",
    "reminder",
    "surveyresponse",
    "report",
    "kpialert",
]
NOW = at(MONDAY - timedelta(days=3), "12:00")


@pytest.fixture
def admin_client(client, make_user):
    user = make_user(is_staff=True, is_superuser=True)
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture
def world():
    """Two locations, four pharmacists, eight patients with a booked, completed, surveyed
    appointment each and its follow-up task; time off, a report and an alert."""
    locations = [LocationFactory(), LocationFactory()]
    staff = [StaffFactory(location=locations[n % 2]) for n in range(4)]
    appointments = []
    for n in range(8):
        member = staff[n % 4]
        location = locations[n % 2]
        appointment = booking.book(
            patient=PatientFactory(location=location),
            appointment_type=kind("mtm_session"),
            staff=member,
            location=location,
            starts_at=at(MONDAY, "09:00") + timedelta(hours=n // 4),
            now=NOW,
        )
        appointment.status = "completed"
        appointment.save()
        SurveyResponse.objects.create(appointment=appointment, satisfaction=5, would_recommend=9)
        FollowUpTask.objects.create(
            patient=appointment.patient,
            appointment=appointment,
            reason="MTM follow-up call",
            due_date=MONDAY + timedelta(days=14),
            assignee=member,
        )
        appointments.append(appointment)
    for member in staff:
        TimeOff.objects.create(
            staff=member, starts_at=at(MONDAY, "00:00") + timedelta(days=7),
            ends_at=at(MONDAY, "00:00") + timedelta(days=8),
        )  # fmt: skip
    for location in locations:
        Report.objects.create(
            kind="daily",
            location=location,
            period_start=MONDAY,
            period_end=MONDAY,
            data={"appointments": 4, "no_show_rate": 0.0},
        )
        KpiAlert.objects.create(location=location, kpi="no_show_rate", message="No-shows 12%")
    return {"locations": locations, "staff": staff, "appointments": appointments}


@pytest.mark.parametrize("model", MODELS)
def test_every_changelist_renders_with_a_bounded_number_of_queries(
    admin_client, django_assert_max_num_queries, world, model
):
    with django_assert_max_num_queries(20):
        response = admin_client.get(reverse(f"admin:engagement_{model}_changelist"))
    assert response.status_code == 200


@pytest.mark.parametrize(
    "model", ["location", "appointmenttype", "staffmember", "patient", "appointment"]
)
def test_change_pages_render(admin_client, world, model):
    objects = {
        "location": world["locations"][0],
        "appointmenttype": kind("mtm_session"),
        "staffmember": world["staff"][0],
        "patient": world["appointments"][0].patient,
        "appointment": world["appointments"][0],
    }
    response = admin_client.get(
        reverse(f"admin:engagement_{model}_change", args=[objects[model].pk])
    )
    assert response.status_code == 200


def test_opening_a_patient_is_audited(admin_client, world):
    patient = world["appointments"][0].patient
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.VIEW).exists()

    admin_client.get(reverse("admin:engagement_patient_change", args=[patient.pk]))

    event = AuditEvent.objects.get(action=AuditEvent.Action.VIEW)
    assert event.actor == admin_client.user
    assert event.object_type == "engagement.patient"
    assert event.object_ids == [str(patient.pk)]


def test_opening_an_appointment_is_audited_and_it_is_read_only(admin_client, world):
    appointment = world["appointments"][0]
    url = reverse("admin:engagement_appointment_change", args=[appointment.pk])

    response = admin_client.get(url)

    assert response.status_code == 200
    assert not response.context["has_change_permission"]
    event = AuditEvent.objects.get(action=AuditEvent.Action.VIEW)
    assert event.object_type == "engagement.appointment"
    assert event.object_ids == [str(appointment.pk)]
    # Its reminders are listed with it (booking scheduled 24 h and 2 h before).
    assert "appointment_24h" in response.content.decode()
    response = admin_client.post(url, {"status": "cancelled"})
    assert response.status_code == 403
    appointment.refresh_from_db()
    assert appointment.status == "completed"


@pytest.mark.parametrize(
    "model",
    ["timeoff", "appointment", "followuptask", "reminder", "surveyresponse", "report", "kpialert"],
)
def test_what_the_app_writes_cannot_be_added_here(admin_client, model):
    assert admin_client.get(reverse(f"admin:engagement_{model}_add")).status_code == 403


def type_form(kind_, **changes):
    data = {
        "name": kind_.name,
        "description": kind_.description,
        "duration_minutes": kind_.duration_minutes,
        "price": kind_.price,
        "required_qualification": kind_.required_qualification,
        "allowed_roles": kind_.allowed_roles,
        "max_bookings_per_day": kind_.max_bookings_per_day or "",
        "buffer_minutes": kind_.buffer_minutes,
        "min_lead_hours": kind_.min_lead_hours,
        "max_lead_days": kind_.max_lead_days,
        "cancellation_hours": kind_.cancellation_hours,
        "late_cancellation_fee": kind_.late_cancellation_fee,
        "follow_up_days": kind_.follow_up_days or "",
        "follow_up_reason": kind_.follow_up_reason,
        "active": "on" if kind_.active else "",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value != ""}


def test_a_manager_setting_changes_an_appointment_types_rules(admin_client):
    mtm = kind("mtm_session")
    url = reverse("admin:engagement_appointmenttype_change", args=[mtm.pk])

    response = admin_client.post(
        url,
        type_form(
            mtm,
            duration_minutes=60,
            allowed_roles=["senior_pharmacist", "pharmacy_manager"],
            follow_up_days=21,
            code="renamed",
        ),
    )

    assert response.status_code == 302
    mtm.refresh_from_db()
    assert mtm.duration_minutes == 60
    assert mtm.allowed_roles == ["pharmacy_manager", "senior_pharmacist"]
    assert mtm.follow_up_days == 21
    assert mtm.code == "mtm_session"  # set once


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"allowed_roles": []}, "allowed_roles", "Tick at least one role that delivers it."),
        (
            {"min_lead_hours": 48, "max_lead_days": 2},
            "max_lead_days",
            "At most 2 days ahead leaves no time to book it at least 48 h ahead.",
        ),
        ({"follow_up_days": 14, "follow_up_reason": ""}, "follow_up_reason", None),
        ({"duration_minutes": 2}, "duration_minutes", None),
        ({"required_qualification": "wizard"}, "required_qualification", None),
    ],
)
def test_bad_appointment_type_settings_are_refused_by_field(admin_client, changes, field, message):
    mtm = kind("mtm_session")
    before = AppointmentType.objects.values().get(pk=mtm.pk)

    response = admin_client.post(
        reverse("admin:engagement_appointmenttype_change", args=[mtm.pk]),
        type_form(mtm, **changes),
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == [field]
    if message:
        assert errors[field] == [message]
    assert AppointmentType.objects.values().get(pk=mtm.pk) == before


def staff_form(member, location, rows):
    data = {
        "name": member.name,
        "role": member.role,
        "license_number": member.license_number,
        "qualifications": "certified_immunizer, mtm_certified",
        "locations": [location.pk],
        "max_appointments_per_day": 10,
        "active": "on",
        "hours-TOTAL_FORMS": str(len(rows)),
        "hours-INITIAL_FORMS": "0",
        "hours-MIN_NUM_FORMS": "0",
        "hours-MAX_NUM_FORMS": "1000",
    }
    for n, row in enumerate(rows):
        for key, value in row.items():
            data[f"hours-{n}-{key}"] = value
        data[f"hours-{n}-location"] = location.pk
    return data


def test_a_staff_members_qualifications_and_hours_are_edited_here(admin_client):
    location = LocationFactory()
    member = StaffFactory(location=location, shifts=[], qualifications=[])
    rows = [{"weekday": 5, "starts": "09:00", "ends": "15:00"}]

    response = admin_client.post(
        reverse("admin:engagement_staffmember_change", args=[member.pk]),
        staff_form(member, location, rows),
    )

    assert response.status_code == 302
    member.refresh_from_db()
    assert member.qualifications == ["certified_immunizer", "mtm_certified"]
    assert member.max_appointments_per_day == 10
    assert list(member.hours.values_list("weekday", "break_starts")) == [(5, None)]


@pytest.mark.parametrize(
    ("row", "field", "message"),
    [
        (
            {"break_starts": "12:00"},
            "break_ends",
            "Give both the start and the end of the break, or neither.",
        ),
        (
            {"break_starts": "08:00", "break_ends": "08:30"},
            "break_starts",
            "The break must lie within the working hours.",
        ),
        (
            {"break_starts": "12:30", "break_ends": "12:00"},
            "break_ends",
            "The break must end after it starts.",
        ),
    ],
)
def test_a_break_outside_the_shift_is_refused_by_field(admin_client, row, field, message):
    location = LocationFactory()
    member = StaffFactory(location=location, shifts=[])
    rows = [{"weekday": 0, "starts": "09:00", "ends": "17:00", **row}]

    response = admin_client.post(
        reverse("admin:engagement_staffmember_change", args=[member.pk]),
        staff_form(member, location, rows),
    )

    assert response.status_code == 200
    formset = response.context["inline_admin_formsets"][0].formset
    assert formset.errors == [{field: [message]}]
    assert not WorkingHours.objects.filter(staff=member).exists()


def test_a_location_keeps_its_hours_and_holidays_inline(admin_client, world):
    location = world["locations"][0]
    location.holidays.create(date=date(2026, 12, 25), name="Christmas Day")

    response = admin_client.get(reverse("admin:engagement_location_change", args=[location.pk]))

    text = response.content.decode()
    assert "Christmas Day" in text
    assert response.context["inline_admin_formsets"][0].formset.queryset.count() == 6
