"""Django admin for pharmacy engagement.

The settings a pharmacy is run on are edited here: locations with their opening hours and
holidays, appointment types (durations, prices, who may deliver them, lead times, the
cancellation policy and the follow-up rule), and staff with their qualifications, locations
and weekly working hours. Nothing here is deleted that appointments point at: a type or a
staff member that stops is made inactive.

Patients' contact details and communication preferences are corrected here; opening a
patient, an appointment, a follow-up task, a reminder or a survey (PHI) is audited, and so are
exports. Time off, appointments, follow-up tasks, reminders and surveys change only through
the app (engagement.booking and the services: approving time off moves appointments and tells
the patients, cancelling cancels the reminders): read-only here. Reports and KPI alerts are
generated: read-only.
"""

import re

from django import forms
from django.contrib import admin
from django.db.models import Count
from django.utils.html import format_html_join

from engagement.models import (
    Appointment,
    AppointmentType,
    FollowUpTask,
    KpiAlert,
    Location,
    LocationHoliday,
    OpeningHours,
    Patient,
    Reminder,
    Report,
    Role,
    StaffMember,
    SurveyResponse,
    TimeOff,
    WorkingHours,
)
from opsintel.importexport import (
    AuditedChangeViewMixin,
    AuditedExportMixin,
    ReadOnlyAdminMixin,
    SafeModelResource,
)

# The qualifications appointment types ask for (AppointmentType.required_qualification).
QUALIFICATIONS = {
    "certified_immunizer": "Certified immunizer",
    "mtm_certified": "MTM certified",
}


def _roles(values):
    labels = dict(Role.choices)
    return ", ".join(labels.get(value, value) for value in values)


class ListField(forms.CharField):
    """A list of words entered as "a, b, c" (commas or new lines)."""

    widget = forms.TextInput(attrs={"size": 60})

    def prepare_value(self, value):
        if isinstance(value, list):
            return ", ".join(str(item) for item in value)
        return value

    def to_python(self, value):
        if isinstance(value, list):
            return value
        return [item.strip() for item in re.split(r"[,\n]", value or "") if item.strip()]


# Export resources (formulas neutralised, exports audited by the mixin) -----------------------


class AppointmentTypeResource(SafeModelResource):
    class Meta:
        model = AppointmentType
        fields = [
            "id",
            "code",
            "name",
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
            "active",
        ]


class PatientResource(SafeModelResource):
    class Meta:
        model = Patient
        fields = [
            "id",
            "location__name",
            "name",
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


class AppointmentResource(SafeModelResource):
    class Meta:
        model = Appointment
        fields = [
            "id",
            "patient",
            "appointment_type__code",
            "staff__name",
            "location__name",
            "starts_at",
            "ends_at",
            "status",
            "price",
            "late_cancellation",
            "needs_rebooking",
            "created_at",
            "cancelled_at",
            "completed_at",
        ]


# Locations ------------------------------------------------------------------------------------


class OpeningHoursInline(admin.TabularInline):
    model = OpeningHours
    extra = 0


class LocationHolidayInline(admin.TabularInline):
    model = LocationHoliday
    extra = 0
    verbose_name_plural = "holidays (closed all day)"


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    """Locations are not deleted: their patients and appointments point at them."""

    list_display = ["name", "address", "timezone", "staff_count"]
    search_fields = ["name", "address"]
    inlines = [OpeningHoursInline, LocationHolidayInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(staff_total=Count("staff", distinct=True))

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="staff", ordering="staff_total")
    def staff_count(self, location):
        return location.staff_total


# Appointment types: the pharmacy's services and their rules -----------------------------------


class AppointmentTypeForm(forms.ModelForm):
    allowed_roles = forms.MultipleChoiceField(
        choices=Role.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Tick at least one role that delivers it."},
        help_text="Staff roles that may deliver it",
    )
    required_qualification = forms.ChoiceField(
        choices=[("", "None"), *QUALIFICATIONS.items()],
        required=False,
        help_text="Only staff with this qualification deliver it",
    )

    class Meta:
        model = AppointmentType
        fields = [
            "name",
            "code",
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
            "active",
        ]

    def clean_allowed_roles(self):
        ticked = set(self.cleaned_data["allowed_roles"])
        return [role for role in Role.values if role in ticked]  # in the roles' order

    def clean(self):
        data = super().clean()
        min_lead, max_days = data.get("min_lead_hours"), data.get("max_lead_days")
        if min_lead is not None and max_days is not None and min_lead >= max_days * 24:
            self.add_error(
                "max_lead_days",
                f"At most {max_days} days ahead leaves no time to book it at least "
                f"{min_lead} h ahead.",
            )
        if data.get("follow_up_days") and not data.get("follow_up_reason"):
            self.add_error("follow_up_reason", "Say what the follow-up is for.")
        return data


@admin.register(AppointmentType)
class AppointmentTypeAdmin(AuditedExportMixin, admin.ModelAdmin):
    """A service the pharmacy stops offering is made inactive: its appointments keep it. The
    code is how reports and the demo data know the type; it is set once."""

    form = AppointmentTypeForm
    resource_classes = [AppointmentTypeResource]
    list_display = [
        "name",
        "duration_minutes",
        "buffer_minutes",
        "price",
        "delivered_by",
        "required_qualification",
        "max_bookings_per_day",
        "follow_up",
        "active",
    ]
    list_filter = ["active"]
    search_fields = ["name", "code"]

    def get_readonly_fields(self, request, obj=None):
        return ["code"] if obj is not None else []

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="delivered by")
    def delivered_by(self, kind):
        return _roles(kind.allowed_roles)

    @admin.display(description="follow-up")
    def follow_up(self, kind):
        if not kind.follow_up_days:
            return "—"
        return f"{kind.follow_up_reason} in {kind.follow_up_days} d"


# Staff ----------------------------------------------------------------------------------------


class WorkingHoursForm(forms.ModelForm):
    class Meta:
        model = WorkingHours
        fields = ["location", "weekday", "starts", "ends", "break_starts", "break_ends"]

    def clean(self):
        data = super().clean()
        starts, ends = data.get("starts"), data.get("ends")
        break_starts, break_ends = data.get("break_starts"), data.get("break_ends")
        if (break_starts is None) != (break_ends is None):
            field = "break_ends" if break_ends is None else "break_starts"
            self.add_error(field, "Give both the start and the end of the break, or neither.")
        elif break_starts and starts and ends:
            if break_ends <= break_starts:
                self.add_error("break_ends", "The break must end after it starts.")
            elif break_starts < starts or break_ends > ends:
                self.add_error("break_starts", "The break must lie within the working hours.")
        return data


class WorkingHoursInline(admin.TabularInline):
    model = WorkingHours
    form = WorkingHoursForm
    extra = 0
    verbose_name_plural = "working hours (weekly)"


class StaffMemberForm(forms.ModelForm):
    qualifications = ListField(
        required=False,
        help_text="e.g. " + ", ".join(QUALIFICATIONS) + " (commas between them)",
    )

    class Meta:
        model = StaffMember
        fields = [
            "name",
            "user",
            "role",
            "license_number",
            "qualifications",
            "locations",
            "appointment_types",
            "max_appointments_per_day",
            "active",
        ]


@admin.register(StaffMember)
class StaffMemberAdmin(admin.ModelAdmin):
    """Someone who leaves is made inactive: their appointments and tasks keep pointing at them.
    Time off is requested and decided in the app (approving moves appointments)."""

    form = StaffMemberForm
    list_display = [
        "name",
        "role",
        "works_at",
        "qualified",
        "max_appointments_per_day",
        "user",
        "active",
    ]
    list_select_related = ["user"]
    list_filter = ["role", "active", "locations"]
    search_fields = ["name", "license_number", "user__username"]
    search_help_text = "Name, license number or username"
    autocomplete_fields = ["user"]
    filter_horizontal = ["locations", "appointment_types"]
    inlines = [WorkingHoursInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("locations")

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="locations")
    def works_at(self, member):
        return ", ".join(location.name for location in member.locations.all())

    @admin.display(description="qualifications")
    def qualified(self, member):
        return ", ".join(QUALIFICATIONS.get(q, q) for q in member.qualifications or []) or "—"


@admin.register(TimeOff)
class TimeOffAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["staff", "starts_at", "ends_at", "status", "reason", "decided_by"]
    list_select_related = ["staff", "decided_by"]
    list_filter = ["status", "staff"]
    date_hierarchy = "starts_at"


# Patients (PHI) -------------------------------------------------------------------------------


@admin.register(Patient)
class PatientAdmin(AuditedChangeViewMixin, AuditedExportMixin, admin.ModelAdmin):
    """Contact details, consents and opt-outs are corrected here. Patients are registered
    when they book (the app), and one with appointments is never deleted."""

    resource_classes = [PatientResource]
    list_display = [
        "name",
        "location",
        "preferred_channel",
        "sms_consent",
        "sms_opted_out",
        "email_consent",
        "email_opted_out",
        "created_at",
    ]
    list_select_related = ["location"]
    list_filter = ["location", "preferred_channel", "sms_opted_out", "email_opted_out"]
    search_fields = ["name", "=email", "=phone"]
    search_help_text = "Name, or the exact email address or phone number"
    readonly_fields = ["created_at"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# What the app writes: read-only ---------------------------------------------------------------


class ReminderInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Reminder
    fk_name = "appointment"
    fields = ["send_at", "channel", "template", "status", "reason", "attempts", "sent_at"]
    readonly_fields = fields
    extra = 0


@admin.register(Appointment)
class AppointmentAdmin(
    AuditedChangeViewMixin, AuditedExportMixin, ReadOnlyAdminMixin, admin.ModelAdmin
):
    resource_classes = [AppointmentResource]
    list_display = [
        "starts_at",
        "patient",
        "appointment_type",
        "staff",
        "location",
        "status",
        "late_cancellation",
        "needs_rebooking",
    ]
    list_select_related = ["patient", "appointment_type", "staff", "location"]
    list_filter = ["status", "location", "appointment_type", "needs_rebooking", "staff"]
    search_fields = ["patient__name", "=patient__phone", "=patient__email"]
    search_help_text = "Patient name, or the exact phone number or email address"
    date_hierarchy = "starts_at"
    show_full_result_count = False
    inlines = [ReminderInline]


@admin.register(FollowUpTask)
class FollowUpTaskAdmin(AuditedChangeViewMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "due_date",
        "reason",
        "patient",
        "assignee",
        "priority",
        "status",
        "source",
        "escalated_at",
    ]
    list_select_related = ["patient", "assignee"]
    list_filter = ["status", "priority", "source", "assignee"]
    search_fields = ["patient__name", "reason"]
    date_hierarchy = "due_date"
    show_full_result_count = False


@admin.register(Reminder)
class ReminderAdmin(AuditedChangeViewMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "send_at",
        "channel",
        "template",
        "status",
        "reason",
        "attempts",
        "appointment",
        "task",
    ]
    list_select_related = ["appointment__patient", "appointment__appointment_type", "task"]
    list_filter = ["status", "channel", "template"]
    search_fields = ["=provider_message_id", "appointment__patient__name"]
    search_help_text = "Provider message id (exact) or patient name"
    date_hierarchy = "send_at"
    show_full_result_count = False


@admin.register(SurveyResponse)
class SurveyResponseAdmin(AuditedChangeViewMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["appointment", "staff", "satisfaction", "would_recommend", "submitted_at"]
    list_select_related = [
        "appointment__patient",
        "appointment__appointment_type",
        "appointment__staff",
    ]
    list_filter = ["satisfaction", "appointment__location"]
    date_hierarchy = "submitted_at"
    show_full_result_count = False

    @admin.display(description="staff", ordering="appointment__staff__name")
    def staff(self, survey):
        return survey.appointment.staff


@admin.register(Report)
class ReportAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["kind", "location", "period_start", "period_end", "generated_at"]
    list_select_related = ["location"]
    list_filter = ["kind", "location"]
    date_hierarchy = "period_start"
    fields = ["kind", "location", "period_start", "period_end", "generated_at", "figures"]
    readonly_fields = fields

    @admin.display(description="figures")
    def figures(self, report):
        data = report.data if isinstance(report.data, dict) else {}
        scalars = [
            (key, value) for key, value in data.items() if not isinstance(value, dict | list)
        ]
        return format_html_join("", "<div>{}: {}</div>", scalars) or "—"


@admin.register(KpiAlert)
class KpiAlertAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["message", "location", "kpi", "raised_at", "cleared_at"]
    list_select_related = ["location"]
    list_filter = [("cleared_at", admin.EmptyFieldListFilter), "location", "kpi"]
    date_hierarchy = "raised_at"
