"""django-import-export resource for claims in the admin.

The columns are those of `manage.py import_claims` (rcm.importers), so an export can be
imported again. An import does not go through import-export's row-by-row machinery: the whole
file is checked by rcm.importers.check_rows (the command's own checks, including the ones
across rows: duplicate claim numbers, a member named two ways) and, once every row is good,
written by rcm.importers.write_batch, all or nothing. The preview shows each row as new,
update or skipped (unchanged), or each bad row with its problems by column. Row numbers are
the spreadsheet's (the header is row 1), as in the command's messages.

Exports go through SafeModelResource, which neutralises spreadsheet formulas.
"""

from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from import_export import fields
from import_export.results import Result, RowResult

from opsintel.csvimport import InvalidImport
from opsintel.importexport import SafeModelResource
from rcm import importers
from rcm.models import Claim


def _cell(value):
    """A dataset cell as the text a CSV cell would hold (xlsx cells come typed)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return str(Decimal(repr(value)))
    return str(value)


class ClaimResource(SafeModelResource):
    def get_result_class(self):
        return Result  # its errors come from the importer, numbered from the header already

    member_id = fields.Field(attribute="patient__member_id", column_name="member_id")
    patient_name = fields.Field(attribute="patient__name", column_name="patient_name")
    date_of_birth = fields.Field(attribute="patient__date_of_birth", column_name="date_of_birth")
    payer = fields.Field(attribute="payer__name", column_name="payer")

    class Meta:
        model = Claim
        fields = list(importers.COLUMNS)
        export_order = list(importers.COLUMNS)
        import_id_fields = ["claim_number"]

    def filter_export(self, queryset, **kwargs):
        return super().filter_export(queryset, **kwargs).select_related("patient", "payer")

    def get_user_visible_fields(self):
        return [self.fields[name] for name in importers.COLUMNS]

    def import_data(self, dataset, dry_run=False, raise_errors=False, **kwargs):
        result = self.get_result_class()()
        headers = [str(header or "").strip() for header in dataset.headers or []]
        result.diff_headers = headers
        result.total_rows = len(dataset)
        name = kwargs.get("file_name") or "the file"
        rows = [
            (number, dict(zip(headers, map(_cell, cells), strict=False)))
            for number, cells in enumerate(dataset, start=2)
        ]
        batch = importers.check_rows(name, headers, rows)
        if batch.errors and not batch.problems:  # the header: the file as a whole
            error = ValueError(" ".join(batch.errors.shown))
            result.append_base_error(self.get_error_result_class()(error))
            return result
        report = None
        if not batch.errors:
            try:
                report = importers.write_batch(batch, dry_run=dry_run, audit=False)
            except InvalidImport as error:  # a constraint the checks missed: nothing written
                error = ValueError(" ".join(error.messages))
                result.append_base_error(self.get_error_result_class()(error))
                return result
            claims = {}
            if not dry_run and kwargs.get("retain_instance_in_row_result"):
                claims = Claim.objects.in_bulk(report.claim_ids.values())
        for number, values in rows:
            row_result = self.get_row_result_class()()
            cells = [values.get(header, "") for header in headers]
            problems = batch.problems.get(number)
            if problems:
                by_column = {}
                for column, message in problems:
                    by_column.setdefault(column, []).append(message)
                values_shown = dict(zip(headers, cells, strict=True))
                result.append_invalid_row(number, values_shown, ValidationError(by_column))
                row_result.import_type = RowResult.IMPORT_TYPE_INVALID
            elif report is None:
                continue  # good row of a bad file: only the bad rows are listed
            else:
                claim_number = values["claim_number"].strip()
                row_result.import_type = report.outcomes[claim_number]
                row_result.diff = cells
                row_result.object_id = report.claim_ids.get(claim_number)
                row_result.object_repr = claim_number
                row_result.instance = claims.get(row_result.object_id)
            result.increment_row_result_total(row_result)
            if row_result.is_valid():
                result.append_row_result(row_result)
        return result
