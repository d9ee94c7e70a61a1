"""The AR follow-up engine: route claims to queues and agents, schedule follow-up calls, mark
missed ones. Every run is recorded as an AutomationRun and is safe to repeat.

Both batch jobs read their claims in batches with a fixed number of queries per batch (claims
with their payer and rule in one query, loads in one, writes in bulk), so their cost grows
with the claims, not the queries (bench/bench_rcm.py).
"""

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from opsintel.assignment import Agent as Worker
from opsintel.assignment import UtilizationBoard
from opsintel.audit import Action, record_event
from rcm import rules
from rcm.models import (
    OPEN_STATUSES,
    Agent,
    Assignment,
    AssignmentRule,
    AutomationRun,
    Claim,
    FollowUp,
    FollowUpRule,
    Holiday,
    Priority,
)

BATCH = 2_000
HORIZON_DAYS = 366  # the furthest ahead a follow-up is booked

HIGH_AMOUNT = Decimal("10000")
MEDIUM_AMOUNT = Decimal("5000")


def timely_filing_limit(window_days):
    """Aging (days) past which a claim is at risk of missing its filing/appeal window."""
    return int(window_days * settings.RCM_TIMELY_FILING_SHARE)


def follow_up_priority(amount, aging, *, filing_risk=False):
    """The priority matrix: high when amount > $10,000 or aging > 120 days (or the filing
    window is running out), medium when amount > $5,000 or aging > 60 days, else low."""
    if amount > HIGH_AMOUNT or aging > 120 or filing_risk:
        return Priority.HIGH
    if amount > MEDIUM_AMOUNT or aging > 60:
        return Priority.MEDIUM
    return Priority.LOW


PRIORITY_ORDER = {Priority.HIGH: 0, Priority.MEDIUM: 1, Priority.LOW: 2}


@dataclass
class RunReport:
    kind: str
    items: int = 0
    succeeded: int = 0
    failed: int = 0
    counts: Counter = field(default_factory=Counter)  # queue or agent name -> items
    problems: list = field(default_factory=list)  # (claim number, reason)

    @property
    def success_rate(self):
        return round(100 * self.succeeded / self.items, 2) if self.items else None

    def record(self, started_at):
        return AutomationRun.objects.create(
            kind=self.kind,
            started_at=started_at,
            finished_at=timezone.now(),
            items=self.items,
            succeeded=self.succeeded,
            failed=self.failed,
            details={"counts": dict(self.counts), "problems": self.problems[:100]},
        )


# --- Assignment -----------------------------------------------------------------------------

CLAIM_VALUES = (
    "pk",
    "claim_number",
    "amount",
    "payer__name",
    "payer__payer_type",
    "payer__filing_window_days",
    "submission_date",
    "procedure_code",
    "denial_reason",
    "agent_id",
)


def _boards():
    """Per queue: a board of its active agents with the open claims they hold now."""
    agents = (
        Agent.objects.filter(active=True)
        .annotate(open_claims=Count("claims", filter=Q(claims__status__in=OPEN_STATUSES)))
        .order_by("queue_id", "name", "pk")
    )
    by_queue = defaultdict(list)
    loads, names = {}, {}
    for agent in agents:
        by_queue[agent.queue_id].append(Worker(agent.pk, capacity=agent.daily_capacity))
        loads[agent.pk] = agent.open_claims
        names[agent.pk] = agent.name
    boards = {queue: UtilizationBoard(workers, loads) for queue, workers in by_queue.items()}
    return boards, names


def assign_claims(claims=None, *, reassign=False, today=None, actor=None):
    """Route open claims through the rules (priority order, first match wins) to a queue, and
    within it to the agent with the least open work relative to capacity.

    Claims already with an agent are left where they are unless `reassign`. Claims at risk
    of missing their filing window go first. Returns a RunReport (counts per queue)."""
    started_at = timezone.now()
    today = today or timezone.localdate()
    report = RunReport(AutomationRun.Kind.ASSIGN_CLAIMS)
    rule_list = list(AssignmentRule.objects.filter(active=True).select_related("queue"))
    boards, names = _boards()
    candidates = (claims if claims is not None else Claim.objects.all()).filter(
        status__in=OPEN_STATUSES
    )
    if not reassign:
        candidates = candidates.filter(agent__isnull=True)
    rows = list(candidates.order_by("submission_date", "pk").values_list(*CLAIM_VALUES))
    # The filing window running out jumps the queue; then the oldest first.
    window = settings.RCM_FILING_WINDOW_DAYS
    rows.sort(
        key=lambda row: rules.aging_days(row[6], today) <= timely_filing_limit(row[5] or window)
    )
    with transaction.atomic():
        for start in range(0, len(rows), BATCH):
            _assign_batch(rows[start : start + BATCH], rule_list, boards, names, today, report)
        run = report.record(started_at)
        record_event(
            Action.UPDATE,
            actor=actor,
            objects=run,
            description=f"Assigned {report.succeeded} of {report.items} claims",
        )
    return report


def _assign_batch(rows, rule_list, boards, names, today, report):
    now = timezone.now()
    assignments, updates = [], []
    for pk, number, amount, payer, payer_type, _, submitted, code, denial, current in rows:
        report.items += 1
        facts = rules.ClaimFacts(
            amount=amount,
            payer_name=payer,
            payer_type=payer_type,
            aging_days=rules.aging_days(submitted, today),
            procedure_code=code,
            denial_reason=denial,
        )
        rule, reason = rules.first_match(rule_list, facts)
        if rule is None:
            report.failed += 1
            report.problems.append((number, "no rule matched (add a default rule)"))
            continue
        board = boards.get(rule.queue_id)
        if current is not None and board is not None and current in board.loads:
            board.add(current, -1)  # reassigning: the claim leaves its current agent
        agent = board.pick(overflow=True) if board is not None else None
        if agent is None:
            report.failed += 1
            report.problems.append((number, f"{rule.queue} has no active agent"))
            continue
        board.add(agent)
        assignments.append(
            Assignment(
                claim_id=pk,
                queue_id=rule.queue_id,
                agent_id=agent,
                rule=rule,
                reason=reason,
                at=now,
            )
        )
        updates.append(Claim(pk=pk, queue_id=rule.queue_id, agent_id=agent))
        report.succeeded += 1
        report.counts[rule.queue.name] += 1
    Assignment.objects.bulk_create(assignments)
    # One UPDATE per (queue, agent): bulk_update's CASE per row cost most of a run
    # (bench_rcm.py); the count stays bounded by the agents, not the claims.
    by_agent = defaultdict(list)
    for claim in updates:
        by_agent[claim.queue_id, claim.agent_id].append(claim.pk)
    for (queue_id, agent_id), pks in by_agent.items():
        Claim.objects.filter(pk__in=pks).update(queue_id=queue_id, agent_id=agent_id)


# --- Follow-up scheduling -------------------------------------------------------------------


class Calendar:
    """Which days are bookable: weekdays, not holidays."""

    def __init__(self, first, last):
        self.holidays = set(
            Holiday.objects.filter(date__range=(first, last)).values_list("date", flat=True)
        )

    def bookable(self, day, weekdays):
        return day.weekday() < 5 and day.weekday() in weekdays and day not in self.holidays


def _follow_up_rules():
    """{payer id or None: FollowUpRule}; None is the default rule."""
    found = {rule.payer_id: rule for rule in FollowUpRule.objects.all()}
    if None not in found:
        raise ValidationError(
            "There is no default follow-up rule (a follow-up rule without a payer): add one in "
            "the admin."
        )
    return found


SCHEDULE_VALUES = (
    "pk",
    "claim_number",
    "amount",
    "payer_id",
    "payer__filing_window_days",
    "submission_date",
    "agent_id",
)


def schedule_follow_ups(claims=None, *, today=None, actor=None):
    """Book the next follow-up call of every open, assigned claim that has none waiting.

    The first call is due the payer's initial days after submission, later ones the payer's
    subsequent days after the last completed call (a missed call is retried at once). The due
    day moves forward to the payer's next preferred weekday that is no weekend or holiday and
    on which the agent is not yet booked to capacity; the time is the payer's best call time
    the agent has fewest calls at that day. High-priority claims are booked first, so they get
    the earliest free slots. Claims with a call waiting are left alone: re-running books
    nothing twice."""
    started_at = timezone.now()
    today = today or timezone.localdate()
    report = RunReport(AutomationRun.Kind.SCHEDULE_FOLLOW_UPS)
    follow_up_rules = _follow_up_rules()
    candidates = (claims if claims is not None else Claim.objects.all()).filter(
        status__in=OPEN_STATUSES, agent__isnull=False, agent__active=True
    )
    rows = list(
        candidates.exclude(follow_ups__status=FollowUp.Status.SCHEDULED).values_list(
            *SCHEDULE_VALUES
        )
    )
    last = _last_calls([row[0] for row in rows])
    window = settings.RCM_FILING_WINDOW_DAYS
    plans = []
    for pk, number, amount, payer, filing_window, submitted, agent in rows:
        rule = follow_up_rules.get(payer) or follow_up_rules[None]
        aging = rules.aging_days(submitted, today)
        risk = aging > timely_filing_limit(filing_window or window)
        priority = follow_up_priority(amount, aging, filing_risk=risk)
        previous = last.get(pk)
        if previous is None:
            due = submitted + timedelta(days=rule.initial_days)
        elif previous[1] == FollowUp.Status.MISSED:
            due = today
        else:
            due = previous[0] + timedelta(days=rule.subsequent_days)
        plans.append((PRIORITY_ORDER[priority], max(due, today), number, pk, agent, rule, priority))
    plans.sort(key=lambda plan: plan[:3])

    capacity = dict(Agent.objects.filter(active=True).values_list("pk", "daily_capacity"))
    last_day = today + timedelta(days=HORIZON_DAYS)
    booked = _bookings(today, last_day)
    calendar = Calendar(today, last_day)
    zone = timezone.get_current_timezone()
    follow_ups, priorities = [], []
    for _, due, number, pk, agent, rule, priority in plans:
        report.items += 1
        slot = _first_free_slot(
            due, last_day, agent, rule, capacity.get(agent, 0), booked, calendar
        )
        if slot is None:
            report.failed += 1
            report.problems.append((number, "no free day within a year"))
            continue
        day, call_time = slot
        booked[agent, day][call_time] += 1
        follow_ups.append(
            FollowUp(
                claim_id=pk,
                agent_id=agent,
                scheduled_at=timezone.make_aware(datetime.combine(day, call_time), zone),
                priority=priority,
            )
        )
        priorities.append(Claim(pk=pk, priority=priority))
        report.succeeded += 1
        report.counts[str(priority)] += 1
    with transaction.atomic():
        for start in range(0, len(follow_ups), BATCH):
            FollowUp.objects.bulk_create(follow_ups[start : start + BATCH])
            by_priority = defaultdict(list)
            for claim in priorities[start : start + BATCH]:
                by_priority[claim.priority].append(claim.pk)
            for priority, pks in by_priority.items():  # at most three UPDATEs
                Claim.objects.filter(pk__in=pks).update(priority=priority)
        run = report.record(started_at)
        record_event(
            Action.CREATE,
            actor=actor,
            objects=run,
            description=f"Scheduled {report.succeeded} follow-ups",
        )
    return report


def _last_calls(claim_ids):
    """{claim id: (date of its latest done or missed call, its status)} in one query."""
    last = {}
    rows = (
        FollowUp.objects.filter(
            claim_id__in=claim_ids, status__in=(FollowUp.Status.DONE, FollowUp.Status.MISSED)
        )
        .order_by("claim_id", "scheduled_at")
        .values_list("claim_id", "scheduled_at", "status")
    )
    for claim_id, at, status in rows:
        last[claim_id] = (timezone.localdate(at), status)
    return last


def _bookings(first, last):
    """{(agent, day): Counter(call time -> calls)} of the calls already booked."""
    booked = defaultdict(Counter)
    rows = FollowUp.objects.filter(
        status=FollowUp.Status.SCHEDULED, scheduled_at__date__range=(first, last)
    ).values_list("agent_id", "scheduled_at")
    for agent, at in rows:
        local = timezone.localtime(at)
        booked[agent, local.date()][local.time()] += 1
    return booked


def _first_free_slot(due, last_day, agent, rule, capacity, booked, calendar):
    weekdays = set(rule.preferred_weekdays)
    times = rule.call_times
    day = due
    while day <= last_day:
        if calendar.bookable(day, weekdays):
            calls = booked[agent, day]
            if sum(calls.values()) < capacity:
                return day, min(times, key=lambda t: (calls[t], t))
        day += timedelta(days=1)
    return None


def mark_missed_follow_ups(*, today=None):
    """Calls still waiting from before today were missed; the next scheduling run retries
    them at once. Returns a RunReport."""
    started_at = timezone.now()
    today = today or timezone.localdate()
    start_of_today = timezone.make_aware(datetime.combine(today, datetime.min.time()))
    report = RunReport(AutomationRun.Kind.MARK_MISSED)
    with transaction.atomic():
        missed = FollowUp.objects.filter(
            status=FollowUp.Status.SCHEDULED, scheduled_at__lt=start_of_today
        ).update(status=FollowUp.Status.MISSED, outcome="Not called by the end of the day")
        report.items = report.succeeded = missed
        report.record(started_at)
    return report


def complete_follow_up(follow_up, *, outcome, claim_status=None, actor=None, today=None):
    """Record a call's outcome; an open claim gets its next call booked at once."""
    if follow_up.status != FollowUp.Status.SCHEDULED:
        raise ValidationError({"status": f"This follow-up is already {follow_up.status}."})
    if not outcome.strip():
        raise ValidationError({"outcome": "Say what came of the call."})
    with transaction.atomic():
        follow_up.status = FollowUp.Status.DONE
        follow_up.outcome = outcome.strip()
        follow_up.save(update_fields=["status", "outcome"])
        claim = follow_up.claim
        if claim_status and claim_status != claim.status:
            claim.status = claim_status
            claim.save(update_fields=["status", "updated_at"])
        if claim.is_open:
            schedule_follow_ups(Claim.objects.filter(pk=claim.pk), today=today, actor=actor)
            follow_up.next_follow_up = claim.follow_ups.filter(
                status=FollowUp.Status.SCHEDULED
            ).first()
            follow_up.save(update_fields=["next_follow_up"])
        record_event(
            Action.UPDATE, actor=actor, objects=claim, description="Follow-up call recorded"
        )
    return follow_up
