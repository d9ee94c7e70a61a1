"""CSV export: the platform's streaming, formula-neutralising exporter against a plain
csv.writer into one in-memory buffer (what a quick view would do).

Scale: 100,000 rows of 8 columns (the campaign scale of 100k interventions). Figures: wall time
and peak Python memory (tracemalloc) for producing the whole file.
"""

import csv
import io
import random
import sys
import time
import tracemalloc
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ROWS = 100_000


def rows(count):
    rng = random.Random(7)
    start = date(2026, 1, 1)
    for n in range(count):
        yield (
            n,
            f"M{n:07d}",
            rng.choice(["Ana", "=Bob", "Chen", "+Dee", "Eli"]),
            rng.choice(["Lopez", "Smith", "-Ng", "@Ray"]),
            f"555-{n % 10000:04d}",
            start + timedelta(days=n % 365),
            Decimal(rng.randint(0, 50000)) / 100,
            rng.choice(["pending", "scheduled", "in_progress"]),
        )


HEADER = ["id", "member_id", "first", "last", "phone", "date", "cost", "status"]


def ours():
    from opsintel.exports import csv_lines

    size = 0
    for line in csv_lines(HEADER, rows(ROWS)):
        size += len(line)  # the response would hand each line to the client and drop it
    return size


def baseline():
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    for row in rows(ROWS):
        writer.writerow(row)
    return len(buffer.getvalue())


def measure(function):
    """(best wall time of 3 runs, peak traced memory, bytes produced).

    Memory is measured in a separate run: tracemalloc slows everything it traces."""
    times = []
    for _ in range(3):
        started = time.perf_counter()
        size = function()
        times.append(time.perf_counter() - started)
    tracemalloc.start()
    function()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return min(times), peak, size


def main():
    import django

    django.setup()
    base_time, base_peak, base_size = measure(baseline)
    our_time, our_peak, our_size = measure(ours)
    print(f"scale: {ROWS} rows, {base_size / 1e6:.1f} MB of CSV (ours {our_size / 1e6:.1f} MB)")
    print(
        f"csv_export_time: {our_time:.2f} s "
        f"(baseline {base_time:.2f} s, ratio {our_time / base_time:.2f}x)"
    )
    print(
        f"csv_export_peak_memory: {our_peak / 1e6:.2f} MB "
        f"(baseline {base_peak / 1e6:.2f} MB, ratio {our_peak / base_peak:.3f}x)"
    )


if __name__ == "__main__":
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsintel.settings")
    main()
