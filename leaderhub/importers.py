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

from dataclasses import dataclass, field
from pathlib import Path

from django.core.management.color import no_style
from django.db import connection

from leaderhub.models import (
    Market,
    MarketActiveProvider,
    MarketGroup,
    Provider,
    ProviderShift,
    ShiftBreakdown,
    Visit,
)
from opsintel.csvimport import (
    MAX_ERRORS,
    Errors,
    InvalidImport,
    Row,
    TableCounts,
    audit_import,
    batched,
    chunks,
    read_rows,
    show,
    upsert,
    writing,
)

CHUNK = 5_000  # rows read, looked up and upserted at a time

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


def _max_length(model, name):
    return model._meta.get_field(name).max_length


# Results and errors ---------------------------------------------------------------------------


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
            row.error(f"{column} {show(value)} is not in {MARKETS} nor an existing market")
        elif not value:
            row.error(f"{column} is empty")
        return value

    def provider(self, row):
        pk = row.integer("provider_id", low=1)
        if self.checking and pk is not None and pk not in self.providers:
            row.error(f"provider_id {pk} is not in {PROVIDERS} nor an existing provider")
        return pk


def _group(row, refs):
    name = row.text("name", max_length=_max_length(MarketGroup, "name"))
    short = row.text("short_name", max_length=_max_length(MarketGroup, "short_name"))
    if refs.checking and short:
        refs.groups.add(short)
    return (short,), {"short_name": short, "name": name}


def _market(row, refs):
    name = row.text("name", max_length=_max_length(Market, "name"))
    short = row.text("short_name", max_length=_max_length(Market, "short_name"))
    group = row.values["market_group"]
    if not group:
        row.error("market_group is empty")
    elif refs.checking and group not in refs.groups:
        row.error(f"market_group {show(group)} is not in {MARKET_GROUPS} nor an existing group")
    if refs.checking and short:
        refs.markets.add(short)
    return (short,), {"short_name": short, "name": name, "market_group": group}


def _provider(row, refs):
    pk = row.integer("id", low=1)
    values = {
        "id": pk,
        "first_name": row.text(
            "first_name", max_length=_max_length(Provider, "first_name"), required=False
        ),
        "last_name": row.text("last_name", max_length=_max_length(Provider, "last_name")),
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
        values[column] = row.text(column, max_length=_max_length(Visit, column), required=False)
    values["on_scene_minutes"] = row.decimal(
        "on_scene_minutes", places=2, max_digits=7, required=False
    )
    values["chart_closed_24h"] = row.boolean("chart_closed_24h", empty=None)
    values["survey_captured"] = row.boolean("survey_captured")
    values["nps_score"] = row.integer("nps_score", required=False, high=10)
    values["escalated"] = row.boolean("escalated")
    values["escalation_reason"] = row.text(
        "escalation_reason", max_length=_max_length(Visit, "escalation_reason"), required=False
    )
    values["abx_prescribed"] = row.boolean("abx_prescribed")
    values["abx_details"] = row.text(
        "abx_details", max_length=_max_length(Visit, "abx_details"), required=False
    )
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
    for number, values in read_rows(path, COLUMNS[path.name], errors):
        row = Row(path.name, number, values, errors)
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
    for number, values in read_rows(path, COLUMNS[path.name], Errors()):
        in_file.setdefault(values["name"], []).append((number, values["short_name"]))
    stored = dict(model.objects.values_list("name", "short_name"))
    renamed = {short for (short,) in first_row}
    for name, rows in in_file.items():
        if len({short for _, short in rows}) > 1:
            errors.add(f"{path.name} row {rows[1][0]}: name {show(name)} also on row {rows[0][0]}.")
        owner = stored.get(name)
        if owner is not None and owner != rows[0][1] and owner not in renamed:
            errors.add(
                f"{path.name} row {rows[0][0]}: name {show(name)} belongs to the existing "
                f"short_name {show(owner)}."
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
    errors = Errors()
    refs = _Refs()
    rows_read = {name: _check_file(directory / name, refs, errors) for name in present}
    if refs.missing_shifts:
        stored = set()
        ids = sorted(refs.missing_shifts)
        for chunk in chunks(ids, CHUNK):
            stored.update(
                ProviderShift.objects.filter(shift_team_id__in=chunk)
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


def _write_file(path, refs, pks, report):
    table = TABLES[path.name]
    counts = report.tables[path.name] = TableCounts()
    rows = (values for _, _, values in _rows(path, refs, Errors()))
    for chunk in batched(rows, CHUNK):
        if path.name == BREAKDOWNS:
            shift_ids = {values["shift"] for values in chunk}
            pks["shifts"] = dict(
                ProviderShift.objects.filter(shift_team_id__in=shift_ids).values_list(
                    "shift_team_id", "pk"
                )
            )
        chunk = [_resolve(path.name, values, pks) for values in chunk]
        written = upsert(table.model, table.key, table.fields, chunk, counts)
        if path.name == VISITS:
            report.visit_ids.extend(written.values())
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
    with writing(dry_run=dry_run):
        pks = {
            "groups": dict(MarketGroup.objects.values_list("short_name", "pk")),
            "markets": dict(Market.objects.values_list("short_name", "pk")),
        }
        for name in rows_read:
            _write_file(directory / name, refs, pks, report)
        audit_import(
            actor=actor,
            model=Visit if VISITS in rows_read else TABLES[next(iter(rows_read))].model,
            object_ids=report.visit_ids,
            source=f"Leader Hub import from {directory.name}",
            tables=report.tables,
        )
    return report
