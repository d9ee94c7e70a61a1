"""Campaigns at the planned scale: 100,000 interventions, 50 coordinators, 10 measures.

(a) The assignment engine (opsintel.assignment), every strategy, on 100,000 interventions of
    members holding 1-4 each: wall time against a plain `i % k` round robin in a list
    comprehension, the largest load against the ideal lower bound (max(total / agents, largest
    item)), the spread (largest − smallest load) and how many members end up split between
    coordinators. Then `rebalance` after one coordinator leaves: time and items moved, against the
    least possible number of moves and against re-running `balanced` from scratch.
    Targets: balanced under 2 s with spread ≤ 1.

(b) The CRM CSV of a 100,000-assignment campaign (campaigns.exports.crm_rows through
    opsintel.exports.csv_lines) read from a throw-away SQLite database under var/bench/: wall
    time and peak Python memory (tracemalloc), against the same export of 1,000 rows (target:
    peak within 50 MB of it) and against a quick view that iterates the queryset (every row
    cached) into one in-memory csv.writer buffer.

Run with `DEBUG=1 .venv/bin/python bench/bench_campaigns.py` (or `make bench`). It takes a few
minutes: building 100,000 rows through the ORM and the traced (tracemalloc) export runs dominate.
"""

import csv
import io
import os
import random
import sys
import time
import tracemalloc
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

INTERVENTIONS = 100_000
COORDINATORS = 50
MEASURE_CODES = ["HBA1C", "BPD", "COL", "BCS", "EED", "KED", "CBP", "SPD", "OMW", "COA"]
MEASURE_SHARES = [12, 10, 14, 12, 10, 9, 14, 8, 3, 8]  # how common each gap is
SMALL_EXPORT = 1_000
BALANCED_TARGET_SECONDS = 2.0
PEAK_MEMORY_TARGET_MB = 50


def members_with_gaps(count, seed=11):
    """[(member number, measure code)] for `count` interventions, members holding 1-4 each."""
    rng = random.Random(seed)
    rows, member = [], 0
    while len(rows) < count:
        member += 1
        how_many = rng.choices([1, 2, 3, 4], weights=[40, 30, 20, 10])[0]
        codes = set()
        while len(codes) < how_many:
            codes.add(rng.choices(MEASURE_CODES, weights=MEASURE_SHARES)[0])
        rows.extend((member, code) for code in sorted(codes))
    return rows[:count]


def best_of(function, runs=3):
    """(best wall time, the last result)."""
    best, result = float("inf"), None
    for _ in range(runs):
        started = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - started)
    return best, result


# (a) The assignment engine -------------------------------------------------------------------


def split_members(result, items):
    agents_per_member = defaultdict(set)
    for item in items:
        agents_per_member[item.group].add(result.assignments.get(item.key))
    return sum(len(agents) > 1 for agents in agents_per_member.values())


def least_possible_moves(current, items, remaining):
    """Moves no rebalance can avoid: every item of the agent who left, plus what the others
    hold above the ceiling of the fair share."""
    loads = defaultdict(int)
    for item in items:
        loads[current[item.key]] += 1
    ceiling = -(-len(items) // len(remaining))
    kept = set(remaining)
    orphaned = sum(load for agent, load in loads.items() if agent not in kept)
    return orphaned + sum(max(0, loads[agent] - ceiling) for agent in remaining)


def bench_engine():
    from opsintel import assignment as engine

    items = [
        engine.Item(key=n, group=member, skill=code)
        for n, (member, code) in enumerate(members_with_gaps(INTERVENTIONS))
    ]
    agents = [engine.Agent(key=f"coordinator-{n:02d}") for n in range(COORDINATORS)]
    keys = [agent.key for agent in agents]
    k = len(keys)
    members = len({item.group for item in items})
    print(
        f"scale: {len(items):,} interventions of {members:,} members, {len(MEASURE_CODES)} "
        f"measures, {k} coordinators"
    )

    base_time, _ = best_of(lambda: [keys[i % k] for i in range(len(items))])
    balanced_result = None
    for strategy in (engine.BALANCED, engine.ROUND_ROBIN, engine.GROUP_BY_SKILL):
        seconds, result = best_of(lambda strategy=strategy: engine.assign(strategy, items, agents))
        summary = result.summary()
        ideal = summary["ideal_load"]
        verdict = ""
        if strategy == engine.BALANCED:
            balanced_result = result
            met = seconds < BALANCED_TARGET_SECONDS and summary["spread"] <= 1
            verdict = (
                f"; target < {BALANCED_TARGET_SECONDS:g} s and spread ≤ 1: "
                f"{'met' if met else 'MISSED'}"
            )
        print(
            f"assign_{strategy}_time: {seconds:.3f} s "
            f"(baseline i % k list comprehension {base_time:.3f} s, "
            f"ratio {seconds / base_time:.0f}x{verdict})"
        )
        print(
            f"assign_{strategy}_largest_load: {summary['max_load']} interventions "
            f"(ideal lower bound {ideal:g}, ratio {summary['max_load'] / ideal:.3f}x)"
        )
        print(
            f"assign_{strategy}_spread: {summary['spread']} interventions "
            f"(smallest load {summary['min_load']}, unassigned {summary['unassigned']})"
        )
        print(
            f"assign_{strategy}_members_split: {split_members(result, items):,} members "
            f"(of {members:,}, ratio {split_members(result, items) / members:.3f})"
        )

    # One coordinator leaves: rebalance their work and the overflow, moving as little as possible.
    current = dict(balanced_result.assignments)
    remaining = agents[1:]
    seconds, moved = best_of(lambda: engine.rebalance(items, remaining, current))
    base_seconds, fresh = best_of(lambda: engine.balanced(items, remaining))
    fresh_moves = sum(fresh.assignments[key] != current[key] for key in current)
    minimum = least_possible_moves(current, items, [agent.key for agent in remaining])
    print(
        f"rebalance_time: {seconds:.3f} s (baseline balanced from scratch "
        f"{base_seconds:.3f} s, ratio {seconds / base_seconds:.2f}x)"
    )
    print(
        f"rebalance_moves: {moved.moved:,} interventions (baseline from scratch "
        f"{fresh_moves:,}, ratio {moved.moved / fresh_moves:.3f}x; least possible {minimum:,})"
    )
    print(
        f"rebalance_spread: {moved.spread} interventions "
        f"(largest load {moved.max_load}, ideal lower bound {moved.ideal_load():g})"
    )


# (b) The CRM export ---------------------------------------------------------------------------


def build_campaign(count):
    """A campaign of `count` assignments in the (empty, migrated) database; returns it."""
    from django.db import transaction

    from campaigns.models import (
        Campaign,
        CampaignAssignment,
        Coordinator,
        Intervention,
        Measure,
        Member,
    )
    from opsintel.models import User

    rng = random.Random(5)
    start = date(2026, 1, 1)
    statuses = [Intervention.Status.PENDING, Intervention.Status.SCHEDULED]
    first = ["Ana", "Bob", "Chen", "Dee", "Eli", "Fatima", "Gus", "Hana"]
    last = ["Lopez", "Smith", "Ng", "Ray", "O'Brien", "Okafor", "Patel"]
    with transaction.atomic():
        manager = User.objects.create(username="bench-manager")
        users = User.objects.bulk_create(
            User(username=f"coordinator-{n:02d}", first_name=rng.choice(first), last_name=f"C{n}")
            for n in range(COORDINATORS)
        )
        coordinators = Coordinator.objects.bulk_create(
            Coordinator(user=user, monthly_capacity=50) for user in users
        )
        measures = {
            m.code: m
            for m in Measure.objects.bulk_create(
                Measure(code=code, name=code, revenue_per_closure=Decimal(100))
                for code in MEASURE_CODES
            )
        }
        gaps = members_with_gaps(count)
        member_count = gaps[-1][0]
        members = Member.objects.bulk_create(
            (
                Member(
                    member_id=f"M{n:07d}",
                    first_name=rng.choice(first),
                    last_name=rng.choice(last),
                    # International format: a leading "+" that the exporter must neutralise.
                    phone=f"+1 412 555 {n % 10000:04d}" if n % 2 else f"412-555-{n % 10000:04d}",
                    email=f"m{n}@example.org",
                )
                for n in range(1, member_count + 1)
            ),
            batch_size=5000,
        )
        interventions = Intervention.objects.bulk_create(
            (
                Intervention(
                    member=members[member - 1],
                    measure=measures[code],
                    external_id=f"bench-{n:07d}",
                    status=rng.choice(statuses),
                    intervention_date=start + timedelta(days=n % 120),
                    cost=Decimal(rng.randint(1000, 6000)).scaleb(-2),
                )
                for n, (member, code) in enumerate(gaps)
            ),
            batch_size=5000,
        )
        campaign = Campaign.objects.create(
            name="Bench campaign",
            created_by=manager,
            coordinator_count=COORDINATORS,
            target_completion_date=start + timedelta(days=120),
        )
        CampaignAssignment.objects.bulk_create(
            (
                CampaignAssignment(
                    campaign=campaign,
                    intervention=intervention,
                    coordinator=coordinators[n % COORDINATORS],
                    status=intervention.status,
                    reason="bench",
                )
                for n, intervention in enumerate(interventions)
            ),
            batch_size=5000,
        )
    return campaign


def export_size(assignments):
    """Our path: stream the CRM CSV line by line, as the response would."""
    from campaigns.exports import CRM_HEADER, crm_rows
    from opsintel.exports import csv_lines

    size = 0
    for line in csv_lines(CRM_HEADER, crm_rows(assignments)):
        size += len(line)  # the response hands each line to the client and drops it
    return size


def naive_export_size(assignments):
    """Baseline: a quick view iterating the queryset (Django caches every row) into one
    in-memory csv.writer buffer, returned whole."""
    from campaigns.exports import CRM_HEADER

    queryset = assignments.select_related(
        "intervention__member", "intervention__measure", "coordinator__user"
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CRM_HEADER)
    for assignment in queryset:
        intervention = assignment.intervention
        member = intervention.member
        writer.writerow(
            [
                member.member_id,
                member.name,
                member.phone,
                member.email,
                intervention.measure.code,
                intervention.intervention_date,
                str(assignment.coordinator),
                assignment.get_status_display(),
                intervention.get_priority_display(),
            ]
        )
    return len(buffer.getvalue())


def measure(function, runs=1):
    """(best wall time, peak traced memory, characters produced). Memory in a separate run:
    tracemalloc slows everything it traces. One timed run by default: a 100k-row export is
    seconds long, so noise matters less than the bench's running time."""
    seconds, size = best_of(function, runs)
    tracemalloc.start()
    function()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return seconds, peak, size


def bench_export():
    from django.core.management import call_command

    from campaigns.models import CampaignAssignment

    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    campaign = build_campaign(INTERVENTIONS)
    every = CampaignAssignment.objects.filter(campaign=campaign)
    first_pk = every.order_by("pk").values_list("pk", flat=True).first()
    small = every.filter(pk__lt=first_pk + SMALL_EXPORT)
    built = time.perf_counter() - started
    print(
        f"export data: {every.count():,} assignments built in {built:.1f} s "
        "(throw-away SQLite under var/bench/)"
    )

    small_time, small_peak, _ = measure(lambda: export_size(small), runs=3)
    our_time, our_peak, our_size = measure(lambda: export_size(every))
    base_time, base_peak, base_size = measure(lambda: naive_export_size(every))
    mb = 1e6
    print(f"crm_export: {INTERVENTIONS:,} rows, {our_size / mb:.1f} MB of CSV")
    print(
        f"crm_export_time: {our_time:.2f} s "
        f"(baseline in-memory {base_time:.2f} s, ratio {our_time / base_time:.2f}x; "
        f"{SMALL_EXPORT:,} rows {small_time:.3f} s)"
    )
    growth = (our_peak - small_peak) / mb
    print(
        f"crm_export_peak_memory: {our_peak / mb:.2f} MB "
        f"(baseline in-memory {base_peak / mb:.2f} MB, ratio {our_peak / base_peak:.3f}x)"
    )
    print(
        f"crm_export_peak_memory_vs_1k: {our_peak / mb:.2f} MB "
        f"({SMALL_EXPORT:,}-row export {small_peak / mb:.2f} MB, +{growth:.2f} MB; "
        f"target within {PEAK_MEMORY_TARGET_MB} MB: "
        f"{'met' if growth <= PEAK_MEMORY_TARGET_MB else 'MISSED'})"
    )
    if abs(base_size - our_size) > our_size * 0.05:
        print(f"note: baseline wrote {base_size:,} characters, ours {our_size:,}")


def main():
    bench_dir = ROOT / "var" / "bench"
    bench_dir.mkdir(parents=True, exist_ok=True)
    database = bench_dir / f"bench_campaigns-{os.getpid()}.sqlite3"
    # A throw-away database of its own, chosen before Django reads its settings.
    os.environ["DATABASE_URL"] = f"sqlite:///{database}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsintel.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.db import connections

    # With DEBUG on, Django keeps every SQL statement in memory; that is not the export's cost.
    settings.DEBUG = False
    try:
        bench_engine()
        bench_export()
    finally:
        connections.close_all()
        for suffix in ("", "-journal", "-wal", "-shm"):
            Path(f"{database}{suffix}").unlink(missing_ok=True)


if __name__ == "__main__":
    main()
