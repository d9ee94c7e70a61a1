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
chunks of CHUNK rows: each chunk looks up the stored rows of its ids in one query and upserts
the new and changed rows with one bulk statement. One AuditEvent (import) records the run.
The parsed rows are held in memory between checking and writing (thousands of cases, not
millions).
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
    chunks,
    existing_rows,
    read_rows,
    show,
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


# Checking ---------------------------------------------------------------------------------------


class _Checker:
    """Parses every file present into {external_id: (row number, values)}, collecting errors."""

    def __init__(self, directory, present):
        self.directory = directory
        self.present = present
        self.errors = Errors()
        self.parsed = {name: {} for name in present}
        # case external id -> (created_at, resolved_at) from cases.csv or the store
        self.case_times = {}

    def run(self):
        for name in FILES:
            if name in self.present:
                getattr(self, "_" + name.removesuffix(".csv"))(self.directory / name)
        self._check_references()
        self._check_case_consistency()
        if self.errors:
            raise InvalidImport(self.errors.shown, self.errors.total)
        return self.parsed

    # one file -----------------------------------------------------------------------------------

    def _rows(self, path):
        seen = self.parsed[path.name]
        for number, values in read_rows(path, COLUMNS[path.name], self.errors):
            row = Row(path.name, number, values, self.errors)
            source_id = row.text("id", max_length=MAX_ID)
            if source_id in seen:
                row.error(f"id {show(source_id)} also on row {seen[source_id][0]}")
            yield row, source_id

    def _keep(self, row, source_id, values):
        if row.ok:
            self.parsed[row.name][source_id] = (row.number, values)

    def _patients(self, path):
        for row, source_id in self._rows(path):
            values = {
                column: row.text(column, max_length=_max_length(Patient, column), required=False)
                for column in ("insurance_type", "preferred_channel", "state")
            }
            values["risk_score"] = row.decimal("risk_score", places=2, max_digits=5, required=False)
            if values["risk_score"] is not None and values["risk_score"] > 100:
                row.error(f"risk_score {values['risk_score']} is outside 0–100")
            values["created_at"] = row.datetime("created_at")
            self._keep(row, source_id, values)

    def _advocates(self, path):
        for row, source_id in self._rows(path):
            values = {"name": row.text("name", max_length=_max_length(Advocate, "name"))}
            for column in ("specialty", "team"):
                values[column] = row.text(
                    column, max_length=_max_length(Advocate, column), required=False
                )
            values["capacity"] = row.integer(
                "capacity", required=False, default=25, low=1, high=MAX_POSITIVE_INT
            )
            values["hire_date"] = row.date("hire_date", required=False)
            self._keep(row, source_id, values)

    def _cases(self, path):
        for row, source_id in self._rows(path):
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
                        f"{column} {row.values[column]} is before created_at "
                        f"{row.values['created_at']}"
                    )
            values.update(self._metadata(row))
            if row.ok:
                self.case_times[source_id] = (created, values["resolved_at"])
            self._keep(row, source_id, values)

    def _metadata(self, row):
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

    def _interactions(self, path):
        for row, source_id in self._rows(path):
            values = {
                "case": row.text("case_id"),
                "channel": row.choice("type", Interaction.Channel.values, noun="interaction type"),
                "started_at": row.datetime("created_at"),
                "duration_minutes": row.integer(
                    "duration_minutes", required=False, default=0, high=MAX_POSITIVE_INT
                ),
                "advocate": row.text("advocate_id", required=False) or None,
            }
            self._keep(row, source_id, values)

    def _case_events(self, path):
        for row, source_id in self._rows(path):
            if DERIVED_ID.fullmatch(source_id):
                row.error(
                    f"id {show(source_id)} has the form reserved for events derived from "
                    f"{CASES} (<case id>/a, /f or /r)"
                )
            values = {
                "case": row.text("case_id"),
                "type": row.choice("event_type", CaseEvent.Type.values, noun="event type"),
                "at": row.datetime("occurred_at"),
            }
            self._keep(row, source_id, values)

    def _patient_feedback(self, path):
        for row, source_id in self._rows(path):
            values = {
                "case": row.text("case_id"),
                "csat": row.integer("csat_score", low=1, high=5),
                "comment": row.text("feedback_text", required=False),
                "submitted_at": row.datetime("submitted_at"),
            }
            self._keep(row, source_id, values)

    # across files -------------------------------------------------------------------------------

    def _known(self, name, model, wanted):
        """The ids of `wanted` that are in file `name` of this import or stored."""
        in_file = set(self.parsed.get(name, ()))
        missing = set(wanted) - in_file
        stored = set(existing_rows(model.objects.all(), "external_id", sorted(missing)))
        return in_file | stored

    def _check_references(self):
        refs = [  # (file, column, value key, referenced file, model)
            (CASES, "patient_id", "patient", PATIENTS, Patient),
            (CASES, "advocate_id", "advocate", ADVOCATES, Advocate),
            (INTERACTIONS, "case_id", "case", CASES, Case),
            (INTERACTIONS, "advocate_id", "advocate", ADVOCATES, Advocate),
            (EVENTS, "case_id", "case", CASES, Case),
            (FEEDBACK, "case_id", "case", CASES, Case),
        ]
        for name, column, key, target, model in refs:
            rows = self.parsed.get(name)
            if not rows:
                continue
            wanted = {values[key] for _, values in rows.values() if values[key] is not None}
            known = self._known(target, model, wanted)
            for source_id, (number, values) in list(rows.items()):
                if values[key] is not None and values[key] not in known:
                    self.errors.add(
                        f"{name} row {number}: {column} {show(values[key])} is not in {target} "
                        "nor stored."
                    )
                    rows.pop(source_id)

    def _check_case_consistency(self):
        wanted = set()
        for name in (INTERACTIONS, EVENTS, FEEDBACK):
            wanted.update(values["case"] for _, values in self.parsed.get(name, {}).values())
        stored_ids = sorted(wanted - set(self.case_times))
        stored = existing_rows(
            Case.objects.all(), "external_id", stored_ids, "created_at", "resolved_at"
        )
        for case_id, (created, resolved) in stored.items():
            self.case_times[case_id] = (created, resolved)
        moments = [(INTERACTIONS, "started_at", "created_at"), (EVENTS, "at", "occurred_at")]
        for name, key, column in moments:
            for number, values in self.parsed.get(name, {}).values():
                created = self.case_times[values["case"]][0]
                if values[key] < created:
                    self.errors.add(
                        f"{name} row {number}: {column} {values[key].isoformat()} is before "
                        f"case {show(values['case'])} was created ({created.isoformat()})."
                    )
        feedback = self.parsed.get(FEEDBACK, {})
        if not feedback:
            return
        # one feedback per case: within the file and against stored feedback of other ids
        stored_feedback = {}
        for chunk in chunks(sorted({values["case"] for _, values in feedback.values()})):
            stored_feedback.update(
                PatientFeedback.objects.filter(case__external_id__in=chunk).values_list(
                    "case__external_id", "external_id"
                )
            )
        first = {}
        for source_id, (number, values) in feedback.items():
            case_id = values["case"]
            resolved = self.case_times[case_id][1]
            where = f"{FEEDBACK} row {number}: "
            if resolved is None:
                self.errors.add(f"{where}case {show(case_id)} is not resolved (no resolved_at).")
            elif values["submitted_at"] < resolved:
                self.errors.add(
                    f"{where}submitted_at {values['submitted_at'].isoformat()} is before the "
                    f"case was resolved ({resolved.isoformat()})."
                )
            if case_id in first:
                self.errors.add(
                    f"{where}case {show(case_id)} also has feedback on row {first[case_id]}."
                )
            first.setdefault(case_id, number)
            other = stored_feedback.get(case_id, source_id)
            if other != source_id:
                self.errors.add(
                    f"{where}case {show(case_id)} already has feedback {show(other or '')}."
                )


def check_files(directory):
    """Check every row of every file present; raise InvalidImport listing all problems.

    Returns {file name: {external_id: (row number, values)}} in writing order.
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


def _upsert(model, fields, rows, counts):
    """Upsert {external_id: {attname: value}} in chunks: look up the stored rows of a chunk in
    one query, then insert the new and update the changed ones with one bulk statement.
    Returns {external_id: pk} for all rows."""
    pks = {}
    items = list(rows.items())
    for chunk in chunks(items, CHUNK):
        stored = existing_rows(
            model.objects.all(), "external_id", [key for key, _ in chunk], "pk", *fields
        )
        changed = []
        for key, values in chunk:
            current = stored.get(key)
            wanted = tuple(values[name] for name in fields)
            if current is None:
                counts.created += 1
            elif current[1:] != wanted:
                counts.updated += 1
            else:
                counts.unchanged += 1
                pks[key] = current[0]
                continue
            changed.append(model(external_id=key, **values))
        if changed:
            model.objects.bulk_create(
                changed,
                update_conflicts=True,
                unique_fields=["external_id"],
                update_fields=[model._meta.get_field(name).name for name in fields],
                batch_size=1000,
            )
            written = existing_rows(
                model.objects.all(), "external_id", [obj.external_id for obj in changed], "pk"
            )
            pks.update({key: row[0] for key, row in written.items()})
    return pks


def _pks(model, ids, known):
    """{external_id: pk} for `ids`, from `known` (just written) or the store."""
    missing = [key for key in ids if key is not None and key not in known]
    found = {
        key: row[0]
        for key, row in existing_rows(model.objects.all(), "external_id", missing, "pk").items()
    }
    return {**found, **{key: known[key] for key in ids if key in known}}


def _derived_events(cases, events, case_pks):
    """{external_id: values} of the events cases.csv implies that no imported event carries."""
    carried = {(values["case"], values["type"]) for _, values in events.values()}
    pk_to_id = {case_pks[case_id]: case_id for case_id in cases}
    for chunk in chunks(list(pk_to_id)):
        stored = CaseEvent.objects.filter(case_id__in=chunk, external_id__isnull=False).values_list(
            "case_id", "type", "external_id"
        )
        for case_pk, type_, external_id in stored:
            if not DERIVED_ID.fullmatch(external_id):
                carried.add((pk_to_id[case_pk], type_))
    stale = [
        f"{case_id}/{suffix}"
        for case_id in cases
        for type_, suffix in DERIVED.values()
        if (case_id, type_) in carried
    ]
    for chunk in chunks(stale):
        CaseEvent.objects.filter(external_id__in=chunk).delete()
    derived = {}
    for case_id, (_, values) in cases.items():
        for column, (type_, suffix) in DERIVED.items():
            if values[column] is not None and (case_id, type_) not in carried:
                derived[f"{case_id}/{suffix}"] = {
                    "case_id": case_pks[case_id],
                    "type": type_,
                    "at": values[column],
                }
    return derived


def import_advocacy(directory, *, actor=None, dry_run=False):
    """Check every row of the files in `directory`, then load them all or nothing.

    Raises InvalidImport (a ValidationError) listing the problems; nothing is written then.
    Returns an ImportReport. `dry_run` checks and counts, then rolls everything back.
    """
    directory = Path(directory)
    parsed = check_files(directory)
    report = ImportReport(
        directory=str(directory),
        rows_read={name: len(rows) for name, rows in parsed.items()},
        dry_run=dry_run,
    )
    with writing(dry_run=dry_run):
        pks = {}
        for name, rows in parsed.items():
            values = {}
            if name == CASES:
                patients = _pks(
                    Patient, {v["patient"] for _, v in rows.values()}, pks.get(PATIENTS, {})
                )
                advocates = _pks(
                    Advocate, {v["advocate"] for _, v in rows.values()}, pks.get(ADVOCATES, {})
                )
            elif name in (INTERACTIONS, EVENTS, FEEDBACK):
                cases = _pks(Case, {v["case"] for _, v in rows.values()}, pks.get(CASES, {}))
                if name == INTERACTIONS:
                    advocates = _pks(
                        Advocate,
                        {v["advocate"] for _, v in rows.values()},
                        pks.get(ADVOCATES, {}),
                    )
            for source_id, (_, row) in rows.items():
                row = dict(row)
                if name == CASES:
                    row["patient_id"] = patients[row.pop("patient")]
                    row["advocate_id"] = advocates.get(row.pop("advocate"))
                elif name in (INTERACTIONS, EVENTS, FEEDBACK):
                    row["case_id"] = cases[row.pop("case")]
                    if name == INTERACTIONS:
                        row["advocate_id"] = advocates.get(row.pop("advocate"))
                values[source_id] = {field: row[field] for field in FIELDS[name]}
            counts = report.tables[name] = TableCounts()
            pks[name] = _upsert(MODELS[name], FIELDS[name], values, counts)
        if CASES in parsed:
            derived = _derived_events(parsed[CASES], parsed.get(EVENTS, {}), pks[CASES])
            counts = report.tables[DERIVED_EVENTS] = TableCounts()
            _upsert(CaseEvent, FIELDS[EVENTS], derived, counts)
        if not dry_run:
            # The loaded cases' facts and the tables built on them, in the same transaction.
            rollups.refresh()
        audit_import(
            actor=actor,
            model=Case if CASES in parsed else MODELS[next(iter(parsed))],
            object_ids=list(pks.get(CASES, {}).values()),
            source=f"Advocacy import from {directory.name}",
            tables=report.tables,
        )
    return report
