"""Reads for the Leader Hub pages and API. Every queryset starts from the user's scope
(`visible_to`, built on models.leader_markets / models.own_provider), so the pages and the API
apply one access policy:

- a leader (models.LEADER_ROLES) reads the markets they oversee, the providers active in one
  of those markets, and the visits and shifts of those markets;
- a provider reads their own record, visits and shifts;
- anything else is out of scope (callers answer 404).

Figures come from the rollup tables (leaderhub.rollups); nothing here recomputes a metric.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import (
    Case,
    CharField,
    Exists,
    F,
    IntegerField,
    Max,
    OuterRef,
    Q,
    Value,
    When,
    Window,
)
from django.db.models.functions import Concat, DenseRank, Round
from django.shortcuts import get_object_or_404
from django.utils import timezone

from leaderhub import metrics as m
from leaderhub.models import (
    LEADER_ROLES,
    Market,
    MarketActiveProvider,
    MarketMetrics,
    MarketProviderMetrics,
    Provider,
    ProviderMetrics,
    ProviderShift,
    ShiftBreakdown,
    Visit,
)

# The metrics of a market card / provider header, in display order.
HEADER_METRICS = (
    "on_scene_time",
    "survey_capture_rate",
    "chart_closure_rate",
    "net_promoter_score",
    "on_task_percent",
    "escalation_rate",
    "abx_rate",
)
# The per-market summary of an individual.
MARKET_SUMMARY_METRICS = (
    "on_scene_time",
    "chart_closure_rate",
    "survey_capture_rate",
    "on_task_percent",
    "net_promoter_score",
)
RANK_ORDERINGS = ("rank", "name", "value", "change")  # each also with a leading "-"


def today_local():
    return timezone.localdate()


# Access ---------------------------------------------------------------------------------------


def is_leader(user):
    """Whether the user may open market views: a leader role, or a platform admin."""
    if not (user and user.is_authenticated and user.is_active):
        return False
    return user.is_platform_admin or any(user.has_role(role) for role in LEADER_ROLES)


def markets_for(user):
    """Markets the user oversees, alphabetical (the first is the default market)."""
    return Market.objects.visible_to(user).order_by("name", "pk")


def get_market(user, market_id):
    """One market in the user's scope, else Http404."""
    return get_object_or_404(markets_for(user), pk=market_id)


def providers_for(user):
    return Provider.objects.visible_to(user)


def get_provider(user, provider_id):
    """One provider in the user's scope (sharing a market with them, or themselves), else 404."""
    return get_object_or_404(providers_for(user), pk=provider_id)


def get_shift(user, shift_id):
    """One shift in the user's scope (a market they oversee, or their own), else Http404."""
    return get_object_or_404(
        ProviderShift.objects.visible_to(user).select_related("provider", "market"), pk=shift_id
    )


def shows_metric(metric_key, position):
    """Whether a metric is shown (and ranked) for a position: chart closure rate is an APP
    metric, survey capture rate a DHMT metric."""
    return position in m.METRICS[metric_key].positions


# Figures of one rollup row ----------------------------------------------------------------------


def metric_counts(row, metric_key):
    """(visits used, visits without a value) behind one figure of a rollup row.

    Visit-based figures use the row's window; chart closure, on-scene time and NPS skip visits
    where the value is unknown. On-task % is shift-based (last ON_TASK_DAYS days): (None, None).
    """
    visits = row.visits if row is not None else 0
    counted = {
        "on_scene_time": "on_scene_count",
        "chart_closure_rate": "chart_closure_count",
        "net_promoter_score": "nps_count",
    }
    if metric_key == "on_task_percent":
        return None, None
    if metric_key in counted:
        used = getattr(row, counted[metric_key]) if row is not None else 0
        return used, visits - used
    return visits, 0


def week_change(value, previous):
    """The metric now minus as of WEEK_DAYS earlier; None when either is unknown."""
    if value is None or previous is None:
        return None
    return value - previous


@dataclass(frozen=True)
class Figure:
    """One metric of a rollup row, with everything a card or header cell shows."""

    key: str
    label: str
    unit: str
    higher_is_better: bool
    value: float | None
    previous: float | None
    week_change: float | None
    goal: float | None
    used: int | None  # visits that counted (None: shift-based)
    without_value: int | None  # visits in the window without a value
    small_sample: bool

    @property
    def meets_goal(self):
        """True/False against the goal, None without a goal or a value."""
        if self.goal is None or self.value is None:
            return None
        if self.higher_is_better:
            return self.value >= self.goal
        return self.value <= self.goal


def figure(row, metric_key):
    """The Figure of `metric_key` on a rollup row (None row: nothing computed yet)."""
    metric = m.METRICS[metric_key]
    value = getattr(row, metric.field) if row is not None else None
    previous = getattr(row, f"{metric.field}_prev") if row is not None else None
    used, without = metric_counts(row, metric_key)
    visits = row.visits if row is not None else 0
    return Figure(
        key=metric.key,
        label=metric.label,
        unit=metric.unit,
        higher_is_better=metric.higher_is_better,
        value=value,
        previous=previous,
        week_change=week_change(value, previous),
        goal=m.goal(metric.key),
        used=used,
        without_value=without,
        small_sample=(used if used is not None else visits) < m.SMALL_SAMPLE,
    )


def figures(row, keys=HEADER_METRICS, position=None):
    """{metric key: Figure} for `keys`; with a position, the metrics not shown for it are None."""
    return {
        key: (figure(row, key) if position is None or shows_metric(key, position) else None)
        for key in keys
    }


def window(row):
    """The visit window of a rollup row: as-of date, first/last visit dates, visits, flag."""
    if row is None:
        return {
            "as_of": None,
            "first_visit_date": None,
            "last_visit_date": None,
            "visits": 0,
            "small_sample": True,
        }
    return {
        "as_of": row.as_of,
        "first_visit_date": row.first_visit_date,
        "last_visit_date": row.last_visit_date,
        "visits": row.visits,
        "small_sample": row.visits < m.SMALL_SAMPLE,
    }


# Markets ----------------------------------------------------------------------------------------


def market_metrics(market):
    """The market's MarketMetrics row, or None before the first rollup."""
    return MarketMetrics.objects.filter(market=market).first()


def market_rankings(market, metric_key, *, position=None, search="", ordering="rank"):
    """The care-team ranking of one market for one metric (a queryset of MarketProviderMetrics).

    Rows: the market's MarketProviderMetrics of providers active in it (MarketActiveProvider),
    restricted to the positions the metric is shown for (and to `position` when given: a
    position the metric is not shown for gives no rows). Each
    row is annotated with `value`, `change` (value − value a week earlier) and `rank`: dense
    rank among the market's providers of the same position on the value rounded to 2
    decimals, 1 = best (lowest on-scene time, highest of the rest). Rows without a value have
    no rank (None) and sort last. `ordering` is one of RANK_ORDERINGS, optionally "-"-prefixed.

    The rank is computed in the database by a window function over the whole market, so it
    does not change with `search`: the name search filters on a per-row window value, which
    Django applies after the windows are computed (in an outer query), where a plain WHERE
    would shrink the population being ranked. One query per page, whatever its size.
    """
    metric = m.METRICS[metric_key]
    # A position the metric is not shown for gives an empty ranking (the API answers 400).
    positions = [p for p in metric.positions if position in (None, p)]
    value = F(metric.field)
    rounded = Round(value, 2)
    best_first = (
        rounded.desc(nulls_last=True) if metric.higher_is_better else rounded.asc(nulls_last=True)
    )
    active = MarketActiveProvider.objects.filter(
        market=OuterRef("market_id"), provider=OuterRef("provider_id")
    )
    queryset = (
        MarketProviderMetrics.objects.filter(
            Exists(active), market=market, provider__job_title__in=positions
        )
        .select_related("provider")
        .annotate(
            value=value,
            change=value - F(f"{metric.field}_prev"),
            rank=Case(
                When(**{f"{metric.field}__isnull": True}, then=Value(None)),
                default=Window(
                    DenseRank(), partition_by=[F("provider__job_title")], order_by=best_first
                ),
                output_field=IntegerField(),
            ),
        )
    )
    search = (search or "").strip()
    if search:
        # The name as a window over the row itself: filtering on it happens after ranking.
        full_name = Concat("provider__first_name", Value(" "), "provider__last_name")
        queryset = queryset.annotate(
            provider_name=Window(Max(full_name, output_field=CharField()), partition_by=[F("pk")])
        ).filter(provider_name__icontains=search)
    return queryset.order_by(*ranking_order(ordering))


def ranking_order(ordering):
    """ORDER BY of market_rankings for one of RANK_ORDERINGS (optionally "-"-prefixed).

    Rows without a value (and so without a rank or change) sort last in the rank, value and
    change orderings; ties fall back to position, name, then id, so pages are stable.
    """
    descending = ordering.startswith("-")
    key = ordering.lstrip("-")
    by_name = [F("provider__last_name"), F("provider__first_name")]
    if key == "name":
        names = [f.desc() if descending else f.asc() for f in by_name]
        return [*names, F("pk").asc()]
    column = F(key)
    primary = column.desc(nulls_last=True) if descending else column.asc(nulls_last=True)
    return [primary, F("provider__job_title").asc(), *[f.asc() for f in by_name], F("pk").asc()]


# Providers --------------------------------------------------------------------------------------


def provider_metrics(provider):
    """The provider's global ProviderMetrics row, or None before the first rollup."""
    return ProviderMetrics.objects.filter(provider=provider).first()


def provider_markets(user, provider):
    """The provider's markets in the user's scope, alphabetical, each with `metrics_row`
    (its MarketProviderMetrics row or None). A provider sees all their own markets; a leader
    the ones they oversee. Two queries."""
    markets = Market.objects.filter(active_providers__provider=provider)
    if not (user.is_platform_admin or provider.user_id == user.pk):
        markets = markets.filter(pk__in=Market.objects.visible_to(user).values("pk"))
    markets = list(markets.order_by("name", "pk"))
    rows = {
        row.market_id: row
        for row in MarketProviderMetrics.objects.filter(
            provider=provider, market__in=[market.pk for market in markets]
        )
    }
    for market in markets:
        market.metrics_row = rows.get(market.pk)
    return markets


def provider_visits(user, provider, *, search="", abx=None, escalated=None):
    """The provider's visits in the user's scope, newest first (PHI: callers audit what they
    show). `search` matches the athena id or the patient's name; `abx` / `escalated` filter
    on those flags when not None."""
    visits = Visit.objects.visible_to(user).filter(provider=provider)
    search = (search or "").strip()
    if search:
        visits = visits.annotate(
            patient_full_name=Concat("patient_first_name", Value(" "), "patient_last_name")
        ).filter(Q(patient_athena_id__icontains=search) | Q(patient_full_name__icontains=search))
    if abx is not None:
        visits = visits.filter(abx_prescribed=abx)
    if escalated is not None:
        visits = visits.filter(escalated=escalated)
    return visits.order_by("-service_date", "-care_request_id", "-pk")


def provider_shifts(user, provider, *, last_days=m.ON_TASK_DAYS, today=None):
    """The provider's shifts in the user's scope over the `last_days` days ending today,
    newest first (the same window as on-task %)."""
    today = today or today_local()
    return (
        ProviderShift.objects.visible_to(user)
        .filter(
            provider=provider,
            service_date__gt=today - timedelta(days=last_days),
            service_date__lte=today,
        )
        .order_by("-service_date", "-start", "-pk")
    )


def shift_breakdowns(shift):
    """A shift's timeline: its segments ordered by start."""
    return ShiftBreakdown.objects.filter(shift=shift).order_by("start", "pk")


# What the market card and the individual header show -----------------------------------------


def market_overview(market):
    """The market's cards: {"market", "window", "metrics": {key: Figure}} from MarketMetrics
    (every metric; values None before the first rollup)."""
    row = market_metrics(market)
    return {"market": market, "window": window(row), "metrics": figures(row)}


def provider_overview(user, provider):
    """An individual's header and per-market summary, in the user's scope:
    {"provider", "window", "metrics": {key: Figure or None}, "markets": [...]}, where the
    metrics not shown for the provider's position (chart closure for DHMTs, survey capture for
    APPs) are None, and each market is {"market", "window", "metrics"} over
    MARKET_SUMMARY_METRICS from its MarketProviderMetrics row. Three queries."""
    row = provider_metrics(provider)
    return {
        "provider": provider,
        "window": window(row),
        "metrics": figures(row, position=provider.job_title),
        "markets": [
            {
                "market": market,
                "window": window(market.metrics_row),
                "metrics": figures(
                    market.metrics_row, MARKET_SUMMARY_METRICS, position=provider.job_title
                ),
            }
            for market in provider_markets(user, provider)
        ],
    }
