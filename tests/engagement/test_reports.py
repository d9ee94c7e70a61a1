"""Stored reports: generated idempotently, emailed once, downloadable as neutralised CSV."""

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse

from engagement import reports
from engagement.models import Appointment, Report
from opsintel.models import AuditEvent
from tests.engagement.factories import (
    MONDAY,
    LocationFactory,
    PatientFactory,
    StaffFactory,
    at,
    kind,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def member(role, group, location, **fields):
    return StaffFactory(role=role, location=location, user=UserFactory(roles=[group]), **fields)


@pytest.fixture
def world():
    location = LocationFactory(name="Main Street")
    manager = member("pharmacy_manager", "Pharmacy manager", location, shifts=[])
    ann = StaffFactory(name='=HYPERLINK("http://evil")', location=location)
    patient = PatientFactory(location=location)
    for hour, status in (("09:00", "completed"), ("10:00", "completed"), ("11:00", "no_show")):
        starts_at = at(MONDAY, hour)
        Appointment.objects.create(
            patient=patient, appointment_type=kind("mtm_session"), staff=ann, location=location,
            starts_at=starts_at, ends_at=starts_at + timedelta(minutes=45),
            blocked_until=starts_at + timedelta(minutes=55), status=status, price=Decimal("85"),
        )  # fmt: skip
    return {"location": location, "manager": manager, "ann": ann}


def test_generate_stores_the_period_figures(world):
    report = reports.generate(Report.Kind.DAILY, world["location"], MONDAY)
    assert (report.period_start, report.period_end) == (MONDAY, MONDAY)
    figures = {f["key"]: f for f in report.data["figures"]}
    assert figures["completion_rate"]["display"] == "66.7%"
    assert figures["completion_rate"]["status"] == "bad"
    assert figures["revenue"]["value"] == "170.00"  # money stored as text
    assert report.data["counts"]["no_show"] == 1
    assert [row["service"] for row in report.data["service_mix"]] == [
        "Medication therapy management session"
    ]
    assert "peak_hours" not in report.data  # daily reports stay short


def test_generate_is_an_idempotent_upsert(world):
    first = reports.generate(Report.Kind.WEEKLY, world["location"], MONDAY)
    Appointment.objects.filter(status="no_show").update(status="completed")
    again = reports.generate(Report.Kind.WEEKLY, world["location"], MONDAY)
    assert again.pk == first.pk
    assert Report.objects.count() == 1
    assert again.period_end == MONDAY + timedelta(days=6)
    assert again.data["counts"]["no_show"] == 0
    assert again.data["peak_hours"]["max"] == 1


@pytest.mark.parametrize(
    ("kind", "start", "field"),
    [
        (Report.Kind.WEEKLY, MONDAY + timedelta(days=1), "period_start"),
        (Report.Kind.MONTHLY, date(2026, 3, 2), "period_start"),
        ("yearly", MONDAY, "kind"),
    ],
)
def test_a_period_that_does_not_start_a_report_is_refused(world, kind, start, field):
    with pytest.raises(ValidationError) as error:
        reports.generate(kind, world["location"], start)
    assert field in error.value.message_dict
    assert not Report.objects.exists()


def test_monthly_period_ends_on_the_last_day():
    assert reports.period_of(Report.Kind.MONTHLY, date(2026, 2, 1)) == date(2026, 2, 28)
    assert reports.period_of(Report.Kind.MONTHLY, date(2026, 12, 1)) == date(2026, 12, 31)


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2026, 3, 18), [("daily", date(2026, 3, 17))]),  # a Wednesday
        (date(2026, 3, 16), [("daily", date(2026, 3, 15)), ("weekly", date(2026, 3, 9))]),
        (date(2026, 4, 1), [("daily", date(2026, 3, 31)), ("monthly", date(2026, 3, 1))]),
        (
            date(2026, 6, 1),
            [
                ("daily", date(2026, 5, 31)),
                ("weekly", date(2026, 5, 25)),
                ("monthly", date(2026, 5, 1)),
            ],
        ),  # a Monday and the 1st
    ],
)
def test_which_reports_are_due(today, expected):
    assert reports.due(today) == expected


def test_due_reports_are_emailed_once(world, django_capture_on_commit_callbacks):
    tuesday = MONDAY + timedelta(days=1)
    with django_capture_on_commit_callbacks(execute=True):
        written = reports.generate_due_reports(today=tuesday)
    assert [(r.kind, r.period_start) for r in written] == [("daily", MONDAY)]
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [world["manager"].user.email]
    assert message.subject == "Daily operations: Main Street, Mar 16, 2026"
    assert "Appointment completion rate: 66.7% (target at least 95.0%) · off target" in message.body
    assert reverse("engagement:report_detail", args=[written[0].pk]) in message.body

    with django_capture_on_commit_callbacks(execute=True):
        again = reports.generate_due_reports(today=tuesday)
    assert [r.pk for r in again] == [written[0].pk]
    assert len(mail.outbox) == 1  # the re-run refreshed the report and sent nothing


def test_a_location_without_managers_gets_its_reports_unsent(
    world, django_capture_on_commit_callbacks
):
    LocationFactory(name="Quiet")
    with django_capture_on_commit_callbacks(execute=True):
        written = reports.generate_due_reports(today=MONDAY + timedelta(days=1))
    assert len(written) == 2
    assert len(mail.outbox) == 1


def read_csv(response):
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_csv_is_neutralised_and_audited(world, client):
    report = reports.generate(Report.Kind.DAILY, world["location"], MONDAY)
    client.force_login(world["manager"].user)
    response = client.get(reverse("engagement:report_csv", args=[report.pk]))
    assert response.status_code == 200
    rows = read_csv(response)
    assert rows[0] == ["section", "row", "measure", "value"]
    assert ["kpi", "Appointment completion rate", "status", "bad"] in rows
    staff_rows = [row for row in rows if row[0] == "staff"]
    names = {row[1] for row in staff_rows}
    assert '\'=HYPERLINK("http://evil")' in names
    assert not [name for name in names if name.startswith("=")]
    assert ["staff", '\'=HYPERLINK("http://evil")', "completion_rate", "0.6667"] in rows
    event = AuditEvent.objects.get(action=AuditEvent.Action.EXPORT)
    assert event.object_ids == [str(report.pk)]
    assert event.object_type == "engagement.report"


def test_basic_report_csv_leaves_out_colleagues(world, client):
    report = reports.generate(Report.Kind.DAILY, world["location"], MONDAY)
    pharmacist = member("staff_pharmacist", "Staff pharmacist", world["location"])
    client.force_login(pharmacist.user)
    rows = read_csv(client.get(reverse("engagement:report_csv", args=[report.pk])))
    assert not [row for row in rows if row[0] == "staff"]
    assert ["appointments", "completed", "count", "2"] in rows
