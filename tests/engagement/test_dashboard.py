"""The dashboard and report pages: who may open them, what they show, how much they cost."""

from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from engagement import reports
from engagement.models import Appointment, Report
from tests.engagement.factories import LocationFactory, PatientFactory, StaffFactory, at, kind
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
ROLES = {
    "manager": ("pharmacy_manager", "Pharmacy manager"),
    "senior": ("senior_pharmacist", "Senior pharmacist"),
    "pharmacist": ("staff_pharmacist", "Staff pharmacist"),
    "technician": ("pharmacy_technician", "Pharmacy technician"),
    "admin_staff": ("administrative_staff", "Administrative staff"),
}


def member(who, location):
    role, group = ROLES[who]
    return StaffFactory(role=role, location=location, user=UserFactory(roles=[group]), shifts=[])


def yesterday():
    return timezone.localtime(timezone.now(), ZoneInfo("America/New_York")).date() - timedelta(1)


def add_appointments(world, count, status="completed"):
    for n in range(count):
        starts_at = at(yesterday(), "09:00") + timedelta(minutes=20 * (n % 20))
        Appointment.objects.create(
            patient=world["patient"], appointment_type=kind("health_screening"),
            staff=world["ann"], location=world["location"], starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=20), blocked_until=starts_at,
            status=status, price=Decimal("25"),
        )  # fmt: skip


@pytest.fixture
def world():
    location = LocationFactory(name="Main Street")
    w = {
        "location": location,
        "other": LocationFactory(name="Elsewhere"),
        "ann": StaffFactory(name="Ann", location=location),
        "patient": PatientFactory(location=location),
    }
    add_appointments(w, 3)
    add_appointments(w, 1, status="no_show")
    return w


def signed_in(client, who, location):
    staff = member(who, location)
    client.force_login(staff.user)
    return client


@pytest.mark.parametrize(
    ("who", "expected"),
    [("manager", 200), ("senior", 200), ("pharmacist", 403), ("technician", 403),
     ("admin_staff", 403)],
)  # fmt: skip
def test_dashboard_access(client, world, who, expected):
    response = signed_in(client, who, world["location"]).get(reverse("engagement:dashboard"))
    assert response.status_code == expected


def test_dashboard_shows_kpis_coloured_against_targets(client, world):
    signed_in(client, "manager", world["location"])
    response = client.get(reverse("engagement:dashboard"), {"days": 7})
    assert response.status_code == 200
    html = response.content.decode()
    # 3 completed of 4: 75% completion (missed), 25% no-shows (missed), both in words too.
    assert 'class="metric-card goal-missed" data-kpi="completion_rate"' in html
    assert "75.0%" in html
    assert "off target" in html
    assert 'class="metric-card" data-kpi="revenue"' in html  # no target, no colour
    assert '<th scope="row">Ann</th>' in html  # per-staff table
    assert "Health screening" in html  # service mix
    assert 'class="heat-map"' in html
    assert response.context["summary"]["counts"]["completed"] == 3


def test_dashboard_good_colour(client, world):
    Appointment.objects.filter(status="no_show").update(status="completed")
    signed_in(client, "manager", world["location"])
    html = client.get(reverse("engagement:dashboard")).content.decode()
    assert 'class="metric-card goal-met" data-kpi="completion_rate"' in html
    assert 'class="metric-card goal-met" data-kpi="no_show_rate"' in html


def test_dashboard_location_picker_is_scoped(client, world):
    signed_in(client, "manager", world["location"])
    url = reverse("engagement:dashboard")
    assert client.get(url, {"location": world["location"].pk}).status_code == 200
    assert client.get(url, {"location": world["other"].pk}).status_code == 404
    assert client.get(url, {"location": "nope"}).status_code == 404


def test_a_bad_period_is_ignored_and_said(client, world):
    signed_in(client, "manager", world["location"])
    response = client.get(reverse("engagement:dashboard"), {"days": "365"})
    assert response.status_code == 200
    assert response.context["days"] == 30
    assert "Ignored the period" in response.content.decode()


def test_dashboard_query_count_is_constant(client, world):
    signed_in(client, "manager", world["location"])
    url = reverse("engagement:dashboard")
    client.get(url)  # warm the session and content-type caches

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    before = count()
    add_appointments(world, 40)
    assert count() == before


@pytest.fixture
def stored(world):
    day = yesterday()
    monday = day - timedelta(days=day.weekday())
    return {
        "daily": reports.generate(Report.Kind.DAILY, world["location"], day),
        "weekly": reports.generate(Report.Kind.WEEKLY, world["location"], monday),
        "elsewhere": reports.generate(Report.Kind.DAILY, world["other"], day),
    }


def test_staff_pharmacist_reads_daily_reports_only(client, world, stored):
    signed_in(client, "pharmacist", world["location"])
    listing = client.get(reverse("engagement:report_list"))
    assert listing.status_code == 200
    assert [r.pk for r in listing.context["page"]] == [stored["daily"].pk]
    daily = client.get(reverse("engagement:report_detail", args=[stored["daily"].pk]))
    assert daily.status_code == 200
    assert "Per staff" not in daily.content.decode()
    assert (
        client.get(reverse("engagement:report_detail", args=[stored["weekly"].pk])).status_code
        == 403
    )
    assert (
        client.get(reverse("engagement:report_csv", args=[stored["weekly"].pk])).status_code == 403
    )


def test_manager_reads_every_report_of_their_location(client, world, stored):
    signed_in(client, "manager", world["location"])
    listing = client.get(reverse("engagement:report_list"))
    assert {r.pk for r in listing.context["page"]} == {stored["daily"].pk, stored["weekly"].pk}
    weekly = client.get(reverse("engagement:report_detail", args=[stored["weekly"].pk]))
    assert weekly.status_code == 200
    html = weekly.content.decode()
    for part in ("Per staff", "Peak hours", "goal-missed"):
        assert part in html
    for name in ("report_detail", "report_csv"):
        url = reverse(f"engagement:{name}", args=[stored["elsewhere"].pk])
        assert client.get(url).status_code == 404


@pytest.mark.parametrize("name", ["report_list", "report_detail", "report_csv"])
def test_administrative_staff_get_no_reports(client, world, stored, name):
    signed_in(client, "admin_staff", world["location"])
    args = [] if name == "report_list" else [stored["daily"].pk]
    assert client.get(reverse(f"engagement:{name}", args=args)).status_code == 403
