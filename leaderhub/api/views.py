"""The Leader Hub API (/v1/leader-hub-metrics/): thin views over leaderhub.selectors.

Access: a leaderhub role for every endpoint (403 otherwise); market endpoints also need a
leader role (models.LEADER_ROLES). Objects outside the user's scope answer 404. Listing visits
(PHI) is audited: one AuditEvent per response naming the visits on the page.
"""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.reverse import reverse

from leaderhub import selectors
from leaderhub.api import serializers as s
from leaderhub.api.params import (
    LeaderHubPagination,
    RankingParams,
    ShiftPagination,
    ShiftParams,
    VisitParams,
)
from leaderhub.models import MarketProviderMetrics, Provider, ProviderShift, ShiftBreakdown, Visit
from opsintel.access import app_api_permission
from opsintel.audit import Action, record_event

LEADERHUB_ROLE = [IsAuthenticated, app_api_permission("leaderhub")]


class IsLeader(BasePermission):
    """Market views are for leaders (RDO, RMD, area/market managers, lead APP/DHMT)."""

    message = "Only market leaders can read market metrics."

    def has_permission(self, request, view):
        return selectors.is_leader(request.user)


LEADER_ROLE = [*LEADERHUB_ROLE, IsLeader]

MARKET_ID = OpenApiParameter("market_id", int, OpenApiParameter.PATH, description="Market id")
PROVIDER_ID = OpenApiParameter("provider_id", int, OpenApiParameter.PATH, description="Provider id")
SHIFT_ID = OpenApiParameter(
    "provider_shift_id", int, OpenApiParameter.PATH, description="Provider shift id"
)


@extend_schema(tags=["leader-hub-metrics"])
class LeaderHubView(generics.GenericAPIView):
    permission_classes = LEADERHUB_ROLE
    filter_backends = []
    pagination_class = LeaderHubPagination

    @property
    def fake(self):
        # drf-spectacular builds the schema with a fake view and no real user.
        return getattr(self, "swagger_fake_view", False)


class ApiRootView(LeaderHubView):
    """The Leader Hub API: endpoint templates, your markets and your own provider id."""

    serializer_class = s.LeaderHubRootSerializer
    pagination_class = None

    def get(self, request):
        base = reverse("leaderhub-api:api-root", request=request)
        endpoints = {
            "market": "markets/{market_id}",
            "market_providers": "markets/{market_id}/providers",
            "provider": "providers/{provider_id}",
            "provider_visits": "providers/{provider_id}/provider-visits",
            "provider_shifts": "providers/{provider_id}/provider-shifts",
            "provider_shift_breakdowns": (
                "provider-shifts/{provider_shift_id}/provider-shift-breakdowns"
            ),
        }
        own = Provider.objects.filter(user=request.user).values_list("pk", flat=True).first()
        data = {
            "endpoints": {name: base + template for name, template in endpoints.items()},
            "my_markets": selectors.markets_for(request.user),
            "my_provider_id": own,
        }
        return Response(self.get_serializer(data).data)


# Markets ----------------------------------------------------------------------------------------


@extend_schema(parameters=[MARKET_ID])
class MarketView(LeaderHubView):
    """A market's cards (leaders): on-scene time, survey capture rate, chart closure rate, NPS,
    on-task %, escalation and ABX rates, each with week change, goal and its visit window.
    Values are null before the first rollup."""

    permission_classes = LEADER_ROLE
    serializer_class = s.MarketOverviewSerializer
    pagination_class = None

    def get(self, request, market_id):
        market = selectors.get_market(request.user, market_id)
        return Response(self.get_serializer(selectors.market_overview(market)).data)


@extend_schema(parameters=[MARKET_ID, RankingParams])
class MarketProvidersView(LeaderHubView, generics.ListAPIView):
    """A market's care-team ranking for one metric (leaders).

    Each row: the provider, the metric value, its week change and rank (dense rank among the
    market's providers of the same position on the value rounded to 2 decimals, 1 = best;
    lower is better for on-scene time). Rows without a value have no rank and come last.
    Chart closure rate is ranked for APPs only and survey capture rate for DHMTs only: without
    `position` the list holds only that position, and asking for the other position is a 400.
    """

    permission_classes = LEADER_ROLE
    serializer_class = s.RankingRowSerializer

    def get_queryset(self):
        if self.fake:
            return MarketProviderMetrics.objects.none()
        market = selectors.get_market(self.request.user, self.kwargs["market_id"])
        self.params = RankingParams.from_request(self.request)
        return selectors.market_rankings(
            market,
            self.params["metric_type"],
            position=self.params.get("position"),
            search=self.params.get("search", ""),
            ordering=self.params["ordering"],
        )

    def get_serializer_context(self):
        context = super().get_serializer_context()
        params = getattr(self, "params", None)
        context["metric_type"] = params["metric_type"] if params else "on_scene_time"
        return context


# Providers --------------------------------------------------------------------------------------


@extend_schema(parameters=[PROVIDER_ID])
class ProviderView(LeaderHubView):
    """An individual's header (global figures; chart closure rate for APPs, survey capture rate
    for DHMTs) and their figures per market, for the markets in your scope."""

    serializer_class = s.ProviderOverviewSerializer
    pagination_class = None

    def get(self, request, provider_id):
        provider = selectors.get_provider(request.user, provider_id)
        return Response(
            self.get_serializer(selectors.provider_overview(request.user, provider)).data
        )


@extend_schema(parameters=[PROVIDER_ID, VisitParams])
class ProviderVisitsView(LeaderHubView, generics.ListAPIView):
    """An individual's latest visits in your scope, newest first (PHI: every response is
    recorded in the audit trail with the visits on the page)."""

    serializer_class = s.VisitSerializer

    def get_queryset(self):
        if self.fake:
            return Visit.objects.none()
        provider = selectors.get_provider(self.request.user, self.kwargs["provider_id"])
        params = VisitParams.from_request(self.request)
        return selectors.provider_visits(self.request.user, provider, **params)

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        record_event(
            Action.VIEW,
            request=request,
            model=Visit,
            object_ids=[visit.pk for visit in page],
            description="Leader Hub: provider visits",
        )
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


@extend_schema(parameters=[PROVIDER_ID, ShiftParams])
class ProviderShiftsView(LeaderHubView, generics.ListAPIView):
    """An individual's shifts of the last `last_days` days in your scope, newest first, 10 per
    page by default. Durations are seconds; `break_skipped` flags a shift without a break."""

    serializer_class = s.ShiftSerializer
    pagination_class = ShiftPagination

    def get_queryset(self):
        if self.fake:
            return ProviderShift.objects.none()
        provider = selectors.get_provider(self.request.user, self.kwargs["provider_id"])
        params = ShiftParams.from_request(self.request)
        return selectors.provider_shifts(self.request.user, provider, last_days=params["last_days"])


@extend_schema(parameters=[SHIFT_ID])
class ShiftBreakdownsView(LeaderHubView, generics.ListAPIView):
    """A shift's timeline: its en-route / on-scene / break / idle segments ordered by start
    (not paginated: a shift has a few dozen segments)."""

    serializer_class = s.BreakdownSerializer
    pagination_class = None

    def get_queryset(self):
        if self.fake:
            return ShiftBreakdown.objects.none()
        shift = selectors.get_shift(self.request.user, self.kwargs["provider_shift_id"])
        return selectors.shift_breakdowns(shift)
