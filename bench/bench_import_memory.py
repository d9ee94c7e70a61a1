"""Import memory: checking (and, with IMPORT_BENCH_WRITE=1, dry-run importing) a big file with
each command importer, against reading the same file into memory whole (what an upload through
django-import-export's admin does: the file becomes one tablib Dataset).

Scale: IMPORT_BENCH_MB megabytes (default 200) of valid rows per importer, stream-written to a
temporary folder: Leader Hub visits.csv, claims.csv, advocacy patients.csv and HEDIS
member_gaps.csv. Each figure runs in its own process, so its peak resident memory (ru_maxrss)
is its own; the figure is that peak less the process's resident memory (VmRSS) once Django is
set up. The data sits in a throw-away SQLite database under var/bench/.
tests/security/test_imports.py runs a 4 MB version of each in the test suite.
"""

import csv
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DB = ROOT / "var" / "bench" / "import_memory.sqlite3"
MEGABYTES = int(os.environ.get("IMPORT_BENCH_MB", "200"))

# Each layout: (header, row(n) as one line split on commas; no cell holds a comma)
VISITS = (
    "care_request_id,provider_id,market,service_date,patient_first_name,patient_last_name,"
    "patient_athena_id,chief_complaint,diagnosis,on_scene_minutes,chart_closed_24h,"
    "survey_captured,nps_score,escalated,escalation_reason,abx_prescribed,abx_details",
    "{n},101,DEN,2026-03-02,Jo,Smith,A{n},Cough,Acute bronchitis,42.5,true,yes,9,no,,yes,"
    "amoxicillin 500 mg three times a day for ten days",
)
CLAIMS = (
    "claim_number,member_id,patient_name,date_of_birth,provider,payer,service_date,"
    "submission_date,procedure_code,diagnosis_code,amount,notes",
    "C-{n},M-{m},Patient {m},1960-04-02,Riverside Clinic,Aetna,2026-01-05,2026-01-09,99213,"
    "E11.9,100.00,Called the payer on {n}; resubmitted with the corrected modifier",
)
PATIENTS = (
    "id,insurance_type,preferred_channel,state,risk_score,created_at",
    "P{n},Medicare Advantage HMO; Humana Gold Plus,phone after 5 pm,CO,42.5,2026-01-05T08:00:00Z",
)
GAPS = (
    "gap_id,member_id,measure_id,measurement_year,gap_status,gap_opened_date,gap_closed_date,"
    "closure_method,last_service_date,next_due_date,outreach_attempts,barrier_code,created_date",
    "{n},M{m},GSD,2026,{status},2026-01-01,,,,2026-06-01,0,"
    "transportation; prefers a call after 5 pm; caregiver answers the phone,2026-01-01",
)
HEDIS_OTHERS = {
    "hedis_measures.csv": "measure_id,measure_name,measure_description,domain,measure_type,"
    "star_weight,revenue_per_point,data_collection,created_date\r\n"
    "GSD,Glycemic Status,,Diabetes,outcome,3.0,125000,admin,2024-01-01\r\n",
    "member_interventions.csv": "intervention_id,member_id,measure_id,gap_id,activity_id,"
    "intervention_date,status,outcome,cost_per_intervention,created_date\r\n",
}
# importer -> (folder, file, (header, row(n)), other files, the argument the import takes)
IMPORTERS = {
    "leaderhub": ("leaderhub", "visits.csv", VISITS, {}, "directory"),
    "claims": ("claims", "claims.csv", CLAIMS, {}, "file"),
    "advocacy": ("advocacy", "patients.csv", PATIENTS, {}, "directory"),
    "hedis": ("hedis", "member_gaps.csv", GAPS, HEDIS_OTHERS, "directory"),
}


def setup_django():
    os.environ["DATABASE_URL"] = f"sqlite:///{DB}"
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsintel.settings")
    import django

    django.setup()


def write_file(path, layout, size):
    """Stream-write a CSV file of about `size` bytes; return its data rows. Members (m) repeat,
    as in a real file: claims and gaps of one member share a patient."""
    header, row = layout
    written, n = 0, 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write(header + "\r\n")
        while written < size:
            lines = []
            for _ in range(1000):
                n += 1
                status = "Open" if n % 3 else "Closed"
                lines.append(row.format(n=n, m=n % 5000, status=status) + "\r\n")
            chunk = "".join(lines)
            handle.write(chunk)
            written += len(chunk)
    return n


def max_rss_bytes():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kB on Linux


def rss_bytes():
    """Resident memory now (Linux): the high-water mark may hold a peak of Django's setup."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return max_rss_bytes()


def _import(importer):
    from advocacy.importers import import_advocacy
    from campaigns.importers import import_hedis_portfolio
    from leaderhub.importers import import_leaderhub
    from rcm.importers import import_claims

    return {
        "leaderhub": import_leaderhub,
        "claims": import_claims,
        "advocacy": import_advocacy,
        "hedis": import_hedis_portfolio,
    }[importer]


def _check(importer):
    from advocacy.importers import check_files as advocacy_check
    from campaigns.importers import read_portfolio
    from leaderhub.importers import check_files as leaderhub_check
    from rcm.importers import check_file

    return {
        "leaderhub": leaderhub_check,
        "claims": check_file,
        "advocacy": advocacy_check,
        "hedis": read_portfolio,
    }[importer]


def child(importer, which, target):
    """Run one figure in this process; print 'seconds peak_bytes'."""
    setup_django()
    target = Path(target)
    name = IMPORTERS[importer][1]
    before = rss_bytes()
    started = time.perf_counter()
    if which == "check":
        _check(importer)(target)
    elif which == "dry-run":
        _import(importer)(target, dry_run=True)
    else:  # the baseline: the whole file in memory, as rows
        path = target if target.is_file() else target / name
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.reader(handle))
        if not rows:
            raise SystemExit("the file is empty")
    print(f"{time.perf_counter() - started:.3f} {max_rss_bytes() - before}")


def run(importer, which, target):
    out = subprocess.run(  # noqa: S603 (this interpreter, this script)
        [sys.executable, __file__, "--child", importer, which, str(target)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    return float(out[0]), int(out[1])


def seed():
    from campaigns.models import Measure
    from leaderhub.models import Market, MarketGroup, Provider

    group = MarketGroup.objects.create(name="Mountain", short_name="MTN")
    Market.objects.create(name="Denver", short_name="DEN", market_group=group)
    Provider.objects.create(id=101, first_name="Ana", last_name="Reyes", job_title="app")
    Measure.objects.get_or_create(code="GSD", defaults={"name": "Glycemic Status"})


def main():
    DB.parent.mkdir(parents=True, exist_ok=True)
    DB.unlink(missing_ok=True)
    setup_django()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    seed()
    mib = 2**20
    figures = ["check"] + (["dry-run"] if os.environ.get("IMPORT_BENCH_WRITE") else [])
    with tempfile.TemporaryDirectory() as folder:
        for importer, (subfolder, name, layout, others, takes) in IMPORTERS.items():
            directory = Path(folder) / subfolder
            directory.mkdir()
            for other, text in others.items():
                (directory / other).write_text(text, encoding="utf-8")
            path = directory / name
            rows = write_file(path, layout, MEGABYTES * mib)
            target = path if takes == "file" else directory
            print(f"{importer}: {name} {path.stat().st_size / mib:.0f} MiB ({rows:,} rows)")
            base_time, base_peak = run(importer, "baseline", target)
            for which in figures:
                seconds, peak = run(importer, which, target)
                print(
                    f"  {which} peak memory: {peak / mib:.0f} MiB (baseline whole file in "
                    f"memory {base_peak / mib:.0f} MiB, ratio {peak / base_peak:.2f}); "
                    f"time {seconds:.1f} s (baseline {base_time:.1f} s, ratio "
                    f"{seconds / base_time:.1f})"
                )
            path.unlink()
    DB.unlink(missing_ok=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(*sys.argv[2:5])
    else:
        main()
