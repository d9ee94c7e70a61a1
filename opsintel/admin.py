from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.db.models import TextField
from django.db.models.functions import Cast
from import_export import fields

from opsintel.importexport import AuditedExportMixin, ReadOnlyAdminMixin, SafeModelResource
from opsintel.models import AuditEvent, User

admin.site.site_header = "OpsIntel administration"
admin.site.site_title = "OpsIntel admin"


@admin.register(User)
class OpsIntelUserAdmin(UserAdmin):
    list_display = ["username", "first_name", "last_name", "email", "roles", "is_active"]
    list_filter = ["is_active", "is_staff", "groups"]

    @admin.display(description="Roles")
    def roles(self, user):
        return ", ".join(sorted(group.name for group in user.groups.all()))

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")


class AuditEventResource(SafeModelResource):
    actor = fields.Field(attribute="actor_username", column_name="actor")

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "at",
            "actor",
            "action",
            "object_type",
            "object_count",
            "object_ids",
            "description",
            "ip_address",
            "user_agent",
            "path",
        ]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, AuditedExportMixin, admin.ModelAdmin):
    """The audit trail: read-only for everyone, exports of it audited too."""

    resource_classes = [AuditEventResource]
    list_display = ["at", "actor_username", "action", "object_type", "object_count", "ip_address"]
    list_filter = ["action", "object_type", ("at", admin.DateFieldListFilter)]
    search_fields = ["actor_username", "description", "path", "ip_address"]
    date_hierarchy = "at"
    list_select_related = False
    show_full_result_count = False  # counting millions of rows on every page is slow

    def get_queryset(self, request):
        return AuditEvent.objects.visible_to(request.user)

    def get_search_results(self, request, queryset, search_term):
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if term.isdigit():
            # Find every event that touched record id `term`: ids are stored as JSON strings.
            matching_ids = (
                self.get_queryset(request)
                .alias(ids_text=Cast("object_ids", TextField()))
                .filter(ids_text__contains=f'"{term}"')
            )
            queryset |= matching_ids
        return queryset, may_have_duplicates


from opsintel import admin_jobs  # noqa: F401, E402  (the beat schedule admin, with "Run now")
