"""Query parameters of the engagement API: parsed and validated here, so a bad one answers 400
naming it. Lists filter through django-filter; slot search and KPIs take a parameter
serializer (`Params.from_request`)."""

from datetime import timedelta

import django_filters
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from engagement.api.serializers import ScopedPrimaryKeyField
from engagement.models import Appointment, AppointmentType, FollowUpTask, Location, Patient

MAX_SLOT_DAYS = 31
MAX_SLOTS = 100
KPI_DEFAULT_DAYS = 30


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(django_filters.NumberFilter):
    """An integer id (documented as one; NumberFilter alone reads as any number)."""


class AppointmentFilter(django_filters.FilterSet):
    """`?day=&from=&to=&status=&staff=&location=&patient=` of the appointment list. Days are
    the pharmacy's (server time zone) calendar days."""

    day = django_filters.DateFilter(field_name="starts_at__date", help_text="Starting this day")
    status = django_filters.MultipleChoiceFilter(
        choices=Appointment.Status.choices, help_text="Status; repeat for several"
    )
    staff = IdFilter(field_name="staff_id", help_text="Staff member id")
    location = IdFilter(field_name="location_id", help_text="Location id")
    patient = IdFilter(field_name="patient_id", help_text="Patient id")

    class Meta:
        model = Appointment
        fields = []


# "from" is a keyword in Python, so it cannot be declared in the class body.
AppointmentFilter.base_filters["from"] = django_filters.DateFilter(
    field_name="starts_at__date", lookup_expr="gte", help_text="Starting on or after this day"
)
AppointmentFilter.base_filters["to"] = django_filters.DateFilter(
    field_name="starts_at__date", lookup_expr="lte", help_text="Starting on or before this day"
)


class TaskFilter(django_filters.FilterSet):
    """`?status=&priority=&assignee=&patient=&due_before=` of the follow-up task list."""

    status = django_filters.MultipleChoiceFilter(
        choices=FollowUpTask.Status.choices, help_text="Status; repeat for several"
    )
    priority = django_filters.MultipleChoiceFilter(
        choices=FollowUpTask.Priority.choices, help_text="Priority; repeat for several"
    )
    assignee = IdFilter(field_name="assignee_id", help_text="Staff member id")
    patient = IdFilter(field_name="patient_id", help_text="Patient id")
    due_before = django_filters.DateFilter(
        field_name="due_date", lookup_expr="lte", help_text="Due on or before this day"
    )

    class Meta:
        model = FollowUpTask
        fields = []


class PatientFilter(django_filters.FilterSet):
    """`?name=&location=` of the patient list."""

    name = django_filters.CharFilter(
        field_name="name", lookup_expr="icontains", help_text="Part of the name"
    )
    location = IdFilter(field_name="location_id", help_text="Location id")

    class Meta:
        model = Patient
        fields = []


class Params(serializers.Serializer):
    @classmethod
    def from_request(cls, request):
        params = cls(data=request.query_params, context={"request": request})
        params.is_valid(raise_exception=True)
        return params


@extend_schema_field(
    {"oneOf": [{"type": "integer"}, {"type": "string"}], "description": "Type id or code"}
)
class AppointmentTypeField(serializers.Field):
    default_error_messages = {"unknown": "Unknown appointment type {value!r}."}

    def to_internal_value(self, data):
        value = str(data).strip()
        types = AppointmentType.objects.filter(active=True)
        found = (
            types.filter(pk=int(value)) if value.isdigit() else types.filter(code=value)
        ).first()
        if found is None:
            self.fail("unknown", value=value)
        return found

    def to_representation(self, value):
        return value.pk


class SlotParams(Params):
    """`?type=&location=&start=&end=&limit=`: free slots of a type at a location, from the
    first to the last day (at most 31 days)."""

    type = AppointmentTypeField(help_text="Appointment type id or code")
    location = ScopedPrimaryKeyField(queryset=Location.objects.all(), help_text="Location id")
    start = serializers.DateField(help_text="First day")
    end = serializers.DateField(required=False, help_text="Last day (default: the first day)")
    limit = serializers.IntegerField(
        min_value=1, max_value=MAX_SLOTS, default=20, help_text="At most this many slots"
    )

    def validate(self, data):
        data.setdefault("end", data["start"])
        if data["end"] < data["start"]:
            raise serializers.ValidationError({"end": "The end is before the start."})
        if (data["end"] - data["start"]).days + 1 > MAX_SLOT_DAYS:
            raise serializers.ValidationError(
                {"end": f"Search at most {MAX_SLOT_DAYS} days at a time."}
            )
        return data


class KpiParams(Params):
    """`?location=&start=&end=`: the KPI period (default: the 30 days up to today) at one of
    the caller's locations (default: all of them)."""

    location = ScopedPrimaryKeyField(
        queryset=Location.objects.all(), required=False, help_text="Location id"
    )
    start = serializers.DateField(required=False, help_text="First day (default: 29 days ago)")
    end = serializers.DateField(required=False, help_text="Last day (default: today)")

    def validate(self, data):
        data.setdefault("end", timezone.localdate())
        data.setdefault("start", data["end"] - timedelta(days=KPI_DEFAULT_DAYS - 1))
        if data["start"] > data["end"]:
            raise serializers.ValidationError({"end": "The end is before the start."})
        return data

    def location_ids(self, user):
        location = self.validated_data.get("location")
        if location is not None:
            return [location.pk]
        return list(Location.objects.visible_to(user).values_list("pk", flat=True))
