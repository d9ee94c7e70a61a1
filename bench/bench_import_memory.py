"""Import memory: checking (and, with IMPORT_BENCH_WRITE=1, dry-run importing) a 200 MB
Leader Hub visits.csv, against reading the file into memory whole (what an upload through
django-import-export's admin does: the file becomes one tablib Dataset).

Scale: IMPORT_BENCH_MB megabytes (default 200) of valid visits, stream-written to a temporary
folder. Each figure runs in its own process, so its peak resident memory (ru_maxrss) is its
own; the figure is that peak less the process's resident memory (VmRSS) once Django is set up.
The data sits in a throw-away SQLite database under var/bench/. tests/security/test_imports.py
runs a 20 MB version of the check in the test suite.
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
HEADER = (
    "care_request_id,provider_id,market,service_date,patient_first_name,patient_last_name,"
    "patient_athena_id,chief_complaint,diagnosis,on_scene_minutes,chart_closed_24h,"
    "survey_captured,nps_score,escalated,escalation_reason,abx_prescribed,abx_details\r\n"
)


def setup_django():
    os.environ["DATABASE_URL"] = f"sqlite:///{DB}"
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsintel.settings")
    import django

    django.setup()


def write_visits(path, size):
    written, n = 0, 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write(HEADER)
        while written < size:
            lines = []
            for _ in range(1000):
                n += 1
                lines.append(
                    f"{n},101,DEN,2026-03-02,Jo,Smith,A{n},Cough,Acute bronchitis,42.5,true,"
                    f"yes,9,no,,yes,amoxicillin 500 mg three times a day for ten days\r\n"
                )
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


def child(which, directory):
    """Run one figure in this process; print 'seconds peak_bytes'."""
    setup_django()
    from leaderhub import importers

    directory = Path(directory)
    before = rss_bytes()
    started = time.perf_counter()
    if which == "check":
        importers.check_files(directory)
    elif which == "dry-run":
        importers.import_leaderhub(directory, dry_run=True)
    else:  # the baseline: the whole file in memory, as rows
        with (directory / "visits.csv").open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.reader(handle))
        if not rows:
            raise SystemExit("the file is empty")
    print(f"{time.perf_counter() - started:.3f} {max_rss_bytes() - before}")


def run(which, directory):
    out = subprocess.run(  # noqa: S603 (this interpreter, this script)
        [sys.executable, __file__, "--child", which, str(directory)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    return float(out[0]), int(out[1])


def main():
    DB.parent.mkdir(parents=True, exist_ok=True)
    DB.unlink(missing_ok=True)
    setup_django()
    from django.core.management import call_command

    from leaderhub.models import Market, MarketGroup, Provider

    call_command("migrate", verbosity=0, interactive=False)
    group = MarketGroup.objects.create(name="Mountain", short_name="MTN")
    Market.objects.create(name="Denver", short_name="DEN", market_group=group)
    Provider.objects.create(id=101, first_name="Ana", last_name="Reyes", job_title="app")

    with tempfile.TemporaryDirectory() as folder:
        directory = Path(folder)
        rows = write_visits(directory / "visits.csv", MEGABYTES * 1024 * 1024)
        size = (directory / "visits.csv").stat().st_size
        mib = 2**20
        print(f"file: {size / mib:.0f} MiB ({rows:,} visits)")
        base_time, base_peak = run("baseline", directory)
        figures = ["check"] + (["dry-run"] if os.environ.get("IMPORT_BENCH_WRITE") else [])
        for which in figures:
            seconds, peak = run(which, directory)
            print(
                f"import {which} peak memory: {peak / mib:.0f} MiB (baseline whole file in "
                f"memory {base_peak / mib:.0f} MiB, ratio {peak / base_peak:.2f})"
            )
            print(
                f"import {which} time: {seconds:.1f} s (baseline read whole file "
                f"{base_time:.1f} s, ratio {seconds / base_time:.1f})"
            )
    DB.unlink(missing_ok=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2], sys.argv[3])
    else:
        main()
