"""The advocacy API: thin views over advocacy.selectors and advocacy.services.

Access: an advocacy role for every endpoint (403 otherwise); opening and assigning cases also
needs the operations-leader role. Every queryset starts from the user's scope (an advocate:
own cases), so another advocate's case answers 404, on its nested routes and POSTs too.
Reading a case, its interactions or its events is audited (PHI)."""

from django.db.models import Count, Max, Q, Sum
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response

from advocacy import assignment, risk, selectors, services
from advocacy.api import serializers as s
from advocacy.api.filters import CaseFilter, FactParams, KpiParams
from advocacy.models import (
    Advocate,
    AdvocateCaseload,
    Case,
    CaseRisk,
    Interaction,
    leads_operations,
)
from opsintel.access import app_api_permission
from opsintel.api.errors import service_errors
from opsintel.audit import Action, record_event, view_record

ADVOCACY_ROLE = [IsAuthenticated, app_api_permission("advocacy")]


class IsOperationsLeader(BasePermission):
    """Opening and assigning cases is for operations leaders."""

    message = "Only operations leaders can do this."

    def has_permission(self, request, view):
        return leads_operations(request.user)


class AdvocacyViewMixin:
    permission_classes = ADVOCACY_ROLE
    filter_backends = []

    @property
    def fake(self):
        # drf-spectacular builds the schema with a fake view and no real user.
        return getattr(self, "swagger_fake_view", False)


# Cases ----------------------------------------------------------------------------------------

LEADER_ACTIONS = {"create", "assign"}
CASE_ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="Case id")


def interaction_summary(case):
    """Count, minutes, latest and per-channel counts of the case's interactions (one query)."""
    per_channel = {
        channel: Count("pk", filter=Q(channel=channel)) for channel in Interaction.Channel.values
    }
    totals = Interaction.objects.filter(case=case).aggregate(
        count=Count("pk"),
        minutes=Coalesce(Sum("duration_minutes"), 0),
        last_at=Max("started_at"),
        **per_channel,
    )
    return {
        "count": totals["count"],
        "minutes": totals["minutes"],
        "last_at": totals["last_at"],
        "by_channel": {channel: totals[channel] for channel in Interaction.Channel.values},
    }


@extend_schema_view(
    create=extend_schema(
        description="Open a case for a patient (operations leaders); writes its `opened` event.",
        request=s.CaseCreateSerializer,
        responses={201: s.CaseDetailSerializer},
    ),
    retrieve=extend_schema(description="A case with its figures and history (audited)."),
)
class CaseViewSet(
    AdvocacyViewMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Cases in scope (an advocate: own), newest first, with the flags of their fact row."""

    filter_backends = [DjangoFilterBackend]
    filterset_class = CaseFilter

    serializer_classes = {
        "list": s.CaseSerializer,
        "create": s.CaseCreateSerializer,
        "transition": s.TransitionSerializer,
        "assign": s.AssignSerializer,
        "interactions": s.InteractionCreateSerializer,
        "events": s.CaseEventSerializer,
        "feedback": s.FeedbackCreateSerializer,
    }

    def get_permissions(self):
        permissions = super().get_permissions()
        if self.action in LEADER_ACTIONS:
            permissions.append(IsOperationsLeader())
        return permissions

    def get_serializer_class(self):
        # Input serializers for the write actions (the browsable API's forms); the schema of
        # each action is set by its extend_schema.
        return self.serializer_classes.get(self.action, s.CaseDetailSerializer)

    def get_queryset(self):
        if self.fake:
            return Case.objects.none()
        return Case.objects.visible_to(self.request.user).select_related(
            "patient", "advocate", "fact"
        )

    def _case(self, pk):
        """The case in scope (404 outside)."""
        return get_object_or_404(Case.objects.visible_to(self.request.user), pk=pk)

    def _detail(self, case, status_code=status.HTTP_200_OK):
        case = (
            Case.objects.select_related("patient", "advocate", "fact", "feedback")
            .prefetch_related("events__actor")
            .get(pk=case.pk)
        )
        context = {**self.get_serializer_context(), "interactions": interaction_summary(case)}
        return Response(s.CaseDetailSerializer(case, context=context).data, status=status_code)

    def retrieve(self, request, pk=None):
        return self._detail(view_record(request, Case.objects.all(), pk=pk))

    def create(self, request):
        data = s.CaseCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        with service_errors():
            case = services.open_case(
                patient=fields["patient"],
                case_type=fields["case_type"],
                urgency=fields["urgency"],
                metadata=fields.get("metadata"),
                actor=request.user,
            )
            # A new case goes straight to the eligible advocate with the most room.
            assignment.assign_case(case, actor=request.user)
        return self._detail(case, status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[CASE_ID], request=s.TransitionSerializer, responses=s.CaseDetailSerializer
    )
    @action(detail=True, methods=["post"])
    def transition(self, request, pk=None):
        """Move the case to another status, if the lifecycle allows it; writes its events."""
        case = self._case(pk)
        data = s.TransitionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with service_errors():
            case = services.transition(
                case,
                data.validated_data["status"],
                actor=request.user,
                note=data.validated_data["note"],
                request=request,
            )
        return self._detail(case)

    @extend_schema(
        parameters=[CASE_ID], request=s.AssignSerializer, responses=s.CaseDetailSerializer
    )
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        """Give the case to an advocate (operations leaders); writes an `assigned` event."""
        case = self._case(pk)
        data = s.AssignSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with service_errors():
            case = services.assign(
                case,
                data.validated_data["advocate"],
                actor=request.user,
                reason=data.validated_data["reason"],
            )
        return self._detail(case)

    @extend_schema(
        methods=["GET"],
        parameters=[CASE_ID],
        responses=s.InteractionSerializer(many=True),
        description="The case's calls, e-mails, portal messages and texts, oldest first (audited).",
    )
    @extend_schema(
        methods=["POST"],
        parameters=[CASE_ID],
        request=s.InteractionCreateSerializer,
        responses={201: s.InteractionSerializer},
        description="Log an interaction on an active case. The advocate is yours; a leader "
        "may give another.",
    )
    @action(detail=True, methods=["get", "post"], filter_backends=[])
    def interactions(self, request, pk=None):
        case = self._case(pk)
        if request.method == "POST":
            return self._log_interaction(request, case)
        rows = case.interactions.select_related("advocate").order_by("started_at", "pk")
        page = self.paginate_queryset(rows)
        record_event(
            Action.VIEW,
            request=request,
            objects=case,
            description=f"Case {case.pk}: interactions",
        )
        return self.get_paginated_response(s.InteractionSerializer(page, many=True).data)

    def _log_interaction(self, request, case):
        data = s.InteractionCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        advocate = self._interaction_advocate(request.user, fields.get("advocate"))
        with service_errors():
            interaction = services.log_interaction(
                case,
                advocate=advocate,
                channel=fields["channel"],
                direction=fields["direction"],
                started_at=fields.get("started_at"),
                duration_minutes=fields["duration_minutes"],
                note=fields["note"],
            )
        return Response(s.InteractionSerializer(interaction).data, status=status.HTTP_201_CREATED)

    @staticmethod
    def _interaction_advocate(user, given):
        own = Advocate.objects.filter(user=user).first()
        if given is not None and given != own and not leads_operations(user):
            raise serializers.ValidationError(
                {"advocate": ["Only operations leaders log interactions for another advocate."]}
            )
        if given is None and own is None:
            raise serializers.ValidationError(
                {"advocate": ["You are not an advocate: give the advocate who had it."]}
            )
        return given or own

    @extend_schema(parameters=[CASE_ID], responses=s.CaseEventSerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[])
    def events(self, request, pk=None):
        """The case's event log, oldest first (read-only: the lifecycle writes it; audited)."""
        case = self._case(pk)
        page = self.paginate_queryset(case.events.select_related("actor").order_by("at", "pk"))
        record_event(
            Action.VIEW, request=request, objects=case, description=f"Case {case.pk}: events"
        )
        return self.get_paginated_response(s.CaseEventSerializer(page, many=True).data)

    @extend_schema(
        parameters=[CASE_ID],
        request=s.FeedbackCreateSerializer,
        responses={201: s.FeedbackSerializer},
    )
    @action(detail=True, methods=["post"])
    def feedback(self, request, pk=None):
        """Record the patient's CSAT (1–5) on a resolved case; one per case."""
        case = self._case(pk)
        data = s.FeedbackCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with service_errors():
            feedback = services.submit_feedback(
                case, csat=data.validated_data["csat"], comment=data.validated_data["comment"]
            )
        return Response(s.FeedbackSerializer(feedback).data, status=status.HTTP_201_CREATED)


# Figures --------------------------------------------------------------------------------------


class FiguresView(AdvocacyViewMixin, generics.GenericAPIView):
    pagination_class = None


@extend_schema(parameters=[KpiParams])
class KpiView(FiguresView):
    """The KPIs over the cases in scope created from `start` to `end`, of one case type, team
    or advocate, as of the latest fact refresh; with `by`, also per case type, team or urgency.
    Rates are percentages."""

    serializer_class = s.KpiResultSerializer

    def get(self, request):
        params = KpiParams.from_request(request)
        facts = params.facts(request.user)
        by = params.validated_data.get("by")
        groups = None
        if by:
            groups = [{"group": row.pop(by), **row} for row in selectors.kpis_by(facts, by)]
        result = {
            "as_of": selectors.latest_as_of(),
            "kpis": selectors.kpis(facts),
            "by": by,
            "groups": groups,
        }
        return Response(self.get_serializer(result).data)


@extend_schema(parameters=[FactParams])
class BottleneckView(FiguresView):
    """Outcome figures per segment of each bottleneck dimension (missing documents, handoffs,
    case type, escalation, advocate load, team), over the cases in scope, filtered as the KPIs."""

    serializer_class = s.BottlenecksSerializer

    def get(self, request):
        facts = FactParams.from_request(request).facts(request.user)
        dimensions = [
            {"dimension": name, "title": title, "segments": selectors.segments(facts, name)}
            for name, (title, _conditions) in selectors.DIMENSIONS.items()
        ]
        result = {"as_of": selectors.latest_as_of(), "dimensions": dimensions}
        return Response(self.get_serializer(result).data)


class CaseloadViewSet(AdvocacyViewMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Active advocates' caseload against capacity as of the latest rollup, busiest first
    (an advocate: own row)."""

    serializer_class = s.CaseloadSerializer

    def get_queryset(self):
        if self.fake:
            return AdvocateCaseload.objects.none()
        # A stable order for pages: utilization ties are common.
        return selectors.caseload_for(self.request.user).order_by(
            "-utilization", "advocate__name", "advocate_id"
        )


class RiskViewSet(AdvocacyViewMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """The SLA-risk queue: cases in scope by breach probability under the latest model, highest
    first, with the top reasons."""

    serializer_class = s.RiskSerializer

    def get_queryset(self):
        if self.fake:
            return CaseRisk.objects.none()
        return risk.risk_queue(self.request.user)
