"""Responses and request bodies of the engagement API. Input is checked for shape here (each
error names its field, ids outside the caller's scope read as unknown); booking rules and
appointment life-cycle rules are engagement.booking's and engagement.services', whose errors
name the field too (opsintel.api.errors)."""

from django.core.exceptions import NON_FIELD_ERRORS
from django.db import transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.settings import api_settings

from engagement.models import (
    Appointment,
    AppointmentType,
    FollowUpTask,
    Location,
    Patient,
    Reminder,
    Role,
    StaffMember,
    SurveyResponse,
)
from opsintel.api.fields import named_choice_field
from opsintel.audit import Action, record_event

STATUS_ACTIONS = (
    ("confirm", "Confirm"),
    ("check_in", "Check in"),
    ("complete", "Complete"),
    ("no_show", "No-show"),
)

PharmacyRoleField = named_choice_field(Role.choices, "PharmacyRoleEnum")
AppointmentStatusField = named_choice_field(Appointment.Status.choices, "AppointmentStatusEnum")
AppointmentActionField = named_choice_field(STATUS_ACTIONS, "AppointmentActionEnum")
TaskSourceField = named_choice_field(FollowUpTask.Source.choices, "FollowUpTaskSourceEnum")
TaskPriorityField = named_choice_field(FollowUpTask.Priority.choices, "FollowUpTaskPriorityEnum")
TaskStatusField = named_choice_field(FollowUpTask.Status.choices, "FollowUpTaskStatusEnum")
ReminderChannelField = named_choice_field(Reminder.Channel.choices, "ReminderChannelEnum")
ReminderStatusField = named_choice_field(Reminder.Status.choices, "ReminderStatusEnum")
PatientChannelField = named_choice_field(Patient.Channel.choices, "PatientChannelEnum")


class ScopedPrimaryKeyField(serializers.PrimaryKeyRelatedField):
    """An id looked up within the caller's scope (`visible_to`): one outside it is "not
    found", as its detail URL would answer 404."""

    def get_queryset(self):
        user = getattr(self.context.get("request"), "user", None)
        return super().get_queryset().visible_to(user)


# Briefs ---------------------------------------------------------------------------------------


class PharmacyLocationBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Location
        fields = ["id", "name", "timezone"]
        read_only_fields = fields


class PharmacyStaffBriefSerializer(serializers.ModelSerializer):
    role = PharmacyRoleField(read_only=True)

    class Meta:
        model = StaffMember
        fields = ["id", "name", "role"]
        read_only_fields = fields


class PharmacyPatientBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Patient
        fields = ["id", "name"]
        read_only_fields = fields


class AppointmentTypeBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = AppointmentType
        fields = ["id", "code", "name"]
        read_only_fields = fields


# Appointment types and slots ------------------------------------------------------------------


class AppointmentTypeSerializer(serializers.ModelSerializer):
    allowed_roles = serializers.ListField(child=PharmacyRoleField(), read_only=True)

    class Meta:
        model = AppointmentType
        fields = [
            "id",
            "code",
            "name",
            "description",
            "duration_minutes",
            "price",
            "required_qualification",
            "allowed_roles",
            "max_bookings_per_day",
            "buffer_minutes",
            "min_lead_hours",
            "max_lead_days",
            "cancellation_hours",
            "late_cancellation_fee",
            "follow_up_days",
            "follow_up_reason",
        ]
        read_only_fields = fields


class SlotSerializer(serializers.Serializer):
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    staff = PharmacyStaffBriefSerializer()


# Appointments ---------------------------------------------------------------------------------


class AppointmentSerializer(serializers.ModelSerializer):
    patient = PharmacyPatientBriefSerializer(read_only=True)
    appointment_type = AppointmentTypeBriefSerializer(read_only=True)
    staff = PharmacyStaffBriefSerializer(read_only=True)
    location = PharmacyLocationBriefSerializer(read_only=True)
    status = AppointmentStatusField(read_only=True)

    class Meta:
        model = Appointment
        fields = [
            "id",
            "patient",
            "appointment_type",
            "staff",
            "location",
            "starts_at",
            "ends_at",
            "status",
            "price",
            "outcome_notes",
            "needs_rebooking",
            "late_cancellation",
            "cancellation_reason",
            "created_at",
            "cancelled_at",
            "completed_at",
        ]
        read_only_fields = fields


class BookSerializer(serializers.Serializer):
    # Whether the time is free, open, in the staff member's hours and inside the lead window
    # is engagement.booking's rule; its errors name starts_at / staff / location.
    patient = ScopedPrimaryKeyField(queryset=Patient.objects.all(), help_text="Patient id")
    appointment_type = serializers.PrimaryKeyRelatedField(
        queryset=AppointmentType.objects.filter(active=True), help_text="Appointment type id"
    )
    staff = ScopedPrimaryKeyField(
        queryset=StaffMember.objects.filter(active=True), help_text="Staff member id (from a slot)"
    )
    location = ScopedPrimaryKeyField(queryset=Location.objects.all(), help_text="Location id")
    starts_at = serializers.DateTimeField(help_text="The slot's start (with its UTC offset)")


class CancelSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")


class RescheduleSerializer(serializers.Serializer):
    starts_at = serializers.DateTimeField(help_text="The new start (with its UTC offset)")
    staff = ScopedPrimaryKeyField(
        queryset=StaffMember.objects.filter(active=True),
        required=False,
        help_text="Another staff member id (default: the same)",
    )


class StatusActionSerializer(serializers.Serializer):
    action = AppointmentActionField()
    outcome_notes = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="With `complete`: the outcome"
    )


class SurveySerializer(serializers.ModelSerializer):
    class Meta:
        model = SurveyResponse
        fields = ["id", "appointment", "satisfaction", "would_recommend", "comment", "submitted_at"]
        read_only_fields = fields


class SurveyCreateSerializer(serializers.Serializer):
    satisfaction = serializers.IntegerField(
        min_value=1,
        max_value=5,
        help_text="1 (very unhappy) to 5 (very happy)",
        error_messages={
            "min_value": "Satisfaction is from 1 to 5.",
            "max_value": "Satisfaction is from 1 to 5.",
        },
    )
    would_recommend = serializers.IntegerField(
        min_value=0,
        max_value=10,
        help_text="0 (not at all) to 10 (certainly)",
        error_messages={
            "min_value": "Would-recommend is from 0 to 10.",
            "max_value": "Would-recommend is from 0 to 10.",
        },
    )
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class ReminderSerializer(serializers.ModelSerializer):
    channel = ReminderChannelField(read_only=True)
    status = ReminderStatusField(read_only=True)

    class Meta:
        model = Reminder
        fields = [
            "id",
            "channel",
            "template",
            "send_at",
            "status",
            "reason",
            "attempts",
            "provider_message_id",
            "sent_at",
        ]
        read_only_fields = fields


# Follow-up tasks ------------------------------------------------------------------------------


class FollowUpTaskSerializer(serializers.ModelSerializer):
    patient = PharmacyPatientBriefSerializer(read_only=True)
    assignee = PharmacyStaffBriefSerializer(read_only=True, allow_null=True)
    source = TaskSourceField(read_only=True)
    priority = TaskPriorityField(read_only=True)
    status = TaskStatusField(read_only=True)
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = FollowUpTask
        fields = [
            "id",
            "patient",
            "appointment",
            "reason",
            "source",
            "priority",
            "due_date",
            "assignee",
            "status",
            "outcome",
            "overdue",
            "escalated_at",
            "created_at",
            "completed_at",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_overdue(self, task):
        """Open past its due date (as of the view's `today`)."""
        return task.status == FollowUpTask.Status.OPEN and task.due_date < self.context["today"]


class FollowUpTaskCreateSerializer(serializers.Serializer):
    patient = ScopedPrimaryKeyField(queryset=Patient.objects.all(), help_text="Patient id")
    reason = serializers.CharField(max_length=200)
    due_date = serializers.DateField()
    source = TaskSourceField(default=FollowUpTask.Source.MANUAL)
    priority = TaskPriorityField(default=FollowUpTask.Priority.MEDIUM)
    appointment = ScopedPrimaryKeyField(
        queryset=Appointment.objects.all(),
        required=False,
        allow_null=True,
        help_text="Appointment id",
    )

    def validate(self, data):
        appointment = data.get("appointment")
        if appointment is not None and appointment.patient_id != data["patient"].pk:
            raise serializers.ValidationError(
                {"appointment": "That appointment is another patient's."}
            )
        return data


class FollowUpTaskCompleteSerializer(serializers.Serializer):
    outcome = serializers.CharField(help_text="What came of the follow-up")


# Patients -------------------------------------------------------------------------------------


class PharmacyPatientSerializer(serializers.ModelSerializer):
    location = PharmacyLocationBriefSerializer(read_only=True)
    preferred_channel = PatientChannelField(read_only=True)

    class Meta:
        model = Patient
        fields = [
            "id",
            "name",
            "location",
            "date_of_birth",
            "email",
            "phone",
            "email_consent",
            "sms_consent",
            "email_opted_out",
            "sms_opted_out",
            "preferred_channel",
            "created_at",
        ]
        read_only_fields = fields


class PharmacyPatientCreateSerializer(serializers.Serializer):
    """Registering a patient at one of the caller's locations (audited). The rules (consent
    needs the contact detail, the preferred channel its detail, a likely duplicate must be
    confirmed) are the registration page's: engagement.forms.PatientForm checks both."""

    location = ScopedPrimaryKeyField(queryset=Location.objects.all(), help_text="Location id")
    name = serializers.CharField(max_length=200)
    date_of_birth = serializers.DateField(required=False, allow_null=True)
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    phone = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="With country code: +15551234567"
    )
    email_consent = serializers.BooleanField(default=False)
    sms_consent = serializers.BooleanField(default=False)
    email_opted_out = serializers.BooleanField(default=False)
    sms_opted_out = serializers.BooleanField(default=False)
    preferred_channel = PatientChannelField(default=Patient.Channel.SMS)
    confirm_duplicate = serializers.BooleanField(
        default=False,
        help_text="A patient with this name and date of birth is already registered at the "
        "location, and this is someone else",
    )

    def validate(self, data):
        from engagement.forms import PatientForm

        fields = {**data, "location": data["location"].pk}
        # The form reads unticked boxes as absent, as a browser sends them.
        form_data = {name: value for name, value in fields.items() if value not in (None, False)}
        form = PatientForm(data=form_data, user=self.context["request"].user)
        if not form.is_valid():
            raise serializers.ValidationError(
                {
                    (api_settings.NON_FIELD_ERRORS_KEY if field == NON_FIELD_ERRORS else field): [
                        error["message"] for error in errors
                    ]
                    for field, errors in form.errors.get_json_data().items()
                }
            )
        self.form = form
        return data

    def create(self, validated_data):
        request = self.context["request"]
        with transaction.atomic():
            patient = self.form.save()
            record_event(
                Action.CREATE,
                request=request,
                objects=patient,
                description="Patient registered (API)",
            )
        return patient


# KPIs -----------------------------------------------------------------------------------------


class KpiFigureSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    unit = serializers.CharField(help_text="rate (0–1), score (1–5), money, number, nps")
    value = serializers.FloatField(allow_null=True, help_text="Null without data")
    display = serializers.CharField()
    target = serializers.CharField(help_text="Empty without a target")
    status = serializers.CharField(allow_null=True, help_text="good, bad or null")


class PharmacyKpiResultSerializer(serializers.Serializer):
    """engagement.kpis.kpis over the locations asked about."""

    locations = serializers.ListField(child=serializers.IntegerField(), help_text="Location ids")
    first_day = serializers.DateField()
    last_day = serializers.DateField()
    values = serializers.DictField(
        child=serializers.FloatField(allow_null=True), help_text="Each KPI's value by key"
    )
    figures = KpiFigureSerializer(many=True, help_text="Each KPI against its target")
    counts = serializers.DictField(
        child=serializers.IntegerField(), help_text="Appointments by outcome, surveys"
    )
