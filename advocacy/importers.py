"""Loading patient-advocacy data from CSV files (`manage.py import_advocacy DIR`).

The directory holds one UTF-8 CSV per table, in the raw layout analytics teams in this space
use; any subset of the files may be present and they are written in this order. The header row
must name exactly these columns, in any order:

    patients.csv          id, insurance_type, preferred_channel, state, risk_score, created_at
    advocates.csv         id, name, specialty, team, capacity, hire_date
    cases.csv             id, patient_id, advocate_id, case_type, urgency, status, created_at,
                          assigned_at, first_response_at, resolved_at, escalation_flag,
                          reopen_flag, metadata_json
    interactions.csv      id, case_id, type, created_at, duration_minutes, advocate_id
    case_events.csv       id, case_id, event_type, occurred_at
    patient_feedback.csv  id, case_id, csat_score, nps_bucket, feedback_text, submitted_at

Keys and references
-------------------
* `id` is the source system's id (at most 40 characters), kept as the model's `external_id`;
  rows are upserted on it: a new id is created, a known id whose values differ is updated, a
  known id holding the file's values is not written. Re-loading the same files changes nothing.
* patient_id, advocate_id and case_id must be in their own file of the same import or already
  stored (by external id). advocate_id may be empty (unassigned case, interaction by nobody).

Mapping
-------
* cases.csv: escalation_flag → Case.escalated; metadata_json is a JSON object validated by
  advocacy.services.clean_metadata (the field is named in the error) and stored whole in
  Case.metadata and in the typed columns. reopen_flag is checked (a boolean) but not stored:
  reopening is recorded by a `reopened` event in case_events.csv.
  The status is loaded as given (history, not a live move through services.transition).
* Derived events: a case's assigned_at, first_response_at and resolved_at also become
  CaseEvent rows (assigned, first_response, resolved) — ONLY when case_events.csv of the same
  import carries no event of that type for that case and no imported event (one with a source
  id) of that type for it is stored. Their external id is "<case id>/a", "/f" or "/r"; ids of
  that form are therefore reserved and refused in case_events.csv. A derived event is removed
  once an imported event of its type for its case arrives.
* interactions.csv: type → Interaction.channel (phone, email, portal, sms), created_at →
  started_at; direction is not in the file (new rows are outbound, stored ones keep theirs).
* case_events.csv: event_type → CaseEvent.type, occurred_at → at.
* patient_feedback.csv: csat_score → csat (1–5), feedback_text → comment; nps_bucket is not
  stored. One feedback per case.

Values
------
Date-times are ISO 8601; one without an offset is local time in settings.TIME_ZONE. Dates are
YYYY-MM-DD. Booleans: true/false, yes/no, 1/0, t/f, y/n; empty is false. risk_score: 0–100
with at most 2 decimals, or empty. capacity: a whole number ≥ 1 (empty: 25).
duration_minutes: a whole number ≥ 0 (empty: 0). Enumerations accept any letter case.

Consistency (reported, never loaded)
------------------------------------
resolved_at, assigned_at or first_response_at before the case's created_at; an interaction or
event before its case's created_at; feedback on a case without resolved_at, or submitted
before it; two feedback rows for one case (or one for a case that already has another);
an id repeated within a file.

Rules
-----
Every row of every file is checked before anything is written; every problem is reported with
file name and row number (row 1 is the header), at most MAX_ERRORS plus a count of the rest.
With any problem nothing is written. Otherwise all files are written in one transaction, in
chunks of CHUNK rows read from the files again: each chunk looks up the stored rows of its ids
in one query and upserts the new and changed rows with one bulk statement. One AuditEvent
(import) records the run. Checking keeps keys only (ids, referenced ids, case times), never
the rows, so a big file is not held in memory.
"""

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from django.core.exceptions import ValidationError

from advocacy import rollups
from advocacy.models import (
    Advocate,
    Case,
    CaseEvent,
    CaseType,
    Interaction,
    Patient,
    PatientFeedback,
)
from advocacy.services import clean_metadata
from opsintel.csvimport import (
    Errors,
    InvalidImport,
    Row,
    TableCounts,
    audit_import,
    batched,
    chunks,
    existing_rows,
    read_rows,
    show,
    upsert,
    writing,
)

CHUNK = 2_000  # rows looked up and upserted at a time

PATIENTS = "patients.csv"
ADVOCATES = "advocates.csv"
CASES = "cases.csv"
INTERACTIONS = "interactions.csv"
EVENTS = "case_events.csv"
FEEDBACK = "patient_feedback.csv"
DERIVED_EVENTS = "case_events (from cases.csv)"

FILES = (PATIENTS, ADVOCATES, CASES, INTERACTIONS, EVENTS, FEEDBACK)
COLUMNS = {
    PATIENTS: ("id", "insurance_type", "preferred_channel", "state", "risk_score", "created_at"),
    ADVOCATES: ("id", "name", "specialty", "team", "capacity", "hire_date"),
    CASES: (
        "id",
        "patient_id",
        "advocate_id",
        "case_type",
        "urgency",
        "status",
        "created_at",
        "assigned_at",
        "first_response_at",
        "resolved_at",
        "escalation_flag",
        "reopen_flag",
        "metadata_json",
    ),
    INTERACTIONS: ("id", "case_id", "type", "created_at", "duration_minutes", "advocate_id"),
    EVENTS: ("id", "case_id", "event_type", "occurred_at"),
    FEEDBACK: ("id", "case_id", "csat_score", "nps_bucket", "feedback_text", "submitted_at"),
}
MODELS = {
    PATIENTS: Patient,
    ADVOCATES: Advocate,
    CASES: Case,
    INTERACTIONS: Interaction,
    EVENTS: CaseEvent,
    FEEDBACK: PatientFeedback,
}
# attnames compared and updated (external_id is the key)
FIELDS = {
    PATIENTS: ("insurance_type", "preferred_channel", "state", "risk_score", "created_at"),
    ADVOCATES: ("name", "specialty", "team", "capacity", "hire_date"),
    CASES: (
        "patient_id",
        "advocate_id",
        "case_type",
        "urgency",
        "status",
        "created_at",
        "resolved_at",
        "escalated",
        "metadata",
        "intake_source",
        "barriers",
        "handoff_count",
        "complexity",
        "submitted_documents",
        "missing_docs",
        "support_flags",
    ),
    INTERACTIONS: ("case_id", "advocate_id", "channel", "started_at", "duration_minutes"),
    EVENTS: ("case_id", "type", "at"),
    FEEDBACK: ("case_id", "csat", "comment", "submitted_at"),
}
# cases.csv column -> the event it implies, and the suffix of that event's external id
DERIVED = {
    "assigned_at": (CaseEvent.Type.ASSIGNED, "a"),
    "first_response_at": (CaseEvent.Type.FIRST_RESPONSE, "f"),
    "resolved_at": (CaseEvent.Type.RESOLVED, "r"),
}
DERIVED_ID = re.compile(r".+/[afr]")
MAX_ID = 38  # external ids are 40 characters; derived event ids add two
MAX_POSITIVE_INT = 2_147_483_647


def _max_length(model, name):
    return model._meta.get_field(name).max_length


@dataclass
class ImportReport:
    directory: str
    rows_read: dict = field(default_factory=dict)  # file name -> data rows
    tables: dict = field(default_factory=dict)  # table label -> TableCounts
    dry_run: bool = False

    def lines(self):
        verb = "Checked (dry run, nothing written)" if self.dry_run else "Imported"
        lines = [f"{verb} advocacy data from {self.directory}"]
        width = max((len(name) for name in self.tables), default=0)
        for name, counts in self.tables.items():
            read = self.rows_read.get(name)
            rows = f"{read:,} rows: " if read is not None else ""
            lines.append(f"  {name.ljust(width)}  {rows}{counts}")
        return lines


# Parsing rows: one function per file, used when checking and again when writing --------------
#
# Each takes a Row and returns {attname: value}, references named by source id ("patient",
# "advocate", "case").


def _patient(row):
    values = {
        column: row.text(column, max_length=_max_length(Patient, column), required=False)
        for column in ("insurance_type", "preferred_channel", "state")
    }
    values["risk_score"] = row.decimal("risk_score", places=2, max_digits=5, required=False)
    if values["risk_score"] is not None and values["risk_score"] > 100:
        row.error(f"risk_score {values['risk_score']} is outside 0–100")
    values["created_at"] = row.datetime("created_at")
    return values


def _advocate(row):
    values = {"name": row.text("name", max_length=_max_length(Advocate, "name"))}
    for column in ("specialty", "team"):
        values[column] = row.text(column, max_length=_max_length(Advocate, column), required=False)
    values["capacity"] = row.integer(
        "capacity", required=False, default=25, low=1, high=MAX_POSITIVE_INT
    )
    values["hire_date"] = row.date("hire_date", required=False)
    return values


def _case(row):
    values = {
        "patient": row.text("patient_id"),
        "advocate": row.text("advocate_id", required=False) or None,
        "case_type": row.choice("case_type", CaseType.values, noun="case type"),
        "urgency": row.choice("urgency", Case.Urgency.values, noun="urgency"),
        "status": row.choice("status", Case.Status.values, noun="status"),
        "escalated": row.boolean("escalation_flag"),
    }
    row.boolean("reopen_flag")
    created = values["created_at"] = row.datetime("created_at")
    for column in DERIVED:
        values[column] = row.datetime(column, required=False)
        if created is not None and values[column] is not None and values[column] < created:
            row.error(
                f"{column} {row.values[column]} is before created_at {row.values['created_at']}"
            )
    values.update(_metadata(row))
    return values


def _metadata(row):
    text = row.values["metadata_json"]
    try:
        metadata = json.loads(text) if text else {}
    except ValueError:
        row.error(f"metadata_json {show(text)} is not valid JSON")
        return {}
    if not isinstance(metadata, dict):
        row.error(f"metadata_json {show(text)} is not a JSON object")
        return {}
    try:
        columns = clean_metadata(metadata)
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            for message in messages:
                row.error(f"metadata_json {name}: {message.rstrip('.')}")
        return {}
    return {"metadata": columns, **columns}


def _interaction(row):
    return {
        "case": row.text("case_id"),
        "channel": row.choice("type", Interaction.Channel.values, noun="interaction type"),
        "started_at": row.datetime("created_at"),
        "duration_minutes": row.integer(
            "duration_minutes", required=False, default=0, high=MAX_POSITIVE_INT
        ),
        "advocate": row.text("advocate_id", required=False) or None,
    }


def _event(row):
    source_id = row.values["id"]
    if DERIVED_ID.fullmatch(source_id):
        row.error(
            f"id {show(source_id)} has the form reserved for events derived from "
            f"{CASES} (<case id>/a, /f or /r)"
        )
    return {
        "case": row.text("case_id"),
        "type": row.choice("event_type", CaseEvent.Type.values, noun="event type"),
        "at": row.datetime("occurred_at"),
    }


def _feedback(row):
    return {
        "case": row.text("case_id"),
        "csat": row.integer("csat_score", low=1, high=5),
        "comment": row.text("feedback_text", required=False),
        "submitted_at": row.datetime("submitted_at"),
    }


PARSERS = {
    PATIENTS: _patient,
    ADVOCATES: _advocate,
    CASES: _case,
    INTERACTIONS: _interaction,
    EVENTS: _event,
    FEEDBACK: _feedback,
}
# file -> (column, value key, referenced file, model) of each reference
REFERENCES = {
    CASES: (
        ("patient_id", "patient", PATIENTS, Patient),
        ("advocate_id", "advocate", ADVOCATES, Advocate),
    ),
    INTERACTIONS: (
        ("case_id", "case", CASES, Case),
        ("advocate_id", "advocate", ADVOCATES, Advocate),
    ),
    EVENTS: (("case_id", "case", CASES, Case),),
    FEEDBACK: (("case_id", "case", CASES, Case),),
}


def _rows(path, errors):
    """Yield (row, source id, values) for each row of one file, good or not."""
    parse = PARSERS[path.name]
    for number, cells in read_rows(path, COLUMNS[path.name], errors):
        row = Row(path.name, number, cells, errors)
        source_id = row.text("id", max_length=MAX_ID)
        yield row, source_id, parse(row)


# Checking ---------------------------------------------------------------------------------------


class _Checker:
    """Checks every file present, CHUNK rows at a time, keeping only keys: the ids of each
    file, the referenced ids found stored, the created and resolved times of cases."""

    def __init__(self, directory, present):
        self.directory = directory
        self.present = present
        self.errors = Errors()
        self.ids = {name: {} for name in present}  # file -> {source id: row number}
        self.stored = {model: set() for model in (Patient, Advocate, Case)}  # ids found stored
        # case source id -> (created_at, resolved_at), from cases.csv or the store
        self.case_times = {}
        self.feedback_rows = {}  # case source id -> the feedback row naming it first

    def run(self):
        for name in self.present:
            good = self._good_rows(self.directory / name)
            for chunk in batched(good, CHUNK):
                chunk = self._check_references(name, chunk)
                self._check_case_consistency(name, chunk)
        if self.errors:
            raise InvalidImport(self.errors.shown, self.errors.total)
        return {name: len(self.ids[name]) for name in self.present}

    def _good_rows(self, path):
        """(row number, source id, values) of each good row; a repeated id is an error."""
        seen = self.ids[path.name]
        for row, source_id, values in _rows(path, self.errors):
            if source_id in seen:
                row.error(f"id {show(source_id)} also on row {seen[source_id]}")
            elif source_id:
                seen[source_id] = row.number
            if not row.ok:
                continue
            if path.name == CASES:
                self.case_times[source_id] = (values["created_at"], values["resolved_at"])
            yield row.number, source_id, values

    def _check_references(self, name, chunk):
        """The rows of `chunk` whose references are all known; an error for each other."""
        bad = set()
        for column, key, target, model in REFERENCES.get(name, ()):
            in_file = self.ids.get(target, {})
            stored = self.stored[model]
            wanted = {values[key] for _, _, values in chunk} - {None} - in_file.keys() - stored
            stored.update(existing_rows(model.objects.all(), "external_id", sorted(wanted)))
            for number, _, values in chunk:
                value = values[key]
                if value is not None and value not in in_file and value not in stored:
                    self.errors.add(
                        f"{name} row {number}: {column} {show(value)} is not in {target} "
                        "nor stored."
                    )
                    bad.add(number)
        return [item for item in chunk if item[0] not in bad]

    def _case_times(self, case_ids):
        """(created_at, resolved_at) of each case, from cases.csv or the store."""
        missing = sorted(set(case_ids) - self.case_times.keys())
        stored = existing_rows(
            Case.objects.all(), "external_id", missing, "created_at", "resolved_at"
        )
        self.case_times.update(stored)
        return self.case_times

    def _check_case_consistency(self, name, chunk):
        if name not in (INTERACTIONS, EVENTS, FEEDBACK):
            return
        times = self._case_times({values["case"] for _, _, values in chunk})
        if name != FEEDBACK:
            key, column = (
                ("started_at", "created_at") if name == INTERACTIONS else ("at", "occurred_at")
            )
            for number, _, values in chunk:
                created = times.get(values["case"], (None,))[0]
                if created is not None and values[key] < created:
                    self.errors.add(
                        f"{name} row {number}: {column} {values[key].isoformat()} is before "
                        f"case {show(values['case'])} was created ({created.isoformat()})."
                    )
            return
        # one feedback per case: within the file and against stored feedback of other ids
        stored_feedback = {}
        for part in chunks(sorted({values["case"] for _, _, values in chunk})):
            stored_feedback.update(
                PatientFeedback.objects.filter(case__external_id__in=part).values_list(
                    "case__external_id", "external_id"
                )
            )
        for number, source_id, values in chunk:
            case_id = values["case"]
            if case_id not in times:
                continue  # a case on a bad row of cases.csv: that row's error says why
            resolved = times[case_id][1]
            where = f"{FEEDBACK} row {number}: "
            if resolved is None:
                self.errors.add(f"{where}case {show(case_id)} is not resolved (no resolved_at).")
            elif values["submitted_at"] < resolved:
                self.errors.add(
                    f"{where}submitted_at {values['submitted_at'].isoformat()} is before the "
                    f"case was resolved ({resolved.isoformat()})."
                )
            first = self.feedback_rows.setdefault(case_id, number)
            if first != number:
                self.errors.add(f"{where}case {show(case_id)} also has feedback on row {first}.")
            other = stored_feedback.get(case_id, source_id)
            if other != source_id:
                self.errors.add(
                    f"{where}case {show(case_id)} already has feedback {show(other or '')}."
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
            [f"{directory} holds none of the advocacy files ({', '.join(FILES)})."], 1
        )
    return _Checker(directory, present).run()


# Writing ----------------------------------------------------------------------------------------


def _good_rows(path):
    """(source id, values) of each row of a checked file, read again."""
    for row, source_id, values in _rows(path, Errors()):
        if row.ok:
            yield source_id, values


def _pks(model, ids):
    """{source id: pk} of the stored rows of `ids` (the files before were written already)."""
    ids = {key for key in ids if key is not None}
    return {
        key: row[0]
        for key, row in existing_rows(model.objects.all(), "external_id", ids, "pk").items()
    }


def _resolve(name, chunk):
    """{attname: value} rows of `chunk`, references as primary keys."""
    resolved = {}
    for _, key, _, model in REFERENCES.get(name, ()):
        resolved[key] = _pks(model, {values[key] for _, values in chunk})
    rows = []
    for source_id, values in chunk:
        for _, key, _, _ in REFERENCES.get(name, ()):
            values[f"{key}_id"] = resolved[key].get(values.pop(key))
        rows.append(
            {"external_id": source_id, **{column: values[column] for column in FIELDS[name]}}
        )
    return rows


def _derived_events(cases, case_pks):
    """{attname: value} rows of the events a chunk of cases.csv rows implies that no imported
    event carries (the imported events are written already)."""
    pk_to_id = {case_pks[case_id]: case_id for case_id, _ in cases}
    carried = set()
    for chunk in chunks(list(pk_to_id)):
        stored = CaseEvent.objects.filter(case_id__in=chunk, external_id__isnull=False).values_list(
            "case_id", "type", "external_id"
        )
        for case_pk, type_, external_id in stored:
            if not DERIVED_ID.fullmatch(external_id):
                carried.add((pk_to_id[case_pk], type_))
    stale = [
        f"{case_id}/{suffix}"
        for case_id, _ in cases
        for type_, suffix in DERIVED.values()
        if (case_id, type_) in carried
    ]
    for chunk in chunks(stale):
        CaseEvent.objects.filter(external_id__in=chunk).delete()
    derived = []
    for case_id, values in cases:
        for column, (type_, suffix) in DERIVED.items():
            if values[column] is not None and (case_id, type_) not in carried:
                derived.append(
                    {
                        "external_id": f"{case_id}/{suffix}",
                        "case_id": case_pks[case_id],
                        "type": type_,
                        "at": values[column],
                    }
                )
    return derived


def import_advocacy(directory, *, actor=None, dry_run=False):
    """Check every row of the files in `directory`, then load them all or nothing.

    Raises InvalidImport (a ValidationError) listing the problems; nothing is written then.
    Returns an ImportReport. `dry_run` checks and counts, then rolls everything back.
    """
    directory = Path(directory)
    rows_read = check_files(directory)
    report = ImportReport(directory=str(directory), rows_read=rows_read, dry_run=dry_run)
    case_ids = []
    with writing(dry_run=dry_run):
        for name in rows_read:
            counts = report.tables[name] = TableCounts()
            for chunk in batched(_good_rows(directory / name), CHUNK):
                rows = _resolve(name, chunk)
                pks = upsert(MODELS[name], "external_id", FIELDS[name], rows, counts)
                if name == CASES:
                    case_ids.extend(pks.values())
        if CASES in rows_read:
            counts = report.tables[DERIVED_EVENTS] = TableCounts()
            for chunk in batched(_good_rows(directory / CASES), CHUNK):
                case_pks = _pks(Case, {case_id for case_id, _ in chunk})
                derived = _derived_events(chunk, case_pks)
                upsert(CaseEvent, "external_id", FIELDS[EVENTS], derived, counts)
        if not dry_run:
            # The loaded cases' facts and the tables built on them, in the same transaction.
            rollups.refresh()
        audit_import(
            actor=actor,
            model=Case if CASES in rows_read else MODELS[next(iter(rows_read))],
            object_ids=case_ids,
            source=f"Advocacy import from {directory.name}",
            tables=report.tables,
        )
    return report
