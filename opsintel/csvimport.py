"""The plumbing every CSV importer shares: reading, checking, error collection, the command.

An app's importer (campaigns.importers, leaderhub.importers; rcm and engagement next) keeps
what is its own: which files and columns it expects, what each row means, how it is written.
Everything else comes from here, so that all importers behave and speak alike:

* `Errors` collects problems (at most MAX_ERRORS shown, all counted); `InvalidImport` (a
  ValidationError) carries them out: raise `InvalidImport(errors.shown, errors.total)`.
* `read_rows(path, columns, errors)` streams one UTF-8 CSV file: yields (row number,
  {column: stripped text}) per data row. Row 1 is the header, so the first data row is row 2,
  as a spreadsheet numbers them. The header must name exactly `columns`, in any order. A file
  that is empty, not UTF-8 or not readable as CSV, a wrong header, and a row with too many or
  too few values each add one error and yield nothing for it.
* `Row(file name, number, values, errors)` parses one row's cells: `text`, `integer`,
  `decimal`, `boolean`, `date`, `datetime`, `choice`, `url`, and `ends_after` for a start/end
  pair. Each bad value adds one error "<file> row <n>: <column> <value> <what is wrong>." and
  clears `row.ok`; the parser then returns None (or the given default). Every parser
  treats an empty cell as an error unless called with `required=False` (`boolean` excepted:
  empty is its `empty` value).
* `TableCounts` counts created / updated / unchanged rows of one table for the report.
* `chunks(values)` and `existing_rows(queryset, key, keys, *columns)` look rows up by key in
  chunks that fit any database's limit on query parameters; `batched(rows, size)` takes rows
  a chunk at a time from a file being read.
* `upsert(model, key, fields, rows, counts)` writes one chunk of rows: created, updated or
  left alone by key, in bulk statements.
* Big files are never held in memory: an importer checks every row in one pass, keeping only
  what checks across rows need (keys seen, references to look up), then reads the files again
  to write them, CHUNK rows at a time, inside `writing()` (one transaction, all or nothing).
* `ImportCommand` is the management command: subclass it, set `help` and implement
  `run_import(directory, *, actor, dry_run)` returning a report with `lines()`. It adds the
  DIRECTORY argument, `--user` (recorded in the audit trail) and `--dry-run`, and turns an
  InvalidImport into a CommandError that lists every message.

A typical parser of one file::

    for number, values in read_rows(path, COLUMNS[path.name], errors):
        row = Row(path.name, number, values, errors)
        code = row.text("code", max_length=20)
        weight = row.decimal("weight", places=1, max_digits=4, required=False)
        if row.ok:
            ...
"""

import csv
import re
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_DOWN, Decimal, InvalidOperation

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import URLValidator
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

MAX_ERRORS = 50  # messages shown; all are counted
MAX_BIGINT = 2**63 - 1
MAX_CHUNK = 5_000  # keys in one IN (...) lookup, at most
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
ISO_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}.*")
TRUE = frozenset({"true", "t", "yes", "y", "1"})
FALSE = frozenset({"false", "f", "no", "n", "0"})
_url = URLValidator()


# Results and errors ---------------------------------------------------------------------------


@dataclass
class TableCounts:
    """What an import did to one table."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def summary(self, *, updated=True):
        """'1 created, 2 updated, 3 unchanged' (without updated for create-only tables)."""
        parts = [f"{self.created:,} created"]
        if updated:
            parts.append(f"{self.updated:,} updated")
        parts.append(f"{self.unchanged:,} unchanged")
        return ", ".join(parts)

    def __str__(self):
        return self.summary()


class InvalidImport(ValidationError):
    """The files cannot be imported; `messages` lists why (file, row, column, value).

    `error_count` is the number of problems found, which may exceed the messages shown.
    """

    def __init__(self, errors, total):
        self.error_count = total
        shown = list(errors)
        if total > len(shown):
            shown.append(f"… and {total - len(shown):,} more errors not shown.")
        super().__init__(shown)


class Errors:
    """Collects problems: every one is counted, the first `limit` are kept to show."""

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


# Reading one file -----------------------------------------------------------------------------


def show(value, limit=40):
    """A cell value quoted for a message, cut to `limit` characters."""
    return repr(value if len(value) <= limit else value[: limit - 1] + "…")


def first_non_utf8_row(path):
    """(line number, first bad byte) of the first line of `path` that is not UTF-8."""
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as exc:
                return number, line[exc.start]
    return None, None


def _header_problems(name, header, expected):
    missing = [column for column in expected if column not in header]
    extra = [column for column in header if column not in expected]
    doubled = sorted({column for column in header if header.count(column) > 1})
    if not (missing or extra or doubled):
        return None
    problems = []
    if missing:
        problems.append("missing column(s) " + ", ".join(missing))
    if extra:
        problems.append("unexpected column(s) " + ", ".join(map(repr, extra)))
    if doubled:
        problems.append("repeated column(s) " + ", ".join(doubled))
    return (
        f"{name}: {'; '.join(problems)}. The header must have exactly these "
        f"columns: {', '.join(expected)}."
    )


def read_rows(path, columns, errors):
    """Yield (row number, {column: stripped text}) for each data row of one CSV file.

    `columns` are the column names the header must hold (any order). Problems with the file as
    a whole (not UTF-8, wrong header, unreadable CSV) and rows with too many or too few values
    are added to `errors` and not yielded. The file is streamed, never held in memory.
    """
    name = path.name
    number = 1
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle, strict=True)
            header = [column.strip() for column in reader.fieldnames or []]
            if not header:
                errors.add(f"{name}: the file is empty; expected the columns {', '.join(columns)}.")
                return
            reader.fieldnames = header
            problem = _header_problems(name, header, columns)
            if problem:
                errors.add(problem)
                return
            for number, row in enumerate(reader, start=2):
                if None in row:  # more values than columns: the rest are listed under None
                    given = len(header) + len(row[None])
                elif None in row.values():  # fewer: the missing columns hold None
                    given = sum(value is not None for value in row.values())
                else:
                    yield number, {column: value.strip() for column, value in row.items()}
                    continue
                errors.add(f"{name} row {number}: {given} values for {len(header)} columns.")
    except UnicodeDecodeError:
        row, byte = first_non_utf8_row(path)
        where = f" row {row} (byte 0x{byte:02x})" if row else ""
        errors.add(
            f'{name}{where}: the file is not UTF-8 text. Save it as UTF-8 ("CSV UTF-8") and '
            "import again."
        )
    except csv.Error as exc:
        errors.add(f"{name} row {number + 1}: not readable as CSV ({exc}).")
    except OSError as exc:
        errors.add(f"{name}: cannot be read ({exc.strerror or exc}).")


class FileRows:
    """The rows of one CSV file as `read_rows` yields them, read from the file afresh each
    time they are iterated (once to check them, once more to write them)."""

    def __init__(self, path, columns, errors):
        self.path, self.columns, self.errors = path, columns, errors

    def __iter__(self):
        return read_rows(self.path, self.columns, self.errors)


# Parsing one row ------------------------------------------------------------------------------


class Row:
    """Typed access to one row's values; each bad value adds one error naming file and row.

    Every parser returns the parsed value, or None (`default` where offered) when the cell is
    empty and not required or when the value is bad (`text` and `url` return the text as it
    is); `ok` is False once any value was bad.
    """

    def __init__(self, name, number, values, errors):
        self.name = name
        self.number = number
        self.values = values
        self.errors = errors
        self.ok = True

    def error(self, message):
        self.ok = False
        self.errors.add(f"{self.name} row {self.number}: {message}.")

    def _empty(self, column, required):
        """True when the cell is empty (an error if it is required)."""
        if self.values[column]:
            return False
        if required:
            self.error(f"{column} is empty")
        return True

    def text(self, column, *, max_length=None, required=True):
        """The text, returned even when it is empty or too long (both errors)."""
        value = self.values[column]
        if not value and required:
            self.error(f"{column} is empty")
        elif max_length and len(value) > max_length:
            self.error(f"{column} {show(value)} is longer than {max_length} characters")
        return value

    def integer(self, column, *, required=True, low=0, high=MAX_BIGINT, default=None):
        """A whole number from `low` to `high` (default: non-negative, fits a bigint)."""
        value = self.values[column]
        if self._empty(column, required):
            return default
        try:
            number = int(value)
        except ValueError:
            self.error(f"{column} {show(value)} is not a whole number")
            return None
        if not low <= number <= high:
            if number < 0 and low == 0 and high == MAX_BIGINT:
                self.error(f"{column} {show(value)} is negative")
            else:
                self.error(f"{column} {number} is outside {low}–{high}")
            return None
        return number

    def decimal(self, column, *, places, max_digits, required=True):
        """A non-negative number with at most `places` decimals that fits `max_digits`."""
        value = self.values[column]
        if self._empty(column, required):
            return None
        try:
            number = Decimal(value)
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite():
            self.error(f"{column} {show(value)} is not a number")
            return None
        if number < 0:
            self.error(f"{column} {show(value)} is negative")
            return None
        if number >= Decimal(10) ** (max_digits - places):
            self.error(f"{column} {show(value)} is too large")
            return None
        step = Decimal(1).scaleb(-places)
        if number.quantize(step, rounding=ROUND_DOWN) != number:
            self.error(f"{column} {show(value)} has more than {places} decimal places")
            return None
        return number.quantize(step)

    def boolean(self, column, *, empty=False):
        """true/false, yes/no, 1/0, t/f, y/n in any case; an empty cell gives `empty`."""
        value = self.values[column].casefold()
        if not value:
            return empty
        if value in TRUE:
            return True
        if value in FALSE:
            return False
        self.error(f"{column} {show(self.values[column])} is not true or false")
        return None

    def _iso(self, column, required, pattern, parse, expected):
        """`parse(value)` of a value matching `pattern`, else an error "is not <expected>"."""
        value = self.values[column]
        if self._empty(column, required):
            return None
        try:
            if not pattern.fullmatch(value):
                raise ValueError(value)
            return parse(value)
        except ValueError:
            self.error(f"{column} {show(value)} is not {expected}")
            return None

    def date(self, column, *, required=True):
        """An ISO date, YYYY-MM-DD."""
        return self._iso(column, required, ISO_DATE, date.fromisoformat, "a date (YYYY-MM-DD)")

    def datetime(self, column, *, required=True):
        """An aware datetime in UTC; a value without an offset is local (settings.TIME_ZONE)."""
        moment = self._iso(
            column,
            required,
            ISO_DATETIME,
            datetime.fromisoformat,
            "an ISO 8601 date and time (YYYY-MM-DDTHH:MM[:SS][±HH:MM or Z])",
        )
        if moment is None:
            return None
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment, timezone.get_default_timezone())
        return moment.astimezone(UTC)

    def choice(self, column, allowed, *, noun=None):
        """One of `allowed`, in any case; returns the option as spelled in `allowed`.

        The error reads "is not one of a, b", or with a `noun` "is not a known <noun>;
        expected one of a, b".
        """
        value = self.values[column]
        by_fold = {option.casefold(): option for option in allowed}
        if value.casefold() in by_fold:
            return by_fold[value.casefold()]
        if noun:
            self.error(
                f"{column} {show(value)} is not a known {noun}; expected one of "
                + ", ".join(allowed)
            )
        else:
            self.error(f"{column} {show(value)} is not one of {', '.join(allowed)}")
        return None

    def url(self, column, *, max_length=None, required=False):
        """An http(s) or ftp(s) URL; empty unless `required`."""
        value = self.text(column, max_length=max_length, required=required)
        if value:
            try:
                _url(value)
            except ValidationError:
                self.error(f"{column} {show(value)} is not a URL")
        return value

    def ends_after(self, start, end, *, start_column="start", end_column="end"):
        """Check that the parsed `end` is after `start` (skipped when either is bad)."""
        if start is not None and end is not None and end <= start:
            self.error(
                f"{end_column} {self.values[end_column]} is not after "
                f"{start_column} {self.values[start_column]}"
            )


# Looking rows up ------------------------------------------------------------------------------


def chunks(values, size=None):
    """`values` in lists small enough for one IN (...) query on the current database."""
    values = list(values)
    size = size or min(connection.features.max_query_params or MAX_CHUNK, MAX_CHUNK)
    for start in range(0, len(values), size):
        yield values[start : start + size]


def existing_rows(queryset, key, keys, *columns):
    """{key: (columns…)} for the rows of `queryset` whose `key` is in `keys` (chunked IN)."""
    found = {}
    for chunk in chunks(keys):
        for row in queryset.filter(**{f"{key}__in": chunk}).values_list(key, *columns):
            found[row[0]] = row[1:]
    return found


def batched(items, size):
    """Lists of at most `size` items taken lazily from any iterable (a file's rows, say)."""
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


# Writing ----------------------------------------------------------------------------------------


def upsert(model, key, fields, rows, counts, *, outcomes=None):
    """Write one chunk of rows ({attname: value}, the key's included); return {key: pk}.

    `key` is the natural key's attname, or a tuple of attnames (the keys are then tuples).
    The stored rows of the chunk's keys are looked up in one query; new rows are created,
    rows whose `fields` differ are updated (their auto_now fields too), rows already holding
    the values are not written, so re-running an import writes nothing. With no `fields` rows
    are only ever created. `counts` (TableCounts) counts them; `outcomes`, when given, gets
    key -> "new", "update" or "skip" (unchanged).
    """
    names = key if isinstance(key, tuple) else (key,)

    def key_of(get):
        found = tuple(get(name) for name in names)
        return found if isinstance(key, tuple) else found[0]

    first, width = names[0], len(names)
    stored = {}
    for chunk in chunks({row[first] for row in rows}):
        lookup = model.objects.filter(**{f"{first}__in": chunk})
        for values in lookup.values_list(*names, "pk", *fields):
            stored[key_of(dict(zip(names, values, strict=False)).get)] = (
                values[width],
                values[width + 1 :],
            )
    pks, changed = {}, []
    for row in rows:
        row_key = key_of(row.get)
        current = stored.get(row_key)
        if current is None:
            counts.created += 1
            outcome = "new"
        else:
            pks[row_key] = current[0]
            if current[1] != tuple(row[name] for name in fields):
                counts.updated += 1
                outcome = "update"
            else:
                counts.unchanged += 1
                outcome = "skip"
        if outcomes is not None:
            outcomes[row_key] = outcome
        if outcome != "skip":
            changed.append(model(**row))
    if not changed:
        return pks
    if fields:
        meta = model._meta
        model.objects.bulk_create(
            changed,
            update_conflicts=True,
            unique_fields=[meta.get_field(name).name for name in names],
            update_fields=[meta.get_field(name).name for name in fields]
            + [f.name for f in meta.concrete_fields if getattr(f, "auto_now", False)],
            batch_size=1000,
        )
    else:
        model.objects.bulk_create(changed, ignore_conflicts=True, batch_size=1000)
    created = {key_of(lambda name, obj=obj: getattr(obj, name)) for obj in changed}
    created -= pks.keys()
    if created:
        firsts = {row_key[0] if isinstance(key, tuple) else row_key for row_key in created}
        for chunk in chunks(firsts):
            lookup = model.objects.filter(**{f"{first}__in": chunk})
            for values in lookup.values_list(*names, "pk"):
                row_key = key_of(dict(zip(names, values, strict=False)).get)
                if row_key in created:
                    pks[row_key] = values[-1]
    return pks


# The management command -----------------------------------------------------------------------


class ImportCommand(BaseCommand):
    """`manage.py <import> DIRECTORY [--user NAME] [--dry-run]`.

    Subclasses set `help` and implement `run_import`; the first line of the report is shown
    as success, the others as they are.
    """

    def add_arguments(self, parser):
        parser.add_argument("directory", help="folder holding the CSV files (UTF-8)")
        parser.add_argument(
            "--user", help="username recorded in the audit trail as the one importing"
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="check and count everything, write nothing"
        )

    def run_import(self, directory, *, actor, dry_run):
        """Import `directory`; return a report with `lines()`, or raise InvalidImport."""
        raise NotImplementedError

    def handle(self, *args, directory, user=None, dry_run=False, **options):
        actor = None
        if user:
            try:
                actor = get_user_model().objects.get_by_natural_key(user)
            except get_user_model().DoesNotExist:
                raise CommandError(f"No user {user!r}.") from None
        try:
            report = self.run_import(directory, actor=actor, dry_run=dry_run)
        except InvalidImport as exc:
            raise CommandError(
                f"Nothing was imported: {exc.error_count} problem(s) in {directory}.\n"
                + "\n".join(f"  {message}" for message in exc.messages)
            ) from None
        lines = report.lines()
        self.stdout.write(self.style.SUCCESS(lines[0]))
        for line in lines[1:]:
            self.stdout.write(line)


@contextmanager
def writing(*, dry_run=False):
    """The write phase of an import: one transaction, rolled back on a dry run; a constraint
    the checks missed becomes an InvalidImport instead of a 500, with nothing written."""
    try:
        with transaction.atomic():
            yield
            if dry_run:
                transaction.set_rollback(True)
    except IntegrityError as exc:
        raise InvalidImport(
            [f"The database refused the import, nothing was written: {exc}"], 1
        ) from exc


def audit_import(*, actor, model, object_ids, source, tables):
    """One audit event per import run: `tables` maps a name to its TableCounts."""
    from opsintel.audit import Action, record_event

    summary = "; ".join(
        f"{name.removesuffix('.csv')} {counts.created} created, {counts.updated} updated"
        for name, counts in tables.items()
    )
    return record_event(
        Action.IMPORT,
        actor=actor,
        model=model,
        object_ids=object_ids,
        description=f"{source}: {summary}",
    )
