"""Loading claims from one CSV file (`manage.py import_claims FILE.csv`, and the admin's claim
import, which checks and writes through this same module).

The file is UTF-8 CSV with a header row naming these columns, in any order:

    required  claim_number, member_id, patient_name, date_of_birth, provider, payer,
              service_date, submission_date, procedure_code, diagnosis_code, amount
    optional  balance, status, denial_reason, notes, appealed_on, settled_on

An optional column may be left out of the header or left empty in a row; no other column is
allowed. docs/rcm-import.md has a sample.

Values
------
* claim_number (≤ 40 characters) is the claim's key: a new number is created, a known one is
  updated to the file's values, a known one already holding them is not written. Re-importing
  the same file therefore changes nothing. A number may appear once per file.
* member_id, patient_name, date_of_birth describe the patient, upserted on member_id (the file
  is the record for the name and birth date). Rows of one member must agree on both.
  date_of_birth may be empty; it may not be after the service date.
* payer names a stored payer, in any letter case (payers are added in the admin first).
* Dates are YYYY-MM-DD; the service date may not be after the submission date.
* procedure_code is a five-character CPT/HCPCS code (99213, J1100); diagnosis_code an ICD-10
  code (E11.9, M17.11).
* amount is a number > 0 with at most 2 decimals; balance (empty: the amount) is ≥ 0 and at
  most the amount.
* status (empty: submitted) is one of ClaimStatus; denial_reason one of DenialReason.
  A claim that is denied or appealed needs a denial reason ("other" when it is not known).
  A submitted or pending claim has not been adjudicated, so it may not have one. A settled
  claim (paid, partially_paid, written_off, closed) may keep the reason of the denial it went
  through: that history is what appeal success rates by denial reason are computed from.

The engine's columns (queue, agent, priority) are never imported: `assign_claims` and
`schedule_follow_ups` set them.

Rules
-----
Every row is checked before anything is written; every problem names the file, the row (row 1
is the header, so the first data row is row 2, as a spreadsheet numbers them) and the column;
at most MAX_ERRORS are listed plus a count of the rest. With any problem nothing is written.
Otherwise patients and claims are upserted in one transaction with bulk statements, CHUNK rows
at a time read from the file again (the check keeps only claim numbers and members, so a big
file is never held in memory), and one AuditEvent (import) records the run. A dry run checks
and counts, then rolls back.
"""

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

from opsintel.csvimport import (
    Errors,
    FileRows,
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
from rcm.models import SETTLED_STATUSES, Claim, ClaimStatus, DenialReason, Patient, Payer

REQUIRED_COLUMNS = (
    "claim_number",
    "member_id",
    "patient_name",
    "date_of_birth",
    "provider",
    "payer",
    "service_date",
    "submission_date",
    "procedure_code",
    "diagnosis_code",
    "amount",
)
OPTIONAL_COLUMNS = (
    "balance",
    "status",
    "denial_reason",
    "notes",
    "appealed_on",
    "settled_on",
)
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS

CHUNK = 2_000
CPT = re.compile(r"[0-9A-Z]{5}")
ICD10 = re.compile(r"[A-Z][0-9][0-9A-Z](\.?[0-9A-Z]{1,4})?")
NEEDS_REASON = (ClaimStatus.DENIED, ClaimStatus.APPEALED)
NOT_ADJUDICATED = (ClaimStatus.SUBMITTED, ClaimStatus.PENDING)

# Claim attnames compared and written (claim_number is the key).
CLAIM_FIELDS = (
    "patient_id",
    "provider",
    "payer_id",
    "amount",
    "balance",
    "service_date",
    "submission_date",
    "procedure_code",
    "diagnosis_code",
    "status",
    "denial_reason",
    "notes",
    "appealed_on",
    "settled_on",
)
PATIENT_FIELDS = ("name", "date_of_birth")


def _max_length(model, name):
    return model._meta.get_field(name).max_length


class ClaimRow(Row):
    """A Row that also keeps its problems by column, for the admin's row-by-row preview.

    Every message of csvimport.Row's parsers, and every one this module writes, starts with
    the column it is about, so the column is the message's first word."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.problems = []  # (column, message)

    def error(self, message):
        self.problems.append((message.split(" ", 1)[0], message))
        super().error(message)


@dataclass
class ClaimBatch:
    """One checked file: its rows (read again to write them), or the problems.

    Only what checks across rows need is kept: the row each claim number is on and each
    member's name and birth date; the claims are parsed again from `rows` when written.
    """

    name: str
    errors: Errors = field(default_factory=Errors)
    rows: object = ()  # (row number, {column: text}) pairs, iterable more than once
    payers: dict = field(default_factory=dict)
    patients: dict = field(default_factory=dict)  # member_id -> (row number, name, birth)
    problems: dict = field(default_factory=dict)  # row number -> [(column, message)]
    rows_read: int = 0

    def raise_if_invalid(self):
        if self.errors:
            raise InvalidImport(self.errors.shown, self.errors.total)


@dataclass
class ImportReport:
    source: str
    rows_read: int = 0
    patients: TableCounts = field(default_factory=TableCounts)
    claims: TableCounts = field(default_factory=TableCounts)
    dry_run: bool = False
    # claim_number -> "new", "update" or "skip" (unchanged); claim_number -> pk
    outcomes: dict = field(default_factory=dict, repr=False)
    claim_ids: dict = field(default_factory=dict, repr=False)

    def lines(self):
        verb = "Checked (dry run, nothing written)" if self.dry_run else "Imported"
        return [
            f"{verb} {self.rows_read:,} claims from {self.source}",
            f"  patients: {self.patients}",
            f"  claims:   {self.claims}",
        ]


# Checking ---------------------------------------------------------------------------------------


def header_columns(name, header, errors):
    """The columns to read for this header (the required ones and the optional ones present),
    or None after adding one error when the header lacks, repeats or adds a column."""
    header = [column.strip() for column in header or []]
    missing = [column for column in REQUIRED_COLUMNS if column not in header]
    extra = [column for column in header if column not in COLUMNS]
    doubled = sorted({column for column in header if header.count(column) > 1})
    if not header:
        errors.add(f"{name}: the file is empty; expected the columns {', '.join(COLUMNS)}.")
        return None
    if missing or extra or doubled:
        problems = []
        if missing:
            problems.append("missing column(s) " + ", ".join(missing))
        if extra:
            problems.append("unexpected column(s) " + ", ".join(map(repr, extra)))
        if doubled:
            problems.append("repeated column(s) " + ", ".join(doubled))
        errors.add(
            f"{name}: {'; '.join(problems)}. The header needs the columns "
            f"{', '.join(REQUIRED_COLUMNS)} and may add {', '.join(OPTIONAL_COLUMNS)}."
        )
        return None
    return [column for column in COLUMNS if column in header]


def _payers():
    """{casefolded name: (pk, name)} of every payer."""
    return {name.casefold(): (pk, name) for pk, name in Payer.objects.values_list("pk", "name")}


def _check_row(row, payers):
    """The claim's values from one row, or None when the row has a problem (each added)."""
    text = {
        column: row.text(column, max_length=_max_length(Claim, column))
        for column in ("claim_number", "provider")
    }
    member_id = row.text("member_id", max_length=_max_length(Patient, "member_id"))
    patient_name = row.text("patient_name", max_length=_max_length(Patient, "name"))
    birth = row.date("date_of_birth", required=False)
    payer_name = row.text("payer")
    payer = payers.get(payer_name.casefold())
    if payer_name and payer is None:
        row.error(
            f"payer {show(payer_name)} is not a known payer; add it in the admin first or use "
            f"one of {', '.join(sorted(name for _, name in payers.values()))}"
        )
    service = row.date("service_date")
    submission = row.date("submission_date")
    if service and submission and service > submission:
        row.error(f"service_date {service} is after submission_date {submission}")
    if birth and service and birth > service:
        row.error(f"date_of_birth {birth} is after service_date {service}")
    codes = {}
    for column, pattern, kind in (
        ("procedure_code", CPT, "a five-character CPT code like 99213"),
        ("diagnosis_code", ICD10, "an ICD-10 code like E11.9"),
    ):
        value = row.text(column).upper()
        if value and not pattern.fullmatch(value):
            row.error(f"{column} {show(row.values[column])} is not {kind}")
        codes[column] = value
    amount = row.decimal("amount", places=2, max_digits=12)
    if amount is not None and amount <= 0:
        row.error(f"amount {show(row.values['amount'])} must be more than 0")
        amount = None
    balance = row.decimal("balance", places=2, max_digits=12, required=False)
    if balance is None and amount is not None and not row.values["balance"]:
        balance = amount
    if balance is not None and amount is not None and balance > amount:
        row.error(f"balance {balance} is more than the amount {amount}")
    status = ClaimStatus.SUBMITTED
    if row.values["status"]:
        status = row.choice("status", ClaimStatus.values, noun="claim status")
    reason = ""
    if row.values["denial_reason"]:
        reason = row.choice("denial_reason", DenialReason.values, noun="denial reason")
    if status in NEEDS_REASON and not row.values["denial_reason"]:
        row.error(f"denial_reason is empty; a {status} claim needs one (other if unknown)")
    elif status in NOT_ADJUDICATED and row.values["denial_reason"]:
        row.error(
            f"denial_reason {show(row.values['denial_reason'])} is given for a {status} claim, "
            "which has not been denied"
        )
    notes = row.text("notes", required=False)
    appealed = row.date("appealed_on", required=False)
    settled = row.date("settled_on", required=False)
    if appealed and submission and appealed < submission:
        row.error(f"appealed_on {appealed} is before submission_date {submission}")
    if settled and status not in SETTLED_STATUSES:
        row.error(f"settled_on {settled} is given for a {status} claim, which is not settled")
    elif settled and submission and settled < submission:
        row.error(f"settled_on {settled} is before submission_date {submission}")
    if not row.ok:
        return None
    return {
        **text,
        "member_id": member_id,
        "patient_name": patient_name,
        "date_of_birth": birth,
        "payer_id": payer[0],
        "service_date": service,
        "submission_date": submission,
        **codes,
        "amount": amount,
        "balance": balance,
        "status": status,
        "denial_reason": reason or "",
        "notes": notes,
        "appealed_on": appealed,
        # A settled claim without its day counts as settled on its last service action: the
        # submission day is the only one known (turnaround then reads 0 days; give the column).
        "settled_on": settled or (submission if status in SETTLED_STATUSES else None),
    }


def _cells(values):
    return {column: (values.get(column) or "").strip() for column in COLUMNS}


def check_rows(name, header, rows, errors=None, *, problems=True):
    """Check `rows` ((row number, {column: text}) pairs under `header`) as a claim file.

    `rows` is iterated once here and once more by write_batch (a list, or a FileRows).
    Returns a ClaimBatch; its `errors` say what is wrong (nothing may be written then), its
    `problems` (unless `problems=False`) the same per row and column. Used by the command
    and the admin import alike.
    """
    batch = ClaimBatch(name, errors=errors if errors is not None else Errors(), rows=rows)
    if header_columns(name, header, batch.errors) is None:
        return batch
    batch.payers = _payers()
    first_row = {}  # claim_number -> the row it is first on
    for number, values in rows:
        batch.rows_read += 1
        values = _cells(values)
        row = ClaimRow(name, number, values, batch.errors)
        claim = _check_row(row, batch.payers)
        claim_number = values["claim_number"]
        if claim_number in first_row:
            row.error(f"claim_number {show(claim_number)} is also on row {first_row[claim_number]}")
            claim = None
        elif claim_number:
            first_row[claim_number] = number
        member = values["member_id"]
        if claim is not None:
            patient = (claim["patient_name"], claim["date_of_birth"])
            other = batch.patients.setdefault(member, (number, *patient))
            if other[1:] != patient:
                row.error(
                    f"member_id {show(member)} is {show(other[1])} born {other[2] or 'unknown'} "
                    f"on row {other[0]}, but {show(patient[0])} born {patient[1] or 'unknown'} "
                    "here"
                )
                claim = None
        if row.problems and problems:
            batch.problems[number] = row.problems
    return batch


def _peek_header(path):
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return next(csv.reader(handle, strict=True), [])
    except (OSError, UnicodeDecodeError, csv.Error):
        return None


def check_file(path):
    """Check every row of one claim file; raise InvalidImport listing every problem."""
    path = Path(path)
    if not path.is_file():
        raise InvalidImport([f"{path} is not a file."], 1)
    errors = Errors()
    header = _peek_header(path)
    if header is None:  # unreadable: read_rows says why (not UTF-8, not CSV, …)
        list(read_rows(path, COLUMNS, errors))
        raise InvalidImport(errors.shown, errors.total)
    columns = header_columns(path.name, header, errors)
    if columns is None:
        raise InvalidImport(errors.shown, errors.total)
    # read_rows adds an error for a row with too many or too few values and skips it.
    rows = FileRows(path, columns, errors)
    batch = check_rows(path.name, columns, rows, errors, problems=False)
    batch.raise_if_invalid()
    return batch


# Writing ----------------------------------------------------------------------------------------


def _claims(batch):
    """The claims of a checked batch, parsed again from its rows."""
    for number, values in batch.rows:
        claim = _check_row(ClaimRow(batch.name, number, _cells(values), Errors()), batch.payers)
        if claim is not None:
            yield claim


def write_batch(batch, *, actor=None, dry_run=False, source=None, audit=True, per_claim=True):
    """Write a checked ClaimBatch all or nothing, CHUNK rows at a time; returns an
    ImportReport, with per-claim outcomes and ids unless `per_claim=False`. `audit=False`
    when the caller records the import itself (the admin)."""
    batch.raise_if_invalid()
    report = ImportReport(source=source or batch.name, rows_read=batch.rows_read, dry_run=dry_run)
    claim_ids = []
    with writing(dry_run=dry_run):
        patients = (
            {"member_id": member, "name": name, "date_of_birth": birth}
            for member, (_, name, birth) in batch.patients.items()
        )
        for chunk in batched(patients, CHUNK):
            upsert(Patient, "member_id", PATIENT_FIELDS, chunk, report.patients)
        for chunk in batched(_claims(batch), CHUNK):
            members = {claim["member_id"] for claim in chunk}
            patient_pks = existing_rows(Patient.objects.all(), "member_id", members, "pk")
            rows = [
                {
                    **{name: claim[name] for name in CLAIM_FIELDS if name != "patient_id"},
                    "claim_number": claim["claim_number"],
                    "patient_id": patient_pks[claim["member_id"]][0],
                }
                for claim in chunk
            ]
            outcomes = report.outcomes if per_claim else None
            pks = upsert(
                Claim, "claim_number", CLAIM_FIELDS, rows, report.claims, outcomes=outcomes
            )
            if per_claim:
                report.claim_ids.update(pks)
            claim_ids.extend(pks.values())
        if audit:
            audit_import(
                actor=actor,
                model=Claim,
                object_ids=sorted(claim_ids),
                source=f"Claim import from {batch.name}",
                tables={"patients": report.patients, "claims": report.claims},
            )
    return report


def import_claims(path, *, actor=None, dry_run=False):
    """Check every row of the claim file at `path`, then load it all or nothing.

    Raises InvalidImport (a ValidationError) listing the problems; nothing is written then.
    Returns an ImportReport. `dry_run` checks and counts, then rolls everything back.
    """
    batch = check_file(path)
    return write_batch(batch, actor=actor, dry_run=dry_run, source=str(path), per_claim=False)
