"""The rcm API: thin views over rcm.selectors, rcm.services, rcm.documents and rcm.metrics.

Access: an rcm role for every endpoint (403 otherwise). Running the engine, the metrics and
creating or changing claims are for AR managers; an agent reaches the claims assigned to them
and what hangs off them, may change a claim's notes only, and gets 404 for any other claim,
also when naming it by number. Reading a claim or a document is audited (PHI)."""

from django.shortcuts import get_object_or_404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from opsintel.access import app_api_permission
from opsintel.api.errors import service_errors
from opsintel.api.schema import not_found
from opsintel.audit import view_record
from rcm import selectors, services
from rcm.api import serializers as s
from rcm.api.filters import ClaimFilter, DocumentFilter, FollowUpFilter
from rcm.models import Claim, FollowUp, GeneratedDocument, manages_ar

RCM_ROLE = [IsAuthenticated, app_api_permission("rcm")]


class IsArManager(BasePermission):
    message = "Only AR managers can do this."

    def has_permission(self, request, view):
        return manages_ar(request.user)


MANAGER_ONLY = [*RCM_ROLE, IsArManager]


class RcmViewMixin:
    permission_classes = RCM_ROLE
    filter_backends = []

    @property
    def fake(self):
        # drf-spectacular builds the schema with a fake view and no real user.
        return getattr(self, "swagger_fake_view", False)


# Claims ---------------------------------------------------------------------------------------

CLAIM_ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="Claim id")


@extend_schema_view(
    retrieve=extend_schema(description="A claim with its patient and notes (audited)."),
    create=extend_schema(
        description="Add a claim (AR managers).",
        request=s.ClaimWriteSerializer,
        responses={201: s.ClaimDetailSerializer},
    ),
    update=extend_schema(
        description="Change a claim (AR managers).",
        request=s.ClaimWriteSerializer,
        responses=s.ClaimDetailSerializer,
    ),
    partial_update=extend_schema(
        description="Change some of a claim's fields (AR managers); an agent may change the "
        "notes of their own claims.",
        request=s.ClaimWriteSerializer,
        responses=s.ClaimDetailSerializer,
    ),
)
class ClaimViewSet(
    RcmViewMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Claims in scope (an agent: their own), oldest submission first, with aging as of today,
    current queue, agent and priority, and the timely-filing flag."""

    filter_backends = [DjangoFilterBackend]
    filterset_class = ClaimFilter

    def get_permissions(self):
        permissions = super().get_permissions()
        if self.action in ("create", "update"):
            permissions.append(IsArManager())
        return permissions

    def get_queryset(self):
        if self.fake:
            return Claim.objects.none()
        return selectors.claims_for(self.request.user)

    def get_serializer_class(self):
        if self.action == "list":
            return s.ClaimSerializer
        if self.action in ("create", "update", "partial_update"):
            return s.ClaimWriteSerializer
        if self.action == "assignments":
            return s.ClaimAssignmentSerializer
        return s.ClaimDetailSerializer

    def _detail(self, claim, status_code=status.HTTP_200_OK):
        claim = self.get_queryset().get(pk=claim.pk)
        return Response(s.ClaimDetailSerializer(claim).data, status=status_code)

    def retrieve(self, request, pk=None):
        return self._detail(view_record(request, self.get_queryset(), pk=pk))

    def create(self, request):
        data = s.ClaimWriteSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        return self._detail(data.save(), status.HTTP_201_CREATED)

    def update(self, request, pk=None, partial=False):
        claim = self.get_object()
        if not manages_ar(request.user):
            self._only_notes(request.data)
            data = s.ClaimNotesSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            partial = True
        data = s.ClaimWriteSerializer(
            claim, data=request.data, partial=partial, context={"request": request}
        )
        data.is_valid(raise_exception=True)
        return self._detail(data.save())

    @staticmethod
    def _only_notes(body):
        others = sorted(set(body) - {"notes"})
        if others:
            raise PermissionDenied(f"Agents may change only the notes, not {', '.join(others)}.")

    @extend_schema(parameters=[CLAIM_ID], responses=s.ClaimAssignmentSerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[])
    def assignments(self, request, pk=None):
        """The claim's assignment history, newest first: queue, agent, rule and why."""
        claim = get_object_or_404(Claim.objects.visible_to(request.user), pk=pk)
        page = self.paginate_queryset(selectors.assignments_of(claim))
        return self.get_paginated_response(s.ClaimAssignmentSerializer(page, many=True).data)


# Follow-ups -----------------------------------------------------------------------------------


class FollowUpViewSet(
    RcmViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Follow-up calls in scope (an agent: those on their claims), earliest first."""

    filter_backends = [DjangoFilterBackend]
    filterset_class = FollowUpFilter

    def get_queryset(self):
        if self.fake:
            return FollowUp.objects.none()
        return selectors.follow_ups_for(self.request.user)

    def get_serializer_class(self):
        if self.action == "complete":
            return s.ClaimFollowUpCompleteSerializer
        return s.ClaimFollowUpSerializer

    @extend_schema(
        parameters=[OpenApiParameter("id", int, OpenApiParameter.PATH)],
        request=s.ClaimFollowUpCompleteSerializer,
        responses=s.ClaimFollowUpSerializer,
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def complete(self, request, pk=None):
        """Record the call's outcome (and the claim's new status); an open claim gets its next
        call booked at once."""
        follow_up = self.get_object()
        data = s.ClaimFollowUpCompleteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with service_errors():
            follow_up = services.complete_follow_up(
                follow_up,
                outcome=data.validated_data["outcome"],
                claim_status=data.validated_data.get("claim_status"),
                actor=request.user,
            )
        return Response(s.ClaimFollowUpSerializer(self.get_queryset().get(pk=follow_up.pk)).data)


# Documents ------------------------------------------------------------------------------------


class DocumentViewSet(
    RcmViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Generated documents in scope (an agent: those on their claims and their own without a
    claim), newest first. Reading one, with its text, is audited."""

    filter_backends = [DjangoFilterBackend]
    filterset_class = DocumentFilter

    def get_queryset(self):
        if self.fake:
            return GeneratedDocument.objects.none()
        return selectors.documents_for(self.request.user)

    def get_serializer_class(self):
        if self.action == "list":
            return s.ClaimDocumentSerializer
        return s.ClaimDocumentDetailSerializer

    def retrieve(self, request, pk=None):
        document = view_record(request, self.get_queryset(), pk=pk)
        return Response(s.ClaimDocumentDetailSerializer(document).data)


# Automation (/api/automation/) ----------------------------------------------------------------


# The automation endpoints name a claim by number in the body, not in the path.
NO_CLAIM_IN_SCOPE = not_found("No claim with this number in your scope.")


class AutomationView(APIView):
    permission_classes = RCM_ROLE

    def claim_in_scope(self, claim_number):
        """The claim with this number in the caller's scope (404 outside)."""
        return get_object_or_404(
            Claim.objects.visible_to(self.request.user).select_related("payer", "patient"),
            claim_number=claim_number,
        )


class AssignClaimsView(AutomationView):
    permission_classes = MANAGER_ONLY

    @extend_schema(
        request=s.AssignClaimsRequestSerializer, responses=s.AssignClaimsResultSerializer
    )
    def post(self, request):
        """Route open claims without an agent (with `reassign`: all open claims) through the
        assignment rules to a queue and agent (AR managers)."""
        data = s.AssignClaimsRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with service_errors():
            report = services.assign_claims(
                reassign=data.validated_data["reassign"], actor=request.user
            )
        message = f"Assigned {report.succeeded} of {report.items} claims"
        result = s.run_result(report, message, "assignments")
        return Response(s.AssignClaimsResultSerializer(result).data)


class ScheduleFollowUpsView(AutomationView):
    permission_classes = MANAGER_ONLY

    @extend_schema(request=None, responses=s.ScheduleFollowUpsResultSerializer)
    def post(self, request):
        """Book the next follow-up call of every open, assigned claim that has none waiting
        (AR managers); re-running books nothing twice."""
        with service_errors():
            report = services.schedule_follow_ups(actor=request.user)
        message = f"Scheduled {report.succeeded} of {report.items} follow-ups"
        result = s.run_result(report, message, "follow_ups")
        return Response(s.ScheduleFollowUpsResultSerializer(result).data)


class GenerateAppealView(AutomationView):
    @extend_schema(
        request=s.GenerateAppealRequestSerializer,
        responses={201: s.ClaimDocumentDetailSerializer, 404: NO_CLAIM_IN_SCOPE},
    )
    def post(self, request):
        """Write the appeal letter for a denied claim in your scope, from the template for the
        denial reason. The service date and amount must be the claim's."""
        from rcm import documents

        data = s.GenerateAppealRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        claim = self.claim_in_scope(data.validated_data["claim_number"])
        data.check_claim(claim)
        with service_errors():
            document = documents.generate_appeal(
                claim,
                denial_reason=data.validated_data.get("denial_reason") or None,
                notes=data.validated_data["notes"],
                user=request.user,
            )
        return Response(
            s.ClaimDocumentDetailSerializer(document).data, status=status.HTTP_201_CREATED
        )


class GenerateDocumentView(AutomationView):
    @extend_schema(
        request=s.GenerateDocumentRequestSerializer,
        responses={201: s.ClaimDocumentDetailSerializer, 404: NO_CLAIM_IN_SCOPE},
    )
    def post(self, request):
        """Fill a document template with `data`; every missing variable is named. With a claim
        number (in your scope), the document is filed with the claim."""
        from rcm import documents

        data = s.GenerateDocumentRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        number = data.validated_data.get("claim_number")
        claim = self.claim_in_scope(number) if number else None
        with service_errors():
            document = documents.generate_document(
                data.validated_data["template_type"],
                data.validated_data["data"],
                claim=claim,
                user=request.user,
            )
        return Response(
            s.ClaimDocumentDetailSerializer(document).data, status=status.HTTP_201_CREATED
        )


class MetricsView(AutomationView):
    permission_classes = MANAGER_ONLY

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request):
        """The automation figures of the manager dashboard (rcm.metrics): tasks automated
        today, time and cost saved, success rate, queue lengths, workload, rule usage,
        appeal success by type, turnaround, aging buckets by payer."""
        from rcm import metrics

        return Response(metrics.automation_metrics(request.user))
