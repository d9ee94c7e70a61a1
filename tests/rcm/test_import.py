"""`manage.py import_claims FILE.csv` (rcm.importers): every row checked first, errors naming
file, row and column, all or nothing, upserts on claim_number and member_id, dry run."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from opsintel.csvimport import InvalidImport
from opsintel.models import AuditEvent
from rcm.importers import import_claims
from rcm.models import Claim, Patient
from tests.rcm.factories import ClaimFactory, PatientFactory, PayerFactory

pytestmark = pytest.mark.django_db

HEADER = (
    "claim_number,member_id,patient_name,date_of_birth,provider,payer,service_date,"
    "submission_date,procedure_code,diagnosis_code,amount,balance,status,denial_reason,notes"
)
GOOD = [
    "C-1,M-1,Ann Lee,1960-04-02,Riverside Clinic,aetna,2026-01-05,2026-01-09,99214,E11.9,"
    "7500.00,,,,",
    "C-2,M-1,Ann Lee,1960-04-02,Riverside Clinic,Medicare,2026-01-06,2026-01-10,27447,M17.11,"
    "1200.5,300,denied,medical_necessity,Knee replacement",
    "C-3,M-2,Bo Park,,Lakeside Surgery,MEDICARE,2026-02-01,2026-02-01,j1100,e119,80,80,paid,,",
]


def write(tmp_path, *rows, header=HEADER, name="claims.csv"):
    path = tmp_path / name
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def problems(path, **kwargs):
    with pytest.raises(InvalidImport) as caught:
        import_claims(path, **kwargs)
    return caught.value.messages


def test_a_good_file_loads_every_claim_and_its_patients(tmp_path, make_user):
    user = make_user("AR manager")
    report = import_claims(write(tmp_path, *GOOD), actor=user)

    assert (report.patients.created, report.claims.created) == (2, 3)
    first = Claim.objects.select_related("patient", "payer").get(claim_number="C-1")
    assert (first.patient.member_id, first.patient.name) == ("M-1", "Ann Lee")
    assert first.patient.date_of_birth == date(1960, 4, 2)
    assert first.payer.name == "Aetna"  # named in any letter case
    assert (first.amount, first.balance) == (Decimal("7500.00"), Decimal("7500.00"))
    assert (first.status, first.denial_reason, first.notes) == ("submitted", "", "")
    assert (first.service_date, first.submission_date) == (date(2026, 1, 5), date(2026, 1, 9))
    second = Claim.objects.get(claim_number="C-2")
    assert (second.amount, second.balance) == (Decimal("1200.50"), Decimal("300.00"))
    assert (second.status, second.denial_reason) == ("denied", "medical_necessity")
    assert second.notes == "Knee replacement"
    third = Claim.objects.select_related("patient").get(claim_number="C-3")
    assert (third.procedure_code, third.diagnosis_code) == ("J1100", "E119")  # upper case
    assert third.patient.date_of_birth is None
    assert (third.queue, third.agent, third.priority) == (None, None, "")  # the engine's
    event = AuditEvent.objects.get(action=AuditEvent.Action.IMPORT)
    assert (event.actor, event.object_type, event.object_count) == (user, "rcm.claim", 3)
    assert event.description == (
        "Claim import from claims.csv: patients 2 created, 0 updated; claims 3 created, 0 updated"
    )
    assert report.lines()[0] == f"Imported 3 claims from {tmp_path / 'claims.csv'}"


def test_importing_the_same_file_again_changes_nothing(tmp_path):
    path = write(tmp_path, *GOOD)
    import_claims(path)
    before = list(Claim.objects.order_by("pk").values_list("pk", "updated_at"))

    report = import_claims(path)

    assert (report.claims.created, report.claims.updated, report.claims.unchanged) == (0, 0, 3)
    assert (report.patients.created, report.patients.unchanged) == (0, 2)
    assert list(Claim.objects.order_by("pk").values_list("pk", "updated_at")) == before


def test_known_claims_and_patients_are_updated_to_the_file(tmp_path):
    patient = PatientFactory(member_id="M-1", name="Ann Leigh")
    ClaimFactory(claim_number="C-1", patient=patient, amount=Decimal("10"), notes="old")

    report = import_claims(write(tmp_path, *GOOD))

    assert (report.claims.created, report.claims.updated) == (2, 1)
    assert (report.patients.created, report.patients.updated) == (1, 1)
    claim = Claim.objects.select_related("patient").get(claim_number="C-1")
    assert (claim.amount, claim.notes, claim.patient.name) == (Decimal("7500.00"), "", "Ann Lee")
    assert Patient.objects.count() == 2


def test_every_bad_value_is_reported_by_row_and_column_and_nothing_is_written(tmp_path):
    path = write(
        tmp_path,
        GOOD[0],
        "C-4,M-3,Cy Diaz,1970-01-01,Clinic,Nobody Health,2026-01-05,2026-01-09,99213,E11.9,0,,,,",
        "C-5,M-3,Cy Diaz,1970-01-01,Clinic,Aetna,2026-02-05,2026-01-09,99213,E11.9,abc,,,,",
        "C-6,M-4,Di Eng,1970-01-01,Clinic,Aetna,2026-01-05,2026-01-09,99213,E11.9,-5,,,,",
        "C-7,M-5,Ed Fox,1970-01-01,Clinic,Aetna,2026-01-05,2026-01-09,99213,E11.9,10,20,lost,,",
        "C-8,M-6,Fa Gu,1970-01-01,Clinic,Aetna,2026-1-5,2026-01-09,992,??,10,,denied,,",
        "C-9,M-7,Gi Ho,1970-01-01,Clinic,Aetna,2026-01-05,2026-01-09,99213,E11.9,10,,pending,"
        "duplicate,",
        "C-1,M-8,Ha Im,1970-01-01,Clinic,Aetna,2026-01-05,2026-01-09,99213,E11.9,10,,paid,oops,",
    )

    messages = problems(path)

    assert messages == [
        "claims.csv row 3: payer 'Nobody Health' is not a known payer; add it in the admin "
        "first or use one of Aetna, Medicare.",
        "claims.csv row 3: amount '0' must be more than 0.",
        "claims.csv row 4: service_date 2026-02-05 is after submission_date 2026-01-09.",
        "claims.csv row 4: amount 'abc' is not a number.",
        "claims.csv row 5: amount '-5' is negative.",
        "claims.csv row 6: balance 20.00 is more than the amount 10.00.",
        "claims.csv row 6: status 'lost' is not a known claim status; expected one of "
        "submitted, pending, denied, appealed, paid, partially_paid, written_off, closed.",
        "claims.csv row 7: service_date '2026-1-5' is not a date (YYYY-MM-DD).",
        "claims.csv row 7: procedure_code '992' is not a five-character CPT code like 99213.",
        "claims.csv row 7: diagnosis_code '??' is not an ICD-10 code like E11.9.",
        "claims.csv row 7: denial_reason is empty; a denied claim needs one (other if unknown).",
        "claims.csv row 8: denial_reason 'duplicate' is given for a pending claim, which has "
        "not been denied.",
        "claims.csv row 9: denial_reason 'oops' is not a known denial reason; expected one of "
        "authorization_required, medical_necessity, not_covered, incorrect_coding, "
        "timely_filing, duplicate, other.",
        "claims.csv row 9: claim_number 'C-1' is also on row 2.",
    ]
    assert not Claim.objects.exists()
    assert not Patient.objects.exists()
    assert not AuditEvent.objects.exists()


def test_a_member_named_two_ways_is_an_error(tmp_path):
    path = write(
        tmp_path,
        GOOD[0],
        GOOD[1].replace("Ann Lee,1960-04-02", "Ann Lee,1961-04-02"),
    )
    assert problems(path) == [
        "claims.csv row 3: member_id 'M-1' is 'Ann Lee' born 1960-04-02 on row 2, but "
        "'Ann Lee' born 1961-04-02 here."
    ]


def test_payers_added_later_are_known(tmp_path):
    PayerFactory(name="Cigna")
    import_claims(write(tmp_path, GOOD[0].replace("aetna", "CIGNA")))
    assert Claim.objects.get().payer.name == "Cigna"


def test_optional_columns_may_be_left_out_but_no_column_is_unknown(tmp_path):
    required = HEADER.removesuffix(",balance,status,denial_reason,notes")
    row = GOOD[0].removesuffix(",,,,")
    import_claims(write(tmp_path, row, header=required))
    assert Claim.objects.get().balance == Decimal("7500.00")

    path = write(tmp_path, row + ",x", header=required.replace("amount", "amount,colour"))
    path2 = write(tmp_path, row, header=required.replace(",amount", ""), name="two.csv")
    assert problems(path) == [
        "claims.csv: unexpected column(s) 'colour'. The header needs the columns claim_number, "
        "member_id, patient_name, date_of_birth, provider, payer, service_date, "
        "submission_date, procedure_code, diagnosis_code, amount and may add balance, status, "
        "denial_reason, notes, appealed_on, settled_on."
    ]
    assert problems(path2)[0].startswith("two.csv: missing column(s) amount.")


def test_rows_with_the_wrong_number_of_values_and_empty_files(tmp_path):
    path = write(tmp_path, GOOD[0], "C-9,M-9,Short Row")
    assert problems(path) == ["claims.csv row 3: 3 values for 15 columns."]
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert problems(empty)[0].startswith("empty.csv: the file is empty;")
    latin = tmp_path / "latin.csv"
    latin.write_bytes((HEADER + "\n" + GOOD[0].replace("Ann", "Ånn") + "\n").encode("latin-1"))
    assert problems(latin) == [
        'latin.csv row 2 (byte 0xc5): the file is not UTF-8 text. Save it as UTF-8 ("CSV '
        'UTF-8") and import again.'
    ]
    assert not Claim.objects.exists()


def test_a_dry_run_counts_and_writes_nothing(tmp_path):
    report = import_claims(write(tmp_path, *GOOD), dry_run=True)
    assert (report.claims.created, report.patients.created) == (3, 2)
    assert report.lines()[0].startswith("Checked (dry run, nothing written) 3 claims")
    assert not Claim.objects.exists()
    assert not Patient.objects.exists()
    assert not AuditEvent.objects.exists()


def test_the_command_imports_reports_and_names_the_user(tmp_path, make_user, capsys):
    make_user(username="billing-lead")
    path = write(tmp_path, *GOOD)

    call_command("import_claims", str(path), "--dry-run")
    assert not Claim.objects.exists()
    call_command("import_claims", str(path), "--user", "billing-lead")

    out = capsys.readouterr().out
    assert f"Imported 3 claims from {path}" in out
    assert "claims:   3 created, 0 updated, 0 unchanged" in out
    assert Claim.objects.count() == 3
    assert AuditEvent.objects.get().actor_username == "billing-lead"


def test_the_command_lists_every_problem_and_writes_nothing(tmp_path):
    path = write(tmp_path, GOOD[0], GOOD[0])
    with pytest.raises(CommandError) as caught:
        call_command("import_claims", str(path))
    assert str(caught.value) == (
        f"Nothing was imported: 1 problem(s) in {path}.\n"
        "  claims.csv row 3: claim_number 'C-1' is also on row 2."
    )
    with pytest.raises(CommandError, match="is not a file"):
        call_command("import_claims", str(tmp_path / "missing.csv"))
    with pytest.raises(CommandError, match="No user 'nobody'"):
        call_command("import_claims", str(path), "--user", "nobody")
    assert not Claim.objects.exists()


def test_the_sample_in_the_docs_imports(tmp_path, settings):
    docs = (settings.BASE_DIR / "docs" / "rcm-import.md").read_text()
    sample = docs.split("```csv\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "sample.csv"
    path.write_text(sample)
    report = import_claims(path)
    assert (report.claims.created, report.patients.created) == (3, 2)


def test_outcome_dates_are_read_and_checked(tmp_path):
    header = HEADER + ",appealed_on,settled_on"
    base = "M-1,Ann Lee,1960-04-02,Riverside Clinic,Aetna,2026-01-05,2026-01-09,99214,E11.9,80,"
    path = write(
        tmp_path,
        f"C-1,{base}0,paid,incorrect_coding,,2026-02-01,2026-02-20",
        f"C-2,{base}0,paid,,,,",
        header=header,
    )
    import_claims(path)
    assert {c.claim_number: (c.appealed_on, c.settled_on) for c in Claim.objects.all()} == {
        "C-1": (date(2026, 2, 1), date(2026, 2, 20)),
        "C-2": (None, date(2026, 1, 9)),  # settled without its day: the submission day
    }
    bad = write(tmp_path, f"C-3,{base}80,pending,,,,2026-02-20", header=header, name="bad.csv")
    assert problems(bad) == [
        "bad.csv row 2: settled_on 2026-02-20 is given for a pending claim, which is not settled."
    ]
