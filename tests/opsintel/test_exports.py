import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from opsintel.exports import FORMULA_TRIGGERS, csv_lines, neutralise


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=SUM(A1:A9)", "'=SUM(A1:A9)"),
        ("+1-555-0100", "'+1-555-0100"),
        ("-2+3", "'-2+3"),
        ("@SUM(1)", "'@SUM(1)"),
        ("\tindent", "'\tindent"),
        ("\r\n", "'\r\n"),
        ("\nline", "'\nline"),
        ("Jane O'Neil", "Jane O'Neil"),
        ("a=b", "a=b"),
        ("", ""),
        (-5, -5),
        (Decimal("-12.50"), Decimal("-12.50")),
        (None, None),
    ],
)
def test_neutralise(value, expected):
    assert neutralise(value) == expected


@given(st.text())
def test_no_exported_text_cell_can_start_a_formula(text):
    cell = neutralise(text)
    assert not cell.startswith(FORMULA_TRIGGERS)
    assert cell in (text, "'" + text)


@given(st.lists(st.lists(st.text(), min_size=1, max_size=4), max_size=5))
def test_csv_round_trips_every_cell_apart_from_the_guard_quote(rows):
    body = "".join(csv_lines(["a", "b", "c", "d"], rows))
    parsed = list(csv.reader(io.StringIO(body, newline="")))
    assert parsed[0] == ["a", "b", "c", "d"]
    assert parsed[1:] == [[neutralise(cell) for cell in row] for row in rows]


def test_dates_are_iso_and_times_local():
    when = datetime(2026, 1, 15, 17, 30, tzinfo=UTC)  # 12:30 in New York
    line = next(iter(list(csv_lines(["d", "t"], [(date(2026, 1, 15), when)]))[1:]))
    assert line == "2026-01-15,2026-01-15T12:30:00-05:00\r\n"
