"""Reads for the campaign pages, exports, API and scripts. Every queryset starts from the
user's scope (`visible_to`)."""

import math
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db.models import Case, Count, Exists, F, IntegerField, OuterRef, Q, Sum, Value, When
from django.utils import timezone

from campaigns.models import (
    Campaign,
    CampaignAssignment,
    CampaignProgress,
    Coordinator,
    Intervention,
    Measure,
    Member,
)

Status = Intervention.Status
DEFAULT_STATUSES = [Status.PENDING, Status.SCHEDULED, Status.IN_PROGRESS]
CENT = Decimal("0.01")


def today_local():
    return timezone.localdate()


# Selecting work -------------------------------------------------------------------------------


def available_interventions(
    user, *, measure_id=None, statuses=None, days_ahead=None, search="", today=None
):
    """Interventions a campaign can take: in scope, matching the filter, not in a live campaign.

    `days_ahead` keeps interventions dated up to that many days from today, overdue ones
    included (they are still open work); undated ones drop out once a window is asked for.
    """
    today = today or today_local()
    queryset = Intervention.objects.visible_to(user).filter(status__in=statuses or DEFAULT_STATUSES)
    queryset = queryset.exclude(
        Exists(CampaignAssignment.objects.filter(intervention=OuterRef("pk"), active=True))
    )
    if measure_id:
        queryset = queryset.filter(measure_id=measure_id)
    if days_ahead is not None:
        queryset = queryset.filter(intervention_date__lte=today + timedelta(days=days_ahead))
    search = (search or "").strip()
    if search:
        queryset = queryset.filter(
            Q(member__member_id__icontains=search)
            | Q(member__first_name__icontains=search)
            | Q(member__last_name__icontains=search)
            | Q(member__phone__icontains=search)
            | Q(member__email__icontains=search)
            | Q(measure__code__iexact=search)
        )
    return queryset.select_related("member", "measure").order_by("intervention_date", "id")


def get_available_members(user, *, measure_id=None, status_filter=None, days_ahead=None, search=""):
    """Members with at least one available intervention matching the filter (script API)."""
    interventions = available_interventions(
        user,
        measure_id=measure_id,
        statuses=status_filter,
        days_ahead=days_ahead,
        search=search,
    )
    return Member.objects.visible_to(user).filter(pk__in=interventions.values("member_id"))


# Metrics --------------------------------------------------------------------------------------


def months_until(target, today):
    """Calendar months from today to the target date (leftover days as 1/30 month), at least 1."""
    if target <= today:
        return Decimal(1)
    delta = relativedelta(target, today)
    months = Decimal(delta.years * 12 + delta.months) + Decimal(delta.days) / Decimal(30)
    return max(Decimal(1), months)


@dataclass
class MeasureRate:
    code: str
    interventions: int
    rate: Decimal
    basis: str  # "measure", "portfolio" or "no history"
    finished: int
    predicted_closures: Decimal
    revenue_per_closure: Decimal
    value: Decimal
    cost: Decimal


@dataclass
class CampaignMetrics:
    total_members: int
    total_interventions: int
    predicted_success_rate: Decimal
    predicted_closures: Decimal
    total_value: Decimal
    total_cost: Decimal
    net_benefit: Decimal
    roi: Decimal | None  # net benefit ÷ cost, as a percentage; None when nothing costs anything
    months: Decimal
    capacity_per_fte: int
    required_fte: Decimal
    suggested_coordinators: int
    portfolio_rate: Decimal
    by_measure: list = field(default_factory=list)

    def as_snapshot(self):
        """JSON-safe copy kept on the campaign (Decimals as strings, exact)."""

        def plain(value):
            if isinstance(value, Decimal):
                return str(value)
            if isinstance(value, list):
                return [plain(v) for v in value]
            if isinstance(value, dict):
                return {k: plain(v) for k, v in value.items()}
            return value

        return plain(asdict(self))


def closure_rates():
    """{measure_id: (closed, finished)} and the portfolio's (closed, finished), from history."""
    finished = Q(status__in=Intervention.FINISHED_STATUSES)
    rows = Intervention.objects.values("measure_id").annotate(
        finished=Count("id", filter=finished),
        closed=Count("id", filter=Q(status=Status.CLOSED)),
    )
    per_measure = {row["measure_id"]: (row["closed"], row["finished"]) for row in rows}
    portfolio = (
        sum(closed for closed, _ in per_measure.values()),
        sum(finished for _, finished in per_measure.values()),
    )
    return per_measure, portfolio


def _rate(closed, finished):
    return Decimal(closed) / Decimal(finished) if finished else Decimal(0)


def calculate_campaign_metrics(interventions, *, target_date=None, today=None):
    """The campaign metrics for exactly these interventions (a queryset or a list of ids).

    Counts only the selected interventions, never the members' other gaps. The success rate of
    a measure is its historical closure rate (closed ÷ finished) when it has at least
    CAMPAIGN_MIN_MEASURE_HISTORY finished interventions, else the whole portfolio's.
    """
    today = today or today_local()
    if not hasattr(interventions, "model"):
        interventions = Intervention.objects.filter(pk__in=list(interventions))
    selection = interventions.order_by()
    per_measure = {
        row["measure_id"]: row
        for row in selection.values("measure_id").annotate(
            interventions=Count("id"), cost=Sum("cost")
        )
    }
    total_members = selection.aggregate(n=Count("member_id", distinct=True))["n"]
    history, (portfolio_closed, portfolio_finished) = closure_rates()
    portfolio_rate = _rate(portfolio_closed, portfolio_finished)
    minimum = settings.CAMPAIGN_MIN_MEASURE_HISTORY
    measures = Measure.objects.in_bulk(per_measure.keys())

    by_measure, closures, value, cost = [], Decimal(0), Decimal(0), Decimal(0)
    for measure_id, row in sorted(per_measure.items(), key=lambda pair: measures[pair[0]].code):
        closed, finished = history.get(measure_id, (0, 0))
        if finished >= minimum:
            rate, basis = _rate(closed, finished), "measure"
        elif portfolio_finished:
            rate, basis = portfolio_rate, "portfolio"
        else:
            rate, basis = Decimal(0), "no history"
        measure = measures[measure_id]
        predicted = row["interventions"] * rate
        measure_value = predicted * measure.revenue_per_closure
        measure_cost = row["cost"] or Decimal(0)
        by_measure.append(
            MeasureRate(
                code=measure.code,
                interventions=row["interventions"],
                rate=rate.quantize(Decimal("0.0001"), ROUND_HALF_UP),
                basis=basis,
                finished=finished,
                predicted_closures=predicted.quantize(CENT, ROUND_HALF_UP),
                revenue_per_closure=measure.revenue_per_closure,
                value=measure_value.quantize(CENT, ROUND_HALF_UP),
                cost=measure_cost,
            )
        )
        closures += predicted
        value += measure_value
        cost += measure_cost

    total = sum(row["interventions"] for row in per_measure.values())
    capacity = settings.CAMPAIGN_CAPACITY_PER_FTE_MONTH
    months = months_until(target_date, today) if target_date else Decimal(1)
    required_fte = Decimal(total) / (capacity * months) if total else Decimal(0)
    value = value.quantize(CENT, ROUND_HALF_UP)
    net = value - cost
    return CampaignMetrics(
        total_members=total_members,
        total_interventions=total,
        predicted_success_rate=(closures / total if total else Decimal(0)).quantize(
            Decimal("0.0001"), ROUND_HALF_UP
        ),
        predicted_closures=closures.quantize(CENT, ROUND_HALF_UP),
        total_value=value,
        total_cost=cost,
        net_benefit=net,
        roi=(net / cost * 100).quantize(Decimal("0.1"), ROUND_HALF_UP) if cost else None,
        months=months.quantize(CENT, ROUND_HALF_UP),
        capacity_per_fte=capacity,
        required_fte=required_fte.quantize(CENT, ROUND_HALF_UP),
        suggested_coordinators=max(1, math.ceil(required_fte.quantize(CENT, ROUND_HALF_UP))),
        portfolio_rate=portfolio_rate.quantize(Decimal("0.0001"), ROUND_HALF_UP),
        by_measure=by_measure,
    )


# Coordinators ---------------------------------------------------------------------------------


def coordinator_workload(coordinators=None):
    """Coordinators with their live workload: open (unfinished) active assignments."""
    unfinished = Q(assignments__active=True) & ~Q(
        assignments__status__in=[*Intervention.FINISHED_STATUSES, Status.CANCELLED]
    )
    queryset = coordinators if coordinators is not None else Coordinator.objects.all()
    return queryset.select_related("user").annotate(
        open_load=Count("assignments", filter=unfinished)
    )


# Campaigns ------------------------------------------------------------------------------------

FINISHED_OR_CANCELLED = [*Intervention.FINISHED_STATUSES, Status.CANCELLED]


def campaigns_with_progress(user):
    """Campaigns in scope, live ones first, with assignment, finished and closure counts."""
    return (
        Campaign.objects.visible_to(user)
        .select_related("created_by")
        .annotate(
            total=Count("assignments"),
            finished=Count("assignments", filter=Q(assignments__status__in=FINISHED_OR_CANCELLED)),
            closures=Count("assignments", filter=Q(assignments__status=Status.CLOSED)),
            members=Count("assignments__intervention__member", distinct=True),
            live_first=Case(
                When(status__in=Campaign.LIVE_STATUSES, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            ),
        )
        .order_by("live_first", "-created_at", "-id")
    )


def workload_rows(assignments):
    """Per coordinator over these assignments: assigned, members, done, closed, remaining."""
    rows = (
        assignments.values(
            "coordinator_id",
            "coordinator__user__first_name",
            "coordinator__user__last_name",
            "coordinator__user__username",
        )
        .annotate(
            assigned=Count("id"),
            members=Count("intervention__member", distinct=True),
            done=Count("id", filter=Q(status__in=FINISHED_OR_CANCELLED)),
            closed=Count("id", filter=Q(status=Status.CLOSED)),
        )
        .order_by("coordinator__user__last_name", "coordinator__user__first_name")
    )
    return [
        {
            "coordinator_id": row["coordinator_id"],
            "name": (
                f"{row['coordinator__user__first_name']} {row['coordinator__user__last_name']}"
            ).strip()
            or row["coordinator__user__username"],
            "assigned": row["assigned"],
            "members": row["members"],
            "done": row["done"],
            "closed": row["closed"],
            "remaining": row["assigned"] - row["done"],
        }
        for row in rows
    ]


def coordinator_breakdown(campaign, user=None):
    """Per coordinator in one campaign: assigned, members, done, closed, remaining. With a
    user, only the coordinators in their scope (a coordinator sees their own row)."""
    assignments = campaign.assignments.all()
    if user is not None:
        assignments = assignments.filter(pk__in=CampaignAssignment.objects.visible_to(user))
    return workload_rows(assignments)


def live_workload(user):
    """Per coordinator across every live campaign in the user's scope."""
    return workload_rows(CampaignAssignment.objects.visible_to(user).filter(active=True))


def closure_trend(user, campaign=None):
    """(day, closures, finished) summed over the live campaigns in scope, or one campaign."""
    if campaign is not None:
        progress = campaign.progress.all()
    else:
        live = Campaign.objects.visible_to(user).filter(status__in=Campaign.LIVE_STATUSES)
        progress = CampaignProgress.objects.filter(campaign__in=live)
    return list(
        progress.values("day")
        .annotate(closures=Sum("closures"), finished=Sum("finished"), total=Sum("total"))
        .order_by("day")
    )


def imbalance(loads):
    """max, min, spread and the ideal (mean) of a list of loads."""
    if not loads:
        return {"max": 0, "min": 0, "spread": 0, "ideal": Decimal(0)}
    ideal = (Decimal(sum(loads)) / len(loads)).quantize(CENT, ROUND_HALF_UP)
    return {"max": max(loads), "min": min(loads), "spread": max(loads) - min(loads), "ideal": ideal}


def status_breakdown(campaign):
    counts = dict(campaign.assignments.values_list("status").annotate(n=Count("id")).order_by())
    return [(label, counts.get(value, 0)) for value, label in Status.choices]


def portfolio_summary(user):
    """Dashboard headline: campaigns, members, value, FTE across the campaigns in scope."""
    campaigns = list(campaigns_with_progress(user))
    live = [c for c in campaigns if c.status in Campaign.LIVE_STATUSES]
    value = sum((Decimal(c.metrics.get("total_value", "0")) for c in campaigns), Decimal(0))
    fte = sum((Decimal(c.metrics.get("required_fte", "0")) for c in live), Decimal(0))
    return {
        "campaigns": campaigns,
        "total_campaigns": len(campaigns),
        "live_campaigns": len(live),
        "members": sum(c.members for c in campaigns),
        "value": value,
        "fte": fte,
    }


def call_list_for(user):
    """A coordinator's live assignments: open work first, high priority first, soonest first."""
    Priority = Intervention.Priority
    return (
        CampaignAssignment.objects.visible_to(user)
        .filter(active=True, coordinator__user=user)
        .select_related("campaign", "intervention__member", "intervention__measure")
        .annotate(
            done=Case(
                When(status__in=FINISHED_OR_CANCELLED, then=Value(1)),
                default=Value(0),
                output_field=IntegerField(),
            ),
            urgency=Case(
                When(intervention__priority=Priority.HIGH, then=Value(0)),
                When(intervention__priority=Priority.MEDIUM, then=Value(1)),
                default=Value(2),
                output_field=IntegerField(),
            ),
        )
        .order_by(
            "done", "urgency", F("intervention__intervention_date").asc(nulls_last=True), "pk"
        )
    )
