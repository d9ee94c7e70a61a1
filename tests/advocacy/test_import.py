"""`manage.py import_advocacy DIR`: every row checked first, errors name file and row, all or
nothing, upserts on the source ids (re-running changes nothing)."""

from datetime import UTC, datetime

import pytest
from django.core.management import CommandError, call_command

from advocacy.importers import InvalidImport, import_advocacy
from advocacy.models import Advocate, Case, CaseEvent, Interaction, Patient, PatientFeedback
from opsintel.models import AuditEvent

pytestmark = pytest.mark.django_db

META = '"{""intake_source"": ""portal"", ""barriers"": [""cost""], ""handoff_count"": 2}"'

FILES = {
    "patients.csv": [
        "id,insurance_type,preferred_channel,state,risk_score,created_at",
        "P1,Medicare,phone,CO,42.5,2026-01-05T08:00:00Z",
        "P2,Commercial,email,NY,,2026-01-06 09:30",
    ],
    "advocates.csv": [
        "id,name,specialty,team,capacity,hire_date",
        "A1,Ana Ruiz,billing,East,20,2024-03-01",
        "A2,Ben Cho,prior auth,West,,",
    ],
    "cases.csv": [
        "id,patient_id,advocate_id,case_type,urgency,status,created_at,assigned_at,"
        "first_response_at,resolved_at,escalation_flag,reopen_flag,metadata_json",
        f"C1,P1,A1,billing_dispute,high,resolved,2026-02-01T09:00:00Z,2026-02-01T10:00:00Z,"
        f"2026-02-01T12:00:00Z,2026-02-04T09:00:00Z,true,false,{META}",
        "C2,P2,A2,prior_authorization,urgent,in_progress,2026-02-02T09:00:00Z,"
        "2026-02-02T09:30:00Z,,,false,false,",
        "C3,P1,,claim_denial,low,open,2026-02-03T09:00:00Z,,,,no,no,{}",
    ],
    "interactions.csv": [
        "id,case_id,type,created_at,duration_minutes,advocate_id",
        "I1,C1,phone,2026-02-01T12:00:00Z,15,A1",
        "I2,C1,email,2026-02-02T12:00:00Z,,A1",
        "I3,C2,portal,2026-02-03T12:00:00Z,5,",
    ],
    "case_events.csv": [
        "id,case_id,event_type,occurred_at",
        "E1,C1,opened,2026-02-01T09:00:00Z",
        "E2,C1,assigned,2026-02-01T10:05:00Z",
        "E3,C2,docs_requested,2026-02-03T09:00:00Z",
    ],
    "patient_feedback.csv": [
        "id,case_id,csat_score,nps_bucket,feedback_text,submitted_at",
        "F1,C1,4,promoter,Helpful,2026-02-05T09:00:00Z",
    ],
}


def write(directory, files):
    for name, lines in files.items():
        (directory / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return directory


def with_rows(name, *rows, replace=None):
    """FILES with `rows` appended to `name` (or the data rows replaced by `replace`)."""
    files = {key: list(lines) for key, lines in FILES.items()}
    if replace is not None:
        files[name] = [files[name][0], *replace]
    files[name].extend(rows)
    return files


def fails(tmp_path, files):
    with pytest.raises(InvalidImport) as exc:
        import_advocacy(write(tmp_path, files))
    assert not Case.objects.exists()
    assert not Patient.objects.exists()
    assert not AuditEvent.objects.exists()
    return " | ".join(exc.value.messages)


def test_valid_load_counts_and_mapping(tmp_path):
    report = import_advocacy(write(tmp_path, FILES))

    assert Patient.objects.count() == 2
    assert Advocate.objects.count() == 2
    assert Case.objects.count() == 3
    assert Interaction.objects.count() == 3
    assert PatientFeedback.objects.count() == 1
    # 3 from case_events.csv + derived: C1 first_response and resolved (its assigned is in
    # case_events.csv), C2 assigned; C3 has no timestamps to derive from.
    assert CaseEvent.objects.count() == 6
    assert report.tables["case_events (from cases.csv)"].created == 3

    c1 = Case.objects.get(external_id="C1")
    assert c1.patient.external_id == "P1"
    assert c1.advocate.external_id == "A1"
    assert c1.escalated is True
    assert (c1.intake_source, c1.barriers, c1.handoff_count, c1.complexity) == (
        "portal",
        ["cost"],
        2,
        "medium",
    )
    assert c1.metadata["handoff_count"] == 2
    assert c1.resolved_at == datetime(2026, 2, 4, 9, tzinfo=UTC)
    assert sorted(c1.events.values_list("type", "external_id")) == [
        ("assigned", "E2"),
        ("first_response", "C1/f"),
        ("opened", "E1"),
        ("resolved", "C1/r"),
    ]
    assert Case.objects.get(external_id="C3").advocate is None
    # no zone: read in TIME_ZONE (America/New_York, EST in January)
    assert Patient.objects.get(external_id="P2").created_at == datetime(
        2026, 1, 6, 14, 30, tzinfo=UTC
    )
    assert Advocate.objects.get(external_id="A2").capacity == 25
    i1 = Interaction.objects.get(external_id="I1")
    assert (i1.channel, i1.duration_minutes, i1.advocate.external_id) == ("phone", 15, "A1")
    feedback = PatientFeedback.objects.get()
    assert (feedback.csat, feedback.comment, feedback.case.external_id) == (4, "Helpful", "C1")

    audit = AuditEvent.objects.get(action=AuditEvent.Action.IMPORT)
    assert "Advocacy import" in audit.description


def test_rerun_changes_nothing_and_updates_changed_rows(tmp_path):
    import_advocacy(write(tmp_path, FILES))
    before = list(CaseEvent.objects.values_list("pk", "external_id", "at").order_by("pk"))

    report = import_advocacy(tmp_path)

    assert all(c.created == 0 and c.updated == 0 for c in report.tables.values())
    assert report.tables["cases.csv"].unchanged == 3
    assert list(CaseEvent.objects.values_list("pk", "external_id", "at").order_by("pk")) == before
    assert AuditEvent.objects.filter(action=AuditEvent.Action.IMPORT).count() == 2

    files = with_rows(
        "advocates.csv",
        replace=["A1,Ana Ruiz,billing,East,30,2024-03-01", "A2,Ben Cho,prior auth,West,,"],
    )
    report = import_advocacy(write(tmp_path, files))
    assert (report.tables["advocates.csv"].updated, report.tables["advocates.csv"].unchanged) == (
        1,
        1,
    )
    assert Advocate.objects.get(external_id="A1").capacity == 30


def test_subset_refers_to_stored_rows(tmp_path):
    import_advocacy(write(tmp_path, FILES))
    daily = tmp_path / "daily"
    daily.mkdir()
    lines = [FILES["interactions.csv"][0], "I9,C2,sms,2026-02-04T12:00:00Z,3,A2"]
    write(daily, {"interactions.csv": lines})
    report = import_advocacy(daily)
    assert report.tables["interactions.csv"].created == 1
    assert Interaction.objects.count() == 4


def test_one_bad_row_in_the_middle_writes_nothing(tmp_path):
    files = with_rows(
        "interactions.csv",
        replace=[
            "I1,C1,phone,2026-02-01T12:00:00Z,15,A1",
            "I2,C1,fax,2026-02-02T12:00:00Z,,A1",
            "I3,C2,portal,2026-02-03T12:00:00Z,5,",
        ],
    )
    message = fails(tmp_path, files)
    assert "interactions.csv row 3: type 'fax' is not a known interaction type" in message
    assert "row 2" not in message
    assert "row 4" not in message


def test_bad_metadata_names_the_field(tmp_path):
    bad = '"{""handoff_count"": ""two""}"'
    files = with_rows(
        "cases.csv", f"C4,P1,A1,billing_dispute,low,open,2026-02-03T09:00:00Z,,,,no,no,{bad}"
    )
    message = fails(tmp_path, files)
    assert "cases.csv row 5: metadata_json metadata.handoff_count: handoff_count must be" in message


def test_metadata_not_an_object(tmp_path):
    files = with_rows(
        "cases.csv", "C4,P1,A1,billing_dispute,low,open,2026-02-03T09:00:00Z,,,,no,no,[1]"
    )
    assert "cases.csv row 5: metadata_json '[1]' is not a JSON object" in fails(tmp_path, files)


def test_resolved_before_created_is_reported(tmp_path):
    files = with_rows(
        "cases.csv",
        "C4,P1,A1,billing_dispute,low,resolved,2026-02-03T09:00:00Z,,,2026-02-02T09:00:00Z,"
        "no,no,{}",
    )
    message = fails(tmp_path, files)
    assert "cases.csv row 5: resolved_at 2026-02-02T09:00:00Z is before created_at" in message


def test_event_before_its_case_is_reported(tmp_path):
    files = with_rows("case_events.csv", "E9,C2,escalated,2026-01-01T00:00:00Z")
    message = fails(tmp_path, files)
    assert "case_events.csv row 5: occurred_at" in message
    assert "before case 'C2'" in message


def test_csat_out_of_range(tmp_path):
    files = with_rows(
        "patient_feedback.csv", replace=["F1,C1,6,promoter,Great,2026-02-05T09:00:00Z"]
    )
    assert "patient_feedback.csv row 2: csat_score 6 is outside 1–5" in fails(tmp_path, files)


def test_feedback_on_unresolved_case(tmp_path):
    files = with_rows("patient_feedback.csv", "F2,C2,5,promoter,,2026-02-05T09:00:00Z")
    assert "patient_feedback.csv row 3: case 'C2' is not resolved" in fails(tmp_path, files)


def test_unknown_case_id(tmp_path):
    files = with_rows("interactions.csv", "I4,C99,phone,2026-02-03T12:00:00Z,5,A1")
    message = fails(tmp_path, files)
    assert "interactions.csv row 5: case_id 'C99' is not in cases.csv nor stored" in message


def test_bad_enum_and_repeated_id(tmp_path):
    files = with_rows("cases.csv", "C1,P1,A1,parking,low,open,2026-02-03T09:00:00Z,,,,no,no,{}")
    message = fails(tmp_path, files)
    assert "cases.csv row 5: id 'C1' also on row 2" in message
    assert "case_type 'parking' is not a known case type" in message


def test_command_reports_and_fails_cleanly(tmp_path):
    call_command("import_advocacy", str(write(tmp_path, FILES)))
    assert Case.objects.count() == 3
    bad = tmp_path / "bad"
    bad.mkdir()
    lines = [FILES["patient_feedback.csv"][0], "F1,C1,0,,,2026-02-05T09:00:00Z"]
    write(bad, {"patient_feedback.csv": lines})
    with pytest.raises(CommandError, match="row 2: csat_score 0 is outside 1–5"):
        call_command("import_advocacy", str(bad))


def test_derived_event_gives_way_to_an_imported_one(tmp_path):
    import_advocacy(write(tmp_path, FILES))
    assert CaseEvent.objects.filter(external_id="C1/f").exists()

    files = with_rows("case_events.csv", "E4,C1,first_response,2026-02-01T11:00:00Z")
    report = import_advocacy(write(tmp_path, files))

    assert not CaseEvent.objects.filter(external_id="C1/f").exists()
    c1_first = CaseEvent.objects.get(case__external_id="C1", type="first_response")
    assert c1_first.external_id == "E4"
    assert report.tables["case_events (from cases.csv)"].unchanged == 2


def test_dry_run_writes_nothing(tmp_path):
    report = import_advocacy(write(tmp_path, FILES), dry_run=True)
    assert report.tables["cases.csv"].created == 3
    assert not Case.objects.exists()
    assert not AuditEvent.objects.exists()
