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
Every row of every file is validated before anything is written; all problems are reported
with the file name and row number (row 1 is the header, so the first data row is row 2, as a
spreadsheet numbers them), at most MAX_ERRORS of them plus a count of the rest. With any error
nothing is written. Otherwise everything is written in one transaction with set-based bulk
statements (existing rows are looked up in chunks, new and changed rows are upserted in
batches), priorities of open work are refreshed, and one AuditEvent (import) records which
interventions the file covers. Rows that already hold the file's values are not written
again, so a second run of the same files changes nothing and reports everything unchanged.
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
    existing_rows,
    read_rows,
    show,
    writing,
)

Status = Intervention.Status

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
    rows_read: dict = field(default_factory=dict)
    measures: dict = field(default_factory=dict)  # code -> (name, weight)
    # external_id -> (member_id, code, status, intervention_date, cost, outcome, outcome_date)
    interventions: dict = field(default_factory=dict)
    gaps: dict = field(default_factory=dict)  # gap_id -> (member_id, code, status, next_due)
    worked_gaps: set = field(default_factory=set)


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


def _parse_gaps(path, portfolio, measures, errors):
    first_row = {}
    for number, values in read_rows(path, COLUMNS[path.name], errors):
        row = Row(path.name, number, values, errors)
        gap_id = row.integer("gap_id")
        member_id = row.text("member_id", max_length=MAX_MEMBER_ID)
        code = _known_measure(row, "measure_id", measures)
        row.integer("measurement_year")
        status = row.choice("gap_status", GAP_STATUSES, noun="status")
        for column in ("gap_opened_date", "gap_closed_date", "last_service_date"):
            row.date(column, required=False)
        next_due = row.date("next_due_date", required=False)
        row.integer("outreach_attempts", required=False)
        if gap_id is not None and gap_id in first_row:
            row.error(f"gap_id {gap_id} is also on row {first_row[gap_id]}")
        elif gap_id is not None:
            first_row[gap_id] = number
        if row.ok:
            portfolio.gaps[gap_id] = (member_id, code, status, next_due)
        portfolio.rows_read[path.name] = number - 1


def _parse_interventions(path, portfolio, measures, activities, gaps_readable, errors):
    first_row = {}
    for number, values in read_rows(path, COLUMNS[path.name], errors):
        row = Row(path.name, number, values, errors)
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
        if external_id and external_id in first_row:
            row.error(
                f"intervention_id {show(external_id)} is also on row {first_row[external_id]}"
            )
        elif external_id:
            first_row[external_id] = number
        if activities is not None and activity is not None and activity not in activities:
            row.error(f"activity_id {activity} is not in {ACTIVITIES_FILE}")
        gap = portfolio.gaps.get(gap_id)
        if gap is not None and (gap[0], gap[1]) != (member_id, code):
            row.error(
                f"gap_id {gap_id} is member {gap[0]}'s {gap[1]} gap in {GAPS_FILE}, not "
                f"{member_id}'s {code}"
            )
        elif gap is None and gap_id is not None and gaps_readable:
            row.error(f"gap_id {gap_id} is not in {GAPS_FILE}")
        if row.ok:
            status = intervention_status(file_status, outcome)
            finished = status in Intervention.FINISHED_STATUSES
            portfolio.interventions[external_id] = (
                member_id,
                code,
                status,
                when,
                cost,
                outcome,
                when if finished else None,
            )
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

    portfolio = _Portfolio()
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
    _parse_gaps(directory / GAPS_FILE, portfolio, measures, errors)
    gaps_readable = errors.total == before
    _parse_interventions(
        directory / INTERVENTIONS_FILE, portfolio, measures, activities, gaps_readable, errors
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


def _write_members(member_ids, report):
    known = {
        key: pk
        for key, (pk,) in existing_rows(Member.objects, "member_id", member_ids, "pk").items()
    }
    new = sorted(set(member_ids) - known.keys())
    Member.objects.bulk_create(
        [Member(member_id=member_id) for member_id in new], ignore_conflicts=True, batch_size=2000
    )
    report.members.created = len(new)
    report.members.unchanged = len(known)
    known.update(
        (key, pk) for key, (pk,) in existing_rows(Member.objects, "member_id", new, "pk").items()
    )
    return known


INTERVENTION_COLUMNS = (
    "member_id",
    "measure_id",
    "status",
    "intervention_date",
    "cost",
    "outcome",
    "outcome_date",
)


def _write_interventions(portfolio, measure_pks, member_pks, report):
    existing = existing_rows(
        Intervention.objects, "external_id", portfolio.interventions, "pk", *INTERVENTION_COLUMNS
    )
    pks = {}
    to_write = []
    for external_id, row in portfolio.interventions.items():
        member_id, code, status, when, cost, outcome, outcome_date = row
        values = (
            member_pks[member_id],
            measure_pks[code],
            status,
            when,
            cost,
            outcome,
            outcome_date,
        )
        current = existing.get(external_id)
        if current is None:
            report.interventions.created += 1
        elif tuple(current[1:]) != values:
            report.interventions.updated += 1
            pks[external_id] = current[0]
        else:
            report.interventions.unchanged += 1
            pks[external_id] = current[0]
            continue
        to_write.append(
            Intervention(
                external_id=external_id, **dict(zip(INTERVENTION_COLUMNS, values, strict=True))
            )
        )
    Intervention.objects.bulk_create(
        to_write,
        update_conflicts=True,
        unique_fields=["external_id"],
        update_fields=[*INTERVENTION_COLUMNS, "updated_at"],
        batch_size=1000,
    )
    return pks


def _open_gap_work(portfolio):
    """external_id -> (member_id, code, next_due) for open gaps nobody has worked on yet."""
    return {
        f"{GAP_PREFIX}{gap_id}": (member_id, code, next_due)
        for gap_id, (member_id, code, status, next_due) in portfolio.gaps.items()
        if status == "Open" and gap_id not in portfolio.worked_gaps
    }


def _write_open_gaps(open_work, measure_pks, member_pks, report):
    existing = existing_rows(Intervention.objects, "external_id", open_work, "pk")
    new = [
        Intervention(
            external_id=external_id,
            member_id=member_pks[member_id],
            measure_id=measure_pks[code],
            status=Status.PENDING,
            intervention_date=next_due,
        )
        for external_id, (member_id, code, next_due) in open_work.items()
        if external_id not in existing
    ]
    # Only ever created: an existing one is ours to work (see the module docstring).
    Intervention.objects.bulk_create(new, ignore_conflicts=True, batch_size=1000)
    report.open_gaps.created = len(new)
    report.open_gaps.unchanged = len(existing)
    return {key: pk for key, (pk,) in existing.items()}


def import_hedis_portfolio(directory, *, actor=None, dry_run=False, today=None):
    """Validate every row of the portfolio in `directory`, then load it all or nothing.

    Raises InvalidPortfolio (a ValidationError) listing the problems when any row is bad;
    nothing is written then. Returns an ImportReport. `dry_run` checks and counts, then rolls
    everything back.
    """
    portfolio = read_portfolio(directory)
    report = ImportReport(directory=str(directory), rows_read=portfolio.rows_read, dry_run=dry_run)
    open_work = _open_gap_work(portfolio)
    member_ids = {row[0] for row in portfolio.interventions.values()}
    member_ids.update(member_id for member_id, _, _ in open_work.values())

    with writing(dry_run=dry_run):
        measure_pks = _write_measures(portfolio, report)
        member_pks = _write_members(member_ids, report)
        pks = _write_interventions(portfolio, measure_pks, member_pks, report)
        pks.update(_write_open_gaps(open_work, measure_pks, member_pks, report))
        created = [key for key in (*portfolio.interventions, *open_work) if key not in pks]
        pks.update(
            (key, pk)
            for key, (pk,) in existing_rows(
                Intervention.objects, "external_id", created, "pk"
            ).items()
        )
        report.intervention_ids = sorted(pks.values())
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
