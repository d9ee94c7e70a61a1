"""Hostile input, imports: every importer, given a bad file, writes nothing and says clearly
what is wrong (file, row, column), never with a traceback.

Each management-command importer (import_hedis, import_leaderhub, import_advocacy,
import_claims) gets the same files: one bad row in the middle, a file cut mid-row and
mid-quoted-field, a wrong header, latin-1 and UTF-16 bytes, a repeated key. The admin imports
get the same treatment through the admin's upload form, which also refuses a file above
settings.IMPORT_MAX_UPLOAD_MB. A 4 MB file for each command importer checks that it streams,
checking and writing (bench/bench_import_memory.py runs 200 MB ones).
"""

import csv
import io
import tracemalloc
from dataclasses import dataclass, field

import pytest
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from advocacy import importers as advocacy_importers
from advocacy import models as advocacy_m
from campaigns import importers as campaigns_importers
from campaigns import models as campaigns_m
from leaderhub import importers as leaderhub_importers
from leaderhub import models as leaderhub_m
from opsintel.models import AuditEvent
from rcm import importers as rcm_importers
from rcm import models as rcm_m
from tests.campaigns.factories import MeasureFactory
from tests.leaderhub.factories import MarketFactory, ProviderFactory

pytestmark = pytest.mark.django_db

ROWS = 9  # data rows in each file; the bad one is in the middle
MIDDLE = 5  # the 5th data row is spreadsheet row 6


@dataclass
class Importer:
    """One importer: its command, the file it reads, a good row and how a row goes bad."""

    command: str
    file: str
    header: list  # the free-text column last, to cut a quoted field at the end of the file
    row: object  # row(n) -> [cells]
    bad: dict  # column -> a bad value for the middle row
    key: str  # the key column
    models: tuple
    single_file: bool = False
    others: dict = field(default_factory=dict)  # other files the directory needs
    setup: object = None

    def lines(self, rows):
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(self.header)
        writer.writerows(rows)
        return out.getvalue()

    def good_rows(self):
        return [self.row(n) for n in range(1, ROWS + 1)]

    def cells(self, values):
        return [values[column] for column in self.header]


def _claim(n):
    return {
        "claim_number": f"C-{n}",
        "member_id": f"M-{n}",
        "patient_name": f"Patient {n}",
        "date_of_birth": "1960-04-02",
        "provider": "Riverside Clinic",
        "payer": "Aetna",
        "service_date": "2026-01-05",
        "submission_date": "2026-01-09",
        "procedure_code": "99213",
        "diagnosis_code": "E11.9",
        "amount": "100.00",
        "balance": "",
        "status": "",
        "denial_reason": "",
        "notes": f"Called the payer, ref {n}",
    }


def _visit(n):
    return {
        "care_request_id": str(9000 + n),
        "provider_id": "101",
        "market": "DEN",
        "service_date": "2026-03-02",
        "patient_first_name": "Jo",
        "patient_last_name": "Smith",
        "patient_athena_id": f"A{n}",
        "chief_complaint": "Cough",
        "diagnosis": "Bronchitis",
        "on_scene_minutes": "42.5",
        "chart_closed_24h": "true",
        "survey_captured": "yes",
        "nps_score": "9",
        "escalated": "no",
        "escalation_reason": "",
        "abx_prescribed": "yes",
        "abx_details": f"amoxicillin {n} days",
    }


def _advocacy_patient(n):
    return {
        "id": f"P{n}",
        "insurance_type": "Medicare",
        "state": "CO",
        "risk_score": "42.5",
        "created_at": "2026-01-05T08:00:00Z",
        "preferred_channel": f"phone {n}",
    }


def _gap(n):
    return {
        "gap_id": str(n),
        "member_id": f"M{n}",
        "measure_id": "GSD",
        "measurement_year": "2026",
        "gap_status": "Open",
        "gap_opened_date": "2026-01-01",
        "gap_closed_date": "",
        "closure_method": "",
        "last_service_date": "",
        "next_due_date": "2026-06-01",
        "outreach_attempts": "0",
        "created_date": "2026-01-01",
        "barrier_code": f"transport {n}",
    }


def _leaderhub_refs():
    MarketFactory(short_name="DEN")
    ProviderFactory(id=101)


HEDIS_MEASURES = (
    "measure_id,measure_name,measure_description,domain,measure_type,star_weight,"
    "revenue_per_point,data_collection,created_date\r\n"
    "GSD,Glycemic Status,,Diabetes,outcome,3.0,125000,admin,2024-01-01\r\n"
)
HEDIS_INTERVENTIONS = (
    "intervention_id,member_id,measure_id,gap_id,activity_id,intervention_date,status,outcome,"
    "cost_per_intervention,created_date\r\n"
)

IMPORTERS = {
    "claims": Importer(
        command="import_claims",
        file="claims.csv",
        header=list(_claim(0)),
        row=lambda n: list(_claim(n).values()),
        bad={"amount": "lots"},
        key="claim_number",
        models=(rcm_m.Claim, rcm_m.Patient),
        single_file=True,
    ),
    "leaderhub": Importer(
        command="import_leaderhub",
        file="visits.csv",
        header=list(_visit(0)),
        row=lambda n: list(_visit(n).values()),
        bad={"nps_score": "ten"},
        key="care_request_id",
        models=(leaderhub_m.Visit,),
        setup=_leaderhub_refs,
    ),
    "advocacy": Importer(
        command="import_advocacy",
        file="patients.csv",
        header=list(_advocacy_patient(0)),
        row=lambda n: list(_advocacy_patient(n).values()),
        bad={"risk_score": "-3"},
        key="id",
        models=(advocacy_m.Patient,),
    ),
    "hedis": Importer(
        command="import_hedis",
        file="member_gaps.csv",
        header=list(_gap(0)),
        row=lambda n: list(_gap(n).values()),
        bad={"gap_status": "Maybe"},
        key="gap_id",
        models=(campaigns_m.Intervention, campaigns_m.Member, campaigns_m.Measure),
        others={
            "hedis_measures.csv": HEDIS_MEASURES,
            "member_interventions.csv": HEDIS_INTERVENTIONS,
        },
    ),
}


@pytest.fixture(params=sorted(IMPORTERS))
def importer(request):
    spec = IMPORTERS[request.param]
    if spec.setup:
        spec.setup()
    return spec


def place(tmp_path, spec, content):
    """Write `content` (str as UTF-8, or bytes) as the importer's file; return the argument
    the command takes (the file, or its directory)."""
    directory = tmp_path / "drop"
    directory.mkdir(exist_ok=True)
    for name, text in spec.others.items():
        (directory / name).write_text(text, encoding="utf-8")
    path = directory / spec.file
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    return path if spec.single_file else directory


def snapshot(spec):
    return {model.__name__: model.objects.count() for model in spec.models}


def fails(spec, target):
    """Run the command; it must refuse with a CommandError and write nothing."""
    before = snapshot(spec), AuditEvent.objects.count()
    with pytest.raises(CommandError) as caught:
        call_command(spec.command, str(target))
    message = str(caught.value)
    assert message.startswith("Nothing was imported:"), message
    assert "Traceback" not in message
    assert (snapshot(spec), AuditEvent.objects.count()) == before
    return message


def with_middle_row(spec, **values):
    rows = spec.good_rows()
    row = dict(zip(spec.header, rows[MIDDLE - 1], strict=True))
    row.update(values)
    rows[MIDDLE - 1] = spec.cells(row)
    return rows


def test_a_good_file_imports(tmp_path, importer):
    """The baseline the other tests break: the same file, unharmed, loads."""
    call_command(
        importer.command, str(place(tmp_path, importer, importer.lines(importer.good_rows())))
    )
    assert snapshot(importer)[importer.models[0].__name__] > 0


def test_one_bad_row_in_the_middle_writes_nothing_and_is_named(tmp_path, importer):
    rows = with_middle_row(importer, **importer.bad)
    message = fails(importer, place(tmp_path, importer, importer.lines(rows)))
    column, value = next(iter(importer.bad.items()))
    assert "1 problem(s)" in message
    assert f"{importer.file} row {MIDDLE + 1}: {column} '{value}'" in message


def test_a_file_cut_mid_row_is_refused(tmp_path, importer):
    body = importer.lines(importer.good_rows())
    cut = body[: body.rindex("\r\n", 0, len(body) - 2) + 2 + 12]  # 12 characters of the last
    message = fails(importer, place(tmp_path, importer, cut))
    assert f"{importer.file} row {ROWS + 1}:" in message
    assert f"for {len(importer.header)} columns" in message


def test_a_file_cut_inside_a_quoted_field_is_refused(tmp_path, importer):
    """A spreadsheet quotes a cell holding a comma; a transfer cut inside it must not load
    the half-cell as if it were the whole file."""
    rows = importer.good_rows()
    rows[-1][-1] = "long note, with a comma, cut here and the rest is lost"
    body = importer.lines(rows)
    cut = body[: body.index("cut here")]
    message = fails(importer, place(tmp_path, importer, cut))
    assert f"{importer.file} row {ROWS + 1}" in message


def test_a_wrong_header_is_refused_with_the_columns_expected(tmp_path, importer):
    header = [*importer.header]
    renamed = header[1]
    header[1] = renamed.upper() + " "  # a spreadsheet's "Member ID" for member_id, say
    body = importer.lines(importer.good_rows()).replace(
        ",".join(importer.header), ",".join(header), 1
    )
    message = fails(importer, place(tmp_path, importer, body))
    assert f"missing column(s) {renamed}" in message
    assert f"unexpected column(s) '{renamed.upper()}'" in message
    assert "1 problem(s)" in message  # one message for the file, not one per row


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252", "utf-16"])
def test_a_file_not_in_utf8_is_refused_with_what_to_do(tmp_path, importer, encoding):
    rows = with_middle_row(importer, **{importer.header[-1]: "Ångström café"})
    body = importer.lines(rows).encode(encoding)
    message = fails(importer, place(tmp_path, importer, body))
    assert "is not UTF-8 text" in message
    assert 'Save it as UTF-8 ("CSV UTF-8")' in message
    if encoding != "utf-16":
        assert f"{importer.file} row {MIDDLE + 1} (byte 0x" in message


def test_a_repeated_key_is_refused_naming_both_rows(tmp_path, importer):
    rows = importer.good_rows()
    duplicate = dict(zip(importer.header, rows[6], strict=True))
    duplicate[importer.key] = dict(zip(importer.header, rows[2], strict=True))[importer.key]
    rows[6] = importer.cells(duplicate)
    message = fails(importer, place(tmp_path, importer, importer.lines(rows)))
    assert f"{importer.file} row 8: {importer.key}" in message
    # Which row it repeats; the Leader Hub's big tables keep keys only and say "an earlier row".
    assert "also on row 4" in message or "repeat an earlier row" in message


def test_an_empty_file_and_a_binary_file_are_refused(tmp_path, importer):
    assert "the file is empty" in fails(importer, place(tmp_path, importer, b""))
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))
    assert "is not UTF-8 text" in fails(importer, place(tmp_path, importer, png))


# The admin imports --------------------------------------------------------------------------------


@pytest.fixture
def superuser_client(client, make_user):
    user = make_user(is_staff=True, is_superuser=True, username="root")
    client.force_login(user)
    return client


def upload(client, model, name, body):
    model_admin = admin.site._registry[model]
    formats = [fmt().get_title() for fmt in model_admin.get_import_formats()]
    label = model._meta.label_lower.replace(".", "_")
    return client.post(
        reverse(f"admin:{label}_import"),
        {
            "resource": "0",
            "format": str(formats.index("csv")),
            "import_file": SimpleUploadedFile(name, body, "text/csv"),
        },
    )


INTERVENTION_HEADER = ["external_id", "member_id", "measure_code", "status", "intervention_date"]


def _intervention_rows():
    return [[f"E{n}", f"M{n}", "GSD", "pending", "2030-01-15"] for n in range(1, ROWS + 1)]


def _csv(header, rows):
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows([header, *rows])
    return out.getvalue()


@pytest.fixture
def members():
    MeasureFactory(code="GSD")
    for n in range(1, ROWS + 1):
        campaigns_m.Member.objects.create(member_id=f"M{n}")


ADMIN_CASES = {
    # model, header, rows, fixture-free setup
    "rcm.claim": (rcm_m.Claim, IMPORTERS["claims"].header, IMPORTERS["claims"].good_rows),
    "campaigns.intervention": (campaigns_m.Intervention, INTERVENTION_HEADER, _intervention_rows),
}


def _invalid_numbers(result):
    return sorted([row.number for row in result.invalid_rows] + [n for n, _ in result.row_errors()])


@pytest.mark.parametrize("label", sorted(ADMIN_CASES))
def test_admin_import_of_a_bad_middle_row_lists_it_and_writes_nothing(
    superuser_client, members, label
):
    model, header, make_rows = ADMIN_CASES[label]
    rows = make_rows()
    rows[MIDDLE - 1][header.index("status")] = "someday"
    response = upload(superuser_client, model, "bad.csv", _csv(header, rows).encode())
    assert response.status_code == 200
    assert "confirm_form" not in response.context
    # Row numbers as a spreadsheet shows them (the header is row 1), as the commands say.
    assert _invalid_numbers(response.context["result"]) == [MIDDLE + 1]
    assert not model.objects.exists()


@pytest.mark.parametrize("label", sorted(ADMIN_CASES))
def test_admin_import_of_a_repeated_key_is_refused(superuser_client, members, label):
    model, header, make_rows = ADMIN_CASES[label]
    rows = make_rows()
    key = header[0]
    rows[6][0] = rows[2][0]
    response = upload(superuser_client, model, "dup.csv", _csv(header, rows).encode())
    assert response.status_code == 200
    assert "confirm_form" not in response.context, f"{key} repeated: the last row would win"
    assert _invalid_numbers(response.context["result"]) == [8]
    assert not model.objects.exists()


@pytest.mark.parametrize("label", sorted(ADMIN_CASES))
@pytest.mark.parametrize("encoding", ["latin-1", "utf-16"])
def test_admin_import_of_a_non_utf8_file_says_so(superuser_client, members, label, encoding):
    model, header, make_rows = ADMIN_CASES[label]
    rows = make_rows()
    rows[MIDDLE - 1][1] += "é"
    body = _csv(header, rows).encode(encoding)
    response = upload(superuser_client, model, "latin.csv", body)
    assert response.status_code == 200
    assert "confirm_form" not in response.context
    assert "The file is not UTF-8 text." in response.content.decode()
    assert "UnicodeDecodeError" not in response.content.decode()  # words, not an exception
    assert not model.objects.exists()


@pytest.mark.parametrize("label", sorted(ADMIN_CASES))
def test_admin_import_of_a_file_cut_inside_a_quoted_field_is_refused(
    superuser_client, members, label
):
    model, header, make_rows = ADMIN_CASES[label]
    rows = make_rows()
    rows[-1][-1] = "long note, with a comma, cut here"
    body = _csv(header, rows)
    body = body[: body.index("cut here")]
    response = upload(superuser_client, model, "cut.csv", body.encode())
    assert response.status_code == 200
    assert "confirm_form" not in response.context
    assert not model.objects.exists()


@pytest.mark.parametrize("label", sorted(ADMIN_CASES))
def test_admin_import_of_a_wrong_header_says_which_columns(superuser_client, members, label):
    model, header, make_rows = ADMIN_CASES[label]
    wrong = ["Claim Number" if column == header[0] else column for column in header]
    response = upload(superuser_client, model, "hdr.csv", _csv(wrong, make_rows()).encode())
    assert response.status_code == 200
    assert "confirm_form" not in response.context
    assert header[0] in response.content.decode()
    assert not model.objects.exists()


@pytest.mark.parametrize("label", sorted(ADMIN_CASES))
def test_admin_import_of_a_file_above_the_upload_cap_is_refused(
    superuser_client, members, settings, label
):
    """The admin reads an upload whole into memory: above the cap it says so and where the
    file goes instead, on the form, and reads and writes nothing."""
    model, header, make_rows = ADMIN_CASES[label]
    settings.IMPORT_MAX_UPLOAD_MB = 1
    body = _csv(header, make_rows()).encode()
    body += b"\r\n" * ((2**20 + 2 - len(body)) // 2)  # just over 1 MB; blank lines are skipped
    page = upload(superuser_client, model, "big.csv", body)
    assert page.status_code == 200
    assert "confirm_form" not in page.context
    assert page.context["form"].errors["import_file"] == [
        "The file is 1.0 MB; the admin imports files up to 1 MB. Import it with the app's "
        "import management command (manage.py import_…) instead, which streams files of any "
        "size."
    ]
    assert not model.objects.exists()
    assert not AuditEvent.objects.filter(action="import").exists()

    settings.IMPORT_MAX_UPLOAD_MB = 2  # the same file under the cap is read
    assert "confirm_form" in upload(superuser_client, model, "big.csv", body).context
    label = model._meta.label_lower.replace(".", "_")
    form_page = superuser_client.get(reverse(f"admin:{label}_import")).content.decode()
    assert "Files up to 2 MB. A bigger file goes through the app's import" in form_page


# A big file: streamed, bounded memory ---------------------------------------------------------

BIG_BYTES = 20 * 1024 * 1024
STREAM_BYTES = 1024 * 1024


def write_rows(path, header, row, size):
    """Stream-write a CSV file of about `size` bytes, `row(n)` giving the cells of data row
    n; return its data rows."""
    written, n = 0, 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\r\n").writerow(header)
        while written < size:
            out = io.StringIO()
            lines = csv.writer(out, lineterminator="\r\n")
            for _ in range(1000):
                n += 1
                lines.writerow(row(n))
            handle.write(out.getvalue())
            written += len(out.getvalue())
    return n


def _big_visit(n):
    return {
        **_visit(n),
        "diagnosis": "Acute bronchitis",
        "abx_details": "amoxicillin 500 mg three times a day for ten days",
    }


def write_visits(path, size):
    """Stream-write a valid visits.csv of about `size` bytes; return its data rows."""
    spec = IMPORTERS["leaderhub"]
    return write_rows(path, spec.header, lambda n: spec.cells(_big_visit(n)), size)


def _big_claim(n):
    member = n % 5_000  # claims of one member share a patient, as in a real file
    return {
        **_claim(n),
        "member_id": f"M-{member}",
        "patient_name": f"Patient {member}",
        "notes": f"Called the payer on {n}, ref {n:08d}; resubmitted with the corrected modifier",
    }


def _big_gap(n):
    return {
        **_gap(n),
        "member_id": f"M{n % 5_000}",
        "gap_status": "Open" if n % 3 else "Closed",
        "barrier_code": "transportation; prefers a call after 5 pm; caregiver answers the phone",
    }


def _big_patient(n):
    return {
        **_advocacy_patient(n),
        "insurance_type": "Medicare Advantage HMO, Humana Gold Plus",
        "preferred_channel": "phone, after 5 pm",
    }


BIG = {  # command -> (importer module, its import function, a big file's row n)
    "import_claims": (rcm_importers, rcm_importers.import_claims, _big_claim),
    "import_leaderhub": (leaderhub_importers, leaderhub_importers.import_leaderhub, _big_visit),
    "import_advocacy": (advocacy_importers, advocacy_importers.import_advocacy, _big_patient),
    "import_hedis": (
        campaigns_importers,
        campaigns_importers.import_hedis_portfolio,
        _big_gap,
    ),
}


def peak_memory(function, *args, **kwargs):
    tracemalloc.start()
    try:
        result = function(*args, **kwargs)
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_big_file_is_checked_and_written_in_bounded_memory(tmp_path, importer, monkeypatch):
    """Every command importer, checking and (dry run) writing a 1 MB file: what stays in
    memory is a key or two per row (about 100–300 bytes with the sets' and dicts' own
    overhead), never the rows (a parsed row is about 2 KB) nor the file. Writing goes a chunk
    at a time; a small chunk keeps the chunk's own memory out of the figure."""
    module, call, make_row = BIG[importer.command]
    monkeypatch.setattr(module, "CHUNK", 200)
    target = place(tmp_path, importer, b"")
    path = target if importer.single_file else target / importer.file
    rows = write_rows(path, importer.header, lambda n: importer.cells(make_row(n)), STREAM_BYTES)
    size = path.stat().st_size

    report, peak = peak_memory(call, target, dry_run=True)

    read = report.rows_read if importer.single_file else report.rows_read[importer.file]
    assert read == rows
    shown = f"peak {peak / 2**20:.1f} MiB for {size / 2**20:.1f} MiB, {rows:,} rows"
    assert peak < 2**20 + rows * 320, shown  # about 2,000 bytes a row held the rows


def test_a_20mb_file_with_bad_rows_keeps_fifty_messages(tmp_path):
    """Every row bad: all counted, 50 kept, memory does not grow with the errors."""
    _leaderhub_refs()
    directory = tmp_path / "bad"
    directory.mkdir()
    path = directory / "visits.csv"
    write_visits(path, BIG_BYTES // 8)
    bad = path.read_text().replace(",9,no,", ",99,no,")
    path.write_text(bad)

    def check():
        with pytest.raises(leaderhub_importers.InvalidImport) as caught:
            leaderhub_importers.check_files(directory)
        return caught.value

    error, peak = peak_memory(check)
    assert len(error.messages) == 51  # 50 shown and "… and N more errors not shown."
    assert error.messages[-1].startswith("… and ")
    assert peak < path.stat().st_size / 2
