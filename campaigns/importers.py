"""Loading a HEDIS portfolio export into the campaign tables (`manage.py import_hedis DIR`).

The directory holds one UTF-8 CSV per table of the source system (the layout of
`../shared/data/hedis-sample`):

    hedis_measures.csv           required   one row per measure
    member_interventions.csv     required   outreach already done or under way
    member_gaps.csv              required   every care gap, open or not
    intervention_activities.csv  optional   checked, and used to check activity_id

How the files map onto our tables
---------------------------------
* **Measure** (natural key `code` = measure_id): `name` = measure_name, `weight` = star_weight.
  The file's `revenue_per_point` is *not* `revenue_per_closure`: it is the plan-level dollar
  value of one star-rating point of the measure (e.g. $125,000 for GSD), a figure about the
  whole contract, not about one member's gap. Using it per closure would value every closed
  gap at six figures and make every campaign's ROI absurd. A new measure therefore gets the
  model's default revenue per closure ($100) and an existing measure keeps whatever value an
  operator gave it in the admin; the import never changes it.
* **Member** (natural key `member_id`): the files carry member ids only, no names or contact
  details. A member is created for each id that an imported intervention refers to; existing
  members are never changed (their contact details come from elsewhere).
* **Intervention** from member_interventions.csv (natural key `external_id` = intervention_id):
  intervention_date, cost = cost_per_intervention, outcome = the file's outcome text, and
  status from the file's status and outcome:

      completed   + "Gap closed"                     -> closed
      completed   + "Member declined" / "No response" -> failed
      completed   + any other outcome                -> completed
      in_progress                                    -> in_progress

  Finished ones (closed, failed, completed) get outcome_date = intervention_date. The file is
  the record for these rows: a re-import puts them back to what the file says.
* **Open gaps become open work.** Each gap of member_gaps.csv with gap_status "Open" that no
  row of member_interventions.csv works on (by gap_id) becomes a *pending* Intervention with
  external_id "gap-<gap_id>", intervention_date = next_due_date (empty when the file has none)
  and cost 0, so that managers have open work to put in campaigns. These rows are only ever
  created: once one exists, a later import leaves it alone, because from then on our
  coordinators work it (its status and outcome are ours, not the file's). Closed and excluded
  gaps, and open gaps that already have intervention rows, add nothing.

Rules
-----
Every row of every file is validated before anything is written (keeping keys, never rows, in
memory); all problems are reported with the file name and row number (row 1 is the header, so
the first data row is row 2, as a spreadsheet numbers them), at most MAX_ERRORS of them plus a
count of the rest. With any error nothing is written. Otherwise everything is written in one
transaction with set-based bulk statements (the files are read again CHUNK rows at a time: the
stored rows of a chunk are looked up, its new and changed rows upserted in bulk), priorities of
open work are refreshed, and one AuditEvent (import) records which interventions the file
covers. Rows that already hold the file's values are not written again, so a second run of the
same files changes nothing and reports everything unchanged.
"""

from dataclasses import dataclass, field
from pathlib import Path

from campaigns import services
from campaigns.models import Intervention, Measure, Member
from opsintel.csvimport import (
    Errors,
    InvalidImport,
    Row,
    TableCounts,
    audit_import,
    batched,
    existing_rows,
    read_rows,
    show,
    upsert,
    writing,
)

Status = Intervention.Status

CHUNK = 2_000  # rows read, looked up and upserted at a time

GAP_PREFIX = "gap-"

MEASURES_FILE = "hedis_measures.csv"
ACTIVITIES_FILE = "intervention_activities.csv"
INTERVENTIONS_FILE = "member_interventions.csv"
GAPS_FILE = "member_gaps.csv"

COLUMNS = {
    MEASURES_FILE: (
        "measure_id",
        "measure_name",
        "measure_description",
        "domain",
        "measure_type",
        "star_weight",
        "revenue_per_point",
        "data_collection",
        "created_date",
    ),
    ACTIVITIES_FILE: (
        "activity_id",
        "activity_name",
        "activity_type",
        "description",
        "created_date",
    ),
    INTERVENTIONS_FILE: (
        "intervention_id",
        "member_id",
        "measure_id",
        "gap_id",
        "activity_id",
        "intervention_date",
        "status",
        "outcome",
        "cost_per_intervention",
        "created_date",
    ),
    GAPS_FILE: (
        "gap_id",
        "member_id",
        "measure_id",
        "measurement_year",
        "gap_status",
        "gap_opened_date",
        "gap_closed_date",
        "closure_method",
        "last_service_date",
        "next_due_date",
        "outreach_attempts",
        "barrier_code",
        "created_date",
    ),
}
REQUIRED_FILES = (MEASURES_FILE, INTERVENTIONS_FILE, GAPS_FILE)

FILE_STATUSES = ("completed", "in_progress")
GAP_STATUSES = ("Open", "Closed", "Excluded")
CLOSED_OUTCOMES = frozenset({"gap closed"})
FAILED_OUTCOMES = frozenset({"member declined", "no response"})

_field_lengths = {f.name: f.max_length for f in Intervention._meta.fields if f.max_length}
MAX_CODE = Measure._meta.get_field("code").max_length
MAX_MEASURE_NAME = Measure._meta.get_field("name").max_length
MAX_MEMBER_ID = Member._meta.get_field("member_id").max_length
MAX_EXTERNAL_ID = _field_lengths["external_id"]
MAX_OUTCOME = _field_lengths["outcome"]


def intervention_status(file_status, outcome):
    """Our status for a member_interventions.csv row (see the module docstring)."""
    if file_status == "in_progress":
        return Status.IN_PROGRESS
    outcome = outcome.strip().casefold()
    if outcome in CLOSED_OUTCOMES:
        return Status.CLOSED
    if outcome in FAILED_OUTCOMES:
        return Status.FAILED
    return Status.COMPLETED


# Results and errors ---------------------------------------------------------------------------


@dataclass
class ImportReport:
    directory: str
    rows_read: dict = field(default_factory=dict)  # file name -> data rows
    measures: TableCounts = field(default_factory=TableCounts)
    members: TableCounts = field(default_factory=TableCounts)
    interventions: TableCounts = field(default_factory=TableCounts)  # member_interventions.csv
    open_gaps: TableCounts = field(default_factory=TableCounts)  # pending work from open gaps
    priorities_refreshed: int = 0
    dry_run: bool = False
    intervention_ids: list = field(default_factory=list, repr=False)

    def lines(self):
        read = ", ".join(f"{name} {count:,}" for name, count in self.rows_read.items())
        verb = "Checked (dry run, nothing written)" if self.dry_run else "Imported"
        return [
            f"{verb} HEDIS portfolio from {self.directory}",
            f"  rows read: {read}",
            f"  measures:               {self.measures}",
            f"  members:                {self.members.summary(updated=False)}",
            f"  interventions:          {self.interventions}",
            f"  open-gap interventions: {self.open_gaps.summary(updated=False)}",
            f"  priorities refreshed on {self.priorities_refreshed:,} open interventions",
        ]


class InvalidPortfolio(InvalidImport):
    """The portfolio cannot be imported; `messages` lists why (file, row, column, value)."""


# Parsing the portfolio ------------------------------------------------------------------------


@dataclass
class _Portfolio:
    """What checking the files keeps for writing them: the small measures file, and for the
    big files keys only (the rows are read again to write them)."""

    directory: Path
    rows_read: dict = field(default_factory=dict)
    measures: dict = field(default_factory=dict)  # code -> (name, weight)
    worked_gaps: set = field(default_factory=set)  # gap ids named by good intervention rows


def _parse_measures(path, portfolio, errors):
    first_row = {}
    for number, values in read_rows(path, COLUMNS[path.name], errors):
        row = Row(path.name, number, values, errors)
        code = row.text("measure_id", max_length=MAX_CODE)
        name = row.text("measure_name", max_length=MAX_MEASURE_NAME)
        weight = row.decimal("star_weight", places=1, max_digits=4)
        row.decimal("revenue_per_point", places=2, max_digits=15, required=False)
        if code and code in first_row:
            row.error(f"measure_id {show(code)} is also on row {first_row[code]}")
        elif code:
            first_row[code] = number
        if row.ok:
            portfolio.measures[code] = (name, weight)
        portfolio.rows_read[path.name] = number - 1
    return set(first_row)  # every code named, bad rows included


def _parse_activities(path, portfolio, errors):
    activities = {}
    for number, values in read_rows(path, COLUMNS[path.name], errors):
        portfolio.rows_read[path.name] = number - 1
        row = Row(path.name, number, values, errors)
        activity = row.integer("activity_id")
        row.text("activity_name")
        if activity is not None and activity in activities:
            row.error(f"activity_id {activity} is also on row {activities[activity]}")
        elif activity is not None:
            activities[activity] = number
    return activities


def _known_measure(row, column, measures):
    code = row.text(column, max_length=MAX_CODE)
    if code and measures is not None and code not in measures:
        row.error(
            f"{column} {show(code)} is not a measure of {MEASURES_FILE} nor an existing measure"
        )
    return code


def _gap(row, measures=None):
    """(gap_id, member_id, code, status, next_due) of a member_gaps.csv row."""
    gap_id = row.integer("gap_id")
    member_id = row.text("member_id", max_length=MAX_MEMBER_ID)
    code = _known_measure(row, "measure_id", measures)
    row.integer("measurement_year")
    status = row.choice("gap_status", GAP_STATUSES, noun="status")
    for column in ("gap_opened_date", "gap_closed_date", "last_service_date"):
        row.date(column, required=False)
    next_due = row.date("next_due_date", required=False)
    row.integer("outreach_attempts", required=False)
    return gap_id, member_id, code, status, next_due


def _intervention(row, measures=None):
    """(intervention_id, gap_id, activity_id, {attname: value}) of a member_interventions.csv
    row; the member and measure are named by member_id and measure code."""
    external_id = row.text("intervention_id", max_length=MAX_EXTERNAL_ID)
    if external_id.startswith(GAP_PREFIX):
        row.error(
            f"intervention_id {show(external_id)} starts with {GAP_PREFIX!r}, which is kept "
            "for the interventions made from open gaps"
        )
    member_id = row.text("member_id", max_length=MAX_MEMBER_ID)
    code = _known_measure(row, "measure_id", measures)
    gap_id = row.integer("gap_id")
    activity = row.integer("activity_id")
    when = row.date("intervention_date")
    file_status = row.choice("status", FILE_STATUSES, noun="status")
    outcome = row.text("outcome", max_length=MAX_OUTCOME, required=False)
    cost = row.decimal("cost_per_intervention", places=2, max_digits=10)
    status = intervention_status(file_status, outcome) if file_status else None
    values = {
        "member_id": member_id,
        "measure_id": code,
        "status": status,
        "intervention_date": when,
        "cost": cost,
        "outcome": outcome,
        "outcome_date": when if status in Intervention.FINISHED_STATUSES else None,
    }
    return external_id, gap_id, activity, values


def _parse_gaps(path, portfolio, measures, errors):
    """Check member_gaps.csv; return {gap_id: (member_id, code)} of its good rows (the
    interventions' gap_id is checked against them)."""
    first_row = {}
    gaps = {}
    for number, values in read_rows(path, COLUMNS[path.name], errors):
        row = Row(path.name, number, values, errors)
        gap_id, member_id, code, _, _ = _gap(row, measures)
        if gap_id is not None and gap_id in first_row:
            row.error(f"gap_id {gap_id} is also on row {first_row[gap_id]}")
        elif gap_id is not None:
            first_row[gap_id] = number
        if row.ok:
            gaps[gap_id] = (member_id, code)
        portfolio.rows_read[path.name] = number - 1
    return gaps


def _parse_interventions(path, portfolio, measures, activities, gaps, gaps_readable, errors):
    first_row = {}
    for number, values in read_rows(path, COLUMNS[path.name], errors):
        row = Row(path.name, number, values, errors)
        external_id, gap_id, activity, parsed = _intervention(row, measures)
        member_id, code = parsed["member_id"], parsed["measure_id"]
        if external_id and external_id in first_row:
            row.error(
                f"intervention_id {show(external_id)} is also on row {first_row[external_id]}"
            )
        elif external_id:
            first_row[external_id] = number
        if activities is not None and activity is not None and activity not in activities:
            row.error(f"activity_id {activity} is not in {ACTIVITIES_FILE}")
        gap = gaps.get(gap_id)
        if gap is not None and gap != (member_id, code):
            row.error(
                f"gap_id {gap_id} is member {gap[0]}'s {gap[1]} gap in {GAPS_FILE}, not "
                f"{member_id}'s {code}"
            )
        elif gap is None and gap_id is not None and gaps_readable:
            row.error(f"gap_id {gap_id} is not in {GAPS_FILE}")
        if row.ok:
            portfolio.worked_gaps.add(gap_id)
        portfolio.rows_read[path.name] = number - 1


def read_portfolio(directory):
    """Parse and check every row of every file; raise InvalidPortfolio listing all problems."""
    directory = Path(directory)
    errors = Errors()
    if not directory.is_dir():
        raise InvalidPortfolio([f"{directory} is not a directory."], 1)
    missing = [name for name in REQUIRED_FILES if not (directory / name).is_file()]
    if missing:
        raise InvalidPortfolio(
            [f"{directory} lacks {', '.join(missing)} (a HEDIS portfolio needs "
             f"{', '.join(REQUIRED_FILES)}; {ACTIVITIES_FILE} is optional)."],
            1,
        )  # fmt: skip

    portfolio = _Portfolio(directory)
    before = errors.total
    named = _parse_measures(directory / MEASURES_FILE, portfolio, errors)
    # A measure named on a bad row is still known (its row's error says what is wrong); when
    # the file is unreadable, other files' measure ids are not checked (one error, not 30,000).
    measures = None
    if errors.total == before or named:
        measures = named | set(Measure.objects.values_list("code", flat=True))

    activities = None
    if (directory / ACTIVITIES_FILE).is_file():
        before = errors.total
        activities = _parse_activities(directory / ACTIVITIES_FILE, portfolio, errors)
        if errors.total != before and not activities:
            activities = None

    before = errors.total
    gaps = _parse_gaps(directory / GAPS_FILE, portfolio, measures, errors)
    gaps_readable = errors.total == before
    _parse_interventions(
        directory / INTERVENTIONS_FILE,
        portfolio,
        measures,
        activities,
        gaps,
        gaps_readable,
        errors,
    )
    if errors:
        raise InvalidPortfolio(errors.shown, errors.total)
    present = [name for name in COLUMNS if (directory / name).is_file()]
    portfolio.rows_read = {name: portfolio.rows_read.get(name, 0) for name in present}
    return portfolio


# Writing --------------------------------------------------------------------------------------


def _write_measures(portfolio, report):
    existing = {
        measure.code: measure for measure in Measure.objects.filter(code__in=portfolio.measures)
    }
    to_write = []
    for code, (name, weight) in portfolio.measures.items():
        current = existing.get(code)
        if current is None:
            report.measures.created += 1
        elif (current.name, current.weight) != (name, weight):
            report.measures.updated += 1
        else:
            report.measures.unchanged += 1
            continue
        to_write.append(Measure(code=code, name=name, weight=weight))
    # revenue_per_closure is not in update_fields: an existing measure keeps its value.
    Measure.objects.bulk_create(
        to_write, update_conflicts=True, unique_fields=["code"], update_fields=["name", "weight"]
    )
    return dict(Measure.objects.values_list("code", "pk"))


INTERVENTION_COLUMNS = (
    "member_id",
    "measure_id",
    "status",
    "intervention_date",
    "cost",
    "outcome",
    "outcome_date",
)


def _good_rows(path, parse):
    """`parse(row)` of every row of a checked file, read again."""
    errors = Errors()
    for number, values in read_rows(path, COLUMNS[path.name], errors):
        row = Row(path.name, number, values, errors)
        parsed = parse(row)
        if row.ok:
            yield parsed


class _Members:
    """Members of the imported interventions, created when new, each counted once."""

    def __init__(self, report):
        self.counts = report.members
        self.seen = set()

    def pks(self, member_ids):
        """{member_id: pk} for `member_ids`, creating the new ones."""
        found = {
            key: pk
            for key, (pk,) in existing_rows(Member.objects, "member_id", member_ids, "pk").items()
        }
        new = sorted(set(member_ids) - found.keys())
        Member.objects.bulk_create(
            [Member(member_id=member_id) for member_id in new],
            ignore_conflicts=True,
            batch_size=2000,
        )
        self.counts.created += len(new)
        self.counts.unchanged += len(found.keys() - self.seen)
        self.seen.update(member_ids)
        found.update(
            (key, pk)
            for key, (pk,) in existing_rows(Member.objects, "member_id", new, "pk").items()
        )
        return found


def _write(rows, counts, *, fields, measure_pks, members):
    """Upsert a chunk of interventions named by member_id and measure code; return their pks."""
    member_pks = members.pks({values["member_id"] for values in rows})
    for values in rows:
        values["member_id"] = member_pks[values["member_id"]]
        values["measure_id"] = measure_pks[values["measure_id"]]
    return upsert(Intervention, "external_id", fields, rows, counts).values()


def _interventions(portfolio):
    """{attname: value} of each member_interventions.csv row."""
    for external_id, _, _, values in _good_rows(
        portfolio.directory / INTERVENTIONS_FILE, _intervention
    ):
        yield {"external_id": external_id, **values}


def _open_gap_work(portfolio):
    """Pending work for each open gap nobody has worked on yet (see the module docstring)."""
    for gap_id, member_id, code, status, next_due in _good_rows(
        portfolio.directory / GAPS_FILE, _gap
    ):
        if status == "Open" and gap_id not in portfolio.worked_gaps:
            yield {
                "external_id": f"{GAP_PREFIX}{gap_id}",
                "member_id": member_id,
                "measure_id": code,
                "status": Status.PENDING,
                "intervention_date": next_due,
            }


def import_hedis_portfolio(directory, *, actor=None, dry_run=False, today=None):
    """Validate every row of the portfolio in `directory`, then load it all or nothing.

    Raises InvalidPortfolio (a ValidationError) listing the problems when any row is bad;
    nothing is written then. Returns an ImportReport. `dry_run` checks and counts, then rolls
    everything back. The files are read again to write them, CHUNK rows at a time.
    """
    portfolio = read_portfolio(directory)
    report = ImportReport(directory=str(directory), rows_read=portfolio.rows_read, dry_run=dry_run)
    with writing(dry_run=dry_run):
        measure_pks = _write_measures(portfolio, report)
        members = _Members(report)
        ids = []
        for chunk in batched(_interventions(portfolio), CHUNK):
            ids.extend(
                _write(
                    chunk,
                    report.interventions,
                    fields=INTERVENTION_COLUMNS,
                    measure_pks=measure_pks,
                    members=members,
                )
            )
        # Open-gap work is only ever created: an existing one is ours to work.
        for chunk in batched(_open_gap_work(portfolio), CHUNK):
            ids.extend(
                _write(chunk, report.open_gaps, fields=(), measure_pks=measure_pks, members=members)
            )
        report.intervention_ids = sorted(ids)
        report.priorities_refreshed = services.refresh_priorities(today)
        audit_import(
            actor=actor,
            model=Intervention,
            object_ids=report.intervention_ids,
            source=f"HEDIS import from {Path(directory).name}",
            tables={
                "measures": report.measures,
                "members": report.members,
                "interventions": report.interventions,
                "open gaps": report.open_gaps,
            },
        )
    return report
