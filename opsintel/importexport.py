"""django-import-export on the platform's rules: neutralised cells and an audit trail.

Admin classes that offer import or export use `AuditedImportExportMixin` (or the export-only
`AuditedExportMixin`) with a resource built on `SafeModelResource`.
"""

from import_export import resources
from import_export.admin import ExportMixin, ImportExportMixin

from opsintel.audit import Action, record_event
from opsintel.exports import neutralise


class SafeModelResource(resources.ModelResource):
    def export_field(self, field, instance, **kwargs):
        return neutralise(super().export_field(field, instance, **kwargs))


class _AuditedExport:
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
