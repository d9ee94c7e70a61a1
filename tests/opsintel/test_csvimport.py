"""opsintel.csvimport: the shared CSV reader, row parsers and error collection."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from opsintel.csvimport import MAX_BIGINT, Errors, InvalidImport, Row, TableCounts, read_rows

COLUMNS = ("id", "name")


def read(tmp_path, content, *, encoding="utf-8"):
    path = tmp_path / "things.csv"
    path.write_bytes(content.encode(encoding) if isinstance(content, str) else content)
    errors = Errors()
    return list(read_rows(path, COLUMNS, errors)), errors


def test_rows_are_numbered_as_in_a_spreadsheet_and_stripped(tmp_path):
    rows, errors = read(tmp_path, "\ufeff name , id\n 1 , Ann \n2,Bo\n")
    assert rows == [(2, {"name": "1", "id": "Ann"}), (3, {"name": "2", "id": "Bo"})]
    assert not errors


def test_a_wrong_header_names_missing_unexpected_and_repeated_columns(tmp_path):
    rows, errors = read(tmp_path, "id,id,colour\n1,2,3\n")
    assert rows == []
    assert errors.shown == [
        "things.csv: missing column(s) name; unexpected column(s) 'colour'; repeated column(s) "
        "id. The header must have exactly these columns: id, name."
    ]


def test_an_empty_file_says_which_columns_it_needs(tmp_path):
    assert read(tmp_path, "")[1].shown == [
        "things.csv: the file is empty; expected the columns id, name."
    ]


def test_a_non_utf8_file_names_the_row_and_byte(tmp_path):
    _, errors = read(tmp_path, "id,name\n1,Ann\n2,Müller\n", encoding="latin-1")
    assert errors.shown == [
        'things.csv row 3 (byte 0xfc): the file is not UTF-8 text. Save it as UTF-8 ("CSV '
        'UTF-8") and import again.'
    ]


def test_rows_with_too_many_or_too_few_values_are_reported_and_skipped(tmp_path):
    rows, errors = read(tmp_path, "id,name\n1,Ann,extra,more\n2\n3,Cy\n")
    assert rows == [(4, {"id": "3", "name": "Cy"})]
    assert errors.shown == [
        "things.csv row 2: 4 values for 2 columns.",
        "things.csv row 3: 1 values for 2 columns.",
    ]


def test_errors_keep_the_first_messages_and_count_all():
    errors = Errors(limit=2)
    for number in range(5):
        errors.add(f"problem {number}")
    assert (errors.shown, errors.total, bool(errors)) == (["problem 0", "problem 1"], 5, True)
    invalid = InvalidImport(errors.shown, errors.total)
    assert invalid.error_count == 5
    assert invalid.messages == ["problem 0", "problem 1", "… and 3 more errors not shown."]


def test_table_counts_summarise():
    counts = TableCounts(created=1_200, updated=2, unchanged=3)
    assert str(counts) == "1,200 created, 2 updated, 3 unchanged"
    assert counts.summary(updated=False) == "1,200 created, 3 unchanged"


def parse(method, value, *args, **kwargs):
    """(parsed value, error messages) of one cell called `col`."""
    errors = Errors()
    row = Row("f.csv", 7, {"col": value, "start": "", "end": ""}, errors)
    result = getattr(row, method)("col", *args, **kwargs)
    assert row.ok == (not errors)
    return result, errors.shown


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (("text", ""), ("", "col is empty")),
        (
            ("text", "abcdef", {"max_length": 3}),
            ("abcdef", "col 'abcdef' is longer than 3 characters"),
        ),
        (("integer", "x1"), (None, "col 'x1' is not a whole number")),
        (("integer", "-3"), (None, "col '-3' is negative")),
        (("integer", "11", {"high": 10}), (None, "col 11 is outside 0–10")),
        (
            ("integer", str(MAX_BIGINT + 1)),
            (None, f"col {MAX_BIGINT + 1} is outside 0–{MAX_BIGINT}"),
        ),
        (("decimal", "abc", {"places": 2, "max_digits": 5}), (None, "col 'abc' is not a number")),
        (("decimal", "-1", {"places": 2, "max_digits": 5}), (None, "col '-1' is negative")),
        (("decimal", "1000", {"places": 2, "max_digits": 5}), (None, "col '1000' is too large")),
        (
            ("decimal", "1.234", {"places": 2, "max_digits": 5}),
            (None, "col '1.234' has more than 2 decimal places"),
        ),
        (("boolean", "maybe"), (None, "col 'maybe' is not true or false")),
        (("date", "01/10/2024"), (None, "col '01/10/2024' is not a date (YYYY-MM-DD)")),
        (("date", "2025-02-30"), (None, "col '2025-02-30' is not a date (YYYY-MM-DD)")),
        (
            ("datetime", "yesterday"),
            (
                None,
                "col 'yesterday' is not an ISO 8601 date and time "
                "(YYYY-MM-DDTHH:MM[:SS][±HH:MM or Z])",
            ),
        ),
        (
            ("choice", "lunch", ("on_scene", "idle")),
            (None, "col 'lunch' is not one of on_scene, idle"),
        ),
        (
            ("choice", "done", ("completed",), {"noun": "status"}),
            (None, "col 'done' is not a known status; expected one of completed"),
        ),
        (("url", "not a url"), ("not a url", "col 'not a url' is not a URL")),
    ],
)
def test_each_parser_names_file_row_column_and_value(call, expected):
    method, value, *rest = call
    args = [item for item in rest if not isinstance(item, dict)]
    kwargs = next((item for item in rest if isinstance(item, dict)), {})
    result, messages = parse(method, value, *args, **kwargs)
    assert (result, messages) == (expected[0], [f"f.csv row 7: {expected[1]}."])


@pytest.mark.parametrize(
    ("method", "kwargs"),
    [
        ("integer", {}),
        ("decimal", {"places": 2, "max_digits": 5}),
        ("date", {}),
        ("datetime", {}),
    ],
)
def test_an_empty_cell_is_an_error_unless_not_required(method, kwargs):
    assert parse(method, "", **kwargs) == (None, ["f.csv row 7: col is empty."])
    assert parse(method, "", required=False, **kwargs) == (None, [])


def test_good_values_parse():
    assert parse("text", "Ann", max_length=3) == ("Ann", [])
    assert parse("text", "", required=False) == ("", [])
    assert parse("integer", "", required=False, default=0) == (0, [])
    assert parse("integer", "-5", low=-10, high=10) == (-5, [])
    assert parse("decimal", "1.5", places=2, max_digits=5) == (Decimal("1.50"), [])
    assert parse("boolean", "YES") == (True, [])
    assert parse("boolean", "n") == (False, [])
    assert parse("boolean", "", empty=None) == (None, [])
    assert parse("date", "2024-05-01") == (date(2024, 5, 1), [])
    assert parse("datetime", "2024-05-01T14:03:00Z") == (
        datetime(2024, 5, 1, 14, 3, tzinfo=UTC),
        [],
    )
    assert parse("choice", "In_Progress", ("completed", "in_progress")) == ("in_progress", [])
    assert parse("choice", "open", ("Open", "Closed")) == ("Open", [])
    assert parse("url", "https://example.org/a.png") == ("https://example.org/a.png", [])


def test_ends_after_names_both_values():
    errors = Errors()
    values = {"start": "2026-03-02T09:00:00Z", "end": "2026-03-02T08:00:00Z"}
    row = Row("shifts.csv", 3, values, errors)
    row.ends_after(row.datetime("start"), row.datetime("end"))
    assert errors.shown == [
        "shifts.csv row 3: end 2026-03-02T08:00:00Z is not after start 2026-03-02T09:00:00Z."
    ]
    assert not row.ok
