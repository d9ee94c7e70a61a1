"""The AR engine's examples, worked by hand: routing rules, the priority matrix, follow-up
scheduling by payer rules, capacity, weekends and holidays."""

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from rcm import services
from rcm.models import Assignment, AutomationRun, FollowUp, Holiday
from tests.rcm.factories import TODAY, AgentFactory, ClaimFactory, PayerFactory, payer, queue

pytestmark = pytest.mark.django_db


def local(day, hh_mm):
    return timezone.make_aware(datetime.combine(day, datetime.strptime(hh_mm, "%H:%M").time()))


@pytest.fixture
def agents():
    """One agent per queue (two general agents)."""
    return {
        kind: AgentFactory(name=kind, queue=queue(kind))
        for kind in (
            "senior_agent",
            "government_specialist",
            "escalation_team",
            "specialist",
            "general_agent",
        )
    }


def test_the_high_value_example(agents):
    # Amount $7,500, Aetna, aging 45 days, CPT 99214 → senior agent by the high-value rule.
    claim = ClaimFactory(
        amount=Decimal("7500"),
        submission_date=TODAY - timedelta(days=45),
        service_date=TODAY - timedelta(days=50),
        procedure_code="99214",
    )
    report = services.assign_claims(today=TODAY)
    claim.refresh_from_db()
    assert claim.agent == agents["senior_agent"]
    assignment = Assignment.objects.get(claim=claim)
    assert assignment.rule.name == "High Value Rule"
    assert assignment.reason == "High Value Rule: amount $7,500 > $5,000"
    assert (report.items, report.succeeded, dict(report.counts)) == (1, 1, {"Senior agents": 1})
    assert AutomationRun.objects.get().kind == "assign_claims"


@pytest.mark.parametrize(
    ("fields", "queue_kind", "reason"),
    [
        (
            {"payer": "Medicare"},
            "government_specialist",
            "Government Payer Rule: payer type Medicare",
        ),
        ({"aging": 91}, "escalation_team", "Aged Claim Rule: aging 91 days > 90"),
        ({"aging": 90}, "general_agent", "Default Rule: no other rule matched"),
        (
            {"procedure_code": "33208"},
            "specialist",
            "Complex Procedure Rule: procedure 33208 is a listed complex code",
        ),
        ({"amount": "5000"}, "general_agent", "Default Rule: no other rule matched"),
        # First match wins: high value beats government payer.
        (
            {"amount": "5000.01", "payer": "Medicare"},
            "senior_agent",
            "High Value Rule: amount $5,000.01 > $5,000",
        ),
    ],
)
def test_rules_in_priority_order_first_match_wins(agents, fields, queue_kind, reason):
    aging = fields.get("aging", 10)
    claim = ClaimFactory(
        amount=Decimal(fields.get("amount", "100")),
        payer=payer(fields.get("payer", "Aetna")),
        procedure_code=fields.get("procedure_code", "99213"),
        submission_date=TODAY - timedelta(days=aging),
        service_date=TODAY - timedelta(days=aging + 3),
    )
    services.assign_claims(today=TODAY)
    claim.refresh_from_db()
    assert (claim.queue.kind, claim.agent, claim.assignments.get().reason) == (
        queue_kind,
        agents[queue_kind],
        reason,
    )


def test_within_a_queue_the_least_loaded_relative_to_capacity_gets_the_claim():
    big = AgentFactory(name="Big", daily_capacity=30)
    small = AgentFactory(name="Small", daily_capacity=10)
    for _ in range(4):
        ClaimFactory(agent=big, queue=queue("general_agent"))  # 4 of 30 = 0.13
    for _ in range(2):
        ClaimFactory(agent=small, queue=queue("general_agent"))  # 2 of 10 = 0.2
    first = ClaimFactory(claim_number="A")
    services.assign_claims(today=TODAY, claims=type(first).objects.filter(pk=first.pk))
    first.refresh_from_db()
    assert first.agent == big  # 0.13 < 0.2


def test_rerunning_leaves_assigned_claims_unless_asked(agents):
    claim = ClaimFactory()
    services.assign_claims(today=TODAY)
    second = AgentFactory(name="zz second general", queue=queue("general_agent"))
    assert services.assign_claims(today=TODAY).items == 0
    assert Assignment.objects.count() == 1
    report = services.assign_claims(today=TODAY, reassign=True)
    claim.refresh_from_db()
    assert report.items == 1
    assert Assignment.objects.count() == 2
    # Leaving its agent, the claim counts nowhere: both agents are at 0, the first listed wins.
    assert claim.agent in (agents["general_agent"], second)


@pytest.mark.parametrize(
    ("amount", "aging", "expected"),
    [
        ("10000.01", 0, "high"),
        ("10000", 0, "medium"),
        ("100", 121, "high"),
        ("100", 120, "medium"),
        ("5000.01", 0, "medium"),
        ("5000", 61, "medium"),
        ("5000", 60, "low"),
    ],
)
def test_priority_matrix(amount, aging, expected):
    assert services.follow_up_priority(Decimal(amount), aging) == expected


def test_timely_filing_risk_is_high_priority():
    assert services.follow_up_priority(Decimal("10"), 5, filing_risk=True) == "high"
    # Medicare's window is 365 days: 80% is 292.
    assert services.timely_filing_limit(payer("Medicare").filing_window) == 292


def test_first_follow_up_by_the_payers_rule():
    agent = AgentFactory()
    # Aetna: submission + 30 days, then the next Tue/Wed/Thu, at 09:00 (then 14:00).
    # Submitted Mon 2026-03-02 → due Wed 2026-04-01 (a preferred day).
    aetna = ClaimFactory(
        agent=agent, submission_date=date(2026, 3, 2), service_date=date(2026, 3, 1)
    )
    # Medicare: + 45 days, Mon/Wed/Fri at 08:30. Submitted 2026-02-19 → due Sat 2026-04-05
    # → Mon 2026-04-06.
    medicare = ClaimFactory(
        agent=agent,
        payer=payer("Medicare"),
        submission_date=date(2026, 2, 19),
        service_date=date(2026, 2, 18),
    )
    services.schedule_follow_ups(today=TODAY)
    assert aetna.follow_ups.get().scheduled_at == local(date(2026, 4, 1), "09:00")
    assert medicare.follow_ups.get().scheduled_at == local(date(2026, 4, 6), "08:30")


def test_payers_without_a_rule_use_the_default_and_holidays_are_skipped():
    agent = AgentFactory()
    other = PayerFactory(name="Cigna")
    # Default: + 30 days, any weekday, 10:00. Submitted Fri 2026-03-13 → Sun 04-12 → Mon 04-13,
    # a holiday here → Tue 04-14.
    Holiday.objects.create(date=date(2026, 4, 13), name="Clinic closed")
    claim = ClaimFactory(
        agent=agent, payer=other, submission_date=date(2026, 3, 13), service_date=date(2026, 3, 12)
    )
    services.schedule_follow_ups(today=TODAY)
    assert claim.follow_ups.get().scheduled_at == local(date(2026, 4, 14), "10:00")


def test_capacity_high_priority_first_and_rerun_books_nothing():
    agent = AgentFactory(daily_capacity=2)
    # Aetna: due Wed 04-01
    due = {"submission_date": date(2026, 3, 2), "service_date": date(2026, 3, 1)}
    low = [ClaimFactory(agent=agent, claim_number=f"L{i}", **due) for i in range(2)]
    high = ClaimFactory(agent=agent, claim_number="Z-high", amount=Decimal("12000"), **due)
    services.schedule_follow_ups(today=TODAY)
    when = {c.claim_number: c.follow_ups.get().scheduled_at for c in [*low, high]}
    # Wed 04-01 holds two calls: the high one first (09:00), then L0 at 14:00; L1 moves to
    # Thu 04-02 at 09:00.
    assert when == {
        "Z-high": local(date(2026, 4, 1), "09:00"),
        "L0": local(date(2026, 4, 1), "14:00"),
        "L1": local(date(2026, 4, 2), "09:00"),
    }
    assert high.follow_ups.get().priority == "high"
    again = services.schedule_follow_ups(today=TODAY)
    assert (again.items, FollowUp.objects.count()) == (0, 3)


def test_overdue_first_calls_are_booked_from_today_and_missed_ones_retried():
    agent = AgentFactory()
    claim = ClaimFactory(
        agent=agent, submission_date=date(2025, 12, 1), service_date=date(2025, 11, 30)
    )
    services.schedule_follow_ups(today=TODAY)  # due 2025-12-31, long past → today (Tue 03-10)
    call = claim.follow_ups.get()
    assert call.scheduled_at == local(TODAY, "09:00")
    # Nobody called: the next morning it is missed, and rescheduled at once (Wed 03-11).
    tomorrow = TODAY + timedelta(days=1)
    assert services.mark_missed_follow_ups(today=tomorrow).items == 1
    services.schedule_follow_ups(today=tomorrow)
    call.refresh_from_db()
    assert call.status == "missed"
    assert claim.follow_ups.get(status="scheduled").scheduled_at == local(tomorrow, "09:00")


def test_completing_a_call_books_the_next_after_the_subsequent_days():
    agent = AgentFactory()
    claim = ClaimFactory(
        agent=agent, submission_date=date(2026, 2, 1), service_date=date(2026, 1, 30)
    )
    services.schedule_follow_ups(today=TODAY)  # due 03-03 → today, Tue 03-10, 09:00
    call = claim.follow_ups.get()
    services.complete_follow_up(call, outcome="Payer says in process", today=TODAY)
    call.refresh_from_db()
    # Aetna: 14 days later, Tue 03-24, at 09:00.
    assert call.status == "done"
    assert call.next_follow_up.scheduled_at == local(date(2026, 3, 24), "09:00")
    services.complete_follow_up(
        call.next_follow_up, outcome="Paid", claim_status="paid", today=TODAY
    )
    assert not claim.follow_ups.filter(status="scheduled").exists()
