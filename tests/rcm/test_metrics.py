"""rcm.metrics.automation_metrics worked by hand: tasks, time and money saved, success rate,
queue length and workload, rule usage, appeal success, turnaround, aging by payer; scope;
and a query count that does not grow with the rows."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from rcm.metrics import automation_metrics
from rcm.models import (
    Assignment,
    AssignmentRule,
    AutomationRun,
    FollowUp,
)
from tests.factories import UserFactory
from tests.rcm.factories import (
    TODAY,
    AgentFactory,
    AgentUserFactory,
    ClaimFactory,
    PayerFactory,
    payer,
    queue,
)

pytestmark = pytest.mark.django_db

# TODAY is Tuesday 2026-03-10; its week runs Monday 03-09 to Sunday 03-15 (America/New_York,
# on daylight time from 03-08: UTC-4).
MONDAY, SUNDAY = date(2026, 3, 9), date(2026, 3, 15)


def local(day, hh_mm):
    return timezone.make_aware(datetime.combine(day, datetime.strptime(hh_mm, "%H:%M").time()))


def run(kind, at, items, succeeded, failed=0):
    return AutomationRun.objects.create(
        kind=kind, started_at=at, items=items, succeeded=succeeded, failed=failed
    )


@pytest.fixture
def manager():
    return UserFactory(roles=["AR manager"])


def aged(days, **fields):
    """A claim submitted `days` before TODAY."""
    submitted = TODAY - timedelta(days=days)
    return ClaimFactory(
        submission_date=submitted, service_date=submitted - timedelta(days=1), **fields
    )


# Tasks, time and money saved, success rate ----------------------------------------------------


def test_tasks_time_and_cost_saved_and_success_rate(manager, settings):
    settings.RCM_MINUTES_SAVED_PER_TASK = 15
    settings.RCM_COST_SAVED_PER_TASK = 25
    run("assign_claims", local(TODAY, "10:00"), items=10, succeeded=8, failed=2)
    # 00:00 UTC on Wednesday is still Tuesday 20:00 here: today.
    run("assign_claims", datetime(2026, 3, 11, 0, 0, tzinfo=UTC), items=2, succeeded=1, failed=1)
    run("schedule_follow_ups", local(MONDAY, "09:00"), items=5, succeeded=5)
    run("generate_appeal", local(SUNDAY, "23:30"), items=1, succeeded=1)
    # Outside the week: Sunday before, and Monday after.
    run("mark_missed", local(MONDAY - timedelta(days=1), "23:00"), items=7, succeeded=7)
    run("mark_missed", local(SUNDAY + timedelta(days=1), "00:00"), items=3, succeeded=3)

    metrics = automation_metrics(manager, today=TODAY)

    assert metrics["today"] == "2026-03-10"
    assert metrics["week"] == {"start": "2026-03-09", "end": "2026-03-15"}
    # Today 8 + 1; this week 8 + 1 + 5 + 1 of 10 + 2 + 5 + 1 items.
    assert metrics["tasks_automated"] == {"today": 9, "week": 15}
    assert metrics["time_saved_hours"] == {"today": 2.25, "week": 3.75}  # × 15 min
    assert metrics["cost_reduction"] == {"today": "225.00", "week": "375.00"}  # × $25
    assert metrics["success_rate"] == {"items": 18, "succeeded": 15, "rate": 0.8333}
    by_kind = {row["kind"]: row for row in metrics["tasks_by_kind"]}
    assert by_kind["assign_claims"] == {
        "kind": "assign_claims",
        "label": "Claim assignment",
        "today": 9,
        "week": 9,
        "week_items": 12,
        "week_failed": 3,
        "runs": 2,
    }
    assert (by_kind["schedule_follow_ups"]["today"], by_kind["schedule_follow_ups"]["week"]) == (
        0,
        5,
    )
    assert by_kind["mark_missed"]["runs"] == 0
    assert len(by_kind) == len(AutomationRun.Kind.choices)


def test_the_savings_follow_the_settings(manager, settings):
    settings.RCM_MINUTES_SAVED_PER_TASK = 20
    settings.RCM_COST_SAVED_PER_TASK = 30
    run("assign_claims", local(TODAY, "10:00"), items=3, succeeded=3)
    metrics = automation_metrics(manager, today=TODAY)
    assert metrics["time_saved_hours"]["week"] == 1.0  # 3 × 20 min
    assert metrics["cost_reduction"]["week"] == "90.00"  # 3 × $30
    assert metrics["settings"]["minutes_saved_per_task"] == 20


def test_no_runs_no_rate(manager):
    metrics = automation_metrics(manager, today=TODAY)
    assert metrics["tasks_automated"] == {"today": 0, "week": 0}
    assert metrics["success_rate"] == {"items": 0, "succeeded": 0, "rate": None}
    assert metrics["turnaround"]["average_days"] is None


# Queue length, workload, utilization, aging ---------------------------------------------------


@pytest.fixture
def floor(settings):
    """Three agents, their claims and calls (the expected figures are worked out in the
    tests below)."""
    settings.RCM_FILING_WINDOW_DAYS = 100  # payers without their own window: risk after 80 days
    general, senior = queue("general_agent"), queue("senior_agent")
    ann = AgentUserFactory(name="Ann", queue=general, daily_capacity=10)
    ben = AgentFactory(name="Ben", queue=general, daily_capacity=4)
    cy = AgentFactory(name="Cy", queue=senior, daily_capacity=5)
    AgentFactory(name="Dee (left)", queue=senior, daily_capacity=8, active=False)
    aetna, medicare = payer("Aetna"), payer("Medicare")
    cigna = PayerFactory(name="Cigna", filing_window_days=None)
    claims = {
        "a1": aged(10, agent=ann, queue=general, payer=aetna, balance=Decimal("100")),
        "a2": aged(45, agent=ann, queue=general, payer=aetna, balance=Decimal("200")),
        # Aetna's window is 180 days: at risk past 144.
        "a3": aged(145, agent=ann, queue=general, payer=aetna, balance=Decimal("300")),
        "a4": aged(40, agent=ann, queue=general, payer=aetna, status="paid"),
        "b1": aged(30, agent=ben, queue=general, payer=medicare, balance=Decimal("50")),
        "c1": aged(31, agent=cy, queue=senior, payer=medicare, balance=Decimal("1000")),
        "c2": aged(90, agent=cy, queue=senior, payer=cigna, balance=Decimal("400.50")),
        "u1": aged(121, payer=cigna, balance=Decimal("10")),  # not routed yet
    }

    def call(claim, agent, at, status="scheduled"):
        FollowUp.objects.create(
            claim=claims[claim], agent=agent, scheduled_at=at, priority="low", status=status
        )

    call("a1", ann, local(TODAY, "09:00"))
    call("a2", ann, local(TODAY, "14:00"), status="done")
    call("a2", ann, local(TODAY, "15:00"), status="cancelled")  # not work
    call("a3", ann, local(date(2026, 3, 12), "09:00"))
    call("a3", ann, local(MONDAY - timedelta(days=1), "09:00"), status="missed")  # last week
    call("b1", ben, local(MONDAY, "10:00"), status="missed")
    call("b1", ben, local(SUNDAY + timedelta(days=1), "10:00"))  # next week
    call("c1", cy, local(TODAY, "08:30"))
    return {"ann": ann, "ben": ben, "cy": cy, "claims": claims}


def test_queue_length_workload_and_utilization(manager, floor):
    metrics = automation_metrics(manager, today=TODAY)
    # Open: a1 a2 a3 b1 c1 c2 u1; a4 is paid. Past the filing share: a3 (145 > 144), c2 and u1
    # (90 and 121 > 80).
    assert metrics["queue_length"] == {"open_claims": 7, "not_routed": 1, "past_filing_share": 3}
    agents = {
        row["agent"]: (
            row["queue"],
            row["active"],
            row["open_claims"],
            row["follow_ups_today"],
            row["follow_ups_week"],
            row["daily_capacity"],
            row["utilization"],
        )
        for row in metrics["agents"]
    }
    assert agents == {
        # Today: 09:00 waiting and 14:00 done; the week adds Thursday's.
        "Ann": ("General agents", True, 3, 2, 3, 10, 0.2),
        # Monday's missed call is this week's work, not today's.
        "Ben": ("General agents", True, 1, 0, 1, 4, 0.0),
        "Cy": ("Senior agents", True, 2, 1, 1, 5, 0.2),
        "Dee (left)": ("Senior agents", False, 0, 0, 0, 8, 0.0),
    }
    queues = {
        row["queue"]: (
            row["open_claims"],
            row["active_agents"],
            row["follow_ups_today"],
            row["follow_ups_week"],
            row["daily_capacity"],
            row["utilization"],
        )
        for row in metrics["queues"]
    }
    assert queues == {
        "General agents": (4, 2, 2, 4, 14, 0.1429),  # 2 of 10 + 4
        "Senior agents": (2, 1, 1, 1, 5, 0.2),  # Dee is inactive: no capacity
        "Escalation team": (0, 0, 0, 0, 0, None),
        "Government specialists": (0, 0, 0, 0, 0, None),
        "Specialists": (0, 0, 0, 0, 0, None),
    }


def test_aging_by_payer_and_bucket(manager, floor):
    aging = automation_metrics(manager, today=TODAY)["aging"]
    assert aging["buckets"] == ["0-30", "31-60", "61-90", "91-120", "120+"]

    def row(cells):
        return [(cell["claims"], cell["balance"]) for cell in cells]

    zero = (0, "0.00")
    payers = {p["payer"]: (row(p["cells"]), p["claims"], p["balance"]) for p in aging["payers"]}
    assert list(payers) == ["Aetna", "Cigna", "Medicare"]
    assert payers["Aetna"] == (
        [(1, "100.00"), (1, "200.00"), zero, zero, (1, "300.00")],
        3,
        "600.00",
    )
    assert payers["Cigna"] == ([zero, zero, (1, "400.50"), zero, (1, "10.00")], 2, "410.50")
    # 30 days is still 0-30; 31 is 31-60.
    assert payers["Medicare"] == ([(1, "50.00"), (1, "1000.00"), zero, zero, zero], 2, "1050.00")
    assert row(aging["totals"]["cells"]) == [
        (2, "150.00"),
        (2, "1200.00"),
        (1, "400.50"),
        zero,
        (2, "310.00"),
    ]
    assert (aging["totals"]["claims"], aging["totals"]["balance"]) == (7, "2060.50")


def test_an_agent_sees_the_figures_of_their_own_claims(floor):
    metrics = automation_metrics(floor["ann"].user, today=TODAY)
    assert metrics["queue_length"] == {"open_claims": 3, "not_routed": 0, "past_filing_share": 1}
    assert [row["agent"] for row in metrics["agents"]] == ["Ann"]
    general = next(row for row in metrics["queues"] if row["queue"] == "General agents")
    assert (general["open_claims"], general["follow_ups_today"], general["follow_ups_week"]) == (
        3,
        2,
        3,
    )
    assert metrics["aging"]["totals"]["claims"] == 3


# Rule usage ------------------------------------------------------------------------------------


def test_rule_usage_counts_assignments_per_rule(manager):
    general = queue("general_agent")
    default, high = (
        AssignmentRule.objects.get(name=n) for n in ("Default Rule", "High Value Rule")
    )
    claim = ClaimFactory()
    for rule in (default, default, default, high, None):
        Assignment.objects.create(claim=claim, queue=general, rule=rule, reason="test")
    usage = [
        (row["rule"], row["assignments"])
        for row in automation_metrics(manager, today=TODAY)["rule_usage"]
    ]
    assert usage == [
        ("High Value Rule", 1),
        ("Government Payer Rule", 0),
        ("Aged Claim Rule", 0),
        ("Complex Procedure Rule", 0),
        ("Default Rule", 3),
        ("(deleted rule)", 1),
    ]


# Appeal success ---------------------------------------------------------------------------------


def test_appeal_success_by_appeal_type_from_claim_outcomes(manager):
    def appealed(status, reason):
        return ClaimFactory(status=status, denial_reason=reason, appealed_on=TODAY)

    appealed("paid", "medical_necessity")
    appealed("partially_paid", "medical_necessity")
    appealed("denied", "medical_necessity")  # the appeal upheld the denial
    appealed("appealed", "medical_necessity")  # waiting for the payer
    appealed("written_off", "authorization_required")
    appealed("paid", "duplicate")  # no letter of its own: the general appeal
    appealed("closed", "other")
    ClaimFactory(status="paid", denial_reason="incorrect_coding")  # never appealed

    rows = {
        row["doc_type"]: (
            row["appeals"],
            row["settled"],
            row["won"],
            row["lost"],
            row["success_rate"],
        )
        for row in automation_metrics(manager, today=TODAY)["appeal_success"]
    }
    assert rows == {
        "appeal_authorization": (1, 1, 0, 1, 0.0),
        "appeal_medical_necessity": (4, 3, 2, 1, 0.6667),  # 2 won of 3 decided
        "appeal_coverage": (0, 0, 0, 0, None),
        "appeal_coding": (0, 0, 0, 0, None),
        "appeal_timely_filing": (0, 0, 0, 0, None),
        "appeal_generic": (2, 2, 1, 1, 0.5),
    }


# Turnaround -------------------------------------------------------------------------------------


def test_average_turnaround_from_submission_to_payment(manager):
    def settled(status, submitted, **values):
        claim = ClaimFactory(
            status=status, service_date=submitted - timedelta(days=1), submission_date=submitted
        )
        type(claim).objects.filter(pk=claim.pk).update(**values)

    settled("paid", date(2026, 1, 1), settled_on=date(2026, 2, 9))  # 39 days
    settled("partially_paid", date(2026, 1, 1), settled_on=date(2026, 1, 31))  # 30 days
    # Settled before settled_on existed: the day it last changed stands in. 15:00 UTC is
    # Mar 3 here: 30 days after Feb 1 …
    settled(
        "paid", date(2026, 2, 1), settled_on=None, updated_at=datetime(2026, 3, 3, 15, tzinfo=UTC)
    )
    # … and 03:00 UTC on Feb 10 is still Feb 9 here (UTC-5): 39 days after Jan 1.
    settled(
        "paid", date(2026, 1, 1), settled_on=None, updated_at=datetime(2026, 2, 10, 3, tzinfo=UTC)
    )
    settled("written_off", date(2026, 1, 1), settled_on=date(2026, 3, 1))  # not paid
    ClaimFactory(status="pending")
    turnaround = automation_metrics(manager, today=TODAY)["turnaround"]
    assert turnaround["paid_claims"] == 4
    assert turnaround["average_days"] == 34.5  # (39 + 30 + 30 + 39) / 4


# Cost -------------------------------------------------------------------------------------------


def _queries(user):
    with CaptureQueriesContext(connection) as captured:
        automation_metrics(user, today=TODAY)
    return len(captured)


def test_query_count_does_not_grow_with_rows(manager, floor):
    _queries(manager)  # the user's roles are loaded once, then kept on the user
    before = _queries(manager)
    other = AgentFactory(name="Eve", queue=queue("escalation_team"))
    for days in (5, 50, 100, 200):
        claim = aged(days, agent=other, queue=other.queue, payer=PayerFactory())
        FollowUp.objects.create(
            claim=claim, agent=other, scheduled_at=local(TODAY, "11:00"), priority="high"
        )
        Assignment.objects.create(claim=claim, queue=other.queue, reason="test")
    run("assign_claims", local(TODAY, "10:00"), items=4, succeeded=4)
    assert _queries(manager) == before
