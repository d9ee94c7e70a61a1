"""The campaigns API: thin viewsets over campaigns.selectors, campaigns.services and
campaigns.exports. Every queryset starts from the user's scope; out-of-scope objects are 404."""

import json

from django.shortcuts import get_object_or_404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import filters, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response

from campaigns import exports, selectors, services
from campaigns.api import serializers as s
from campaigns.api.filters import (
    AssignmentFilter,
    CallListParams,
    CampaignAssignmentFilter,
    CampaignFilter,
    SelectionParams,
)
from campaigns.models import (
    Campaign,
    CampaignAssignment,
    Coordinator,
    Intervention,
    Measure,
    Member,
    manages_campaigns,
)
from opsintel.access import app_api_permission
from opsintel.api.errors import service_errors
from opsintel.audit import view_record

CAMPAIGNS_ROLE = [IsAuthenticated, app_api_permission("campaigns")]


class IsCampaignManager(BasePermission):
    """Creating, previewing and rebalancing campaigns is for care managers."""

    message = "Only care managers can do this."

    def has_permission(self, request, view):
        return manages_campaigns(request.user)


class CSVRenderer(BaseRenderer):
    """Lets a client ask for text/csv; the export views answer with their own streaming
    response, so this only ever renders error bodies (as JSON text)."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        if isinstance(data, bytes):
            return data
        return json.dumps(data).encode("utf-8")


def assignments_in_scope(user):
    return CampaignAssignment.objects.visible_to(user).select_related(
        "intervention__member", "intervention__measure", "coordinator__user"
    )


class CampaignsViewMixin:
    permission_classes = CAMPAIGNS_ROLE
    filter_backends = []

    @property
    def fake(self):
        # drf-spectacular builds the schema with a fake view and no real user.
        return getattr(self, "swagger_fake_view", False)


# Reference data and available work ------------------------------------------------------------


class MeasureViewSet(CampaignsViewMixin, viewsets.ReadOnlyModelViewSet):
    """HEDIS measures (not PHI; the same for everyone with a campaigns role)."""

    serializer_class = s.MeasureSerializer
    queryset = Measure.objects.all()
    filter_backends = [DjangoFilterBackend, filters.SearchFilter, filters.OrderingFilter]
    filterset_fields = ["active"]
    search_fields = ["code", "name"]
    ordering_fields = ["code", "name", "weight", "revenue_per_closure"]


@extend_schema_view(list=extend_schema(parameters=[SelectionParams]))
class InterventionViewSet(CampaignsViewMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """The available work: open interventions in scope that are in no live campaign."""

    serializer_class = s.InterventionSerializer

    def get_queryset(self):
        if self.fake:
            return Intervention.objects.none()
        params = SelectionParams.from_request(self.request)
        return selectors.available_interventions(self.request.user, **params.selector_kwargs())


@extend_schema_view(list=extend_schema(parameters=[SelectionParams]))
class MemberViewSet(CampaignsViewMixin, viewsets.ReadOnlyModelViewSet):
    """Members (PHI). The list holds members with available work matching the filter; reading
    one member is audited."""

    serializer_class = s.MemberSerializer

    def get_queryset(self):
        if self.fake:
            return Member.objects.none()
        if self.action != "list":
            return Member.objects.all()  # scoped by view_record
        kwargs = SelectionParams.from_request(self.request).selector_kwargs()
        return selectors.get_available_members(
            self.request.user,
            measure_id=kwargs["measure_id"],
            status_filter=kwargs["statuses"],
            days_ahead=kwargs["days_ahead"],
            search=kwargs["search"],
        )

    def retrieve(self, request, pk=None):
        member = view_record(request, self.get_queryset(), pk=pk)
        return Response(self.get_serializer(member).data)


class CoordinatorWorkloadViewSet(
    CampaignsViewMixin, mixins.ListModelMixin, viewsets.GenericViewSet
):
    """Coordinators in scope with their live open workload and monthly capacity."""

    serializer_class = s.CoordinatorWorkloadSerializer

    def get_queryset(self):
        if self.fake:
            return Coordinator.objects.none()
        coordinators = Coordinator.objects.visible_to(self.request.user)
        # Meta.ordering does not reach an aggregated queryset; pages need a stable order.
        return selectors.coordinator_workload(coordinators).order_by(
            "user__last_name", "user__first_name", "user__username", "pk"
        )


# Campaigns ------------------------------------------------------------------------------------

MANAGER_ACTIONS = {"create", "preview", "rebalance"}
CAMPAIGN_ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="Campaign id")


@extend_schema_view(
    create=extend_schema(
        description="Create a campaign (care managers): select the work, assign it to "
        "coordinators and keep a metrics snapshot, all or nothing.",
        request=s.CampaignCreateSerializer,
        responses={201: s.CampaignDetailSerializer},
    ),
)
class CampaignViewSet(
    CampaignsViewMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Campaigns in scope with progress; coordinators see their own part of each."""

    filter_backends = [DjangoFilterBackend]
    filterset_class = CampaignFilter

    def get_permissions(self):
        permissions = super().get_permissions()
        if self.action in MANAGER_ACTIONS:
            permissions.append(IsCampaignManager())
        return permissions

    def get_queryset(self):
        if self.action == "assignments":
            if self.fake:
                return CampaignAssignment.objects.none()
            return assignments_in_scope(self.request.user)
        if self.fake:
            return Campaign.objects.none()
        return selectors.campaigns_with_progress(self.request.user)

    serializer_classes = {
        "list": s.CampaignSerializer,
        "create": s.CampaignCreateSerializer,
        "preview": s.CampaignPreviewSerializer,
        "rebalance": s.RebalanceSerializer,
        "assignments": s.AssignmentSerializer,
    }

    def get_serializer_class(self):
        # Input serializers for the write actions (the browsable API's forms); the schema of
        # each action is set by its extend_schema.
        return self.serializer_classes.get(self.action, s.CampaignDetailSerializer)

    def _detail(self, campaign, status_code=status.HTTP_200_OK):
        # Per-coordinator rows in the user's scope: a coordinator sees their own.
        rows = selectors.coordinator_breakdown(campaign, self.request.user)
        context = {
            **self.get_serializer_context(),
            "breakdown": rows,
            "imbalance": selectors.imbalance([row["assigned"] for row in rows]),
        }
        serializer = s.CampaignDetailSerializer(campaign, context=context)
        return Response(serializer.data, status=status_code)

    def _campaign(self, pk):
        """The campaign in scope (404 outside), without the progress counts."""
        return get_object_or_404(Campaign.objects.visible_to(self.request.user), pk=pk)

    def retrieve(self, request, pk=None):
        return self._detail(self.get_object())

    def create(self, request):
        data = s.CampaignCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        with service_errors():
            campaign = services.create_campaign(
                created_by=request.user,
                name=fields["name"],
                coordinator_count=fields["coordinator_count"],
                target_completion_date=fields["target_completion_date"],
                strategy=fields["strategy"],
                **data.selection,
            )
        campaign = self.get_queryset().get(pk=campaign.pk)
        return self._detail(campaign, status.HTTP_201_CREATED)

    @extend_schema(request=s.CampaignPreviewSerializer, responses=s.PreviewResultSerializer)
    @action(detail=False, methods=["post"])
    def preview(self, request):
        """Metrics of a selection, and the what-if of a staffing; nothing is written."""
        data = s.CampaignPreviewSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        target = fields.get("target_completion_date")
        count = fields.get("coordinator_count")
        with service_errors():
            selection = services.resolve_selection(request.user, **data.selection)
            if not selection.exists():
                raise serializers.ValidationError(
                    {data.selection_field: "No available interventions are selected."}
                )
            metrics = selectors.calculate_campaign_metrics(selection, target_date=target)
            what_if = None
            if count and target:
                what_if = services.what_if(
                    request.user,
                    selection,
                    coordinator_count=count,
                    target_date=target,
                    strategy=fields["strategy"],
                )
        result = s.PreviewResultSerializer({"metrics": metrics.as_snapshot(), "what_if": what_if})
        return Response(result.data)

    @extend_schema(request=s.RebalanceSerializer, responses=s.MovedSerializer)
    @action(detail=True, methods=["post"])
    def rebalance(self, request, pk=None):
        """Even out the unfinished work over the campaign's (or the given) coordinators."""
        campaign = self._campaign(pk)
        data = s.RebalanceSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with service_errors():
            moved = services.rebalance_campaign(
                request.user,
                campaign.pk,
                coordinator_ids=data.validated_data.get("coordinator_ids"),
                request=request,
            )
        return Response(s.MovedSerializer({"moved": moved}).data)

    @extend_schema(parameters=[CAMPAIGN_ID], responses=s.AssignmentSerializer(many=True))
    @action(
        detail=True,
        methods=["get"],
        filterset_class=CampaignAssignmentFilter,
    )
    def assignments(self, request, pk=None):
        """The campaign's assignments in scope (a coordinator: their own)."""
        campaign = self._campaign(pk)
        queryset = self.filter_queryset(self.get_queryset().filter(campaign=campaign))
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(s.AssignmentSerializer(page, many=True).data)

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.STR})
    @action(
        detail=True,
        methods=["get"],
        url_path="export/crm",
        url_name="export-crm",
        renderer_classes=[JSONRenderer, CSVRenderer],
    )
    def export_crm(self, request, pk=None):
        """CRM upload CSV of the campaign's assignments in scope (audited)."""
        return exports.export_response(request, self._campaign(pk), exports.CRM)

    @extend_schema(parameters=[CallListParams], responses={(200, "text/csv"): OpenApiTypes.STR})
    @action(
        detail=True,
        methods=["get"],
        url_path="export/call-list",
        url_name="export-call-list",
        renderer_classes=[JSONRenderer, CSVRenderer],
    )
    def export_call_list(self, request, pk=None):
        """Call-list CSV, optionally of one coordinator (a coordinator: their own; audited)."""
        campaign = self._campaign(pk)
        params = CallListParams(data=request.query_params, context={"request": request})
        params.is_valid(raise_exception=True)
        return exports.export_response(
            request, campaign, exports.CALL_LIST, params.validated_data.get("coordinator")
        )


# Assignments ----------------------------------------------------------------------------------


@extend_schema_view(
    partial_update=extend_schema(request=s.OutcomeSerializer, responses=s.AssignmentSerializer)
)
class AssignmentViewSet(
    CampaignsViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Assignments in scope (a coordinator: their own). Reading one is audited (member PHI);
    PATCH records the outcome."""

    serializer_class = s.AssignmentSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = AssignmentFilter

    def get_queryset(self):
        if self.fake:
            return CampaignAssignment.objects.none()
        return assignments_in_scope(self.request.user)

    def retrieve(self, request, pk=None):
        assignment = view_record(request, self.get_queryset(), pk=pk)
        return Response(self.get_serializer(assignment).data)

    def partial_update(self, request, pk=None):
        assignment = self.get_object()
        data = s.OutcomeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with service_errors():
            services.record_outcome(
                request.user,
                assignment.pk,
                status=data.validated_data.get("status", assignment.status),
                outcome=data.validated_data.get("outcome", assignment.outcome),
                request=request,
            )
        return Response(self.get_serializer(self.get_queryset().get(pk=assignment.pk)).data)
