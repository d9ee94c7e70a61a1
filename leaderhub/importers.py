"""Loading the Leader Hub source tables from CSV files (`manage.py import_leaderhub DIR`).

The directory holds one UTF-8 CSV per table; any subset of the files may be present (a daily
drop usually carries visits.csv, provider_shifts.csv and shift_breakdowns.csv only). The header
row must name exactly these columns, in any order (docs/leaderhub-import.md has examples):

    market_groups.csv            name, short_name
    markets.csv                  name, short_name, market_group
    providers.csv                id, first_name, last_name, avatar_url, job_title
    market_active_providers.csv  market, provider_id
    visits.csv                   care_request_id, provider_id, market, service_date,
                                 patient_first_name, patient_last_name, patient_athena_id,
                                 chief_complaint, diagnosis, on_scene_minutes, chart_closed_24h,
                                 survey_captured, nps_score, escalated, escalation_reason,
                                 abx_prescribed, abx_details
    provider_shifts.csv          shift_team_id, provider_id, market, service_date, start, end,
                                 patients_seen, out_the_door, en_route, on_scene, on_break, idle
    shift_breakdowns.csv         shift_team_id, start, end, stage, latitude_e6, longitude_e6

Keys and references
-------------------
* A market group and a market are named by their `short_name` (`markets.market_group` and every
  `market` column hold a short name). Name and group of an existing market are updated.
* Providers carry `id`, the provider's id **in the source system**, stored as our Provider
  primary key: every `provider_id` column refers to it (on PostgreSQL the id sequence is then
  moved past the imported ids). Names, avatar and job title of an existing provider are
  updated; the user account linked to a provider (admin) is left alone.
* market_active_providers.csv adds (market, provider) pairs; a pair missing from a later file is
  not removed (remove it in the admin).
* Visits are keyed by (care_request_id, provider_id), shifts by shift_team_id, breakdowns by
  (shift_team_id, start). A re-imported row replaces the stored values of that key.
* A referenced market, market group, provider or shift must be in its own file of the same
  import or already in the database.

Values
------
* Dates are ISO `YYYY-MM-DD`. Date-times are ISO 8601 (`2024-05-01T14:03:00Z`,
  `2024-05-01 10:03:00-04:00`); one without an offset is local time in settings.TIME_ZONE.
  Stored in UTC.
* Booleans: true/false, yes/no, 1/0, t/f, y/n (any case); empty is false, except
  chart_closed_24h, where empty means unknown.
* on_scene_minutes: a non-negative number with at most 2 decimals, or empty. nps_score: a whole
  number 0–10, or empty (no survey answer). Durations (out_the_door … idle) and patients_seen:
  non-negative whole numbers (seconds for durations), empty is 0.
* job_title: app or dhmt. stage: on_scene, en_route, break or idle. latitude_e6/longitude_e6:
  degrees × 1,000,000 as whole numbers, or empty.
* A shift's and a breakdown's end must be after its start.

Rules
-----
Every row of every file is checked before anything is written, and every problem is reported
with the file name and row number (row 1 is the header, so the first data row is row 2), at
most MAX_ERRORS of them plus a count of the rest. With any problem nothing is written.
Otherwise all files are written in one transaction, in chunks of CHUNK rows read from the
files again (a file of millions of visits is never held in memory as objects): each chunk looks
up the stored rows of its keys in one query and upserts the new and changed rows with one bulk
statement. Rows already holding the file's values are not written, so re-running an import
changes nothing. One AuditEvent (import) records the run and the visits it covered.
"""

import csv
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.color import no_style
from django.core.validators import URLValidator
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from leaderhub.models import (
    Market,
    MarketActiveProvider,
    MarketGroup,
    Provider,
    ProviderShift,
    ShiftBreakdown,
    Visit,
)
from opsintel.audit import Action, record_event

MAX_ERRORS = 50
CHUNK = 5_000  # rows read, looked up and upserted at a time
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
ISO_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}.*")

MARKET_GROUPS = "market_groups.csv"
MARKETS = "markets.csv"
PROVIDERS = "providers.csv"
ACTIVE = "market_active_providers.csv"
VISITS = "visits.csv"
SHIFTS = "provider_shifts.csv"
BREAKDOWNS = "shift_breakdowns.csv"

DURATIONS = ("out_the_door", "en_route", "on_scene", "on_break", "idle")
COLUMNS = {
    MARKET_GROUPS: ("name", "short_name"),
    MARKETS: ("name", "short_name", "market_group"),
    PROVIDERS: ("id", "first_name", "last_name", "avatar_url", "job_title"),
    ACTIVE: ("market", "provider_id"),
    VISITS: (
        "care_request_id",
        "provider_id",
        "market",
        "service_date",
        "patient_first_name",
        "patient_last_name",
        "patient_athena_id",
        "chief_complaint",
        "diagnosis",
        "on_scene_minutes",
        "chart_closed_24h",
        "survey_captured",
        "nps_score",
        "escalated",
        "escalation_reason",
        "abx_prescribed",
        "abx_details",
    ),
    SHIFTS: (
        "shift_team_id",
        "provider_id",
        "market",
        "service_date",
        "start",
        "end",
        "patients_seen",
        *DURATIONS,
    ),
    BREAKDOWNS: ("shift_team_id", "start", "end", "stage", "latitude_e6", "longitude_e6"),
}
FILES = tuple(COLUMNS)  # also the order files are checked and written in

TRUE = frozenset({"true", "t", "yes", "y", "1"})
FALSE = frozenset({"false", "f", "no", "n", "0"})
MAX_BIGINT = 2**63 - 1
_url = URLValidator()


def _max_length(model, name):
    return model._meta.get_field(name).max_length


# Results and errors ---------------------------------------------------------------------------


@dataclass
class TableCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def __str__(self):
        return f"{self.created:,} created, {self.updated:,} updated, {self.unchanged:,} unchanged"


@dataclass
class ImportReport:
    directory: str
    rows_read: dict = field(default_factory=dict)  # file name -> data rows
    tables: dict = field(default_factory=dict)  # file name -> TableCounts
    dry_run: bool = False
    visit_ids: list = field(default_factory=list, repr=False)

    def lines(self):
        verb = "Checked (dry run, nothing written)" if self.dry_run else "Imported"
        lines = [f"{verb} Leader Hub data from {self.directory}"]
        width = max((len(name) for name in self.tables), default=0)
        for name, counts in self.tables.items():
            lines.append(f"  {name.ljust(width)}  {self.rows_read[name]:,} rows: {counts}")
        return lines


class InvalidImport(ValidationError):
    """The files cannot be imported; `messages` lists why (file, row, column, value)."""

    def __init__(self, errors, total):
        self.error_count = total
        shown = list(errors)
        if total > len(shown):
            shown.append(f"… and {total - len(shown):,} more errors not shown.")
        super().__init__(shown)


class _Errors:
    def __init__(self, limit=MAX_ERRORS):
        self.limit = limit
        self.shown = []
        self.total = 0

    def add(self, message):
        self.total += 1
        if len(self.shown) < self.limit:
            self.shown.append(message)

    def __bool__(self):
        return self.total > 0


# Reading one file -------------------------------------------------------------------------------


def _show(value, limit=40):
    return repr(value if len(value) <= limit else value[: limit - 1] + "…")


def _first_non_utf8_row(path):
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as exc:
                return number, line[exc.start]
    return None, None


def _read(path, errors):
    """Yield (row number, {column: stripped text}) for each data row of one CSV file.

    Problems with the file as a whole (not UTF-8, wrong header, unreadable CSV) and rows with
    too many or too few values go to `errors` and are not yielded.
    """
    name = path.name
    expected = COLUMNS[name]
    number = 1
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            header = [column.strip() for column in reader.fieldnames or []]
            if not header:
                errors.add(
                    f"{name}: the file is empty; expected the columns {', '.join(expected)}."
                )
                return
            reader.fieldnames = header
            missing = [column for column in expected if column not in header]
            extra = [column for column in header if column not in expected]
            doubled = sorted({column for column in header if header.count(column) > 1})
            if missing or extra or doubled:
                problems = []
                if missing:
                    problems.append("missing column(s) " + ", ".join(missing))
                if extra:
                    problems.append("unexpected column(s) " + ", ".join(map(repr, extra)))
                if doubled:
                    problems.append("repeated column(s) " + ", ".join(doubled))
                errors.add(
                    f"{name}: {'; '.join(problems)}. The header must have exactly these "
                    f"columns: {', '.join(expected)}."
                )
                return
            for number, row in enumerate(reader, start=2):
                if None in row or None in row.values():
                    given = sum(value is not None for value in row.values()) + len(
                        row.get(None, ())
                    )
                    errors.add(f"{name} row {number}: {given} values for {len(header)} columns.")
                    continue
                yield number, {column: value.strip() for column, value in row.items()}
    except UnicodeDecodeError:
        row, byte = _first_non_utf8_row(path)
        where = f" row {row} (byte 0x{byte:02x})" if row else ""
        errors.add(
            f'{name}{where}: the file is not UTF-8 text. Save it as UTF-8 ("CSV UTF-8") and '
            "import again."
        )
    except csv.Error as exc:
        errors.add(f"{name} row {number + 1}: not readable as CSV ({exc}).")
    except OSError as exc:
        errors.add(f"{name}: cannot be read ({exc.strerror or exc}).")


class _Row:
    """Typed access to one row's values; each bad value adds one error naming file and row."""

    def __init__(self, name, number, values, errors):
        self.name = name
        self.number = number
        self.values = values
        self.errors = errors
        self.ok = True

    def error(self, message):
        self.ok = False
        self.errors.add(f"{self.name} row {self.number}: {message}.")

    def text(self, column, *, max_length, required=False):
        value = self.values[column]
        if not value and required:
            self.error(f"{column} is empty")
        elif len(value) > max_length:
            self.error(f"{column} {_show(value)} is longer than {max_length} characters")
        return value

    def integer(self, column, *, required=True, low=0, high=MAX_BIGINT, default=None):
        value = self.values[column]
        if not value:
            if required:
                self.error(f"{column} is empty")
            return default
        try:
            number = int(value)
        except ValueError:
            self.error(f"{column} {_show(value)} is not a whole number")
            return None
        if not low <= number <= high:
            self.error(f"{column} {number} is outside {low}–{high}")
            return None
        return number

    def decimal(self, column, *, places, max_digits):
        """A non-negative number with at most `places` decimals that fits `max_digits`."""
        value = self.values[column]
        if not value:
            return None
        try:
            number = Decimal(value)
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite():
            self.error(f"{column} {_show(value)} is not a number")
            return None
        if number < 0:
            self.error(f"{column} {_show(value)} is negative")
            return None
        if number >= Decimal(10) ** (max_digits - places):
            self.error(f"{column} {_show(value)} is too large")
            return None
        step = Decimal(1).scaleb(-places)
        if number.quantize(step, rounding=ROUND_DOWN) != number:
            self.error(f"{column} {_show(value)} has more than {places} decimal places")
            return None
        return number.quantize(step)

    def boolean(self, column, *, empty=False):
        value = self.values[column].casefold()
        if not value:
            return empty
        if value in TRUE:
            return True
        if value in FALSE:
            return False
        self.error(f"{column} {_show(self.values[column])} is not true or false")
        return None

    def date(self, column):
        value = self.values[column]
        if not value:
            self.error(f"{column} is empty")
            return None
        try:
            if not ISO_DATE.fullmatch(value):
                raise ValueError(value)
            return date.fromisoformat(value)
        except ValueError:
            self.error(f"{column} {_show(value)} is not a date (YYYY-MM-DD)")
            return None

    def datetime(self, column):
        """An aware datetime in UTC; a value without an offset is local (settings.TIME_ZONE)."""
        value = self.values[column]
        if not value:
            self.error(f"{column} is empty")
            return None
        try:
            if not ISO_DATETIME.fullmatch(value):
                raise ValueError(value)
            moment = datetime.fromisoformat(value)
        except ValueError:
            self.error(
                f"{column} {_show(value)} is not an ISO 8601 date and time "
                "(YYYY-MM-DDTHH:MM[:SS][±HH:MM or Z])"
            )
            return None
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment, timezone.get_default_timezone())
        return moment.astimezone(UTC)

    def choice(self, column, allowed):
        value = self.values[column]
        if value.casefold() not in allowed:
            self.error(f"{column} {_show(value)} is not one of {', '.join(allowed)}")
            return None
        return value.casefold()

    def url(self, column, *, max_length):
        value = self.text(column, max_length=max_length)
        if value:
            try:
                _url(value)
            except ValidationError:
                self.error(f"{column} {_show(value)} is not a URL")
        return value

    def ends_after(self, start, end):
        if start is not None and end is not None and end <= start:
            self.error(f"end {self.values['end']} is not after start {self.values['start']}")


# Parsing rows: one function per file, used when checking and again when writing -------------------
#
# Each returns the row's natural key and {attname: value}, references named by natural keys
# (market short name, provider id, shift_team_id); `refs` checks them during the check pass.


class _Refs:
    """What rows may refer to: keys named by the files of this import plus stored rows."""

    def __init__(self, *, checking=True):
        # Writing reads rows that were checked already: it needs none of these.
        self.checking = checking
        self.groups = set(
            MarketGroup.objects.values_list("short_name", flat=True) if checking else ()
        )
        self.markets = set(Market.objects.values_list("short_name", flat=True) if checking else ())
        self.providers = set(Provider.objects.values_list("pk", flat=True) if checking else ())
        self.shifts = set()  # named in provider_shifts.csv; stored ones are checked at the end
        self.missing_shifts = {}  # shift_team_id -> rows of shift_breakdowns.csv naming it

    def market(self, row, column="market"):
        value = row.values[column]
        if self.checking and value and value not in self.markets:
            row.error(f"{column} {_show(value)} is not in {MARKETS} nor an existing market")
        elif not value:
            row.error(f"{column} is empty")
        return value

    def provider(self, row):
        pk = row.integer("provider_id", low=1)
        if self.checking and pk is not None and pk not in self.providers:
            row.error(f"provider_id {pk} is not in {PROVIDERS} nor an existing provider")
        return pk


def _group(row, refs):
    name = row.text("name", max_length=_max_length(MarketGroup, "name"), required=True)
    short = row.text("short_name", max_length=_max_length(MarketGroup, "short_name"), required=True)
    if refs.checking and short:
        refs.groups.add(short)
    return (short,), {"short_name": short, "name": name}


def _market(row, refs):
    name = row.text("name", max_length=_max_length(Market, "name"), required=True)
    short = row.text("short_name", max_length=_max_length(Market, "short_name"), required=True)
    group = row.values["market_group"]
    if not group:
        row.error("market_group is empty")
    elif refs.checking and group not in refs.groups:
        row.error(f"market_group {_show(group)} is not in {MARKET_GROUPS} nor an existing group")
    if refs.checking and short:
        refs.markets.add(short)
    return (short,), {"short_name": short, "name": name, "market_group": group}


def _provider(row, refs):
    pk = row.integer("id", low=1)
    values = {
        "id": pk,
        "first_name": row.text("first_name", max_length=_max_length(Provider, "first_name")),
        "last_name": row.text(
            "last_name", max_length=_max_length(Provider, "last_name"), required=True
        ),
        "avatar_url": row.url("avatar_url", max_length=_max_length(Provider, "avatar_url")),
        "job_title": row.choice("job_title", Provider.Position.values),
    }
    if refs.checking and pk is not None:
        refs.providers.add(pk)
    return (pk,), values


def _active(row, refs):
    market = refs.market(row)
    provider = refs.provider(row)
    return (market, provider), {"market": market, "provider_id": provider}


def _visit(row, refs):
    crid = row.integer("care_request_id")
    provider = refs.provider(row)
    values = {
        "care_request_id": crid,
        "provider_id": provider,
        "market": refs.market(row),
        "service_date": row.date("service_date"),
    }
    for column in (
        "patient_first_name",
        "patient_last_name",
        "patient_athena_id",
        "chief_complaint",
        "diagnosis",
    ):
        values[column] = row.text(column, max_length=_max_length(Visit, column))
    values["on_scene_minutes"] = row.decimal("on_scene_minutes", places=2, max_digits=7)
    values["chart_closed_24h"] = row.boolean("chart_closed_24h", empty=None)
    values["survey_captured"] = row.boolean("survey_captured")
    values["nps_score"] = row.integer("nps_score", required=False, high=10)
    values["escalated"] = row.boolean("escalated")
    values["escalation_reason"] = row.text(
        "escalation_reason", max_length=_max_length(Visit, "escalation_reason")
    )
    values["abx_prescribed"] = row.boolean("abx_prescribed")
    values["abx_details"] = row.text("abx_details", max_length=_max_length(Visit, "abx_details"))
    return (crid, provider), values


MAX_POSITIVE_INT = 2_147_483_647  # PositiveIntegerField on PostgreSQL


def _shift(row, refs):
    shift_id = row.integer("shift_team_id")
    values = {
        "shift_team_id": shift_id,
        "provider_id": refs.provider(row),
        "market": refs.market(row),
        "service_date": row.date("service_date"),
        "start": row.datetime("start"),
        "end": row.datetime("end"),
        "patients_seen": row.integer(
            "patients_seen", required=False, default=0, high=MAX_POSITIVE_INT
        ),
    }
    for column in DURATIONS:
        values[column] = row.integer(column, required=False, default=0, high=MAX_POSITIVE_INT)
    row.ends_after(values["start"], values["end"])
    if refs.checking and shift_id is not None:
        refs.shifts.add(shift_id)
    return (shift_id,), values


def _breakdown(row, refs):
    shift_id = row.integer("shift_team_id")
    start, end = row.datetime("start"), row.datetime("end")
    row.ends_after(start, end)
    values = {
        "shift": shift_id,
        "start": start,
        "end": end,
        "stage": row.choice("stage", ShiftBreakdown.Stage.values),
        "latitude_e6": row.integer("latitude_e6", required=False, low=-90_000_000, high=90_000_000),
        "longitude_e6": row.integer(
            "longitude_e6", required=False, low=-180_000_000, high=180_000_000
        ),
    }
    if refs.checking and shift_id is not None and shift_id not in refs.shifts:
        rows = refs.missing_shifts.setdefault(shift_id, [])
        if len(rows) < MAX_ERRORS:
            rows.append(row.number)
    return (shift_id, start), values


PARSERS = {
    MARKET_GROUPS: _group,
    MARKETS: _market,
    PROVIDERS: _provider,
    ACTIVE: _active,
    VISITS: _visit,
    SHIFTS: _shift,
    BREAKDOWNS: _breakdown,
}
KEY_NAMES = {
    MARKET_GROUPS: "short_name",
    MARKETS: "short_name",
    PROVIDERS: "id",
    ACTIVE: "market and provider_id",
    VISITS: "care_request_id and provider_id",
    SHIFTS: "shift_team_id",
    BREAKDOWNS: "shift_team_id and start",
}


def _rows(path, refs, errors):
    """Yield (number, key, values) for the good rows of one file."""
    parse = PARSERS[path.name]
    for number, values in _read(path, errors):
        row = _Row(path.name, number, values, errors)
        key, parsed = parse(row, refs)
        if row.ok:
            yield number, key, parsed


# Checking ---------------------------------------------------------------------------------------


def _check_file(path, refs, errors):
    """Check every row; return the number of data rows. Keys repeated within the file are
    errors (the second row would silently overwrite the first)."""
    first_row = {}  # small tables: key -> first row, for the message
    seen = set()  # big tables: keys only
    big = path.name in (VISITS, SHIFTS, BREAKDOWNS)
    rows = 0
    for number, key, _values in _rows(path, refs, errors):
        rows = number - 1
        if big:
            if key in seen:
                errors.add(
                    f"{path.name} row {number}: {KEY_NAMES[path.name]} "
                    f"{', '.join(map(str, key))} repeat an earlier row."
                )
            seen.add(key)
        elif key in first_row:
            errors.add(
                f"{path.name} row {number}: {KEY_NAMES[path.name]} "
                f"{', '.join(map(str, key))} also on row {first_row[key]}."
            )
        else:
            first_row[key] = number
    if path.name in (MARKET_GROUPS, MARKETS):
        _check_unique_names(path, first_row, errors)
    return rows


def _check_unique_names(path, first_row, errors):
    """Names are unique too: a file's name must not belong to another stored short name."""
    model = MarketGroup if path.name == MARKET_GROUPS else Market
    in_file = {}
    for number, values in _read(path, _Errors()):
        in_file.setdefault(values["name"], []).append((number, values["short_name"]))
    stored = dict(model.objects.values_list("name", "short_name"))
    renamed = {short for (short,) in first_row}
    for name, rows in in_file.items():
        if len({short for _, short in rows}) > 1:
            errors.add(
                f"{path.name} row {rows[1][0]}: name {_show(name)} also on row {rows[0][0]}."
            )
        owner = stored.get(name)
        if owner is not None and owner != rows[0][1] and owner not in renamed:
            errors.add(
                f"{path.name} row {rows[0][0]}: name {_show(name)} belongs to the existing "
                f"short_name {_show(owner)}."
            )


def check_files(directory):
    """Check every row of every file present; raise InvalidImport listing all problems.

    Returns {file name: data rows} for the files present, in writing order.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise InvalidImport([f"{directory} is not a directory."], 1)
    present = [name for name in FILES if (directory / name).is_file()]
    if not present:
        raise InvalidImport(
            [f"{directory} holds none of the Leader Hub files ({', '.join(FILES)})."], 1
        )
    errors = _Errors()
    refs = _Refs()
    rows_read = {name: _check_file(directory / name, refs, errors) for name in present}
    if refs.missing_shifts:
        stored = set()
        ids = sorted(refs.missing_shifts)
        for start in range(0, len(ids), CHUNK):
            stored.update(
                ProviderShift.objects.filter(shift_team_id__in=ids[start : start + CHUNK])
                .values_list("shift_team_id", flat=True)
            )  # fmt: skip
        for shift_id in ids:
            if shift_id not in stored:
                for number in refs.missing_shifts[shift_id]:
                    errors.add(
                        f"{BREAKDOWNS} row {number}: shift_team_id {shift_id} is not in "
                        f"{SHIFTS} nor an existing shift."
                    )
    if errors:
        raise InvalidImport(errors.shown, errors.total)
    return rows_read


# Writing ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Table:
    model: type
    key: tuple  # attnames of the natural key
    fields: tuple  # attnames compared and updated


TABLES = {
    MARKET_GROUPS: _Table(MarketGroup, ("short_name",), ("name",)),
    MARKETS: _Table(Market, ("short_name",), ("name", "market_group_id")),
    PROVIDERS: _Table(Provider, ("id",), ("first_name", "last_name", "avatar_url", "job_title")),
    ACTIVE: _Table(MarketActiveProvider, ("market_id", "provider_id"), ()),
    VISITS: _Table(
        Visit,
        ("care_request_id", "provider_id"),
        (
            "market_id",
            "service_date",
            "patient_first_name",
            "patient_last_name",
            "patient_athena_id",
            "chief_complaint",
            "diagnosis",
            "on_scene_minutes",
            "chart_closed_24h",
            "survey_captured",
            "nps_score",
            "escalated",
            "escalation_reason",
            "abx_prescribed",
            "abx_details",
        ),
    ),
    SHIFTS: _Table(
        ProviderShift,
        ("shift_team_id",),
        ("provider_id", "market_id", "service_date", "start", "end", "patients_seen", *DURATIONS),
    ),
    BREAKDOWNS: _Table(
        ShiftBreakdown, ("shift_id", "start"), ("end", "stage", "latitude_e6", "longitude_e6")
    ),
}


def _resolve(name, values, pks):
    """Natural references -> primary keys (every reference was checked)."""
    if name == MARKETS:
        values["market_group_id"] = pks["groups"][values.pop("market_group")]
    elif "market" in values:
        values["market_id"] = pks["markets"][values.pop("market")]
    if name == BREAKDOWNS:
        values["shift_id"] = pks["shifts"][values.pop("shift")]
    return values


def _upsert(table, rows, counts):
    """Write one chunk of {attname: value} rows: look up the stored rows of their keys in one
    query, then insert the new and update the changed ones in one bulk upsert. Returns
    {key: pk} for the chunk."""
    model, key, fields = table.model, table.key, table.fields
    first = key[0]
    stored = {}
    lookup = model.objects.filter(**{f"{first}__in": {row[first] for row in rows}})
    for values in lookup.values_list(*key, "pk", *fields):
        stored[values[: len(key)]] = (values[len(key)], values[len(key) + 1 :])
    pks, changed = {}, []
    for row in rows:
        row_key = tuple(row[name] for name in key)
        current = stored.get(row_key)
        wanted = tuple(row[name] for name in fields)
        if current is None:
            counts.created += 1
        elif current[1] != wanted:
            counts.updated += 1
            pks[row_key] = current[0]
        else:
            counts.unchanged += 1
            pks[row_key] = current[0]
            continue
        changed.append(model(**row))
    if not changed:
        return pks
    if fields:
        model.objects.bulk_create(
            changed,
            update_conflicts=True,
            unique_fields=[model._meta.get_field(name).name for name in key],
            update_fields=[model._meta.get_field(name).name for name in fields],
            batch_size=1000,
        )
    else:
        model.objects.bulk_create(changed, ignore_conflicts=True, batch_size=1000)
    new = (tuple(getattr(obj, name) for name in key) for obj in changed)
    missing = [row_key for row_key in new if row_key not in pks]
    if missing:
        wanted_keys = set(missing)
        lookup = model.objects.filter(**{f"{first}__in": {row_key[0] for row_key in missing}})
        for values in lookup.values_list(*key, "pk"):
            if values[:-1] in wanted_keys:
                pks[values[:-1]] = values[-1]
    return pks


def _write_file(path, refs, pks, report):
    table = TABLES[path.name]
    counts = report.tables[path.name] = TableCounts()
    chunk = []

    def flush():
        if path.name == BREAKDOWNS:
            shift_ids = {values["shift"] for values in chunk}
            pks["shifts"] = dict(
                ProviderShift.objects.filter(shift_team_id__in=shift_ids).values_list(
                    "shift_team_id", "pk"
                )
            )
        written = _upsert(table, [_resolve(path.name, values, pks) for values in chunk], counts)
        if path.name == VISITS:
            report.visit_ids.extend(written.values())
        chunk.clear()

    for _, _, values in _rows(path, refs, _Errors()):
        chunk.append(values)
        if len(chunk) >= CHUNK:
            flush()
    if chunk:
        flush()
    if path.name == MARKET_GROUPS:
        pks["groups"] = dict(MarketGroup.objects.values_list("short_name", "pk"))
    elif path.name == MARKETS:
        pks["markets"] = dict(Market.objects.values_list("short_name", "pk"))
    elif path.name == PROVIDERS and connection.vendor == "postgresql":
        # Ids came from the source system: move the id sequence past them, so that a provider
        # added in the admin gets a free id.
        with connection.cursor() as cursor:
            for statement in connection.ops.sequence_reset_sql(no_style(), [Provider]):
                cursor.execute(statement)


def import_leaderhub(directory, *, actor=None, dry_run=False):
    """Check every row of the files in `directory`, then load them all or nothing.

    Raises InvalidImport (a ValidationError) listing the problems; nothing is written then.
    Returns an ImportReport. `dry_run` checks and counts, then rolls everything back.
    """
    directory = Path(directory)
    rows_read = check_files(directory)
    report = ImportReport(directory=str(directory), rows_read=rows_read, dry_run=dry_run)
    refs = _Refs(checking=False)
    try:
        with transaction.atomic():
            pks = {
                "groups": dict(MarketGroup.objects.values_list("short_name", "pk")),
                "markets": dict(Market.objects.values_list("short_name", "pk")),
            }
            for name in rows_read:
                _write_file(directory / name, refs, pks, report)
            record_event(
                Action.IMPORT,
                actor=actor,
                model=Visit if VISITS in rows_read else TABLES[next(iter(rows_read))].model,
                object_ids=report.visit_ids,
                description=f"Leader Hub import from {directory.name}: "
                + "; ".join(
                    f"{name.removesuffix('.csv')} {counts.created} created, "
                    f"{counts.updated} updated"
                    for name, counts in report.tables.items()
                ),
            )
            if dry_run:
                transaction.set_rollback(True)
    except IntegrityError as exc:
        raise InvalidImport(
            [f"The database refused the import, nothing was written: {exc}"], 1
        ) from exc
    return report
