"""Leader Hub pages. Thin: parse input, call selectors (every read is scoped there), render.

- index: where each persona lands (Leader Hub, My Performance Hub, or what to ask for);
- markets: the Leader Hub of one market (cards and care-team rankings);
- provider / me: an individual's performance hub (header, visits, markets, shifts);
- shift: one shift's timeline (and route when the breakdowns carry coordinates).
"""

from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render

from leaderhub import selectors
from leaderhub.metrics import METRICS, ON_TASK_DAYS, SMALL_SAMPLE, WINDOW_VISITS
from leaderhub.models import MarketProviderMetrics, Provider, ShiftBreakdown, Visit
from opsintel.audit import Action, record_event
from opsintel.charts import route_chart, timeline_chart

# Roles that land on the Leader Hub directly; the lead APP / lead DHMT land on their own hub.
MANAGER_ROLES = ("RDO", "RMD", "Area manager", "Market manager")
MARKET_CARDS = ("on_scene_time", "survey_capture_rate", "chart_closure_rate", "net_promoter_score")
RANKING_TABS = ("on_scene_time", "survey_capture_rate", "net_promoter_score")
POSITIONS = dict(Provider.Position.choices)
RANKING_PAGE_SIZE = 25
VISITS_PAGE_SIZE = 20
SHIFTS_PAGE_SIZE = 10
SHIFT_PERIODS = (30, 90, 365)  # days of shifts listed on a hub


def _render(request, template, context):
    """Render with what every Leader Hub page's navigation and cards need."""
    user = request.user
    context.setdefault("is_leader", selectors.is_leader(user))
    if "own_provider" not in context:
        context["own_provider"] = _own_provider(user)
    context.update(
        {"on_task_days": ON_TASK_DAYS, "small_sample": SMALL_SAMPLE, "window_visits": WINDOW_VISITS}
    )
    return render(request, template, context)


def _own_provider(user):
    return Provider.objects.filter(user=user).first() if user.is_authenticated else None


def _choice(request, name, allowed, default=None):
    """A query parameter restricted to `allowed` values (anything else: the default)."""
    value = request.GET.get(name, "")
    return value if value in allowed else default


def _id_param(request, name):
    """A numeric id parameter, None when absent; anything non-numeric answers 404."""
    value = request.GET.get(name, "")
    if not value:
        return None
    if not value.isdigit():
        raise Http404(f"No such {name}.")
    return int(value)


def index(request):
    """Managers land on the Leader Hub; providers (leads included) on their own hub; anyone
    else is told what to ask for."""
    user = request.user
    has_markets = selectors.is_leader(user) and selectors.markets_for(user).exists()
    is_manager = user.is_platform_admin or any(user.has_role(role) for role in MANAGER_ROLES)
    if has_markets and is_manager:
        return redirect("leaderhub:markets")
    if _own_provider(user) is not None:
        return redirect("leaderhub:me")
    if has_markets:
        return redirect("leaderhub:markets")
    return _render(request, "leaderhub/index.html", {"own_provider": None})


# The Leader Hub -------------------------------------------------------------------------------


def markets(request):
    user = request.user
    if not selectors.is_leader(user):
        # Providers without a leader role have no market view: their own hub instead.
        return redirect("leaderhub:index")
    markets_list = list(selectors.markets_for(user))
    own_provider = _own_provider(user)
    if not markets_list:
        return _render(request, "leaderhub/index.html", {"own_provider": own_provider})

    market_id = _id_param(request, "market")
    market = markets_list[0]
    if market_id is not None:
        market = next((m for m in markets_list if m.pk == market_id), None)
        if market is None:
            raise Http404("No such market among yours.")

    row = selectors.market_metrics(market)
    metric_key = _choice(request, "metric", RANKING_TABS, RANKING_TABS[0])
    position = _choice(request, "position", POSITIONS)
    search = request.GET.get("q", "").strip()[:100]
    metric = METRICS[metric_key]
    position_shown = position is None or selectors.shows_metric(metric_key, position)
    rankings = (
        selectors.market_rankings(market, metric_key, position=position, search=search)
        if position_shown
        else MarketProviderMetrics.objects.none()
    )
    page = Paginator(rankings, RANKING_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "markets": markets_list,
        "market": market,
        "own_provider": own_provider,
        "cards": [selectors.figure(row, key) for key in MARKET_CARDS],
        "window": selectors.window(row),
        "tabs": [METRICS[key] for key in RANKING_TABS],
        "metric": metric,
        "positions": POSITIONS,
        "position": position,
        "position_shown": position_shown,
        "search": search,
        "page": page,
    }
    return _render(request, "leaderhub/markets.html", context)


# An individual's performance hub ---------------------------------------------------------------


def _header_keys(position):
    """Chart closure rate is shown for APPs, survey capture rate for DHMTs."""
    own_rate = "chart_closure_rate" if position == Provider.Position.APP else "survey_capture_rate"
    return (
        "on_scene_time",
        own_rate,
        "net_promoter_score",
        "on_task_percent",
        "escalation_rate",
        "abx_rate",
    )


def _market_keys(position):
    own_rate = "chart_closure_rate" if position == Provider.Position.APP else "survey_capture_rate"
    return ("on_scene_time", own_rate, "on_task_percent", "net_promoter_score")


def _flag(request, name):
    """A yes/no filter: "yes" → True, "no" → False, anything else → None (no filter)."""
    return {"yes": True, "no": False}.get(request.GET.get(name, ""))


def _hub(request, provider, *, own):
    user = request.user
    row = selectors.provider_metrics(provider)

    search = request.GET.get("q", "").strip()[:100]
    abx, escalated = _flag(request, "abx"), _flag(request, "escalated")
    visits = selectors.provider_visits(
        user, provider, search=search, abx=abx, escalated=escalated
    ).select_related("market")
    visits_page = Paginator(visits, VISITS_PAGE_SIZE).get_page(request.GET.get("visits_page"))
    shown = [visit.pk for visit in visits_page.object_list]
    if shown:
        # Visits are PHI: one audit event for the visits this page shows.
        record_event(
            Action.VIEW,
            request=request,
            model=Visit,
            object_ids=shown,
            description=f"Latest visits of provider {provider.pk}",
        )

    provider_markets = selectors.provider_markets(user, provider)
    market_id = _id_param(request, "market")
    market = provider_markets[0] if provider_markets else None
    if market_id is not None:
        market = next((m for m in provider_markets if m.pk == market_id), None)
        if market is None:
            raise Http404("No such market for this provider.")

    days = int(_choice(request, "days", {str(d) for d in SHIFT_PERIODS}, str(SHIFT_PERIODS[0])))
    shifts = selectors.provider_shifts(user, provider, last_days=days).select_related("market")
    shifts_page = Paginator(shifts, SHIFTS_PAGE_SIZE).get_page(request.GET.get("shifts_page"))

    context = {
        "provider": provider,
        "own": own,
        "own_provider": provider if own else _own_provider(user),
        "header": [selectors.figure(row, key) for key in _header_keys(provider.job_title)],
        "window": selectors.window(row),
        "search": search,
        "abx": request.GET.get("abx", ""),
        "escalated": request.GET.get("escalated", ""),
        "visits_page": visits_page,
        "provider_markets": provider_markets,
        "market": market,
        "market_figures": (
            [selectors.figure(market.metrics_row, key) for key in _market_keys(provider.job_title)]
            if market is not None
            else []
        ),
        "market_window": selectors.window(market.metrics_row if market else None),
        "days": days,
        "shift_periods": SHIFT_PERIODS,
        "shifts_page": shifts_page,
    }
    return _render(request, "leaderhub/hub.html", context)


def provider(request, pk):
    """An individual's hub, for a leader of one of their markets (or themselves): else 404."""
    return _hub(request, selectors.get_provider(request.user, pk), own=False)


def me(request):
    """My Performance Hub: the signed-in provider's own hub."""
    own_provider = _own_provider(request.user)
    if own_provider is None:
        return _render(request, "leaderhub/index.html", {"own_provider": None})
    return _hub(request, own_provider, own=True)


# One shift --------------------------------------------------------------------------------------


def shift(request, pk):
    shift_ = selectors.get_shift(request.user, pk)
    segments = [
        {
            "start": b.start,
            "end": b.end,
            "stage": b.stage,
            "label": b.get_stage_display(),
            "seconds": (b.end - b.start).total_seconds(),
            "latitude": b.latitude_e6 / 1e6 if b.latitude_e6 is not None else None,
            "longitude": b.longitude_e6 / 1e6 if b.longitude_e6 is not None else None,
        }
        for b in selectors.shift_breakdowns(shift_)
    ]
    points = [
        (s["latitude"], s["longitude"])
        for s in segments
        if s["latitude"] is not None and s["longitude"] is not None
    ]
    context = {
        "shift": shift_,
        "provider": shift_.provider,
        "segments": segments,
        "timeline": timeline_chart(
            segments,
            title=f"Shift of {shift_.provider.name} on {shift_.service_date:%m/%d/%Y}",
            start=shift_.start,
            end=shift_.end,
        ),
        "route": (
            route_chart(points, title=f"Route of {shift_.provider.name}'s shift")
            if len(points) >= 2
            else None
        ),
        "stages": [
            (value.replace("_", "-"), label) for value, label in ShiftBreakdown.Stage.choices
        ],
    }
    return _render(request, "leaderhub/shift.html", context)
