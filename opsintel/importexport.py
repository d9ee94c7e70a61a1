"""The admin on the platform's rules: neutralised cells, permissions and an audit trail.

Admin classes that offer import or export use `AuditedImportExportMixin` (or the export-only
`AuditedExportMixin`) with a resource built on `SafeModelResource`; admin pages of PHI records
mix in `AuditedChangeViewMixin`; rows that change only through services `ReadOnlyAdminMixin`.
"""

import csv
import io

import tablib
from django import forms
from django.conf import settings
from django.contrib.admin.utils import unquote
from import_export import resources
from import_export.admin import ExportMixin, ImportExportMixin
from import_export.formats import base_formats
from import_export.forms import ImportForm
from import_export.results import Result

from opsintel.audit import Action, record_event
from opsintel.exports import neutralise


class SpreadsheetRowResult(Result):
    """Row errors numbered as in a spreadsheet (the header is row 1), as the import commands
    number them, and by the row's own number even when unchanged rows are skipped."""

    def append_invalid_row(self, number, row, validation_error):
        super().append_invalid_row(number + 1, row, validation_error)

    def append_error_row(self, number, row, errors):
        super().append_error_row(number + 1, row, errors)

    def row_errors(self):
        return [(row.number, row.errors) for row in self.error_rows]


class SafeModelResource(resources.ModelResource):
    def get_result_class(self):
        return SpreadsheetRowResult

    def before_import(self, dataset, **kwargs):
        super().before_import(dataset, **kwargs)
        self._key_rows = {}

    def before_import_row(self, row, **kwargs):
        # A key given twice in one file is an error, not "the last row wins".
        super().before_import_row(row, **kwargs)
        columns = [self.fields[name].column_name for name in self.get_import_id_fields()]
        key = tuple(str(row.get(column) or "").strip() for column in columns)
        number = kwargs.get("row_number")
        first = self._key_rows.setdefault(key, number)
        if first != number:
            raise ValueError(f"{', '.join(columns)} {', '.join(key)} is also on row {first + 1}.")

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


class StrictCSV(base_formats.CSV):
    """CSV read strictly: a file cut inside a quoted cell, or a row with the wrong number of
    values, is refused with its row number instead of being padded or half-read."""

    def create_dataset(self, in_stream, **kwargs):
        if isinstance(in_stream, bytes):
            in_stream = in_stream.decode(self.encoding or "utf-8-sig")
        rows = list(csv.reader(io.StringIO(in_stream, newline=""), strict=True))
        header, data = (rows[0], rows[1:]) if rows else ([], [])
        for number, row in enumerate(data, start=2):
            if row and len(row) != len(header):
                raise ValueError(f"row {number}: {len(row)} values for {len(header)} columns.")
        return tablib.Dataset(*[row for row in data if row], headers=header)


class SizeCappedImportForm(ImportForm):
    """The admin reads an upload whole into memory, so it takes files up to
    settings.IMPORT_MAX_UPLOAD_MB; a bigger one is refused before it is read, and the page says
    where it goes instead (the import commands stream any size)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["import_file"].help_text = (
            f"Files up to {settings.IMPORT_MAX_UPLOAD_MB} MB. A bigger file goes through the "
            "app's import management command (manage.py import_…), which streams it."
        )

    def clean_import_file(self):
        upload = self.cleaned_data["import_file"]
        limit = settings.IMPORT_MAX_UPLOAD_MB
        if upload.size > limit * 1024 * 1024:
            raise forms.ValidationError(
                f"The file is {upload.size / 2**20:.1f} MB; the admin imports files up to "
                f"{limit} MB. Import it with the app's import management command "
                "(manage.py import_…) instead, which streams files of any size."
            )
        return upload


class AuditedImportExportMixin(_AuditedExport, ImportExportMixin):
    import_form_class = SizeCappedImportForm

    @property
    def import_formats(self):
        return [StrictCSV if f is base_formats.CSV else f for f in super().import_formats]

    def add_data_read_fail_error_to_form(self, form, e):
        # Say what is wrong with the file, not which exception the library met.
        if isinstance(e, UnicodeDecodeError):
            message = 'The file is not UTF-8 text. Save it as UTF-8 ("CSV UTF-8") and import again.'
        elif isinstance(e, csv.Error | ValueError):
            message = f"The file is not readable as CSV: {e}"
        else:
            return super().add_data_read_fail_error_to_form(form, e)
        form.add_error("import_file", message)

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
