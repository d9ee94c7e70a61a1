"""The admin on the platform's rules: neutralised cells, permissions and an audit trail.

Admin classes that offer import or export use `AuditedImportExportMixin` (or the export-only
`AuditedExportMixin`) with a resource built on `SafeModelResource`; admin pages of PHI records
mix in `AuditedChangeViewMixin`; rows that change only through services `ReadOnlyAdminMixin`.
"""

from django.contrib.admin.utils import unquote
from import_export import resources
from import_export.admin import ExportMixin, ImportExportMixin

from opsintel.audit import Action, record_event
from opsintel.exports import neutralise


class SafeModelResource(resources.ModelResource):
    def export_field(self, field, instance, **kwargs):
        return neutralise(super().export_field(field, instance, **kwargs))


class _AuditedExport:
    # django-import-export lets any staff user export (and import) by default; here export
    # needs view permission on the model, import needs add and change.
    def has_export_permission(self, request):
        return self.has_view_permission(request)

    def get_export_data(self, file_format, request, queryset, **kwargs):
        data = super().get_export_data(file_format, request, queryset, **kwargs)
        record_event(
            Action.EXPORT,
            request=request,
            objects=queryset,
            description=f"Admin export ({file_format.get_title()})",
        )
        return data


class AuditedExportMixin(_AuditedExport, ExportMixin):
    pass


class AuditedImportExportMixin(_AuditedExport, ImportExportMixin):
    def has_import_permission(self, request):
        return self.has_add_permission(request) and self.has_change_permission(request)

    def process_result(self, result, request):
        response = super().process_result(result, request)
        record_event(
            Action.IMPORT,
            request=request,
            model=self.model,
            object_ids=[row.object_id for row in result.valid_rows() if row.object_id],
            description="Admin import: "
            + ", ".join(f"{count} {kind}" for kind, count in result.totals.items() if count),
        )
        return response


class AuditedChangeViewMixin:
    """Opening a PHI record's page in the admin is recorded as a view in the audit trail."""

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        if request.method == "GET" and response.status_code == 200:
            record_event(
                Action.VIEW,
                request=request,
                model=self.model,
                object_ids=[unquote(object_id)],
                description="Admin record view",
            )
        return response


class ReadOnlyAdminMixin:
    """Rows that change only through services (or never, like the audit trail)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
