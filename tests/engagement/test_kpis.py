"""The KPIs worked by hand on one small week (New York wall-clock times).

The week Mon 16 – Fri 20 March 2026 at one location open Mon–Sat; Friday is a holiday.
Ann (staff pharmacist) and Bob (senior pharmacist) work Mon–Fri 09:00–17:00 with a 12:00–13:00
break: 420 minutes a day. Bob has approved time off Wednesday 09:00–13:00 (180 working minutes,
the break excluded); Ann's declined request changes nothing. Tess (technician) works Mondays
09:00–13:00 (240 minutes). Mia (manager) has no hours; Ada (administrative staff) has hours but
delivers no appointments. Scheduled minutes: Ann 4 × 420 = 1680, Bob 4 × 420 − 180 = 1500,
Tess 240: 3420 in all.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail

from engagement import kpis
from engagement.models import (
    Appointment,
    FollowUpTask,
    KpiAlert,
    LocationHoliday,
    SurveyResponse,
    TimeOff,
)
from opsintel.models import Notice
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
FRIDAY = MONDAY + timedelta(days=4)


def day(n):
    return MONDAY + timedelta(days=n)


def appointment(world, staff, code, when, minutes, status, price, *, location=None):
    starts_at = at(when[0], when[1])
    return Appointment.objects.create(
        patient=world["patient"],
        appointment_type=kind(code),
        staff=staff,
        location=location or world["location"],
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=minutes),
        blocked_until=starts_at + timedelta(minutes=minutes),
        status=status,
        price=Decimal(price),
    )


def survey(appt, satisfaction, would_recommend):
    SurveyResponse.objects.create(
        appointment=appt, satisfaction=satisfaction, would_recommend=would_recommend
    )


def task(world, due, status, completed_at=None):
    return FollowUpTask.objects.create(
        patient=world["patient"],
        reason="Check in",
        due_date=due,
        status=status,
        completed_at=completed_at,
    )


C, N, X = (Appointment.Status.COMPLETED, Appointment.Status.NO_SHOW,
           Appointment.Status.CANCELLED)  # fmt: skip


@pytest.fixture
def world():
    location = LocationFactory(name="Main Street")
    other = LocationFactory(name="Elsewhere")
    manager_user = UserFactory(roles=["Pharmacy manager"])
    w = {
        "location": location,
        "other": other,
        "ann": StaffFactory(name="Ann", location=location),
        "bob": StaffFactory(name="Bob", role="senior_pharmacist", location=location),
        "tess": StaffFactory(
            name="Tess",
            role="pharmacy_technician",
            location=location,
            shifts=[(0, "09:00", "13:00", None, None)],
        ),
        "mia": StaffFactory(
            name="Mia", role="pharmacy_manager", location=location, shifts=[], user=manager_user
        ),
        "ada": StaffFactory(name="Ada", role="administrative_staff", location=location),
        "patient": PatientFactory(location=location),
    }
    LocationHoliday.objects.create(location=location, date=FRIDAY, name="Spring day")
    TimeOff.objects.create(
        staff=w["bob"],
        starts_at=at(day(2), "09:00"),
        ends_at=at(day(2), "13:00"),
        status=TimeOff.Status.APPROVED,
    )
    TimeOff.objects.create(
        staff=w["ann"],
        starts_at=at(day(3), "09:00"),
        ends_at=at(day(3), "17:00"),
        status=TimeOff.Status.DECLINED,
    )
    ann, bob, tess = w["ann"], w["bob"], w["tess"]
    w["mtm"] = appointment(w, ann, "mtm_session", (day(0), "09:00"), 45, C, "85")
    w["screening"] = appointment(w, ann, "health_screening", (day(0), "10:00"), 20, C, "25")
    appointment(w, ann, "vaccination", (day(1), "09:00"), 15, N, "0")
    appointment(w, ann, "chronic_disease_review", (day(1), "10:00"), 30, X, "60")
    w["bob_mtm"] = appointment(w, bob, "mtm_session", (day(2), "14:00"), 45, C, "85")
    appointment(w, bob, "new_medication_consultation", (day(3), "09:00"), 20, C, "40")
    # 22:00 Thursday in New York is Friday 02:00 UTC: still Thursday's.
    appointment(w, bob, "vaccination", (day(3), "22:00"), 15, C, "0")
    appointment(w, tess, "health_screening", (day(0), "09:00"), 20, C, "25")
    # Outside: Sunday 23:30 in New York (Monday in UTC), the Saturday after, another location.
    appointment(w, ann, "mtm_session", (MONDAY - timedelta(days=1), "23:30"), 45, C, "85")
    appointment(w, ann, "mtm_session", (day(5), "10:00"), 45, N, "85")
    appointment(w, ann, "mtm_session", (day(0), "11:00"), 45, N, "85", location=other)
    survey(w["mtm"], 5, 10)
    survey(w["screening"], 4, 9)
    survey(w["bob_mtm"], 3, 5)
    # Follow-ups (judged on Thursday noon): done on its due day at 20:00 New York time (next
    # day in UTC): on time; done a day late; open and overdue; open, not due yet; cancelled;
    # due outside the week.
    task(w, day(1), FollowUpTask.Status.DONE, at(day(1), "20:00"))
    task(w, day(1), FollowUpTask.Status.DONE, at(day(2), "10:00"))
    task(w, day(2), FollowUpTask.Status.OPEN)
    task(w, day(4), FollowUpTask.Status.OPEN)
    task(w, day(3), FollowUpTask.Status.CANCELLED)
    task(w, day(7), FollowUpTask.Status.DONE, at(day(6), "10:00"))
    return w


THURSDAY_NOON = at(day(3), "12:00")


def week(world, **kwargs):
    return kpis.kpis([world["location"].pk], MONDAY, FRIDAY, now=THURSDAY_NOON, **kwargs)


def test_every_kpi_by_hand(world):
    result = week(world)
    values = result["values"]
    # Completed 6, no-shows 1; the cancellation is in neither.
    assert result["counts"] == {
        "completed": 6, "no_show": 1, "cancelled": 1, "under_way": 0, "surveys": 3,
    }  # fmt: skip
    assert values["completion_rate"] == pytest.approx(6 / 7)
    assert values["no_show_rate"] == pytest.approx(1 / 7)
    assert values["satisfaction"] == pytest.approx((5 + 4 + 3) / 3)
    # Promoters 2 (10, 9), detractors 1 (5) of 3: (2 − 1) / 3 = 33.3.
    assert values["nps"] == pytest.approx(33.3)
    # Judged: the two done ones and the overdue one; on time: one.
    assert values["follow_ups_on_time"] == pytest.approx(1 / 3)
    # Booked (not cancelled): 45 + 20 + 15 + 45 + 20 + 15 + 20 = 180 of 3420 minutes.
    assert values["utilization"] == pytest.approx(180 / 3420)
    # Revenue 85 + 25 + 85 + 40 + 0 + 25 = 260; pharmacists Ann, Bob, Mia.
    assert values["revenue"] == Decimal("260.00")
    assert values["revenue_per_pharmacist"] == Decimal("86.67")
    # 6 completed ÷ (3 pharmacists × 4 open days: Friday is a holiday).
    assert values["appointments_per_pharmacist_day"] == pytest.approx(0.5)


def test_figures_are_coloured_against_the_targets(world):
    figures = {f["key"]: f for f in week(world)["figures"]}
    assert figures["completion_rate"]["status"] == "bad"
    assert figures["completion_rate"]["display"] == "85.7%"
    assert figures["completion_rate"]["target"] == "at least 95.0%"
    assert figures["utilization"]["target"] == "75.0%–85.0%"
    assert figures["no_show_rate"]["target"] == "at most 10.0%"
    assert figures["revenue"]["status"] is None
    assert figures["revenue"]["display"] == "$260.00"


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("completion_rate", 0.95, "good"),
        ("completion_rate", 0.9499, "bad"),
        ("no_show_rate", 0.10, "good"),
        ("no_show_rate", 0.1001, "bad"),
        ("utilization", 0.75, "good"),
        ("utilization", 0.85, "good"),
        ("utilization", 0.7499, "bad"),
        ("utilization", 0.86, "bad"),
        ("satisfaction", 4.6, "good"),
        ("satisfaction", 4.4, "bad"),
        ("follow_ups_on_time", 0.91, "good"),
        ("completion_rate", None, None),
        ("nps", 80, None),
    ],
)
def test_status_against_target(key, value, expected):
    assert kpis.status(key, value) == expected


def test_targets_come_from_settings(settings):
    settings.ENGAGEMENT_TARGETS = {**settings.ENGAGEMENT_TARGETS, "nps": {"min": 50}}
    assert kpis.status("nps", 40) == "bad"
    assert kpis.status("nps", 50) == "good"


def test_no_data_gives_no_values_and_no_colour(world):
    empty = LocationFactory()
    result = kpis.kpis([empty.pk], MONDAY, FRIDAY, now=THURSDAY_NOON)
    assert result["values"]["completion_rate"] is None
    assert result["values"]["utilization"] is None
    assert result["values"]["revenue"] == Decimal("0.00")
    assert {f["status"] for f in result["figures"]} == {None}
    assert kpis.kpis([], MONDAY, FRIDAY)["values"]["completion_rate"] is None


def test_two_locations_add_up(world):
    both = kpis.kpis([world["location"].pk, world["other"].pk], MONDAY, FRIDAY, now=THURSDAY_NOON)
    assert both["counts"]["no_show"] == 2
    assert both["values"]["completion_rate"] == pytest.approx(6 / 8)


def test_per_staff(world):
    rows = {row["name"]: row for row in kpis.per_staff([world["location"].pk], MONDAY, FRIDAY)}
    assert sorted(rows) == ["Ann", "Bob", "Mia", "Tess"]  # Ada delivers none
    ann = rows["Ann"]
    assert (ann["booked"], ann["completed"], ann["no_show"], ann["cancelled"]) == (3, 2, 1, 1)
    assert ann["completion_rate"] == pytest.approx(2 / 3)
    assert ann["satisfaction"] == pytest.approx(4.5)
    assert ann["revenue"] == Decimal("110.00")
    assert ann["utilization"] == pytest.approx(80 / 1680)
    assert rows["Bob"]["utilization"] == pytest.approx(80 / 1500)
    assert rows["Bob"]["revenue"] == Decimal("125.00")
    assert rows["Tess"]["utilization"] == pytest.approx(20 / 240)
    assert rows["Mia"]["utilization"] is None
    assert rows["Mia"]["completed"] == 0


def test_service_mix(world):
    mix = kpis.service_mix([world["location"].pk], MONDAY, FRIDAY)
    assert [(r["service"], r["booked"], r["completed"], r["revenue"]) for r in mix] == [
        ("Health screening", 2, 2, Decimal("50.00")),
        ("Medication therapy management session", 2, 2, Decimal("170.00")),
        ("Vaccination", 2, 1, Decimal("0.00")),
        ("New medication consultation", 1, 1, Decimal("40.00")),
        ("Chronic disease review", 0, 0, Decimal("0.00")),
    ]
    assert mix[0]["share"] == pytest.approx(2 / 7)


def test_peak_hours_in_local_time(world):
    peak = kpis.peak_hours([world["location"].pk], MONDAY, FRIDAY)
    assert peak["max"] == 2
    rows = {row["hour"]: [cell["count"] for cell in row["cells"]] for row in peak["rows"]}
    assert list(rows) == list(range(9, 23))
    assert rows[9] == [2, 1, 0, 1, 0, 0, 0]  # Ann + Tess Mon, the no-show Tue, Bob Thu
    assert rows[10] == [1, 0, 0, 0, 0, 0, 0]  # Tuesday's 10:00 was cancelled
    assert rows[14] == [0, 0, 1, 0, 0, 0, 0]
    assert rows[22] == [0, 0, 0, 1, 0, 0, 0]
    assert peak["rows"][0]["cells"][0]["level"] == 1.0


def test_trend_gives_weekly_points(world):
    result = kpis.trend([world["location"].pk], FRIDAY + timedelta(days=2), weeks=2,
                        now=THURSDAY_NOON)  # fmt: skip
    assert result["weeks"] == [(MONDAY - timedelta(days=7), MONDAY - timedelta(days=1)),
                               (MONDAY, MONDAY + timedelta(days=6))]  # fmt: skip
    completion = result["points"]["completion_rate"]
    # The week before holds only Sunday 23:30's completed MTM; this week adds Saturday's
    # no-show to the fixture's 6 of 7.
    assert completion == [
        (MONDAY - timedelta(days=1), 1.0),
        (MONDAY + timedelta(days=6), pytest.approx(6 / 8)),
    ]


def test_today_and_utilization_now(world):
    monday = kpis.today([world["location"].pk], now=at(MONDAY, "09:10"))
    assert monday["counts"]["completed"] == 3
    # Ann and Tess are in appointments; Bob works but is free; Mia has no hours; Ada is
    # administrative staff.
    assert (monday["in_appointment"], monday["working"]) == (2, 3)
    assert monday["utilization"] == pytest.approx(2 / 3)
    # Wednesday 10:00: Bob is on time off, Tess does not work Wednesdays; Ann is free.
    wednesday = kpis.today([world["location"].pk], now=at(day(2), "10:00"))
    assert (wednesday["in_appointment"], wednesday["working"]) == (0, 1)
    # At lunch nobody is working: no figure rather than a division by zero.
    assert kpis.today([world["location"].pk], now=at(day(2), "12:30"))["utilization"] is None


def test_kpi_queries_stay_constant(world, django_assert_max_num_queries):
    location = world["location"]

    def count():
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            week(world)
            kpis.trend([location.pk], FRIDAY, weeks=8, now=THURSDAY_NOON)
            kpis.per_staff([location.pk], MONDAY, FRIDAY)
            kpis.service_mix([location.pk], MONDAY, FRIDAY)
            kpis.peak_hours([location.pk], MONDAY, FRIDAY)
            kpis.today([location.pk], now=at(MONDAY, "09:10"))
        return len(queries)

    before = count()
    for n in range(30):
        appointment(world, world["ann"], "vaccination", (day(n % 4), "15:00"), 15, C, "0")
    assert count() == before


# Alerts ---------------------------------------------------------------------------------------


def test_alert_once_then_recovery_then_again(world, django_capture_on_commit_callbacks):
    location = world["location"]
    saturday = at(day(5), "08:00")  # the last 7 full days: Sat 14 – Fri 20
    with django_capture_on_commit_callbacks(execute=True):
        raised = kpis.check_alerts(now=saturday)
    keys = {alert.kpi for alert in raised if alert.location == location}
    # 6/7 completion, 1/7 no-shows, 4.0 satisfaction, utilization 5%; follow-ups 1 of 3.
    assert {"completion_rate", "no_show_rate", "satisfaction", "utilization",
            "follow_ups_on_time"} <= keys  # fmt: skip
    notices = Notice.objects.filter(recipient=world["mia"].user)
    assert notices.count() == len(keys)
    assert notices.filter(link=f"/engagement/dashboard/?location={location.pk}").exists()
    assert len(mail.outbox) == len(keys)
    # Running again tells nobody anything new.
    assert kpis.check_alerts(now=saturday + timedelta(hours=1)) == []
    assert notices.count() == len(keys)

    # Both recover: Tuesday's no-show turns out completed (8 of 8); the next check closes the
    # two alerts and tells nobody.
    Appointment.objects.filter(status=N, location=location, starts_at__lt=at(day(5), "00:00"))\
        .update(status=C)  # fmt: skip
    kpis.check_alerts(now=saturday + timedelta(hours=2))
    for key in ("no_show_rate", "completion_rate"):
        assert KpiAlert.objects.get(location=location, kpi=key).cleared_at is not None
    assert KpiAlert.objects.get(location=location, kpi="satisfaction").cleared_at is None
    assert notices.count() == len(keys)

    # They cross again (Bob's three were no-shows after all): new alerts, one notice each.
    Appointment.objects.filter(status=C, staff=world["bob"]).update(status=N)
    again = kpis.check_alerts(now=saturday + timedelta(hours=3))
    assert sorted(a.kpi for a in again) == ["completion_rate", "no_show_rate"]
    assert KpiAlert.objects.filter(location=location, kpi="no_show_rate").count() == 2
    assert notices.count() == len(keys) + 2
