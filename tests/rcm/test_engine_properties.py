"""Properties of the AR engine that hold for any rules, claims and agents (hypothesis).

The rules are checked in memory (unsaved AssignmentRule instances, ClaimFacts) against an
oracle written here from the issue's wording; the scheduler and the assignment run on small
random sets in the database, each example rolled back. Every expectation is recomputed here
from the inputs, never read from the engine.
"""

from collections import Counter, defaultdict
from dataclasses import replace
from datetime import datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from rcm import rules, services
from rcm.models import (
    Assignment,
    AssignmentRule,
    Claim,
    DenialReason,
    FollowUp,
    FollowUpRule,
    Holiday,
    PayerType,
)
from tests.rcm.factories import TODAY, AgentFactory, ClaimFactory, PayerFactory, payer, queue

PAYER_NAMES = ["Aetna", "Medicare", "Cigna", "Humana"]
REASONS = [*DenialReason.values, ""]  # "" = not denied


# --- Rules (in memory) ------------------------------------------------------------------------

# A narrow band of CPT codes, so ranges, their bounds and their neighbours all come up.
code_numbers = st.integers(min_value=33190, max_value=33260)


@st.composite
def code_entries(draw):
    low = draw(code_numbers)
    if draw(st.booleans()):
        return str(low)
    return f"{low}-{draw(st.integers(min_value=low, max_value=33260))}"


cents = st.integers(min_value=1, max_value=1_500_000).map(lambda c: Decimal(c) / 100)

conditions = st.fixed_dictionaries(
    {
        "amount_greater_than": st.none()
        | st.integers(0, 1_200_000).map(lambda c: Decimal(c) / 100),
        "payer_types": st.lists(st.sampled_from(PayerType.values), unique=True, max_size=2),
        "payer_names": st.lists(st.sampled_from(PAYER_NAMES), unique=True, max_size=2),
        "aging_greater_than": st.none() | st.integers(0, 200),
        "procedure_codes": st.lists(code_entries(), max_size=3),
        "denial_reasons": st.lists(st.sampled_from(DenialReason.values), unique=True, max_size=3),
    }
)

facts_strategy = st.builds(
    rules.ClaimFacts,
    amount=cents,
    payer_name=st.sampled_from(PAYER_NAMES),
    payer_type=st.sampled_from(PayerType.values),
    aging_days=st.integers(0, 200),
    procedure_code=code_numbers.map(str),
    denial_reason=st.sampled_from(REASONS),
)


def holds(rule, facts):
    """The issue's reading of a rule: every condition it sets holds; ranges are inclusive."""
    checks = []
    if rule.amount_greater_than is not None:
        checks.append(facts.amount > rule.amount_greater_than)
    if rule.payer_types:
        checks.append(facts.payer_type in rule.payer_types)
    if rule.payer_names:
        checks.append(facts.payer_name in rule.payer_names)
    if rule.aging_greater_than is not None:
        checks.append(facts.aging_days > rule.aging_greater_than)
    if rule.procedure_codes:
        code = int(facts.procedure_code)
        bounds = [[int(part) for part in entry.split("-")] for entry in rule.procedure_codes]
        checks.append(any(b[0] <= code <= b[-1] for b in bounds))
    if rule.denial_reasons:
        checks.append(facts.denial_reason in rule.denial_reasons)
    return all(checks)


def set_conditions(rule):
    return sum(
        (
            rule.amount_greater_than is not None,
            bool(rule.payer_types),
            bool(rule.payer_names),
            rule.aging_greater_than is not None,
            bool(rule.procedure_codes),
            bool(rule.denial_reasons),
        )
    )


@st.composite
def rule_sets(draw):
    """2–6 unsaved rules with distinct priorities, in random order, some inactive."""
    count = draw(st.integers(min_value=2, max_value=6))
    priorities = draw(st.permutations(range(1, count + 1)))
    return [
        AssignmentRule(
            name=f"Rule {priority}",
            priority=priority,
            active=draw(st.sampled_from([True, True, False])),
            **draw(conditions),
        )
        for priority in priorities
    ]


@settings(max_examples=150, deadline=None)
@given(
    rule=st.builds(lambda c: AssignmentRule(name="R", priority=1, **c), conditions),
    facts=facts_strategy,
)
def test_a_rule_holds_exactly_when_every_condition_it_sets_holds(rule, facts):
    reason = rules.evaluate(rule, facts)
    assert (reason is not None) == holds(rule, facts)
    if reason is not None:
        # One phrase per condition set; the catch-all says so.
        name, _, because = reason.partition(": ")
        assert name == "R"
        if set_conditions(rule):
            assert len(because.split(", ")) == set_conditions(rule)
        else:
            assert because == "no other rule matched"


@settings(max_examples=150, deadline=None)
@given(rule_list=rule_sets(), facts=facts_strategy)
def test_the_first_active_rule_in_priority_order_that_holds_wins(rule_list, facts):
    ordered = sorted(rule_list, key=lambda rule: rule.priority)
    expected = next((r for r in ordered if r.active and holds(r, facts)), None)
    winner, reason = rules.first_match(ordered, facts)
    assert winner is expected
    assert reason == (rules.evaluate(expected, facts) if expected else None)


@settings(max_examples=100, deadline=None)
@given(
    low=st.integers(min_value=10001, max_value=99000),
    width=st.integers(min_value=0, max_value=50),
    inside=st.data(),
    facts=facts_strategy,
)
def test_procedure_code_ranges_include_both_ends(low, width, inside, facts):
    high = low + width
    rule = AssignmentRule(name="Complex", priority=1, procedure_codes=[f"{low}-{high}"])
    middle = inside.draw(st.integers(min_value=low, max_value=high))

    def with_code(code):
        return replace(facts, procedure_code=str(code))

    for code in (low, high, middle):
        assert rules.evaluate(rule, with_code(code)) is not None
    for code in (low - 1, high + 1):
        assert rules.evaluate(rule, with_code(code)) is None
    # A code of another length is never inside a five-character range.
    assert rules.evaluate(rule, with_code(f"{low}0")) is None


@settings(max_examples=100, deadline=None)
@given(rule_list=rule_sets(), facts=facts_strategy)
def test_the_default_rule_catches_every_claim_the_others_leave(rule_list, facts):
    default = AssignmentRule(name="Default", priority=99)
    ordered = [*sorted(rule_list, key=lambda rule: rule.priority), default]
    winner, reason = rules.first_match(ordered, facts)
    assert winner is not None
    if winner is default:
        assert not any(r.active and holds(r, facts) for r in rule_list)
        assert reason == "Default: no other rule matched"


# --- In the database --------------------------------------------------------------------------

in_database = pytest.mark.django_db


def local_day_and_time(moment):
    local = timezone.localtime(moment)
    return local.date(), local.time()


def at_local(day, hour=10):
    return timezone.make_aware(datetime.combine(day, time(hour)))


def claim_dates(age):
    submitted = TODAY - timedelta(days=age)
    return {"submission_date": submitted, "service_date": submitted - timedelta(days=3)}


OPEN = ["submitted", "pending", "denied", "appealed"]
AMOUNTS = ["100", "4999.99", "5000", "5000.01", "9000", "10000", "10000.01", "25000"]


# Scheduling

claim_specs = st.lists(
    st.fixed_dictionaries(
        {
            "agent": st.integers(min_value=0, max_value=2),
            "payer": st.sampled_from(PAYER_NAMES),
            "amount": st.sampled_from(AMOUNTS),
            # Half due in the coming weeks, half overdue (booked from today).
            "age": st.integers(min_value=0, max_value=60)
            | st.integers(min_value=61, max_value=320),
            "status": st.sampled_from([*OPEN, *OPEN, "paid"]),
            # The last completed or missed call, days before today.
            "last_call": st.none()
            | st.tuples(st.sampled_from(["done", "missed"]), st.integers(1, 40)),
            # A call already waiting, days after today (the claim is left alone).
            "waiting": st.none() | st.integers(min_value=0, max_value=20),
        }
    ),
    min_size=1,
    max_size=10,
)
agent_specs = st.lists(
    st.tuples(st.integers(min_value=1, max_value=3), st.sampled_from([True, True, True, False])),
    min_size=3,
    max_size=3,
)
cigna_rules = st.fixed_dictionaries(
    {
        "initial_days": st.integers(0, 60),
        "subsequent_days": st.integers(1, 30),
        "best_call_times": st.lists(
            st.sampled_from(["08:00", "11:30", "16:45"]), min_size=1, max_size=3, unique=True
        ),
        "preferred_weekdays": st.lists(st.integers(0, 4), min_size=1, max_size=5, unique=True),
    }
)


@in_database
@settings(max_examples=40, deadline=None)
@given(
    claims=claim_specs,
    agents=agent_specs,
    cigna_rule=cigna_rules,
    holidays=st.lists(st.integers(min_value=0, max_value=30), unique=True, max_size=8),
)
def test_scheduling_respects_capacity_calendar_payer_rules_and_priority(
    claims, agents, cigna_rule, holidays
):
    with transaction.atomic():  # each example starts from the seeded database
        check_schedule(claims, agents, cigna_rule, holidays)
        transaction.set_rollback(True)


def check_schedule(claim_specs, agent_specs, cigna_rule, holiday_offsets):
    PayerFactory(name="Humana")  # no rule of its own: the default rule
    FollowUpRule.objects.create(payer=PayerFactory(name="Cigna"), **cigna_rule)
    holidays = {TODAY + timedelta(days=offset) for offset in holiday_offsets}
    Holiday.objects.bulk_create(Holiday(date=day, name="Closed") for day in holidays)
    agents = [
        AgentFactory(daily_capacity=capacity, active=active) for capacity, active in agent_specs
    ]
    follow_up_rules = {rule.payer_id: rule for rule in FollowUpRule.objects.all()}
    claims, waiting = [], {}
    for spec in claim_specs:
        agent = agents[spec["agent"]]
        claim = ClaimFactory(
            agent=agent,
            payer=payer(spec["payer"]),
            amount=Decimal(spec["amount"]),
            status=spec["status"],
            **claim_dates(spec["age"]),
        )
        if spec["last_call"]:
            status, days_ago = spec["last_call"]
            FollowUp.objects.create(
                claim=claim,
                agent=agent,
                priority="low",
                status=status,
                scheduled_at=at_local(TODAY - timedelta(days=days_ago)),
            )
        if spec["waiting"] is not None:
            waiting[claim.pk] = FollowUp.objects.create(
                claim=claim,
                agent=agent,
                priority="low",
                scheduled_at=at_local(TODAY + timedelta(days=spec["waiting"])),
            )
        claims.append((claim, spec))
    existing = set(FollowUp.objects.values_list("pk", flat=True))

    report = services.schedule_follow_ups(today=TODAY)

    failed = {number for number, _ in report.problems}
    assert report.failed == len(failed)
    new = {f.claim_id: f for f in FollowUp.objects.exclude(pk__in=existing)}
    plans = {}
    for claim, spec in claims:
        rule = follow_up_rules.get(claim.payer_id) or follow_up_rules[None]
        candidate = claim.status != "paid" and claim.agent.active and claim.pk not in waiting
        scheduled = list(claim.follow_ups.filter(status="scheduled"))
        if not candidate:
            assert claim.pk not in new
            assert scheduled == ([waiting[claim.pk]] if claim.pk in waiting else [])
            continue
        if claim.claim_number in failed:
            assert scheduled == []
            continue
        assert scheduled == [new[claim.pk]]
        call = new[claim.pk]
        day, at = local_day_and_time(call.scheduled_at)
        # The payer's rule: the first call after the initial days, later ones after the
        # subsequent days, a missed one at once; never before today.
        if spec["last_call"] is None:
            due = claim.submission_date + timedelta(days=rule.initial_days)
        elif spec["last_call"][0] == "missed":
            due = TODAY
        else:
            due = TODAY - timedelta(days=spec["last_call"][1] - rule.subsequent_days)
        due = max(due, TODAY)
        assert day >= due
        assert day.weekday() < 5
        assert day.weekday() in rule.preferred_weekdays
        assert day not in holidays
        assert at.strftime("%H:%M") in rule.best_call_times
        assert call.agent == claim.agent
        # The priority matrix, with the filing window (80% of the payer's) as a risk.
        window = claim.payer.filing_window
        aging = spec["age"]
        if claim.amount > 10000 or aging > 120 or aging > int(window * 0.8):
            priority = "high"
        elif claim.amount > 5000 or aging > 60:
            priority = "medium"
        else:
            priority = "low"
        assert call.priority == priority
        claim.refresh_from_db()
        assert claim.priority == priority
        plans[claim.pk] = (claim.agent_id, rule, due, day, priority)

    assert report.items == len(plans) + len(failed)
    assert report.succeeded == len(plans)
    assert report.counts == Counter(plan[4] for plan in plans.values())

    booked = Counter(
        (f.agent_id, local_day_and_time(f.scheduled_at)[0])
        for f in FollowUp.objects.filter(status="scheduled")
    )
    capacity = {agent.pk: agent.daily_capacity for agent in agents}
    for agent_id, rule, due, day, _ in plans.values():
        # Nobody is booked over capacity on a day the run booked...
        assert booked[agent_id, day] <= capacity[agent_id]
        # ...and each call took the earliest day that still had room: every bookable day
        # between its due day and its day is full.
        skipped = due
        while skipped < day:
            if (
                skipped.weekday() in rule.preferred_weekdays
                and skipped.weekday() < 5
                and skipped not in holidays
            ):
                assert booked[agent_id, skipped] >= capacity[agent_id]
            skipped += timedelta(days=1)

    # Higher priority first: a claim never waits longer than a lower-priority claim of the same
    # agent that was due no earlier and may only be called on days the first one may too.
    rank = {"high": 0, "medium": 1, "low": 2}
    for agent_h, rule_h, due_h, day_h, priority_h in plans.values():
        for agent_l, rule_l, due_l, day_l, priority_l in plans.values():
            if (
                agent_h == agent_l
                and rank[priority_h] < rank[priority_l]
                and due_l >= due_h
                and set(rule_l.preferred_weekdays) <= set(rule_h.preferred_weekdays)
            ):
                assert day_h <= day_l

    before = FollowUp.objects.count()
    again = services.schedule_follow_ups(today=TODAY)
    assert (again.items, again.succeeded) == (len(failed), 0)
    assert FollowUp.objects.count() == before


# Assignment

QUEUE_KINDS = [
    "senior_agent",
    "government_specialist",
    "escalation_team",
    "specialist",
    "general_agent",
]
ASSIGN_PAYERS = {
    "Aetna": "commercial",
    "Medicare": "medicare",
    "State Medicaid": "medicaid",
    "Tricare": "other_government",
    "Cigna": "commercial",
}
CODES = ["99213", "27447", "22550", "22551", "22612", "22613", "33206", "33249", "33250"]

queue_agents = st.lists(
    st.fixed_dictionaries(
        {
            "queue": st.sampled_from(QUEUE_KINDS),
            "capacity": st.integers(min_value=1, max_value=5),
            "active": st.sampled_from([True, True, True, False]),
            "carried_open": st.integers(min_value=0, max_value=3),
            "carried_closed": st.integers(min_value=0, max_value=2),
        }
    ),
    min_size=1,
    max_size=6,
)
new_claims = st.lists(
    st.fixed_dictionaries(
        {
            "payer": st.sampled_from(list(ASSIGN_PAYERS)),
            "amount": st.sampled_from(AMOUNTS),
            "age": st.integers(min_value=0, max_value=200),
            "code": st.sampled_from(CODES),
            "denial_reason": st.sampled_from(REASONS),
            "status": st.sampled_from([*OPEN, *OPEN, "paid"]),
        }
    ),
    max_size=14,
)


@in_database
@settings(max_examples=40, deadline=None)
@given(
    agents=queue_agents,
    claims=new_claims,
    inactive_rules=st.lists(st.integers(min_value=1, max_value=5), unique=True, max_size=2),
)
def test_assignment_follows_the_first_matching_rule_and_balances_each_queue(
    agents, claims, inactive_rules
):
    with transaction.atomic():  # each example starts from the seeded database
        check_assignment(agents, claims, inactive_rules)
        transaction.set_rollback(True)


def shares(agents, open_claims):
    return [Fraction(open_claims[agent.pk], agent.daily_capacity) for agent in agents]


def check_assignment(agent_specs, claim_specs, inactive_rules):
    AssignmentRule.objects.filter(priority__in=inactive_rules).update(active=False)
    payers = {
        name: PayerFactory(name=name, payer_type=kind) for name, kind in ASSIGN_PAYERS.items()
    }
    agents = []
    for spec in agent_specs:
        agent = AgentFactory(
            queue=queue(spec["queue"]), daily_capacity=spec["capacity"], active=spec["active"]
        )
        for status in ["pending"] * spec["carried_open"] + ["paid"] * spec["carried_closed"]:
            ClaimFactory(agent=agent, queue=agent.queue, status=status)
        agents.append(agent)
    carried = {c.pk: c.agent_id for c in Claim.objects.all()}
    open_before = Counter(Claim.objects.open().values_list("agent_id", flat=True))
    new = [
        ClaimFactory(
            payer=payers[spec["payer"]],
            amount=Decimal(spec["amount"]),
            procedure_code=spec["code"],
            denial_reason=spec["denial_reason"],
            status=spec["status"],
            **claim_dates(spec["age"]),
        )
        for spec in claim_specs
    ]
    active_rules = list(AssignmentRule.objects.filter(active=True).order_by("priority"))

    report = services.assign_claims(today=TODAY)

    failed = {number for number, _ in report.problems}
    expected_counts = Counter()
    for claim in new:
        claim.refresh_from_db()
        if claim.status == "paid":
            assert (claim.agent, claim.assignments.count()) == (None, 0)
            continue
        facts = rules.ClaimFacts.of(claim, TODAY)
        rule = next((r for r in active_rules if holds(r, facts)), None)
        staffed = any(a.active and a.queue_id == getattr(rule, "queue_id", None) for a in agents)
        if rule is None or not staffed:
            assert claim.claim_number in failed
            assert (claim.agent, claim.assignments.count()) == (None, 0)
            continue
        assert claim.queue_id == rule.queue_id
        assert claim.agent.active
        assert claim.agent.queue_id == rule.queue_id
        assignment = claim.assignments.get()
        assert (assignment.rule, assignment.queue_id, assignment.agent) == (
            rule,
            rule.queue_id,
            claim.agent,
        )
        assert assignment.reason.startswith(f"{rule.name}: ")
        expected_counts[rule.queue.name] += 1
    open_new = [claim for claim in new if claim.status != "paid"]
    assert (report.items, report.failed) == (len(open_new), len(failed))
    assert report.counts == expected_counts
    # Claims that already had an agent stay where they were, without a new assignment.
    for pk, agent_id in carried.items():
        assert Claim.objects.get(pk=pk).agent_id == agent_id
    assert not Assignment.objects.filter(claim_id__in=carried).exists()

    # Within a queue, greedy least-utilized placement keeps the shares (open ÷ capacity) as
    # even as one claim allows: the spread never grows beyond what it was or 1 ÷ the smallest
    # capacity (from empty desks: max − min ≤ 1 ÷ smallest capacity).
    open_after = Counter(Claim.objects.open().values_list("agent_id", flat=True))
    by_queue = defaultdict(list)
    for agent in agents:
        if agent.active:
            by_queue[agent.queue_id].append(agent)
    for members in by_queue.values():
        before, after = shares(members, open_before), shares(members, open_after)
        allowed = max(
            max(before) - min(before),
            Fraction(1, min(agent.daily_capacity for agent in members)),
        )
        assert max(after) - min(after) <= allowed
    # Nobody inactive took anything new.
    for agent in agents:
        if not agent.active:
            assert open_after[agent.pk] == open_before[agent.pk]

    # Re-running without reassign moves nothing and records nothing new.
    placed = dict(Claim.objects.values_list("pk", "agent_id"))
    assignments = Assignment.objects.count()
    again = services.assign_claims(today=TODAY)
    assert (again.items, again.succeeded) == (len(failed), 0)
    assert dict(Claim.objects.values_list("pk", "agent_id")) == placed
    assert Assignment.objects.count() == assignments
