"""The one CSV exporter: streams rows in constant memory and neutralises spreadsheet formulas.

A text cell that starts with "=", "+", "-", "@", tab, carriage return or line feed would be run as
a formula by Excel or Sheets; it is written with a leading "'" instead (OWASP CSV injection
guidance). Numbers, dates and Decimals are written as they are. Every export is audited.
"""

import csv
from datetime import date, datetime
from decimal import Decimal

from django.http import StreamingHttpResponse
from django.utils import timezone

from opsintel.audit import Action, record_event

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")


def neutralise(value):
    """Make a cell safe to open in a spreadsheet."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


_PLAIN_TYPES = frozenset({int, float, Decimal, bool})


def _cell(value):
    # Called for every cell of every export: the common types are checked first, by identity.
    kind = type(value)
    if kind is str:
        return "'" + value if value.startswith(FORMULA_TRIGGERS) else value
    if kind in _PLAIN_TYPES:
        return value
    if value is None:
        return ""
    if isinstance(value, datetime):
        # Stored in UTC; people read local time.
        return timezone.localtime(value).isoformat() if timezone.is_aware(value) else value
    if isinstance(value, date):
        return value.isoformat()
    return neutralise(value)


class _Line:
    """A file-like object whose write() hands back the line csv.writer produced."""

    def write(self, value):
        return value


def csv_lines(header, rows):
    """Yield CSV lines (str): the header, then one per row, each cell neutralised."""
    writer = csv.writer(_Line())
    yield writer.writerow([_cell(name) for name in header])
    for row in rows:
        yield writer.writerow([_cell(value) for value in row])


def stream_csv(request, *, filename, header, rows, model=None, object_ids=(), description=""):
    """A streaming CSV download, audited as an export of `object_ids` of `model`.

    `rows` should be a lazy iterable (a generator over `queryset.iterator()`), so the response
    holds one row at a time whatever the size of the export.
    """
    record_event(
        Action.EXPORT,
        request=request,
        model=model,
        object_ids=object_ids,
        description=description or f"CSV export {filename}",
    )
    response = StreamingHttpResponse(
        (line.encode("utf-8") for line in csv_lines(header, rows)),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response
