"""What the AR automation did and what the AR work looks like now: the manager dashboard and
GET /api/automation/metrics both show `automation_metrics(user)`.

Every figure is an aggregate in the database (GROUP BY, conditional counts), a fixed number of
queries however many claims, runs and follow-ups there are. Definitions:

- tasks automated: the items AutomationRuns succeeded with (sum of `succeeded`), today and this
  week (Monday to Sunday), in TIME_ZONE, by when the run started;
- time saved: tasks × RCM_MINUTES_SAVED_PER_TASK, in hours; cost reduction: tasks ×
  RCM_COST_SAVED_PER_TASK dollars;
- success rate: succeeded ÷ items of this week's runs (a share, 0..1; None without items);
- queue length: open claims per work queue (the claim's current queue); claims no rule routed
  yet, and open claims past RCM_TIMELY_FILING_SHARE of their filing window, are counted apart;
- workload: per agent (their claims) and per queue (its agents' calls): open claims, and the
  follow-ups booked for today and for this week (waiting, done or missed; cancelled ones are
  not work); utilization: today's booked follow-ups ÷ daily capacity (a queue's capacity is
  its active agents' capacity added up);
- rule usage: how many assignments each rule made (the assignment history, re-assignments
  included);
- appeal success by type: appealed claims (`appealed_on` set) by the appeal their denial
  reason gets (rcm.documents.APPEAL_TEMPLATES; other reasons the general appeal); of those
  decided (paid or partially paid = won; denied again, written off or closed = lost; still
  appealed = waiting), the share won;
- average turnaround: mean days from submission to payment over paid and partially paid
  claims; the payment day is `settled_on`, and for claims settled before that field existed
  the day the claim last changed (`updated_at`, local date);
- aging by payer: open claims and their balance per payer × aging bucket (rcm.rules.AGING_BUCKETS,
  days since submission).

Scope: claims, follow-ups, agents, assignments and documents are narrowed to what the user may
see (an agent: their own claims); automation runs are system-wide (no PHI, no owner).
"""

from datetime import datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import (
    Avg,
    Case,
    CharField,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Q,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from rcm.documents import APPEAL_TEMPLATES
from rcm.models import (
    OPEN_STATUSES,
    PAID_STATUSES,
    Agent,
    Assignment,
    AssignmentRule,
    AutomationRun,
    Claim,
    ClaimStatus,
    DocumentType,
    FollowUp,
    Payer,
    WorkQueue,
    manages_ar,
)
from rcm.rules import AGING_BUCKETS
from rcm.services import timely_filing_limit

WON = PAID_STATUSES
LOST = (ClaimStatus.DENIED, ClaimStatus.WRITTEN_OFF, ClaimStatus.CLOSED)
APPEAL_TYPES = [
    (value, label) for value, label in DocumentType.choices if value.startswith("appeal_")
]
# Follow-ups that are (or were) work on their day.
BOOKED = (FollowUp.Status.SCHEDULED, FollowUp.Status.DONE, FollowUp.Status.MISSED)


# Query helpers shared with the pages ----------------------------------------------------------


def day_start(day):
    """The aware moment a local day starts."""
    return timezone.make_aware(datetime.combine(day, time.min))


def week_of(today):
    """(Monday, Sunday) of the week holding `today`."""
    monday = today - timedelta(days=today.weekday())
    return monday, monday + timedelta(days=6)


def aging_bucket_expression(today):
    """The claim's aging bucket label (rcm.rules.AGING_BUCKETS), as a database expression.
    Claims submitted after `today` age 0 days, as rcm.rules.aging_days says."""
    bounded = [(label, last) for label, _, last in AGING_BUCKETS if last is not None]
    open_ended = [label for label, _, last in AGING_BUCKETS if last is None]
    return Case(
        *(
            When(submission_date__gte=today - timedelta(days=last), then=Value(label))
            for label, last in bounded
        ),
        default=Value(open_ended[0] if open_ended else bounded[-1][0]),
        output_field=CharField(),
    )


def filing_risk_q(today):
    """Claims past RCM_TIMELY_FILING_SHARE of their payer's filing window (aging above
    rcm.services.timely_filing_limit). One condition per distinct window length, so the
    condition stays small however many payers there are (costs one query for the lengths)."""
    windows = set(Payer.objects.values_list("filing_window_days", flat=True).distinct())
    q = Q(pk__in=[])
    for days in windows:
        window = days or settings.RCM_FILING_WINDOW_DAYS
        cutoff = today - timedelta(days=timely_filing_limit(window))
        q |= Q(payer__filing_window_days=days, submission_date__lt=cutoff)
    return q


def _scoped(queryset, user, claim_path):
    """Narrow a queryset of things that hang off claims to the user's claims."""
    if manages_ar(user):
        return queryset
    if not user.is_authenticated or not user.is_active:
        return queryset.none()
    return queryset.filter(**{f"{claim_path}agent__user": user})


def _share(part, whole):
    return round(part / whole, 4) if whole else None


def _money(value):
    return str(Decimal(value or 0).quantize(Decimal("0.01")))


# The figures ----------------------------------------------------------------------------------


def automation_metrics(user, today=None):
    """Every automation and workload figure for the user's scope, JSON-serialisable (money as
    text with two decimals, shares as 0..1 floats). See the module docstring for definitions."""
    today = today or timezone.localdate()
    monday, sunday = week_of(today)
    tasks = _tasks(today, monday)
    minutes = settings.RCM_MINUTES_SAVED_PER_TASK
    cost = Decimal(settings.RCM_COST_SAVED_PER_TASK)
    week_items = sum(row["week_items"] for row in tasks)
    week_succeeded = sum(row["week"] for row in tasks)
    tasks_today = sum(row["today"] for row in tasks)
    claims = Claim.objects.visible_to(user)
    workload = _workload(user, claims, today, monday)
    return {
        "today": today.isoformat(),
        "week": {"start": monday.isoformat(), "end": sunday.isoformat()},
        "settings": {
            "minutes_saved_per_task": minutes,
            "cost_saved_per_task": _money(cost),
            "filing_window_share": settings.RCM_TIMELY_FILING_SHARE,
        },
        "tasks_automated": {"today": tasks_today, "week": week_succeeded},
        "time_saved_hours": {
            "today": round(tasks_today * minutes / 60, 2),
            "week": round(week_succeeded * minutes / 60, 2),
        },
        "cost_reduction": {
            "today": _money(tasks_today * cost),
            "week": _money(week_succeeded * cost),
        },
        "success_rate": {
            "items": week_items,
            "succeeded": week_succeeded,
            "rate": _share(week_succeeded, week_items),
        },
        "tasks_by_kind": tasks,
        **workload,
        "rule_usage": _rule_usage(user),
        "appeal_success": _appeal_success(claims),
        "turnaround": _turnaround(claims),
        "aging": _aging(claims, today),
    }


def _tasks(today, monday):
    """Per run kind: tasks automated today and this week, and this week's items and failures."""
    today_q = Q(started_at__gte=day_start(today), started_at__lt=day_start(today + timedelta(1)))
    rows = (
        AutomationRun.objects.filter(
            started_at__gte=day_start(monday), started_at__lt=day_start(monday + timedelta(7))
        )
        .values("kind")
        .annotate(
            today=Sum("succeeded", filter=today_q, default=0),
            week=Sum("succeeded", default=0),
            week_items=Sum("items", default=0),
            week_failed=Sum("failed", default=0),
            runs=Count("pk"),
        )
        .order_by()
    )
    found = {row["kind"]: row for row in rows}
    empty = {"today": 0, "week": 0, "week_items": 0, "week_failed": 0, "runs": 0}
    return [
        {"kind": kind, "label": label, **{k: found.get(kind, empty)[k] for k in empty}}
        for kind, label in AutomationRun.Kind.choices
    ]


def _workload(user, claims, today, monday):
    open_claims = claims.filter(status__in=OPEN_STATUSES)
    by_queue = dict(
        open_claims.values("queue_id")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("queue_id", "n")
    )
    by_agent = dict(
        open_claims.filter(agent__isnull=False)
        .values("agent_id")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("agent_id", "n")
    )
    today_q = Q(
        scheduled_at__gte=day_start(today), scheduled_at__lt=day_start(today + timedelta(1))
    )
    booked = FollowUp.objects.visible_to(user).filter(
        status__in=BOOKED,
        scheduled_at__gte=day_start(monday),
        scheduled_at__lt=day_start(monday + timedelta(7)),
    )
    counts = {"today": Count("pk", filter=today_q), "week": Count("pk")}
    calls_by_agent = {
        row["agent_id"]: row for row in booked.values("agent_id").annotate(**counts).order_by()
    }
    calls_by_queue = {
        row["agent__queue_id"]: row
        for row in booked.values("agent__queue_id").annotate(**counts).order_by()
    }
    none = {"today": 0, "week": 0}

    agents = []
    for agent in (
        Agent.objects.visible_to(user).select_related("queue").order_by("queue__name", "name")
    ):
        calls = calls_by_agent.get(agent.pk, none)
        agents.append(
            {
                "id": agent.pk,
                "agent": agent.name,
                "queue": agent.queue.name,
                "active": agent.active,
                "open_claims": by_agent.get(agent.pk, 0),
                "follow_ups_today": calls["today"],
                "follow_ups_week": calls["week"],
                "daily_capacity": agent.daily_capacity,
                "utilization": _share(calls["today"], agent.daily_capacity),
            }
        )

    queues = []
    queue_rows = WorkQueue.objects.annotate(
        active_agents=Count("agents", filter=Q(agents__active=True)),
        capacity=Sum("agents__daily_capacity", filter=Q(agents__active=True), default=0),
    ).order_by("name")
    for queue in queue_rows:
        calls = calls_by_queue.get(queue.pk, none)
        queues.append(
            {
                "id": queue.pk,
                "queue": queue.name,
                "kind": queue.kind,
                "open_claims": by_queue.get(queue.pk, 0),
                "active_agents": queue.active_agents,
                "follow_ups_today": calls["today"],
                "follow_ups_week": calls["week"],
                "daily_capacity": queue.capacity,
                "utilization": _share(calls["today"], queue.capacity),
            }
        )
    return {
        "queue_length": {
            "open_claims": sum(by_queue.values()),
            "not_routed": by_queue.get(None, 0),
            "past_filing_share": open_claims.filter(filing_risk_q(today)).count(),
        },
        "queues": queues,
        "agents": agents,
    }


def _rule_usage(user):
    if manages_ar(user):
        uses = Count("uses")
    else:
        uses = Count(
            "uses",
            filter=Q(uses__claim__agent__user=user) if user.is_authenticated else Q(pk__in=[]),
        )
    rows = (
        AssignmentRule.objects.annotate(assignments=uses)
        .select_related("queue")
        .order_by("priority")
    )
    unmatched = _scoped(Assignment.objects.filter(rule__isnull=True), user, "claim__").count()
    usage = [
        {
            "rule": rule.name,
            "priority": rule.priority,
            "queue": rule.queue.name,
            "active": rule.active,
            "assignments": rule.assignments,
        }
        for rule in rows
    ]
    if unmatched:
        # Assignments whose rule was deleted since.
        usage.append(
            {
                "rule": "(deleted rule)",
                "priority": None,
                "queue": "",
                "active": False,
                "assignments": unmatched,
            }
        )
    return usage


def _appeal_success(claims):
    rows = (
        claims.filter(appealed_on__isnull=False)
        .values("denial_reason")
        .annotate(
            appeals=Count("pk"),
            won=Count("pk", filter=Q(status__in=WON)),
            lost=Count("pk", filter=Q(status__in=LOST)),
        )
        .order_by()
    )
    by_type = {doc_type: {"appeals": 0, "won": 0, "lost": 0} for doc_type, _ in APPEAL_TYPES}
    for row in rows:
        # The letter a denial reason gets (rcm.documents); any other reason, the general one.
        doc_type = APPEAL_TEMPLATES.get(row["denial_reason"], DocumentType.APPEAL_GENERIC)
        for key in ("appeals", "won", "lost"):
            by_type[doc_type][key] += row[key]
    result = []
    for doc_type, label in APPEAL_TYPES:
        row = by_type[doc_type]
        settled = row["won"] + row["lost"]
        result.append(
            {
                "doc_type": doc_type,
                "label": label,
                "appeals": row["appeals"],
                "settled": settled,
                "won": row["won"],
                "lost": row["lost"],
                "success_rate": _share(row["won"], settled),
            }
        )
    return result


def _turnaround(claims):
    paid_on = Coalesce("settled_on", TruncDate("updated_at"))
    days = ExpressionWrapper(paid_on - F("submission_date"), output_field=DurationField())
    result = claims.filter(status__in=PAID_STATUSES).aggregate(
        claims=Count("pk"), average=Avg(days)
    )
    average = result["average"]
    return {
        "paid_claims": result["claims"],
        "average_days": round(average.total_seconds() / 86400, 1) if average is not None else None,
        "paid_date": "settled_on, else the day the claim last changed",
    }


def _aging(claims, today):
    rows = (
        claims.filter(status__in=OPEN_STATUSES)
        .annotate(bucket=aging_bucket_expression(today))
        .values("payer_id", "payer__name", "bucket")
        .annotate(claims=Count("pk"), balance=Sum("balance"))
        .order_by("payer__name", "payer_id")
    )
    labels = [label for label, _, _ in AGING_BUCKETS]
    payers, totals = {}, {label: {"claims": 0, "balance": Decimal(0)} for label in labels}
    for row in rows:
        payer = payers.setdefault(
            row["payer_id"],
            {
                "payer": row["payer__name"],
                "buckets": {label: {"claims": 0, "balance": Decimal(0)} for label in labels},
            },
        )
        payer["buckets"][row["bucket"]] = {"claims": row["claims"], "balance": row["balance"]}
        totals[row["bucket"]]["claims"] += row["claims"]
        totals[row["bucket"]]["balance"] += row["balance"]

    def cells(buckets):
        return [
            {
                "bucket": label,
                "claims": buckets[label]["claims"],
                "balance": _money(buckets[label]["balance"]),
            }
            for label in labels
        ]

    def total(buckets):
        return {
            "claims": sum(cell["claims"] for cell in buckets.values()),
            "balance": _money(sum(cell["balance"] for cell in buckets.values())),
        }

    return {
        "buckets": labels,
        "payers": [
            {"payer": payer["payer"], "cells": cells(payer["buckets"]), **total(payer["buckets"])}
            for payer in payers.values()
        ],
        "totals": {"cells": cells(totals), **total(totals)},
    }
