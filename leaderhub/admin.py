"""Django admin for the Leader Hub.

The small tables (market groups, markets, providers, their active markets, leaders' markets)
are edited here and imported/exported (audited, formulas neutralised; see
leaderhub.resources). Visits, shifts and breakdowns come from the daily files
(`manage.py import_leaderhub`): read-mostly here, searched by their source ids, and opening a
visit (PHI) is audited. The rollup tables are computed (leaderhub.rollups): read-only.

A user's markets are also edited on the user's own admin page (an inline added to opsintel's
user admin, which opsintel cannot know about: apps depend on opsintel, not the reverse).
"""

from django.contrib import admin

from leaderhub.models import (
    LeaderAccess,
    Market,
    MarketActiveProvider,
    MarketGroup,
    MarketMetrics,
    MarketProviderMetrics,
    Provider,
    ProviderMetrics,
    ProviderShift,
    ShiftBreakdown,
    Visit,
)
from leaderhub.resources import (
    LeaderAccessResource,
    MarketActiveProviderResource,
    MarketGroupResource,
    MarketResource,
    ProviderResource,
)
from opsintel.admin import OpsIntelUserAdmin
from opsintel.importexport import (
    AuditedChangeViewMixin,
    AuditedImportExportMixin,
    ReadOnlyAdminMixin,
)
from opsintel.models import User


class LeaderHubDataAdmin(AuditedImportExportMixin, admin.ModelAdmin):
    pass


@admin.register(MarketGroup)
class MarketGroupAdmin(LeaderHubDataAdmin):
    resource_classes = [MarketGroupResource]
    list_display = ["name", "short_name"]
    search_fields = ["name", "short_name"]


@admin.register(Market)
class MarketAdmin(LeaderHubDataAdmin):
    resource_classes = [MarketResource]
    list_display = ["name", "short_name", "market_group"]
    list_select_related = ["market_group"]
    list_filter = ["market_group"]
    search_fields = ["name", "short_name"]


class ActiveMarketInline(admin.TabularInline):
    model = MarketActiveProvider
    extra = 0
    autocomplete_fields = ["market"]


@admin.register(Provider)
class ProviderAdmin(LeaderHubDataAdmin):
    resource_classes = [ProviderResource]
    list_display = ["id", "last_name", "first_name", "job_title", "user"]
    list_select_related = ["user"]
    list_filter = ["job_title", "active_markets__market"]
    search_fields = ["=id", "last_name", "first_name"]
    search_help_text = "Provider id (exact) or name"
    autocomplete_fields = ["user"]
    inlines = [ActiveMarketInline]


@admin.register(MarketActiveProvider)
class MarketActiveProviderAdmin(LeaderHubDataAdmin):
    resource_classes = [MarketActiveProviderResource]
    list_display = ["provider", "market"]
    list_select_related = ["provider", "market"]
    list_filter = ["market"]
    search_fields = ["=provider__id", "provider__last_name", "market__short_name"]
    autocomplete_fields = ["market", "provider"]


@admin.register(LeaderAccess)
class LeaderAccessAdmin(LeaderHubDataAdmin):
    resource_classes = [LeaderAccessResource]
    list_display = ["user", "roles", "market_names"]
    list_select_related = ["user"]
    search_fields = ["user__username", "user__last_name", "user__first_name"]
    autocomplete_fields = ["user"]
    filter_horizontal = ["markets"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("markets", "user__groups")

    @admin.display(description="roles")
    def roles(self, access):
        return ", ".join(sorted(group.name for group in access.user.groups.all()))

    @admin.display(description="markets")
    def market_names(self, access):
        return ", ".join(sorted(market.short_name for market in access.markets.all())) or "none"


# Source data from the daily files: read-mostly ------------------------------------------------


class SourceDataAdmin(admin.ModelAdmin):
    """Rows that arrive through the import: corrected here at most, never added or deleted."""

    show_full_result_count = False  # counting millions of visits on every page is slow

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Visit)
class VisitAdmin(AuditedChangeViewMixin, SourceDataAdmin):
    list_display = [
        "care_request_id",
        "service_date",
        "provider",
        "market",
        "patient_athena_id",
        "chief_complaint",
        "on_scene_minutes",
        "nps_score",
        "escalated",
        "abx_prescribed",
    ]
    list_select_related = ["provider", "market"]
    list_filter = ["market", "escalated", "abx_prescribed", "survey_captured"]
    # Source ids only: patient names are not search keys.
    search_fields = ["=care_request_id", "=patient_athena_id"]
    search_help_text = "Care request id or patient athena id (exact)"
    raw_id_fields = ["provider", "market"]
    date_hierarchy = "service_date"


class BreakdownInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ShiftBreakdown
    fields = ["start", "end", "stage", "latitude_e6", "longitude_e6"]
    readonly_fields = fields
    extra = 0


@admin.register(ProviderShift)
class ProviderShiftAdmin(SourceDataAdmin):
    list_display = [
        "shift_team_id",
        "service_date",
        "provider",
        "market",
        "start",
        "end",
        "patients_seen",
        "on_break",
    ]
    list_select_related = ["provider", "market"]
    list_filter = ["market"]
    search_fields = ["=shift_team_id"]
    search_help_text = "Shift team id (exact)"
    raw_id_fields = ["provider", "market"]
    date_hierarchy = "service_date"
    inlines = [BreakdownInline]


@admin.register(ShiftBreakdown)
class ShiftBreakdownAdmin(SourceDataAdmin):
    list_display = ["shift_team_id", "stage", "start", "end", "latitude_e6", "longitude_e6"]
    list_select_related = ["shift"]
    list_filter = ["stage"]
    search_fields = ["=shift__shift_team_id"]
    search_help_text = "Shift team id (exact)"
    raw_id_fields = ["shift"]

    @admin.display(description="shift team id", ordering="shift__shift_team_id")
    def shift_team_id(self, breakdown):
        return breakdown.shift.shift_team_id


# Rollups: computed, read-only -----------------------------------------------------------------

METRIC_COLUMNS = ["as_of", "visits", "on_scene_median", "chart_closure_rate", "nps"]


@admin.register(ProviderMetrics)
class ProviderMetricsAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["provider", *METRIC_COLUMNS, "on_task_percent"]
    list_select_related = ["provider"]
    search_fields = ["=provider__id", "provider__last_name"]


@admin.register(MarketProviderMetrics)
class MarketProviderMetricsAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["provider", "market", *METRIC_COLUMNS, "on_task_percent"]
    list_select_related = ["provider", "market"]
    list_filter = ["market"]
    search_fields = ["=provider__id", "provider__last_name"]


@admin.register(MarketMetrics)
class MarketMetricsAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["market", *METRIC_COLUMNS, "on_task_percent"]
    list_select_related = ["market"]


# The user admin, with the user's markets ------------------------------------------------------


class LeaderAccessInline(admin.StackedInline):
    model = LeaderAccess
    filter_horizontal = ["markets"]
    can_delete = False
    max_num = 1
    extra = 1
    verbose_name = verbose_name_plural = "Leader Hub markets"


class LeaderHubUserAdmin(OpsIntelUserAdmin):
    inlines = [*OpsIntelUserAdmin.inlines, LeaderAccessInline]


admin.site.unregister(User)
admin.site.register(User, LeaderHubUserAdmin)
