# ruff: noqa: S608 (SQL built from this module's constants and identifiers; values are parameters)
"""Leader Hub rollups and API at the issue's scale, on PostgreSQL.

Scale: 2,000 providers, 40 markets in 8 groups, 2,000,000 visits (1,000 per provider over a
year), 200,000 shifts. Every provider works in 2 markets (every fifth in 3), so a market has
~110 providers. LEADERHUB_BENCH_SCALE=small runs at 1/20 (100 providers, 8 markets in 4
groups, 100,000 visits, 10,000 shifts) for a quick check.

The script creates a throw-away PostgreSQL database (LEADERHUB_BENCH_PG, default
postgres@127.0.0.1:5432, database opsintel_bench_leaderhub), migrates it, generates the data
with server-side SQL (INSERT … SELECT FROM generate_series with hash-based pseudo-random
columns: the same data every run) and drops the database at the end. PostgreSQL runs with its
own settings (work_mem etc. untouched), the same for our code and the baselines.

Figures:
1. rollup_time: leaderhub.rollups.refresh_rollups (best of 2) against the fastest hand-written
   SQL computing the same three tables, one statement per table into a temp table, in two
   forms: index-driven LATERAL … ORDER BY … LIMIT 80 per partition, and a single scan with
   ROW_NUMBER windows; both use percentile_cont and FILTER aggregates. Every baseline row is
   compared with the rollup's (all rows, all columns, floats within 1e-6); the ratio uses, per
   table, the fastest statement whose numbers match. Target: rollup ≤ 1.5× that baseline.
2. rollup_vs_orm_loop: a per-provider ORM loop (model instances: last 80 visits now and as of
   a week earlier, 30 + 30 days of shifts, figures in Python, update_or_create), timed on 50
   providers and extrapolated to all. Target: ≥ 50× slower than the whole rollup.
3. GET /v1/leader-hub-metrics/markets/{id}/providers?page_size=100 through the test Client
   as a market manager overseeing every market: p50/p95 over 50 requests across markets, and
   the queries per request at page_size 10 and 100 (should be equal).

LEADERHUB_BENCH_EXPLAIN=1 also prints EXPLAIN (ANALYZE, BUFFERS) of the rollup's statements.

Run with `DEBUG=1 .venv/bin/python bench/bench_leaderhub.py` (or `make bench`); a few minutes
at full scale.
"""

import os
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SMALL = os.environ.get("LEADERHUB_BENCH_SCALE", "").lower() == "small"
PROVIDERS = 100 if SMALL else 2_000
MARKETS = 8 if SMALL else 40
MARKET_GROUPS = 4 if SMALL else 8
VISITS = 100_000 if SMALL else 2_000_000
SHIFTS = 10_000 if SMALL else 200_000
AS_OF = date(2026, 3, 31)
DAYS = 365  # visits and shifts spread over the year ending on AS_OF
ORM_SAMPLE = 50
REQUESTS = 50
ROLLUP_TARGET = 1.5  # rollup ≤ 1.5× the fastest hand-written SQL
ORM_TARGET = 50  # rollup ≥ 50× faster than a per-provider ORM loop
TOLERANCE = 1e-6

PG_SERVER = os.environ.get("LEADERHUB_BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
DB_NAME = "opsintel_bench_leaderhub"


def best_of(function, runs=2):
    """(best wall time, the last result)."""
    best, result = float("inf"), None
    for _ in range(runs):
        started = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - started)
    return best, result


# Data -------------------------------------------------------------------------------------------


def rnd(seed, expression="n"):
    """A deterministic pseudo-random non-negative int from the series number."""
    return f"(hashint8extended({expression}::bigint, {seed}) & 2147483647)"


def generate_data():
    """Fill the migrated database with server-side SQL; no rows go through Python. Visits and
    shifts are written in date order, as daily loads would leave them."""
    from django.db import connection

    p, m, g = PROVIDERS, MARKETS, MARKET_GROUPS
    as_of = f"date '{AS_OF.isoformat()}'"
    # A provider's markets: home, home + o and (every fifth provider) home + 2o, o in
    # 1..m/2-1, so the three are distinct.
    offset = f"(1 + p % {m // 2 - 1})"
    statements = [
        "SET synchronous_commit = off",
        f"""INSERT INTO leaderhub_marketgroup (id, name, short_name)
            SELECT g, 'Group ' || g, 'G' || g FROM generate_series(1, {g}) g""",
        f"""INSERT INTO leaderhub_market (id, name, short_name, market_group_id)
            SELECT m, 'Market ' || lpad(m::text, 3, '0'), 'M' || m, (m - 1) % {g} + 1
            FROM generate_series(1, {m}) m""",
        f"""INSERT INTO leaderhub_provider (id, first_name, last_name, avatar_url, job_title)
            SELECT p, 'First' || p, 'Last' || lpad(p::text, 5, '0'), '',
                   CASE WHEN p % 5 < 3 THEN 'app' ELSE 'dhmt' END
            FROM generate_series(1, {p}) p""",
        f"""CREATE TEMP TABLE bench_markets AS
            SELECT p AS provider_id, (p - 1) % {m} + 1 AS home,
                   (p - 1 + {offset}) % {m} + 1 AS second,
                   CASE WHEN p % 5 = 0 THEN (p - 1 + 2 * {offset}) % {m} + 1 END AS third
            FROM generate_series(1, {p}) p""",
        """INSERT INTO leaderhub_marketactiveprovider (market_id, provider_id)
            SELECT home, provider_id FROM bench_markets
            UNION ALL SELECT second, provider_id FROM bench_markets
            UNION ALL SELECT third, provider_id FROM bench_markets WHERE third IS NOT NULL""",
        # 60% of a provider's visits in the home market, the rest in the others. Rates differ
        # by provider; about 5% of care requests are shared by two providers (same id).
        f"""INSERT INTO leaderhub_visit (
                care_request_id, provider_id, market_id, service_date, patient_first_name,
                patient_last_name, patient_athena_id, chief_complaint, diagnosis,
                on_scene_minutes, chart_closed_24h, survey_captured, nps_score, escalated,
                escalation_reason, abx_prescribed, abx_details)
            SELECT CASE WHEN x.r9 % 100 < 5 AND x.n > 1 THEN x.n - 1 ELSE x.n END,
                   h.provider_id,
                   CASE WHEN x.r1 % 100 < 60 THEN h.home
                        WHEN x.r1 % 100 < 85 OR h.third IS NULL THEN h.second
                        ELSE h.third END,
                   {as_of} - (x.r2 % {DAYS})::int,
                   'Pat' || x.n % 997, 'Ient' || x.n % 1009, 'A' || x.n,
                   'Complaint ' || x.r3 % 20, 'Dx ' || x.r3 % 50,
                   CASE WHEN x.r4 % 100 < 5 THEN NULL
                        ELSE round(15 + (x.r4 / 100) % 4000 / 100.0 + h.provider_id % 30, 2)
                   END,
                   CASE WHEN x.r5 % 100 < 10 THEN NULL
                        ELSE (x.r5 / 100) % 100 < 70 + h.provider_id % 25 END,
                   x.r6 % 100 < 40 + h.provider_id % 50,
                   CASE WHEN x.r7 % 100 < 55 THEN NULL ELSE ((x.r7 / 100) % 11)::smallint END,
                   x.r8 % 1000 < 30 + h.provider_id % 40, '',
                   (x.r8 / 1000) % 100 < 10 + h.provider_id % 20, ''
            FROM (
                SELECT n, {rnd(1)} AS r1, {rnd(2)} AS r2, {rnd(3)} AS r3, {rnd(4)} AS r4,
                       {rnd(5)} AS r5, {rnd(6)} AS r6, {rnd(7)} AS r7, {rnd(8)} AS r8,
                       {rnd(9)} AS r9
                FROM generate_series(1, {VISITS}) n
            ) x
            JOIN bench_markets h ON h.provider_id = x.n % {p} + 1
            ORDER BY 4, 1""",
        f"""INSERT INTO leaderhub_providershift (
                shift_team_id, provider_id, market_id, service_date, start, "end",
                patients_seen, out_the_door, en_route, on_scene, on_break, idle)
            SELECT x.n, h.provider_id,
                   CASE WHEN x.r1 % 100 < 60 THEN h.home
                        WHEN x.r1 % 100 < 85 OR h.third IS NULL THEN h.second
                        ELSE h.third END,
                   x.day, (x.day + time '08:00') AT TIME ZONE 'UTC',
                   (x.day + time '18:00') AT TIME ZONE 'UTC',
                   x.r3 % 12, 1200 + x.r3 % 2400, 5400 + x.r4 % 9000,
                   10800 + x.r5 % 10800, CASE WHEN x.r6 % 10 = 0 THEN 0 ELSE 1800 END,
                   x.r6 % 5400
            FROM (
                SELECT n, {as_of} - ({rnd(12)} % {DAYS})::int AS day, {rnd(11)} AS r1,
                       {rnd(13)} AS r3, {rnd(14)} AS r4, {rnd(15)} AS r5, {rnd(16)} AS r6
                FROM generate_series(1, {SHIFTS}) n
            ) x
            JOIN bench_markets h ON h.provider_id = x.n % {p} + 1
            ORDER BY 4, 1""",
        *(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            for table in ("leaderhub_marketgroup", "leaderhub_market", "leaderhub_provider")
        ),
        "DROP TABLE bench_markets",
        "SET synchronous_commit = on",
    ]
    big = ("leaderhub_visit", "leaderhub_providershift")
    with connection.cursor() as cursor:
        # Loading is faster with the secondary indexes built afterwards (constraints stay).
        cursor.execute(
            """SELECT indexname, indexdef FROM pg_indexes i WHERE tablename = ANY(%s)
               AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)""",
            [list(big)],
        )
        indexes = cursor.fetchall()
        cursor.execute("SET maintenance_work_mem = '256MB'")
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        for sql in statements:
            cursor.execute(sql)
        for _, definition in indexes:
            cursor.execute(definition)
        cursor.execute("RESET maintenance_work_mem")
        # Loaded daily, the tables are in date order; vacuum sets the visibility map.
        cursor.execute(f"VACUUM ANALYZE {', '.join(big)}")
        cursor.execute("ANALYZE")


# Baselines --------------------------------------------------------------------------------------

COUNTS = ("visits", "on_scene_count", "chart_closure_count", "nps_count")
WEEK_CHANGE = (
    "on_scene_median",
    "chart_closure_rate",
    "survey_capture_rate",
    "escalation_rate",
    "abx_rate",
    "nps",
)
COLUMNS = (
    "as_of",
    "visits",
    "first_visit_date",
    "last_visit_date",
    "on_scene_median",
    "on_scene_count",
    "chart_closure_rate",
    "chart_closure_count",
    "survey_capture_rate",
    "escalation_rate",
    "abx_rate",
    "nps",
    "nps_average",
    "nps_count",
    "on_task_percent",
    *(f"{name}_prev" for name in WEEK_CHANGE),
    "on_task_percent_prev",
)
VISIT_COLUMNS = (
    "v.id, v.market_id, v.provider_id, v.service_date, v.care_request_id, v.on_scene_minutes, "
    "v.chart_closed_24h, v.survey_captured, v.escalated, v.abx_prescribed, v.nps_score"
)


def figures(condition=None):
    """{figure: aggregate expression} over the rows where `condition` holds (all if None)."""

    def only(extra=None):
        parts = [part for part in (condition, extra) if part]
        return f" FILTER (WHERE {' AND '.join(parts)})" if parts else ""

    def rate(flag):
        return f"COUNT(*){only(flag)} * 100.0 / NULLIF(COUNT(*){only()}, 0)"

    return {
        "visits": f"COUNT(*){only()}",
        "first_visit_date": f"MIN(service_date){only()}",
        "last_visit_date": f"MAX(service_date){only()}",
        "on_scene_median": (
            f"percentile_cont(0.5) WITHIN GROUP (ORDER BY on_scene_minutes){only()}"
        ),
        "on_scene_count": f"COUNT(on_scene_minutes){only()}",
        "chart_closure_rate": (
            f"COUNT(*){only('chart_closed_24h')} * 100.0 "
            f"/ NULLIF(COUNT(chart_closed_24h){only()}, 0)"
        ),
        "chart_closure_count": f"COUNT(chart_closed_24h){only()}",
        "survey_capture_rate": rate("survey_captured"),
        "escalation_rate": rate("escalated"),
        "abx_rate": rate("abx_prescribed"),
        "nps": (
            f"(COUNT(*){only('nps_score >= 9')} - COUNT(*){only('nps_score <= 6')}) * 100.0 "
            f"/ NULLIF(COUNT(nps_score){only()}, 0)"
        ),
        "nps_average": f"AVG(nps_score){only()}",
        "nps_count": f"COUNT(nps_score){only()}",
    }


def select_list(keys, now, prev, on_task):
    """The temp table's columns from the aliases of the now/prev figures and on-task %."""
    columns = [f"k.{key}" for key in keys] + ["%(now)s::date AS as_of"]
    for name in figures():
        value = f"{now}.{name}"
        columns.append(f"COALESCE({value}, 0) AS {name}" if name in COUNTS else value)
    columns.append(f"{on_task}.now_pct AS on_task_percent")
    columns += [f"{prev}.{name} AS {name}_prev" for name in WEEK_CHANGE]
    columns.append(f"{on_task}.prev_pct AS on_task_percent_prev")
    return ",\n       ".join(columns)


def on_task_sql(keys):
    k = ", ".join(keys)
    worked = "en_route + on_scene"
    total = "out_the_door + en_route + on_scene + on_break + idle"
    now = "FILTER (WHERE service_date > %(from_now)s)"
    prev = "FILTER (WHERE service_date <= %(prev)s AND service_date > %(from_prev)s)"
    return f"""
    SELECT {k},
           SUM({worked}) {now} * 100.0 / NULLIF(SUM({total}) {now}, 0) AS now_pct,
           SUM({worked}) {prev} * 100.0 / NULLIF(SUM({total}) {prev}, 0) AS prev_pct
    FROM leaderhub_providershift
    WHERE service_date <= %(now)s AND service_date > %(from_prev)s
    GROUP BY {k}"""


def shift_keys_sql(keys):
    return f"""SELECT DISTINCT {", ".join(keys)} FROM leaderhub_providershift
               WHERE service_date <= %(now)s AND service_date > %(from_now)s"""


def join_on(keys, alias):
    return " AND ".join(f"{alias}.{key} = k.{key}" for key in keys)


def window_aggregate(where, date_param):
    """One partition's last 80 visits on or before the date, through an index, aggregated."""
    aggregates = ", ".join(f"{sql} AS {name}" for name, sql in figures().items())
    return f"""(SELECT {aggregates} FROM (
        SELECT {VISIT_COLUMNS} FROM leaderhub_visit v
        WHERE {where} AND v.service_date <= %({date_param})s
        ORDER BY v.service_date DESC, v.care_request_id DESC
        LIMIT 80) w)"""


def lateral_sql(table, keys):
    """The fastest form: LATERAL … ORDER BY … LIMIT 80 per partition on the visit indexes
    (visit_provider_recent, visit_market_provider). Within a provider the care request id is
    unique, so (service_date, care_request_id) orders a provider's visits completely."""
    mp = keys == ("market_id", "provider_id")
    if table == "provider_metrics":
        key_sql = f"""SELECT p.id AS provider_id FROM leaderhub_provider p
            WHERE EXISTS (SELECT 1 FROM leaderhub_visit v
                          WHERE v.provider_id = p.id AND v.service_date <= %(now)s)
            UNION {shift_keys_sql(keys)}"""
    elif mp:
        key_sql = f"""SELECT m.id AS market_id, p.id AS provider_id
            FROM leaderhub_market m CROSS JOIN leaderhub_provider p
            WHERE EXISTS (SELECT 1 FROM leaderhub_visit v WHERE v.market_id = m.id
                          AND v.provider_id = p.id AND v.service_date <= %(now)s)
            UNION {shift_keys_sql(keys)}"""
    if table != "market_metrics":
        where = " AND ".join(f"v.{key} = k.{key}" for key in keys)
        return f"""
    CREATE TEMP TABLE bl_{table} AS
    WITH k AS ({key_sql}), t AS ({on_task_sql(keys)})
    SELECT {select_list(keys, "c", "cp", "t")}
    FROM k
    CROSS JOIN LATERAL {window_aggregate(where, "now")} c
    CROSS JOIN LATERAL {window_aggregate(where, "prev")} cp
    LEFT JOIN t ON {join_on(keys, "t")}"""
    # A market's last 80 visits are among the last 80 of its (market, provider) pairs: rank
    # the union of the pairs' windows (index scans) instead of sorting the market's visits.
    # Across providers care request ids repeat, so the row id breaks ties here.

    def market_figures(date_param):
        aggregates = ", ".join(f"{sql} AS {name}" for name, sql in figures().items())
        return f"""SELECT market_id, {aggregates}
        FROM (
            SELECT w.*, ROW_NUMBER() OVER (PARTITION BY w.market_id
                   ORDER BY w.service_date DESC, w.care_request_id DESC, w.id DESC) AS recency
            FROM pairs
            CROSS JOIN LATERAL (
                SELECT {VISIT_COLUMNS} FROM leaderhub_visit v
                WHERE v.market_id = pairs.market_id AND v.provider_id = pairs.provider_id
                  AND v.service_date <= %({date_param})s
                ORDER BY v.service_date DESC, v.care_request_id DESC
                LIMIT 80) w
        ) ranked
        WHERE recency <= 80
        GROUP BY market_id"""

    return f"""
    CREATE TEMP TABLE bl_{table} AS
    WITH pairs AS (
        SELECT m.id AS market_id, p.id AS provider_id
        FROM leaderhub_market m CROSS JOIN leaderhub_provider p
        WHERE EXISTS (SELECT 1 FROM leaderhub_visit v WHERE v.market_id = m.id
                      AND v.provider_id = p.id AND v.service_date <= %(now)s)
    ),
    k AS (SELECT DISTINCT market_id FROM pairs UNION {shift_keys_sql(keys)}),
    c AS ({market_figures("now")}),
    cp AS ({market_figures("prev")}),
    t AS ({on_task_sql(keys)})
    SELECT {select_list(keys, "c", "cp", "t")}
    FROM k
    LEFT JOIN c ON {join_on(keys, "c")}
    LEFT JOIN cp ON {join_on(keys, "cp")}
    LEFT JOIN t ON {join_on(keys, "t")}"""


def window_sql(table, keys):
    """The single-scan form: one sort of the visits per table, ROW_NUMBER for the window as of
    now; the window as of a week earlier is the rows on or before that date ranked again by
    subtracting the partition's newer visits (they all sort first)."""
    k = ", ".join(keys)
    in_prev = "service_date <= %(prev)s AND recency - newer <= 80"
    now = figures("recency <= 80")
    prev = figures(in_prev)
    # The prev figures get their own names in the grouped subquery.
    prev_aggregates = ", ".join(f"{prev[name]} AS {name}_p" for name in WEEK_CHANGE)
    now_aggregates = ", ".join(f"{sql} AS {name}" for name, sql in now.items())
    columns = [f"k.{key}" for key in keys] + ["%(now)s::date AS as_of"]
    for name in now:
        columns.append(f"COALESCE(f.{name}, 0) AS {name}" if name in COUNTS else f"f.{name}")
    columns.append("t.now_pct AS on_task_percent")
    columns += [f"f.{name}_p AS {name}_prev" for name in WEEK_CHANGE]
    columns.append("t.prev_pct AS on_task_percent_prev")
    return f"""
    CREATE TEMP TABLE bl_{table} AS
    WITH f AS (
        SELECT {k}, {now_aggregates}, {prev_aggregates}
        FROM (
            SELECT {k}, service_date, on_scene_minutes, chart_closed_24h, survey_captured,
                   escalated, abx_prescribed, nps_score,
                   ROW_NUMBER() OVER w AS recency,
                   COUNT(*) FILTER (WHERE service_date > %(prev)s) OVER (PARTITION BY {k})
                       AS newer
            FROM leaderhub_visit
            WHERE service_date <= %(now)s
            WINDOW w AS (PARTITION BY {k}
                         ORDER BY service_date DESC, care_request_id DESC, id DESC)
        ) ranked
        WHERE recency <= 80 OR ({in_prev})
        GROUP BY {k}
    ),
    k AS (SELECT {k} FROM f UNION {shift_keys_sql(keys)}),
    t AS ({on_task_sql(keys)})
    SELECT {", ".join(columns)}
    FROM k
    LEFT JOIN f ON {join_on(keys, "f")}
    LEFT JOIN t ON {join_on(keys, "t")}"""


def baseline_params():
    from leaderhub.metrics import ON_TASK_DAYS, WEEK_DAYS

    prev = AS_OF - timedelta(days=WEEK_DAYS)
    return {
        "now": AS_OF,
        "prev": prev,
        "from_now": AS_OF - timedelta(days=ON_TASK_DAYS),
        "from_prev": prev - timedelta(days=ON_TASK_DAYS),
    }


def run_baseline(build):
    """Run one baseline (three statements into temp tables); returns per-table seconds."""
    from django.db import connection, transaction

    from leaderhub.rollups import TABLES

    seconds = {}
    with transaction.atomic(), connection.cursor() as cursor:
        for model, keys in TABLES:
            table = model._meta.db_table
            cursor.execute(f"DROP TABLE IF EXISTS bl_{table}")
            started = time.perf_counter()
            cursor.execute(build(table, tuple(keys)), baseline_params())
            seconds[table] = time.perf_counter() - started
    return seconds


# Comparing tables ------------------------------------------------------------------------------


def rows_of(cursor, table, keys):
    k = ", ".join(keys)
    cursor.execute(f"SELECT {k}, {', '.join(COLUMNS)} FROM {table} ORDER BY {k}")
    return {row[: len(keys)]: row[len(keys) :] for row in cursor.fetchall()}


def same(a, b):
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, date) or isinstance(b, date):
        return a == b
    return abs(float(a) - float(b)) <= TOLERANCE


def compare_tables(prefix):
    """{table: (rows compared, [mismatch descriptions])} of <prefix><table> against the rollup
    tables: every row, every column, floats within TOLERANCE."""
    from django.db import connection

    from leaderhub.rollups import TABLES

    result = {}
    with connection.cursor() as cursor:
        for model, keys in TABLES:
            table = model._meta.db_table
            ours = rows_of(cursor, table, keys)
            theirs = rows_of(cursor, f"{prefix}{table}", keys)
            problems = []
            if ours.keys() != theirs.keys():
                problems.append(
                    f"{table}: {len(ours)} rows, baseline {len(theirs)} "
                    f"({len(ours.keys() - theirs.keys())} only in the rollup)"
                )
            common = ours.keys() & theirs.keys()
            for key in common:
                for column, a, b in zip(COLUMNS, ours[key], theirs[key], strict=True):
                    if not same(a, b):
                        problems.append(f"{table} {key} {column}: rollup {a!r}, baseline {b!r}")
            result[table] = (len(common), problems)
    return result


# 1. The rollup -----------------------------------------------------------------------------------


def rollup_statements():
    """[(table, sql, params)] of the rollup's upserts, as refresh_rollups runs them."""
    from leaderhub.metrics import ON_TASK_DAYS, WEEK_DAYS
    from leaderhub.rollups import TABLES, _upsert_sql

    prev = AS_OF - timedelta(days=WEEK_DAYS)
    params = {
        "as_of_now": AS_OF,
        "on_task_from_now": AS_OF - timedelta(days=ON_TASK_DAYS),
        "as_of_prev": prev,
        "on_task_from_prev": prev - timedelta(days=ON_TASK_DAYS),
    }
    return [(model._meta.db_table, _upsert_sql(model, keys), params) for model, keys in TABLES]


def time_rollup_statements():
    """Seconds per rollup upsert (run on their own, rolled back)."""
    from django.db import connection, transaction

    seconds = {}
    with transaction.atomic(), connection.cursor() as cursor:
        for table, sql, params in rollup_statements():
            started = time.perf_counter()
            cursor.execute(sql, params)
            seconds[table] = time.perf_counter() - started
        transaction.set_rollback(True)
    return seconds


def explain_rollup():
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        for table, sql, params in rollup_statements():
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
            print(f"--- EXPLAIN ANALYZE rollup upsert into {table}")
            print("\n".join(row[0] for row in cursor.fetchall()))
        transaction.set_rollback(True)


def per_table(seconds):
    return ", ".join(f"{table} {value:.2f} s" for table, value in seconds.items())


def bench_rollup():
    from leaderhub.rollups import refresh_rollups

    rollup_seconds, counts = best_of(lambda: refresh_rollups(AS_OF))
    print("rollup rows: " + ", ".join(f"{table} {count:,}" for table, count in counts.items()))
    statement_seconds = time_rollup_statements()

    # Each form: best of 2 per table, then every row checked against the rollup's.
    forms = {}
    for name, build in (("lateral", lateral_sql), ("window", window_sql)):
        runs = [run_baseline(build) for _ in range(2)]
        checks = compare_tables("bl_")
        forms[name] = {
            table: (min(run[table] for run in runs), *checks[table]) for table in runs[0]
        }
    tables = list(statement_seconds)
    baseline, everything_matched = {}, True
    for table in tables:
        matching = {}
        for name, results in forms.items():
            seconds, compared, problems = results[table]
            if problems:
                everything_matched = False
                print(
                    f"note: the {name} baseline for {table} does NOT match the rollup "
                    f"({len(problems)} differences over {compared:,} rows), e.g. "
                    + "; ".join(problems[:3])
                )
            else:
                matching[name] = seconds
        if matching:
            fastest = min(matching, key=matching.get)
            baseline[table] = (fastest, matching[fastest])
    if len(baseline) < len(tables):
        print(
            f"rollup_time: {rollup_seconds:.2f} s (no verified baseline for every table: no ratio)"
        )
    else:
        base_seconds = sum(seconds for _, seconds in baseline.values())
        ratio = rollup_seconds / base_seconds
        verdict = "met" if ratio <= ROLLUP_TARGET else "MISSED"
        chosen = ", ".join(f"{table} {name}" for table, (name, _) in baseline.items())
        print(
            f"rollup_time: {rollup_seconds:.2f} s (baseline hand-written SQL, fastest verified "
            f"statement per table ({chosen}), {base_seconds:.2f} s, ratio {ratio:.2f}x; "
            f"target ≤ {ROLLUP_TARGET:g}x: {verdict})"
        )
    compared = sum(forms["window"][table][1] for table in tables)
    print(
        f"rollup_matches_baselines: {'yes' if everything_matched else 'NO'} ({compared:,} rows "
        f"per form, every column, floats within {TOLERANCE:g})"
    )
    for name, results in forms.items():
        total = sum(results[table][0] for table in tables)
        detail = ", ".join(f"{table} {results[table][0]:.2f} s" for table in tables)
        print(f"baseline_{name}_form: {total:.2f} s ({detail})")
    print(f"rollup_time_by_table: {per_table(statement_seconds)} (each upsert run on its own)")
    if os.environ.get("LEADERHUB_BENCH_EXPLAIN"):
        explain_rollup()
    return rollup_seconds


# 2. The per-provider ORM loop -------------------------------------------------------------------


def python_figures(visits):
    """The figures of one window of Visit instances, computed in Python."""
    count = len(visits)
    on_scene = sorted(float(v.on_scene_minutes) for v in visits if v.on_scene_minutes is not None)
    charts = [v.chart_closed_24h for v in visits if v.chart_closed_24h is not None]
    scores = [v.nps_score for v in visits if v.nps_score is not None]

    def rate(flags):
        return 100.0 * sum(flags) / len(flags) if flags else None

    return {
        "visits": count,
        "first_visit_date": min((v.service_date for v in visits), default=None),
        "last_visit_date": max((v.service_date for v in visits), default=None),
        "on_scene_median": statistics.median(on_scene) if on_scene else None,
        "on_scene_count": len(on_scene),
        "chart_closure_rate": rate(charts),
        "chart_closure_count": len(charts),
        "survey_capture_rate": rate([v.survey_captured for v in visits]),
        "escalation_rate": rate([v.escalated for v in visits]),
        "abx_rate": rate([v.abx_prescribed for v in visits]),
        "nps": (
            100.0 * (sum(s >= 9 for s in scores) - sum(s <= 6 for s in scores)) / len(scores)
            if scores
            else None
        ),
        "nps_average": sum(scores) / len(scores) if scores else None,
        "nps_count": len(scores),
    }


def on_task(shifts):
    total = sum(s.out_the_door + s.en_route + s.on_scene + s.on_break + s.idle for s in shifts)
    return 100.0 * sum(s.en_route + s.on_scene for s in shifts) / total if total else None


def orm_provider_figures(provider):
    from leaderhub.models import ProviderShift, Visit

    p = baseline_params()
    order = ("-service_date", "-care_request_id", "-id")
    now = list(
        Visit.objects.filter(provider=provider, service_date__lte=p["now"]).order_by(*order)[:80]
    )
    prev = list(
        Visit.objects.filter(provider=provider, service_date__lte=p["prev"]).order_by(*order)[:80]
    )
    shifts = list(
        ProviderShift.objects.filter(
            provider=provider, service_date__lte=p["now"], service_date__gt=p["from_prev"]
        )
    )
    figures_now = python_figures(now)
    figures_prev = python_figures(prev)
    result = {"as_of": p["now"], **figures_now}
    result["on_task_percent"] = on_task([s for s in shifts if s.service_date > p["from_now"]])
    for name in WEEK_CHANGE:
        result[f"{name}_prev"] = figures_prev[name]
    result["on_task_percent_prev"] = on_task(
        [s for s in shifts if p["from_prev"] < s.service_date <= p["prev"]]
    )
    return result


def bench_orm_loop(rollup_seconds):
    from django.db import transaction

    from leaderhub.models import Provider, ProviderMetrics

    every = list(Provider.objects.order_by("pk"))
    step = max(1, len(every) // ORM_SAMPLE)
    sample = every[::step][:ORM_SAMPLE]
    expected = {
        row["provider_id"]: row
        for row in ProviderMetrics.objects.filter(provider__in=sample).values()
    }
    computed = {}
    started = time.perf_counter()
    with transaction.atomic():
        for provider in sample:
            computed[provider.pk] = orm_provider_figures(provider)
            ProviderMetrics.objects.update_or_create(
                provider=provider, defaults=computed[provider.pk]
            )
        transaction.set_rollback(True)
    seconds = time.perf_counter() - started
    extrapolated = seconds * len(every) / len(sample)
    problems = [
        f"provider {pk} {column}"
        for pk, row in computed.items()
        for column in COLUMNS
        if not same(row[column], expected.get(pk, {}).get(column))
    ]
    ratio = extrapolated / rollup_seconds
    verdict = "met" if ratio >= ORM_TARGET else "MISSED"
    matches = "yes" if not problems else f"NO ({len(problems)} differences: {problems[:3]})"
    print(
        f"rollup_vs_orm_loop: {rollup_seconds:.2f} s (baseline per-provider ORM loop "
        f"{extrapolated:.1f} s extrapolated from {len(sample)} providers timed in "
        f"{seconds:.2f} s to all {len(every):,}, provider figures only; ratio "
        f"{ratio:.2f}x (loop ÷ rollup); target ≥ {ORM_TARGET}x: {verdict}; ORM figures match the "
        f"rollup for the sample: {matches})"
    )


# 3. The market providers endpoint ----------------------------------------------------------------


def bench_api():
    if not (ROOT / "leaderhub" / "api" / "urls.py").exists():
        print("note: leaderhub/api/urls.py does not exist yet: endpoint latency skipped")
        return
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from leaderhub.models import LeaderAccess, Market

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    user = get_user_model().objects.create_user(username="bench-market-manager")
    user.groups.add(Group.objects.get(name="Market manager"))
    LeaderAccess.objects.create(user=user).markets.set(Market.objects.all())
    client = Client()
    client.force_login(user)
    markets = list(Market.objects.order_by("pk").values_list("pk", flat=True))

    def get(market_id, page_size):
        url = f"/v1/leader-hub-metrics/markets/{market_id}/providers?page_size={page_size}"
        response = client.get(url)
        if response.status_code != 200:
            raise RuntimeError(f"{url} answered {response.status_code}: {response.content[:300]}")
        return response.json()

    for market_id in markets[:3]:  # warm up
        get(market_id, 100)

    def latencies(page_size):
        times, rows = [], []
        for n in range(REQUESTS):
            started = time.perf_counter()
            body = get(markets[n % len(markets)], page_size)
            times.append(time.perf_counter() - started)
            rows.append(len(body["results"]))
        cuts = statistics.quantiles(times, n=20, method="inclusive")
        return statistics.median(times) * 1000, cuts[18] * 1000, statistics.mean(rows)

    p50, p95, rows = latencies(100)
    p50_10, p95_10, _ = latencies(10)
    print(
        f"market_providers_p95: {p95:.1f} ms at page_size=100, {rows:.0f} rows on average "
        f"(p50 {p50:.1f} ms; {REQUESTS} requests over {len(markets)} markets; baseline "
        f"page_size=10 p95 {p95_10:.1f} ms, p50 {p50_10:.1f} ms, ratio {p95 / p95_10:.2f}x)"
    )

    def queries(page_size):
        counts = set()
        for market_id in markets[:5]:
            with CaptureQueriesContext(connection) as captured:
                get(market_id, page_size)
            counts.add(len(captured))
        return counts

    big, small = queries(100), queries(10)
    constant = "yes" if len(big | small) == 1 else "NO"
    print(
        f"market_providers_queries: {'/'.join(map(str, sorted(big)))} queries per request at "
        f"page_size=100 (baseline page_size=10: {'/'.join(map(str, sorted(small)))}, ratio "
        f"{max(big) / max(small):.2f}x; constant: {constant})"
    )


# Main -----------------------------------------------------------------------------------------


def admin_connection():
    import psycopg

    return psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True)


def main():
    started = time.perf_counter()
    with admin_connection() as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {DB_NAME}")
    # A throw-away database of its own, chosen before Django reads its settings.
    os.environ["DATABASE_URL"] = f"{PG_SERVER}/{DB_NAME}"
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsintel.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connections

    # With DEBUG on, Django keeps every SQL statement in memory; that is not our cost.
    settings.DEBUG = False
    try:
        call_command("migrate", verbosity=0, interactive=False)
        built = time.perf_counter()
        generate_data()
        print(
            f"scale: {PROVIDERS:,} providers, {MARKETS} markets in {MARKET_GROUPS} groups, "
            f"{VISITS:,} visits, {SHIFTS:,} shifts{' (small)' if SMALL else ''}; generated "
            f"in {time.perf_counter() - built:.1f} s on PostgreSQL (throw-away {DB_NAME}); "
            f"as of {AS_OF}"
        )
        rollup_seconds = bench_rollup()
        bench_orm_loop(rollup_seconds)
        bench_api()
    finally:
        connections.close_all()
        with admin_connection() as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
    print(f"total: {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
