"""Django admin for the campaign data.

Measures, members, interventions and coordinators can be imported and exported (audited,
formulas neutralised; rows matched on natural keys, see campaigns.resources). Campaigns, their
assignments and progress are read-only here: they change through campaigns.services, which
keep assignments, intervention statuses and the audit trail in step.
"""

import json

from django.contrib import admin
from django.db.models import Count
from django.urls import reverse
from django.utils.html import format_html

from campaigns.models import (
    Campaign,
    CampaignAssignment,
    CampaignProgress,
    Coordinator,
    Intervention,
    Measure,
    Member,
)
from campaigns.resources import (
    CoordinatorResource,
    InterventionResource,
    MeasureResource,
    MemberResource,
)
from opsintel.importexport import (
    AuditedChangeViewMixin,
    AuditedImportExportMixin,
    ReadOnlyAdminMixin,
)


class CampaignDataAdmin(AuditedImportExportMixin, admin.ModelAdmin):
    pass


@admin.register(Measure)
class MeasureAdmin(CampaignDataAdmin):
    resource_classes = [MeasureResource]
    list_display = ["code", "name", "weight", "revenue_per_closure", "active"]
    list_filter = ["active"]
    search_fields = ["code", "name"]


@admin.register(Member)
class MemberAdmin(AuditedChangeViewMixin, CampaignDataAdmin):
    resource_classes = [MemberResource]
    list_display = ["member_id", "last_name", "first_name", "plan"]
    # Ids and surnames only: phone numbers, e-mails and birth dates are not search keys.
    search_fields = ["^member_id", "^last_name"]
    search_help_text = "Member ID or surname (beginning)"


@admin.register(Intervention)
class InterventionAdmin(AuditedChangeViewMixin, CampaignDataAdmin):
    resource_classes = [InterventionResource]
    list_display = [
        "external_id",
        "member_code",
        "measure_code",
        "status",
        "priority",
        "intervention_date",
        "cost",
        "outcome",
    ]
    list_select_related = ["member", "measure"]
    list_filter = ["status", "priority", "measure"]
    search_fields = ["=external_id", "^member__member_id"]
    search_help_text = "External intervention ID (exact) or member ID (beginning)"
    autocomplete_fields = ["member", "measure"]
    readonly_fields = ["priority", "created_at", "updated_at"]

    @admin.display(description="member ID", ordering="member__member_id")
    def member_code(self, intervention):
        return intervention.member.member_id

    @admin.display(description="measure", ordering="measure__code")
    def measure_code(self, intervention):
        return intervention.measure.code


@admin.register(Coordinator)
class CoordinatorAdmin(CampaignDataAdmin):
    resource_classes = [CoordinatorResource]
    list_display = ["__str__", "username", "monthly_capacity", "measure_codes", "active"]
    list_select_related = ["user"]
    list_filter = ["active"]
    search_fields = ["user__username", "user__last_name", "user__first_name"]
    autocomplete_fields = ["user"]
    filter_horizontal = ["measures"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("measures")

    @admin.display(description="username", ordering="user__username")
    def username(self, coordinator):
        return coordinator.user.username

    @admin.display(description="measures")
    def measure_codes(self, coordinator):
        return ", ".join(sorted(m.code for m in coordinator.measures.all())) or "any"


# Campaigns: read-only ------------------------------------------------------------------------


class CampaignProgressInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = CampaignProgress
    fields = ["day", "total", "finished", "closures"]
    readonly_fields = fields
    extra = 0
    ordering = ["-day"]


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    """Read-mostly: people with change permission may rename a campaign, nothing else.

    Status, staffing and assignments change through the campaign pages (services), which keep
    assignments and the audit trail in step.
    """

    list_display = [
        "name",
        "status",
        "strategy",
        "created_by",
        "coordinator_count",
        "target_completion_date",
        "created_at",
        "assignment_link",
    ]
    list_select_related = ["created_by"]
    list_filter = ["status", "strategy"]
    search_fields = ["name"]
    date_hierarchy = "created_at"
    fields = [
        "name",
        "status",
        "strategy",
        "created_by",
        "coordinator_count",
        "target_completion_date",
        "created_at",
        "completed_at",
        "assignment_link",
        "metrics_snapshot",
    ]
    readonly_fields = [name for name in fields if name != "name"]
    inlines = [CampaignProgressInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(assignment_total=Count("assignments"))

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="assignments", ordering="assignment_total")
    def assignment_link(self, campaign):
        url = reverse("admin:campaigns_campaignassignment_changelist")
        return format_html(
            '<a href="{}?campaign__id__exact={}">{} assignments</a>',
            url,
            campaign.pk,
            campaign.assignment_total,
        )

    @admin.display(description="metrics when created")
    def metrics_snapshot(self, campaign):
        return format_html("<pre>{}</pre>", json.dumps(campaign.metrics, indent=2))


@admin.register(CampaignAssignment)
class CampaignAssignmentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "id",
        "campaign",
        "member_code",
        "measure_code",
        "coordinator",
        "status",
        "active",
        "updated_at",
    ]
    list_select_related = [
        "campaign",
        "intervention__member",
        "intervention__measure",
        "coordinator__user",
    ]
    list_filter = ["status", "active", "campaign__status"]
    search_fields = ["^intervention__member__member_id"]
    search_help_text = "Member ID (beginning)"
    raw_id_fields = ["campaign", "intervention", "coordinator"]

    @admin.display(description="member ID", ordering="intervention__member__member_id")
    def member_code(self, assignment):
        return assignment.intervention.member.member_id

    @admin.display(description="measure", ordering="intervention__measure__code")
    def measure_code(self, assignment):
        return assignment.intervention.measure.code


@admin.register(CampaignProgress)
class CampaignProgressAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["campaign", "day", "total", "finished", "closures"]
    list_select_related = ["campaign"]
    list_filter = ["campaign__status"]
    date_hierarchy = "day"
