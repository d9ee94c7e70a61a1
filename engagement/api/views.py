"""The engagement API: thin views over engagement.booking, engagement.services and
engagement.kpis.

Access: a pharmacy role for every endpoint (403 otherwise), then the role matrix
(engagement.access.can: booking, care, performance …; 403 without the capability). Every
queryset starts from the user's scope (a staff pharmacist: their own appointments, tasks and
patients), so anything outside it answers 404, on nested routes and POSTs too. Reading an
appointment or a patient, or a page of them, is audited (PHI)."""

from django.shortcuts import get_object_or_404
from django.utils import timezone
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response

from engagement import access, booking, kpis, services
from engagement.api import serializers as s
from engagement.api.filters import (
    AppointmentFilter,
    KpiParams,
    PatientFilter,
    SlotParams,
    TaskFilter,
)
from engagement.models import Appointment, AppointmentType, FollowUpTask, Patient
from opsintel.access import app_api_permission
from opsintel.api.errors import service_errors
from opsintel.audit import Action, record_event, view_record

ENGAGEMENT_ROLE = [IsAuthenticated, app_api_permission("engagement")]


def capable(capability):
    """A DRF permission: 403 unless the user's pharmacy role includes `capability`."""

    class Capable(BasePermission):
        message = "Your role in the pharmacy does not include this."

        def has_permission(self, request, view):
            return access.can(request.user, capability)

    Capable.__name__ = f"Capable_{capability}"
    return Capable


class EngagementViewMixin:
    permission_classes = ENGAGEMENT_ROLE
    filter_backends = []
    # The capability each action needs on top of the role ("*": every action of the view).
    capabilities = {}

    def get_permissions(self):
        permissions = super().get_permissions()
        needed = self.capabilities.get(getattr(self, "action", None)) or self.capabilities.get("*")
        if needed:
            permissions.append(capable(needed)())
        return permissions

    @property
    def fake(self):
        # drf-spectacular builds the schema with a fake view and no real user.
        return getattr(self, "swagger_fake_view", False)

    def audit_page(self, rows, description):
        if rows:
            record_event(
                Action.VIEW,
                request=self.request,
                model=type(rows[0]),
                object_ids=[row.pk for row in rows],
                description=description,
            )


# Appointment types and slots ------------------------------------------------------------------


class AppointmentTypeViewSet(
    EngagementViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """The services the pharmacy books (active ones), with their rules: duration, price, who
    may deliver them, buffers, lead times, cancellation policy and follow-up rule."""

    serializer_class = s.AppointmentTypeSerializer
    pagination_class = None

    def get_queryset(self):
        return AppointmentType.objects.filter(active=True).order_by("name", "pk")


@extend_schema(parameters=[SlotParams], responses=s.SlotSerializer(many=True))
class SlotView(EngagementViewMixin, generics.GenericAPIView):
    """Free slots of an appointment type at one of your locations from `start` to `end` (at
    most 31 days), earliest first; at one time the least busy qualified staff member. Book one
    by posting its start and staff member to appointments/."""

    serializer_class = s.SlotSerializer
    pagination_class = None
    capabilities = {"*": access.BOOK}

    def get(self, request):
        params = SlotParams.from_request(request).validated_data
        slots = booking.find_slots(
            params["type"],
            params["location"],
            params["start"],
            params["end"],
            limit=params["limit"],
        )
        return Response(s.SlotSerializer(slots, many=True).data)


# Appointments ---------------------------------------------------------------------------------

APPOINTMENT_ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="Appointment id")
BOOKABLE = (Appointment.Status.SCHEDULED, Appointment.Status.CONFIRMED)


@extend_schema_view(
    list=extend_schema(
        description="Appointments in scope (a staff pharmacist: their own), "
        "earliest first (the page is audited)."
    ),
    retrieve=extend_schema(description="One appointment (audited)."),
    create=extend_schema(
        description="Book an appointment: the slot must be free, open, inside the staff "
        "member's hours and the type's lead window; every problem is named (400). Reminders "
        "are scheduled with it.",
        request=s.BookSerializer,
        responses={201: s.AppointmentSerializer},
    ),
)
class AppointmentViewSet(
    EngagementViewMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    filter_backends = [DjangoFilterBackend]
    filterset_class = AppointmentFilter
    capabilities = {
        "create": access.BOOK,
        "cancel": access.BOOK,
        "reschedule": access.BOOK,
        "survey": access.BOOK,
        "change_status": access.CARE,
    }
    serializer_classes = {
        "create": s.BookSerializer,
        "cancel": s.CancelSerializer,
        "reschedule": s.RescheduleSerializer,
        "change_status": s.StatusActionSerializer,
        "survey": s.SurveyCreateSerializer,
        "reminders": s.ReminderSerializer,
    }

    def get_serializer_class(self):
        # Input serializers for the write actions (the browsable API's forms); the schema of
        # each action is set by its extend_schema.
        return self.serializer_classes.get(self.action, s.AppointmentSerializer)

    def get_queryset(self):
        if self.fake:
            return Appointment.objects.none()
        return Appointment.objects.visible_to(self.request.user).select_related(
            "patient", "appointment_type", "staff", "location"
        )

    def list(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        self.audit_page(page, "Appointment list (API)")
        return self.get_paginated_response(s.AppointmentSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(
            s.AppointmentSerializer(view_record(request, self.get_queryset(), pk=pk)).data
        )

    def _appointment(self, pk):
        """The appointment in scope (404 outside)."""
        return get_object_or_404(self.get_queryset(), pk=pk)

    def _answer(self, appointment, status_code=status.HTTP_200_OK):
        # Not through the scope: a booking or a move may hand it to a colleague, and the
        # caller still learns how their request ended.
        appointment = Appointment.objects.select_related(
            "patient", "appointment_type", "staff", "location"
        ).get(pk=appointment.pk)
        return Response(s.AppointmentSerializer(appointment).data, status=status_code)

    def _input(self, serializer_class, request):
        data = serializer_class(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        return data.validated_data

    def create(self, request):
        fields = self._input(s.BookSerializer, request)
        with service_errors():
            appointment = booking.book(**fields, booked_by=request.user)
        return self._answer(appointment, status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[APPOINTMENT_ID], request=s.CancelSerializer, responses=s.AppointmentSerializer
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel under the type's policy (inside its cancellation window: a late
        cancellation); waiting reminders are cancelled."""
        appointment = self._appointment(pk)
        fields = self._input(s.CancelSerializer, request)
        with service_errors():
            booking.cancel(appointment, reason=fields["reason"], by=request.user)
        return self._answer(appointment)

    @extend_schema(
        parameters=[APPOINTMENT_ID],
        request=s.RescheduleSerializer,
        responses=s.AppointmentSerializer,
    )
    @action(detail=True, methods=["post"])
    def reschedule(self, request, pk=None):
        """Move the appointment (same type and location) to another time, and maybe another
        staff member, under the booking rules; its reminders move with it."""
        appointment = self._appointment(pk)
        fields = self._input(s.RescheduleSerializer, request)
        if appointment.status not in BOOKABLE:
            # booking.reschedule moves whatever it is given; a visit that happened (or was
            # called off) stays where it was.
            state = appointment.get_status_display().lower()
            raise ValidationError({"status": [f"A {state} appointment can't be rescheduled."]})
        with service_errors():
            booking.reschedule(
                appointment,
                starts_at=fields["starts_at"],
                staff=fields.get("staff"),
                by=request.user,
            )
        return self._answer(appointment)

    @extend_schema(
        parameters=[APPOINTMENT_ID],
        request=s.StatusActionSerializer,
        responses=s.AppointmentSerializer,
    )
    @action(detail=True, methods=["post"], url_path="status", url_name="status")
    def change_status(self, request, pk=None):
        """Confirm, check in, complete (with outcome notes; creates the type's follow-up task)
        or mark a no-show, as the appointment's life cycle allows."""
        appointment = self._appointment(pk)
        fields = self._input(s.StatusActionSerializer, request)
        user = request.user
        with service_errors():
            match fields["action"]:
                case "confirm":
                    services.confirm(appointment, by=user)
                case "check_in":
                    services.check_in(appointment, by=user)
                case "complete":
                    services.complete(appointment, outcome_notes=fields["outcome_notes"], by=user)
                case "no_show":
                    services.mark_no_show(appointment, by=user)
        return self._answer(appointment)

    @extend_schema(
        parameters=[APPOINTMENT_ID],
        request=s.SurveyCreateSerializer,
        responses={201: s.SurveySerializer},
    )
    @action(detail=True, methods=["post"])
    def survey(self, request, pk=None):
        """Record the patient's survey about a completed appointment: satisfaction 1–5, would
        recommend 0–10; one per appointment."""
        appointment = self._appointment(pk)
        fields = self._input(s.SurveyCreateSerializer, request)
        with service_errors():
            response = services.submit_survey(appointment, **fields)
        return Response(s.SurveySerializer(response).data, status=status.HTTP_201_CREATED)

    @extend_schema(parameters=[APPOINTMENT_ID], responses=s.ReminderSerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def reminders(self, request, pk=None):
        """The appointment's reminders and where each stands: scheduled, sent, failed, skipped
        (with the reason) or cancelled."""
        appointment = self._appointment(pk)
        rows = appointment.reminders.order_by("send_at", "pk")
        return Response(s.ReminderSerializer(rows, many=True).data)


# Follow-up tasks ------------------------------------------------------------------------------

TASK_ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="Follow-up task id")


@extend_schema_view(
    list=extend_schema(
        description="Follow-up tasks in scope (a staff pharmacist: those assigned to them), "
        "earliest due first."
    ),
    create=extend_schema(
        description="Create a follow-up task; it goes to the eligible colleague with the "
        "least open work.",
        request=s.FollowUpTaskCreateSerializer,
        responses={201: s.FollowUpTaskSerializer},
    ),
)
class TaskViewSet(
    EngagementViewMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    filter_backends = [DjangoFilterBackend]
    filterset_class = TaskFilter
    capabilities = {"*": access.CARE}
    serializer_classes = {
        "create": s.FollowUpTaskCreateSerializer,
        "complete": s.FollowUpTaskCompleteSerializer,
    }

    def get_serializer_class(self):
        return self.serializer_classes.get(self.action, s.FollowUpTaskSerializer)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "today": timezone.localdate()}

    def get_queryset(self):
        if self.fake:
            return FollowUpTask.objects.none()
        return FollowUpTask.objects.visible_to(self.request.user).select_related(
            "patient", "assignee"
        )

    def _answer(self, task, status_code=status.HTTP_200_OK):
        task = FollowUpTask.objects.select_related("patient", "assignee").get(pk=task.pk)
        return Response(
            s.FollowUpTaskSerializer(task, context=self.get_serializer_context()).data,
            status=status_code,
        )

    def create(self, request):
        data = s.FollowUpTaskCreateSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        with service_errors():
            task = services.create_task(**data.validated_data, by=request.user)
        return self._answer(task, status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[TASK_ID],
        request=s.FollowUpTaskCompleteSerializer,
        responses=s.FollowUpTaskSerializer,
    )
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        """Close an open follow-up task with what came of it."""
        task = get_object_or_404(self.get_queryset(), pk=pk)
        data = s.FollowUpTaskCompleteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with service_errors():
            services.complete_task(task, outcome=data.validated_data["outcome"], by=request.user)
        return self._answer(task)


# Patients -------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        description="Patients in scope (a staff pharmacist: their own), by "
        "name; `name` searches (the page is audited)."
    ),
    retrieve=extend_schema(description="One patient with contact preferences (audited)."),
    create=extend_schema(
        description="Register a patient at one of your locations.",
        request=s.PharmacyPatientCreateSerializer,
        responses={201: s.PharmacyPatientSerializer},
    ),
)
class PatientViewSet(
    EngagementViewMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    filter_backends = [DjangoFilterBackend]
    filterset_class = PatientFilter
    capabilities = {"*": access.BOOK}

    def get_serializer_class(self):
        return (
            s.PharmacyPatientCreateSerializer
            if self.action == "create"
            else s.PharmacyPatientSerializer
        )

    def get_queryset(self):
        if self.fake:
            return Patient.objects.none()
        return Patient.objects.visible_to(self.request.user).select_related("location")

    def list(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        self.audit_page(page, "Patient list (API)")
        return self.get_paginated_response(s.PharmacyPatientSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(
            s.PharmacyPatientSerializer(view_record(request, self.get_queryset(), pk=pk)).data
        )

    def create(self, request):
        data = s.PharmacyPatientCreateSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        patient = data.save()
        return Response(s.PharmacyPatientSerializer(patient).data, status=status.HTTP_201_CREATED)


# KPIs -----------------------------------------------------------------------------------------


@extend_schema(parameters=[KpiParams])
class KpiView(EngagementViewMixin, generics.GenericAPIView):
    """The KPIs (engagement.kpis) at one of your locations (default: all of them) from `start`
    to `end` (default: the 30 days up to today), each against its target."""

    serializer_class = s.PharmacyKpiResultSerializer
    pagination_class = None
    capabilities = {"*": access.PERFORMANCE}

    def get(self, request):
        params = KpiParams.from_request(request)
        location_ids = params.location_ids(request.user)
        first, last = params.validated_data["start"], params.validated_data["end"]
        result = {"locations": location_ids, **kpis.kpis(location_ids, first, last)}
        return Response(self.get_serializer(result).data)
