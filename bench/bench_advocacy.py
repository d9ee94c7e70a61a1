# ruff: noqa: S608 (SQL built from this module's constants and identifiers; values are parameters)
"""Advocacy rollups, dashboards and KPI API at the issue's scale, on PostgreSQL.

Scale: 150 advocates in 10 teams (two in three specialists for two case types, the rest
generalists; ~3% no longer active), 70,000 patients, 100,000 cases created over the year before
AS_OF, ~6 events and ~4 interactions per case (~1,000,000 rows together) and feedback on ~80% of
resolved cases. ADVOCACY_BENCH_SCALE=small runs at 1/20 (30 advocates in 4 teams, 5,000 cases).

Each case's story follows the lifecycle in advocacy.services.TRANSITIONS, in time order: opened,
assigned, first response, documents requested and received (missing documents), provider and
insurer contacted, a handoff (a second `assigned`), escalated, resolved, maybe reopened and
resolved again, closed; ~1.5% are duplicates opened and closed without work. Whatever would
happen after AS_OF has not happened yet, so recent cases are still active (open, in progress,
pending documents, escalated, reopened) and some of those are stale. Resolution times depend on
case type, missing documents, handoffs and escalation; CSAT falls with them.

The script creates a throw-away PostgreSQL database (ADVOCACY_BENCH_PG, default
postgres@127.0.0.1:5432, database opsintel_bench_advocacy), migrates it, generates the data with
server-side SQL (INSERT … SELECT FROM generate_series with hash-based pseudo-random columns: the
same data every run), ANALYZEs it and drops the database at the end. PostgreSQL runs with its
own settings, the same for our code and the baselines.

Figures:
1. rollup_time: advocacy.rollups.refresh(AS_OF) (median of 3) against the fastest hand-written
   SQL computing the same four tables (case facts, KPIs by case type, advocate caseload,
   bottleneck segments) into temp tables, median of 3 per statement; the fact table in two
   forms (events and interactions grouped apart and joined, or grouped in one pass over their
   union). Target: rollup ≤ 1.5× that baseline. Each rollup part (refresh_facts and the three
   aggregate tables) is timed on its own too, against its baseline statement.
   Then the fact refresh split in two, each against a baseline: its SELECT alone into a temp
   table (and with date_part for EXTRACT), and the DELETE + INSERT + commit of the same rows
   into advocacy_casefact against copies without foreign keys (and without the advocate_id
   index); rollup_time_like_for_like charges the baseline the same write, and
   rollup_time_proposed projects refresh() with the changes those figures point to.
2. rollup_matches_baseline: every row and column of the four tables against the baseline's
   (floats within 1e-9, timestamps within 1 µs); the KPI rows are compared exactly.
3. The executive, operations and root-cause dashboards and GET /api/advocacy/kpis/ through
   the test Client as an operations leader: p50/p95 over 20 requests and queries per request
   (a page or endpoint not built yet prints "not available (status N)"), against
   selectors.kpis(selectors.facts_for(leader)), itself timed against reading the stored KPI row.

ADVOCACY_BENCH_EXPLAIN=1 also prints EXPLAIN (ANALYZE, BUFFERS) of the rollup's fact INSERT.

Run with `DEBUG=1 .venv/bin/python bench/bench_advocacy.py` (or `make bench`); about two
minutes at full scale. ADVOCACY_BENCH_VERBOSE=1 times each data-generating statement.
"""

import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SMALL = os.environ.get("ADVOCACY_BENCH_SCALE", "").lower() == "small"
CASES = 5_000 if SMALL else 100_000
PATIENTS = CASES * 7 // 10
ADVOCATES = 30 if SMALL else 150
TEAMS = 4 if SMALL else 10
AS_OF = datetime(2026, 4, 1, tzinfo=UTC)
DAYS = 365  # cases are created over the year before AS_OF
RUNS = 3
REQUESTS = 20
ROLLUP_TARGET = 1.5  # rollup ≤ 1.5× the fastest hand-written SQL
TOLERANCE = 1e-9
VERBOSE = bool(os.environ.get("ADVOCACY_BENCH_VERBOSE"))  # time each data statement
CASE_TYPES = (
    "billing_dispute",
    "prior_authorization",
    "provider_search",
    "care_coordination",
    "claim_denial",
)

PG_SERVER = os.environ.get("ADVOCACY_BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
DB_NAME = "opsintel_bench_advocacy"
AS_OF_SQL = f"timestamptz '{AS_OF.isoformat()}'"


def median_of(function, runs=RUNS):
    """(median wall time, the last result)."""
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def percentiles(times):
    """(p50, p95) in milliseconds."""
    cuts = statistics.quantiles(times, n=20, method="inclusive")
    return statistics.median(times) * 1000, cuts[18] * 1000


# Data -------------------------------------------------------------------------------------------


def rnd(seed, expression="n"):
    """A deterministic pseudo-random non-negative int from the series number."""
    return f"(hashint8extended({expression}::bigint, {seed}) & 2147483647)"


def hours(expression):
    return f"({expression}) * interval '1 hour'"


def done(column):
    """The step happened by AS_OF (NULL: it never happens)."""
    return f"{column} <= {AS_OF_SQL}"


def plan_sql():
    """One row per case: its attributes and the moment of every step of its story (NULL for a
    step it never takes; steps after AS_OF have not happened yet). Times only grow along the
    story, so the event log is in order by construction."""
    case_type = "CASE " + " ".join(
        f"WHEN r3 % 100 < {cut} THEN '{name}'"
        for cut, name in zip((30, 50, 65, 85), CASE_TYPES, strict=False)
    )
    case_type += f" ELSE '{CASE_TYPES[-1]}' END"
    hard = "case_type IN ('prior_authorization', 'claim_denial')"
    # Days of work before resolution, by case type.
    work_days = """CASE case_type
        WHEN 'billing_dispute' THEN 0.3 + r14 % 300 / 100.0
        WHEN 'prior_authorization' THEN 1 + r14 % 500 / 100.0
        WHEN 'provider_search' THEN 0.2 + r14 % 200 / 100.0
        WHEN 'care_coordination' THEN 0.5 + r14 % 400 / 100.0
        ELSE 1 + r14 % 500 / 100.0 END
        + CASE WHEN r14 / 1000 % 100 < 3 THEN 10 + r14 / 100000 % 30 ELSE 0 END"""
    steps = [
        f"""CASE WHEN NOT dup THEN created + {hours("0.1 + r8 % 400 / 100.0")} END
            AS t_assign""",
        f"""t_assign + {
            hours('''CASE urgency WHEN 'urgent' THEN 0.5 + r9 % 350 / 100.0
                WHEN 'high' THEN 1 + r9 % 1100 / 100.0 WHEN 'medium' THEN 2 + r9 % 2800 / 100.0
                ELSE 4 + r9 % 5600 / 100.0 END''')
        } AS t_first""",
        f"""CASE WHEN missing_docs OR r10 % 100 < 8 THEN t_first + {hours("12 + r10 / 100 % 60")}
            END AS t_docs_req""",
        f"t_docs_req + {hours('12 + r10 / 10000 % 120')} AS t_docs_rec",
        f"""CASE WHEN r11 % 100 < 55 THEN COALESCE(t_docs_rec, t_first) + {
            hours("2 + r11 / 100 % 22")
        } END AS t_provider""",
        f"""CASE WHEN r11 / 10000 % 100 < 50 THEN COALESCE(t_provider, t_docs_rec, t_first) + {
            hours("2 + r11 / 1000000 % 22")
        } END AS t_insurer""",
        f"""CASE WHEN handoff_count > 0 THEN GREATEST(t_first, t_docs_rec, t_provider, t_insurer)
            + {hours("6 + r12 % 24")} END AS t_handoff""",
        f"""CASE WHEN r13 % 100 < 8 + CASE WHEN complexity = 'high' THEN 12 ELSE 0 END
                + CASE WHEN urgency = 'urgent' THEN 10 ELSE 0 END
                + CASE WHEN missing_docs THEN 5 ELSE 0 END
            THEN GREATEST(t_first, t_docs_rec, t_provider, t_insurer, t_handoff)
                + {hours("6 + r13 / 100 % 42")} END AS t_esc""",
        f"""CASE WHEN r14 % 1000 < 960
            THEN GREATEST(t_first, t_docs_rec, t_provider, t_insurer, t_handoff, t_esc)
                + ({work_days} + CASE WHEN t_esc IS NULL THEN 0 ELSE 1 + r15 % 3 END
                   + handoff_count * 0.3) * interval '1 day'
            END AS t_res1""",
        f"""CASE WHEN r15 / 10 % 100 < 7 THEN t_res1 + {hours("24 + r15 / 1000 % 312")} END
            AS t_reopen""",
        f"""CASE WHEN r16 % 100 < 85 THEN t_reopen + {hours("24 + r16 / 100 % 144")} END
            AS t_res2""",
        f"""CASE WHEN dup THEN created + {hours("2 + r17 % 20")}
            WHEN r17 / 100 % 100 < 55
            THEN COALESCE(t_res2, CASE WHEN t_reopen IS NULL THEN t_res1 END)
                + {hours("120 + r17 / 10000 % 240")}
            END AS t_closed""",
    ]
    # OFFSET 0 keeps each step a subquery of its own: flattened, every step would repeat the
    # expressions of all the steps before it, and planning and running them grows exponentially.
    chain = "\n".join(
        f"CROSS JOIN LATERAL (SELECT {step} OFFSET 0) s{i}" for i, step in enumerate(steps)
    )
    randoms = ", ".join(f"{rnd(seed)} AS r{seed}" for seed in range(1, 21))
    return f"""
    SELECT b.*, {", ".join(f"s{i}.*" for i in range(len(steps)))}
    FROM (
        SELECT n, r8, r9, r10, r11, r12, r13, r14, r15, r16, r17, r18, r19, r20,
               (date '{AS_OF.date().isoformat()}' - (1 + r1 % {DAYS})::int + time '08:00'
                + (r2 % 36000) * interval '1 second') AT TIME ZONE 'UTC' AS created,
               case_type, urgency, complexity, missing_docs, handoff_count, dup
        FROM (
            SELECT *, {case_type} AS case_type,
                   CASE WHEN r4 % 100 < 25 THEN 'low' WHEN r4 % 100 < 70 THEN 'medium'
                        WHEN r4 % 100 < 92 THEN 'high' ELSE 'urgent' END AS urgency,
                   r5 % 1000 < 15 AS dup,
                   CASE WHEN r6 % 100 < 62 THEN 0 WHEN r6 % 100 < 85 THEN 1
                        WHEN r6 % 100 < 95 THEN 2 ELSE 3 + r6 / 100 % 3 END AS handoff_count
            FROM (SELECT n, {randoms} FROM generate_series(1, {CASES}) n OFFSET 0) x
        ) y
        CROSS JOIN LATERAL (SELECT
            CASE WHEN r7 % 100 + CASE WHEN {hard} THEN 20 ELSE 0 END < 30 THEN 'low'
                 WHEN r7 % 100 + CASE WHEN {hard} THEN 20 ELSE 0 END < 75 THEN 'medium'
                 ELSE 'high' END AS complexity,
            r7 / 100 % 100 < CASE WHEN {hard} THEN 35 ELSE 12 END AS missing_docs) z
    ) b
    {chain}"""


def status_sql():
    """The status the last status-changing event by AS_OF left the case in."""
    return f"""CASE WHEN {done("t_closed")} THEN 'closed'
        WHEN {done("t_res2")} THEN 'resolved'
        WHEN {done("t_reopen")} THEN 'reopened'
        WHEN {done("t_res1")} THEN 'resolved'
        WHEN {done("t_esc")} THEN 'escalated'
        WHEN {done("t_docs_rec")} THEN 'in_progress'
        WHEN {done("t_docs_req")} THEN 'pending_docs'
        WHEN {done("t_first")} THEN 'in_progress'
        ELSE 'open' END"""


def generate_data():
    """Fill the migrated database with server-side SQL; no rows go through Python."""
    from django.db import connection

    a, t = ADVOCATES, TEAMS
    specialties = [
        '["billing_dispute", "claim_denial"]',
        '["prior_authorization", "claim_denial"]',
        '["provider_search", "care_coordination"]',
    ]
    # Every fourth team is all generalists; in the others two in three advocates specialise in
    # the team's two case types.
    team = f"((a - 1) % {t})"
    specialty = f"CASE {team} % 4 " + " ".join(
        f"WHEN {i} THEN '{types}'" for i, types in enumerate(specialties)
    )
    case_types = ", ".join(f"('{name}')" for name in CASE_TYPES)
    statements = [
        "SET synchronous_commit = off",
        f"""INSERT INTO advocacy_advocate (id, name, specialty, team, capacity, case_types,
                                           hire_date, active)
            SELECT a, 'Advocate ' || lpad(a::text, 3, '0'), '',
                   'Team ' || lpad(({team} + 1)::text, 2, '0'), 20 + {rnd(1, "a")} % 21,
                   (CASE WHEN a % 3 = 0 OR {team} % 4 = 3 THEN '[]'
                         ELSE {specialty} END END)::jsonb,
                   date '2019-01-01' + ({rnd(2, "a")} % 2000)::int, a % 33 <> 7
            FROM generate_series(1, {a}) a""",
        # Who may get a case of each type: active advocates only for cases of the last 90
        # days; the first three handlers of each list get more than their share.
        f"""CREATE TEMP TABLE bench_handlers AS
            SELECT t.case_type, r.recent, a.id AS advocate_id,
                   ROW_NUMBER() OVER w - 1 AS k,
                   COUNT(*) OVER (PARTITION BY t.case_type, r.recent) AS handlers
            FROM (VALUES {case_types}) t (case_type)
            CROSS JOIN (VALUES (false), (true)) r (recent)
            JOIN advocacy_advocate a ON (a.case_types = '[]' OR a.case_types ? t.case_type)
                                    AND (a.active OR NOT r.recent)
            WINDOW w AS (PARTITION BY t.case_type, r.recent ORDER BY a.id)""",
        f"""INSERT INTO advocacy_patient (id, external_id, insurance_type, preferred_channel,
                                          state, risk_score, created_at)
            SELECT p, NULL,
                   (ARRAY['commercial', 'medicare', 'medicaid', 'marketplace'])[1 + r % 4],
                   (ARRAY['phone', 'email', 'portal', 'sms'])[1 + r / 4 % 4],
                   (ARRAY['CA', 'TX', 'NY', 'FL', 'IL', 'OH', 'WA', 'GA'])[1 + r / 16 % 8],
                   round((r / 128 % 10000) / 100.0, 2),
                   {AS_OF_SQL} - interval '2 years' + (r % 600) * interval '1 day'
            FROM (SELECT p, {rnd(3, "p")} AS r FROM generate_series(1, {PATIENTS}) p) x""",
        # Ids in creation order, as a live system numbers its cases.
        f"""CREATE TEMP TABLE bench_plan AS
            SELECT ROW_NUMBER() OVER (ORDER BY created, n) AS id, plan.*
            FROM ({plan_sql()}) plan""",
        """ALTER TABLE bench_plan ADD COLUMN status text, ADD COLUMN resolved_at timestamptz,
                                   ADD COLUMN advocate_id bigint""",
        f"""UPDATE bench_plan SET status = {status_sql()}""",
        f"""UPDATE bench_plan
            SET resolved_at = CASE WHEN status IN ('resolved', 'closed') AND NOT dup
                THEN CASE WHEN {done("t_res2")} THEN t_res2 ELSE t_res1 END END""",
        f"""UPDATE bench_plan p
            SET advocate_id = CASE WHEN {done("t_assign")} THEN h.advocate_id END
            FROM (SELECT DISTINCT case_type, recent, handlers FROM bench_handlers) c,
                 bench_handlers h
            WHERE c.case_type = p.case_type
              AND c.recent = (p.created > {AS_OF_SQL} - interval '90 days')
              AND h.case_type = c.case_type AND h.recent = c.recent
              AND h.k = CASE WHEN p.r18 % (c.handlers + 3) < c.handlers
                             THEN p.r18 % (c.handlers + 3) ELSE p.r18 % 3 END""",
        f"""INSERT INTO advocacy_case (
                id, external_id, case_type, status, urgency, created_at, resolved_at, escalated,
                metadata, intake_source, barriers, handoff_count, complexity,
                submitted_documents, missing_docs, support_flags, advocate_id, patient_id)
            SELECT id, NULL, case_type, status, urgency, created, resolved_at,
                   COALESCE({done("t_esc")}, false),
                   jsonb_build_object(
                       'intake_source', intake, 'barriers', barriers,
                       'handoff_count', handoff_count, 'complexity', complexity,
                       'submitted_documents', '[]'::jsonb, 'missing_docs', missing_docs,
                       'support_flags', '[]'::jsonb),
                   intake, barriers, handoff_count, complexity, '[]', missing_docs, '[]',
                   advocate_id, 1 + r19 % {PATIENTS}
            FROM (SELECT *,
                         (ARRAY['phone', 'portal', 'email', 'referral'])[1 + r19 / 7 % 4]
                             AS intake,
                         CASE WHEN missing_docs THEN '["missing documents"]'::jsonb
                              ELSE '[]'::jsonb END AS barriers
                  FROM bench_plan) p
            ORDER BY id""",
        f"""INSERT INTO advocacy_caseevent (case_id, type, at, note, actor_id)
            SELECT p.id, e.type, e.at, '', NULL
            FROM bench_plan p
            CROSS JOIN LATERAL (VALUES
                ('opened', p.created), ('assigned', p.t_assign),
                ('first_response', p.t_first), ('docs_requested', p.t_docs_req),
                ('docs_received', p.t_docs_rec), ('provider_contacted', p.t_provider),
                ('insurer_contacted', p.t_insurer), ('assigned', p.t_handoff),
                ('escalated', p.t_esc), ('resolved', p.t_res1), ('reopened', p.t_reopen),
                ('resolved', p.t_res2), ('closed', p.t_closed)
            ) e (type, at)
            WHERE e.at <= {AS_OF_SQL}
            ORDER BY e.at, p.id""",
        # Interactions from assignment to resolution (or, for active cases, to a last touch
        # up to 40 hours before AS_OF, for ~12% of them 2 to 10 days before: stale).
        f"""INSERT INTO advocacy_interaction (case_id, advocate_id, channel, direction,
                                              started_at, duration_minutes, note)
            SELECT p.id, p.advocate_id,
                   (ARRAY['phone', 'email', 'portal', 'sms'])[1 + h % 4],
                   CASE WHEN h / 4 % 10 < 3 THEN 'inbound' ELSE 'outbound' END,
                   p.t_assign + (p.until - p.t_assign) * ((i - 1 + h / 40 % 1000 / 1000.0)
                                                         / p.interactions),
                   2 + h / 40000 % 43, ''
            FROM (
                SELECT id, advocate_id, t_assign,
                       1 + r20 % 5 + LEAST(handoff_count, 2)
                       + CASE WHEN complexity = 'high' THEN 1 ELSE 0 END AS interactions,
                       COALESCE(resolved_at, CASE WHEN status = 'closed' THEN t_closed END,
                                GREATEST(t_assign, {AS_OF_SQL} - CASE WHEN r20 / 8 % 100 < 12
                                    THEN {hours("48 + r20 / 800 % 192")}
                                    ELSE {hours("r20 / 800 % 40")} END)) AS until
                FROM bench_plan
                WHERE {done("t_assign")}
            ) p
            CROSS JOIN LATERAL generate_series(1, p.interactions) i
            CROSS JOIN LATERAL (SELECT {rnd(21, "p.id * 16 + i")} AS h) r
            ORDER BY 5, 1""",
        # Feedback on ~80% of resolved cases, lower after escalation, handoffs, a late answer.
        f"""INSERT INTO advocacy_patientfeedback (case_id, csat, comment, submitted_at)
            SELECT id,
                   GREATEST(1, LEAST(5, 5 - CASE WHEN {done("t_esc")} THEN 1 ELSE 0 END
                       - CASE WHEN handoff_count >= 2 THEN 1 ELSE 0 END
                       - CASE WHEN resolved_at > created + interval '7 days' THEN 1 ELSE 0 END
                       - CASE WHEN r19 % 4 = 0 THEN 1 ELSE 0 END
                       - CASE WHEN r19 % 11 = 0 THEN 2 ELSE 0 END
                       + CASE WHEN r19 % 5 = 0 THEN 1 ELSE 0 END)),
                   '', resolved_at + {hours("2 + r19 / 100 % 70")}
            FROM bench_plan
            WHERE resolved_at IS NOT NULL AND r19 / 10 % 100 < 80
              AND resolved_at + {hours("2 + r19 / 100 % 70")} <= {AS_OF_SQL}
            ORDER BY 4""",
    ]
    for table in ("advocate", "patient", "case"):
        statements.append(
            f"""SELECT setval(pg_get_serial_sequence('advocacy_{table}', 'id'),
                              (SELECT MAX(id) FROM advocacy_{table}))"""
        )
    # The rollups run with the server's own commit settings.
    statements += ["DROP TABLE bench_plan, bench_handlers", "RESET synchronous_commit", "ANALYZE"]
    with connection.cursor() as cursor:
        for sql in statements:
            started = time.perf_counter()
            cursor.execute(sql)
            if VERBOSE:
                print(f"  {time.perf_counter() - started:6.2f} s  {' '.join(sql.split())[:90]}")
        cursor.execute(
            """SELECT (SELECT COUNT(*) FROM advocacy_caseevent),
                      (SELECT COUNT(*) FROM advocacy_interaction),
                      (SELECT COUNT(*) FROM advocacy_patientfeedback)"""
        )
        return cursor.fetchone()


def describe_data():
    """The mix the data ended up with, to check it looks like a real year."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT status, COUNT(*) FROM advocacy_case GROUP BY status ORDER BY 2 DESC"""
        )
        statuses = ", ".join(f"{status} {count:,}" for status, count in cursor.fetchall())
        cursor.execute(
            """SELECT ROUND(100.0 * AVG(missing_docs::int), 1),
                      ROUND(100.0 * AVG((handoff_count > 0)::int), 1),
                      ROUND(100.0 * AVG(escalated::int), 1),
                      ROUND(100.0 * AVG((advocate_id IS NULL)::int), 1)
               FROM advocacy_case"""
        )
        missing, handoffs, escalated, unassigned = cursor.fetchone()
    print(
        f"data: statuses {statuses}; missing documents {missing}%, handed off {handoffs}%, "
        f"escalated {escalated}%, unassigned {unassigned}%"
    )


# The hand-written baseline -----------------------------------------------------------------------


def sla_seconds_sql():
    from advocacy import selectors

    whens = " ".join(
        f"WHEN '{name}' THEN {int(selectors.sla_days(name)) * 86400}" for name in CASE_TYPES
    )
    from django.conf import settings

    return f"CASE c.case_type {whens} ELSE {int(settings.ADVOCACY_DEFAULT_SLA_DAYS) * 86400} END"


def pauses_sql():
    """Seconds each case waited on documents by %(as_of)s, when the SLA pauses for that."""
    from django.conf import settings

    if not settings.ADVOCACY_SLA_PAUSE_PENDING_DOCS:
        return None
    return """SELECT case_id,
                     SUM(date_part('epoch', COALESCE(wait_end, %(as_of)s) - at)) AS seconds
              FROM (SELECT case_id, type, at,
                           LEAD(at) OVER (PARTITION BY case_id ORDER BY at, id) AS wait_end
                    FROM advocacy_caseevent
                    WHERE at <= %(as_of)s
                      AND type IN ('docs_requested', 'docs_received', 'resolved', 'closed')) w
              WHERE type = 'docs_requested'
              GROUP BY case_id"""


def fact_select(touches, joins, first, last_event, last_interaction, resolved, reopened, count,
                minutes):  # fmt: skip
    """CREATE TEMP TABLE bl_casefact from the case rows and per-case aggregates."""
    from advocacy.models import Case

    active = ", ".join(f"'{status}'" for status in Case.ACTIVE_STATUSES)
    pauses = pauses_sql()
    paused = "COALESCE(p.seconds, 0)" if pauses else "0"
    with_pauses = f", p AS ({pauses})" if pauses else ""
    join_pauses = "LEFT JOIN p ON p.case_id = c.id" if pauses else ""
    return f"""
    CREATE TEMP TABLE bl_casefact AS
    WITH {touches}{with_pauses}
    SELECT case_id, %(as_of)s::timestamptz AS as_of, case_type, status, urgency, complexity,
           advocate_id, team, created_at, missing_docs, handoff_count, first_response_at,
           resolved_at,
           date_part('epoch', first_response_at - created_at) / 3600.0
               AS hours_to_first_response,
           date_part('epoch', resolved_at - created_at) / 86400.0 AS days_to_resolution,
           date_part('epoch', %(as_of)s - created_at) / 86400.0 AS age_days,
           interaction_count, interaction_minutes, last_touch, is_active, escalated,
           ever_resolved, reopened, paused / 3600.0 AS sla_paused_hours, sla_deadline,
           (resolved_at IS NOT NULL AND resolved_at > sla_deadline)
               OR (is_active AND resolved_at IS NULL AND %(as_of)s > sla_deadline)
               AS sla_breached,
           is_active AND last_touch < %(stale_before)s AS stale,
           csat
    FROM (
        SELECT c.id AS case_id, c.case_type, c.status, c.urgency, c.complexity, c.advocate_id,
               COALESCE(a.team, '') AS team, c.created_at, c.missing_docs, c.handoff_count,
               {first} AS first_response_at, c.resolved_at,
               COALESCE({count}, 0) AS interaction_count,
               COALESCE({minutes}, 0) AS interaction_minutes,
               GREATEST(COALESCE({last_event}, c.created_at),
                        COALESCE({last_interaction}, c.created_at)) AS last_touch,
               c.status IN ({active}) AS is_active, c.escalated,
               COALESCE({resolved}, false) AS ever_resolved,
               COALESCE({resolved} AND {reopened}, false) AS reopened,
               {paused} AS paused,
               c.created_at + ({sla_seconds_sql()} + {paused}) * interval '1 second'
                   AS sla_deadline,
               f.csat
        FROM advocacy_case c
        LEFT JOIN advocacy_advocate a ON a.id = c.advocate_id
        {joins}
        {join_pauses}
        LEFT JOIN advocacy_patientfeedback f ON f.case_id = c.id AND f.submitted_at <= %(as_of)s
        WHERE c.created_at <= %(as_of)s
    ) lifecycle"""


def facts_apart_sql():
    """Events and interactions each grouped once (hash aggregates), then hash-joined."""
    touches = """
    e AS (SELECT case_id, MIN(at) FILTER (WHERE type = 'first_response') AS first_at,
                 MAX(at) AS last_at, bool_or(type = 'resolved') AS resolved,
                 bool_or(type = 'reopened') AS reopened
          FROM advocacy_caseevent WHERE at <= %(as_of)s GROUP BY case_id),
    i AS (SELECT case_id, COUNT(*) AS n, SUM(duration_minutes) AS minutes,
                 MAX(started_at) AS last_at
          FROM advocacy_interaction WHERE started_at <= %(as_of)s GROUP BY case_id)"""
    joins = "LEFT JOIN e ON e.case_id = c.id LEFT JOIN i ON i.case_id = c.id"
    return fact_select(touches, joins, "e.first_at", "e.last_at", "i.last_at", "e.resolved",
                       "e.reopened", "i.n", "i.minutes")  # fmt: skip


def facts_union_sql():
    """One hash aggregate over events and interactions together, then one join."""
    touches = """
    t AS (SELECT case_id,
                 MIN(at) FILTER (WHERE type = 'first_response') AS first_at,
                 MAX(at) FILTER (WHERE type IS NOT NULL) AS last_event,
                 MAX(at) FILTER (WHERE type IS NULL) AS last_interaction,
                 bool_or(type = 'resolved') AS resolved, bool_or(type = 'reopened') AS reopened,
                 COUNT(*) FILTER (WHERE type IS NULL) AS n, SUM(minutes) AS minutes
          FROM (SELECT case_id, type, at, NULL::int AS minutes
                FROM advocacy_caseevent WHERE at <= %(as_of)s
                UNION ALL
                SELECT case_id, NULL, started_at, duration_minutes
                FROM advocacy_interaction WHERE started_at <= %(as_of)s) touches
          GROUP BY case_id)"""
    return fact_select(touches, "LEFT JOIN t ON t.case_id = c.id", "t.first_at", "t.last_event",
                       "t.last_interaction", "t.resolved", "t.reopened",
                       "CASE WHEN t.n > 0 THEN t.n END", "t.minutes")  # fmt: skip


def rounded(expression):
    return f"round(({expression})::numeric, 2)::float8"


def share(count, of):
    return rounded(f"100.0 * {count} / NULLIF({of}, 0)")


def kpi_sql():
    return f"""
    CREATE TEMP TABLE bl_casetypekpi AS
    SELECT %(as_of)s::timestamptz AS as_of,
           CASE WHEN GROUPING(case_type) = 1 THEN '' ELSE case_type END AS case_type,
           COUNT(*) AS total_cases, COUNT(*) FILTER (WHERE is_active) AS active_cases,
           {rounded("AVG(hours_to_first_response)")} AS avg_hours_to_first_response,
           {rounded("AVG(days_to_resolution)")} AS avg_days_to_resolution,
           {share("COUNT(*) FILTER (WHERE escalated)", "COUNT(*)")} AS escalation_rate,
           {share("COUNT(*) FILTER (WHERE reopened)", "COUNT(*) FILTER (WHERE ever_resolved)")}
               AS reopen_rate,
           {share("COUNT(*) FILTER (WHERE sla_breached)", "COUNT(*)")} AS sla_breach_rate,
           {rounded("AVG(interaction_count)")} AS avg_interactions_per_case,
           {rounded("AVG(csat)")} AS avg_csat,
           COUNT(*) FILTER (WHERE stale) AS stale_cases
    FROM bl_casefact
    GROUP BY GROUPING SETS ((case_type), ())"""


def caseload_sql():
    from django.conf import settings

    weights = " ".join(
        f"WHEN '{level}' THEN {float(weight)!r}"
        for level, weight in settings.ADVOCACY_COMPLEXITY_WEIGHTS.items()
    )
    return f"""
    CREATE TEMP TABLE bl_advocatecaseload AS
    SELECT a.id AS advocate_id, %(as_of)s::timestamptz AS as_of, a.team, a.capacity,
           COALESCE(l.active_cases, 0) AS active_cases,
           COALESCE(l.weighted, 0.0) AS weighted_caseload,
           COALESCE(l.active_cases, 0) * 1.0 / a.capacity AS utilization,
           COALESCE(l.weighted, 0.0) / a.capacity AS weighted_utilization,
           COALESCE(l.stale_cases, 0) AS stale_cases,
           COALESCE(l.breached_cases, 0) AS breached_cases
    FROM advocacy_advocate a
    LEFT JOIN (
        SELECT advocate_id, COUNT(*) AS active_cases,
               SUM(CASE complexity {weights} ELSE 1.0 END) AS weighted,
               COUNT(*) FILTER (WHERE stale) AS stale_cases,
               COUNT(*) FILTER (WHERE sla_breached) AS breached_cases
        FROM bl_casefact WHERE is_active GROUP BY advocate_id
    ) l ON l.advocate_id = a.id
    WHERE a.active"""


def segments_sql():
    """All six dimensions in one pass: each fact row unpivoted into its six segments."""
    from advocacy.selectors import DIMENSIONS

    labels = ", ".join(
        f"('{dimension}', {position}, '{label}')"
        for dimension, (_title, conditions) in DIMENSIONS.items()
        if conditions
        for position, (label, _condition) in enumerate(conditions)
    )
    case_type = "CASE case_type " + " ".join(
        f"WHEN '{name}' THEN {position}" for position, name in enumerate(CASE_TYPES)
    )
    return f"""
    CREATE TEMP TABLE bl_bottlenecksegment AS
    WITH g AS (
        SELECT d.dimension, d.position, d.team, COUNT(*) AS cases,
               AVG(days_to_resolution) AS resolution, AVG(hours_to_first_response) AS response,
               COUNT(*) FILTER (WHERE sla_breached) AS breached, AVG(csat) AS csat,
               COUNT(*) FILTER (WHERE escalated) AS escalated
        FROM (SELECT f.*, COALESCE(l.utilization > 1, false) AS over_capacity
              FROM bl_casefact f
              LEFT JOIN bl_advocatecaseload l ON l.advocate_id = f.advocate_id) f
        CROSS JOIN LATERAL (VALUES
            ('missing_docs', CASE WHEN missing_docs THEN 0 ELSE 1 END, NULL),
            ('handoffs', LEAST(handoff_count, 3), NULL),
            ('case_type', {case_type} END, NULL),
            ('escalation', CASE WHEN escalated THEN 0 ELSE 1 END, NULL),
            ('advocate_load', CASE WHEN advocate_id IS NULL THEN 0
                                   WHEN over_capacity THEN 1 ELSE 2 END, NULL),
            ('team', NULL, team)
        ) d (dimension, position, team)
        GROUP BY 1, 2, 3
    )
    SELECT %(as_of)s::timestamptz AS as_of, g.dimension,
           COALESCE(s.label, NULLIF(g.team, ''), 'No team') AS segment,
           COALESCE(g.position,
                    ROW_NUMBER() OVER (PARTITION BY g.dimension ORDER BY g.team) - 1) AS position,
           g.cases, {rounded("g.resolution")} AS avg_days_to_resolution,
           {share("g.breached", "g.cases")} AS sla_breach_rate,
           {rounded("g.csat")} AS avg_csat, {share("g.escalated", "g.cases")} AS escalation_rate,
           {rounded("g.response")} AS avg_hours_to_first_response
    FROM g
    LEFT JOIN (VALUES {labels}) s (dimension, position, label)
           ON s.dimension = g.dimension AND s.position = g.position"""


BASELINE_TABLES = {
    "advocacy_casefact": None,  # in two forms, below
    "advocacy_casetypekpi": kpi_sql,
    "advocacy_advocatecaseload": caseload_sql,
    "advocacy_bottlenecksegment": segments_sql,
}
FACT_FORMS = {"apart": facts_apart_sql, "union": facts_union_sql}


def baseline_params():
    from advocacy.rollups import STALE_AFTER

    return {"as_of": AS_OF, "stale_before": AS_OF - STALE_AFTER}


def run_statement(table, sql):
    """Seconds to (re)build bl_<table> with one statement."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS bl_{table.removeprefix('advocacy_')}")
        started = time.perf_counter()
        cursor.execute(sql, baseline_params())
        return time.perf_counter() - started


def run_baseline(fact_form):
    """Median seconds per baseline statement; the temp tables hold the last run's rows."""
    seconds = {}
    for table, build in BASELINE_TABLES.items():
        sql = (FACT_FORMS[fact_form] if build is None else build)()
        seconds[table] = statistics.median(run_statement(table, sql) for _ in range(RUNS))
    return seconds


# Comparing tables ------------------------------------------------------------------------------

KEYS = {
    "advocacy_casefact": ("case_id",),
    "advocacy_casetypekpi": ("as_of", "case_type"),
    "advocacy_advocatecaseload": ("advocate_id",),
    "advocacy_bottlenecksegment": ("dimension", "segment"),
}


def columns_of(cursor, table):
    cursor.execute(
        """SELECT column_name, data_type FROM information_schema.columns
           WHERE table_name = %s AND column_name <> 'id' ORDER BY ordinal_position""",
        [table],
    )
    return cursor.fetchall()


def differs(column, kind):
    a, b = f"r.{column}", f"b.{column}"
    if kind == "double precision":
        close = f"abs({a} - {b}) <= {TOLERANCE} * GREATEST(1, abs({a}))"
    elif kind.startswith("timestamp"):
        close = f"abs(date_part('epoch', {a} - {b})) <= 0.000001"
    else:
        return f"{a} IS DISTINCT FROM {b}"
    either_null = f"({a} IS NULL) <> ({b} IS NULL)"
    return f"CASE WHEN {a} IS NULL OR {b} IS NULL THEN {either_null} ELSE NOT ({close}) END"


def compare_table(table):
    """(rows compared, [differences]) of the rollup's table against bl_<table>, in SQL: every
    row by key, every column (floats within TOLERANCE, timestamps within 1 µs)."""
    from django.db import connection

    keys = KEYS[table]
    where = "r.as_of = %(as_of)s" if table == "advocacy_casetypekpi" else "true"
    baseline = f"bl_{table.removeprefix('advocacy_')}"
    with connection.cursor() as cursor:
        columns = [(c, kind) for c, kind in columns_of(cursor, table) if c not in keys]
        on = " AND ".join(f"r.{key} = b.{key}" for key in keys)
        cursor.execute(
            f"""SELECT (SELECT COUNT(*) FROM {table} r WHERE {where}),
                       (SELECT COUNT(*) FROM {baseline}),
                       (SELECT COUNT(*) FROM {table} r JOIN {baseline} b ON {on} WHERE {where})""",
            baseline_params(),
        )
        ours, theirs, common = cursor.fetchone()
        problems = []
        if not ours == theirs == common:
            problems.append(f"{ours:,} rows, baseline {theirs:,}, {common:,} with the same key")
        for column, kind in columns:
            cursor.execute(
                f"""SELECT {", ".join(f"r.{key}" for key in keys)}, r.{column}, b.{column}
                    FROM {table} r JOIN {baseline} b ON {on}
                    WHERE {where} AND {differs(column, kind)}
                    LIMIT 3""",
                baseline_params(),
            )
            for *key, a, b in cursor.fetchall():
                problems.append(f"{column} at {tuple(key)}: rollup {a!r}, baseline {b!r}")
    return common, problems


def kpi_rows_identical():
    """The rollup's CaseTypeKpi rows for AS_OF against the baseline's, exactly."""
    from django.db import connection

    with connection.cursor() as cursor:
        kpis = [c for c, _ in columns_of(cursor, "advocacy_casetypekpi")]
        names = ["case_type", *(c for c in kpis if c not in ("as_of", "case_type"))]
        listed = ", ".join(names)
        cursor.execute(
            f"SELECT {listed} FROM advocacy_casetypekpi WHERE as_of = %(as_of)s ORDER BY case_type",
            baseline_params(),
        )
        ours = cursor.fetchall()
        cursor.execute(f"SELECT {listed} FROM bl_casetypekpi ORDER BY case_type")
        theirs = cursor.fetchall()
    if ours == theirs:
        return "identical", names, ours
    problems = [f"{len(ours)} rows, baseline {len(theirs)}"] if len(ours) != len(theirs) else []
    for a, b in zip(ours, theirs, strict=False):
        problems += [
            f"{a[0] or 'all'} {name}: rollup {x!r}, baseline {y!r}"
            for name, x, y in zip(names, a, b, strict=True)
            if x != y
        ]
    return "DIFFERENT: " + "; ".join(problems), names, ours


# 1. The rollup -----------------------------------------------------------------------------------


def rollup_parts():
    """{table: function} running one part of refresh() in its own transaction."""
    from django.db import transaction

    from advocacy import rollups

    def atomic(function):
        def run():
            with transaction.atomic():
                return function(AS_OF)

        return run

    return {
        "advocacy_casefact": atomic(rollups.refresh_facts),
        "advocacy_casetypekpi": atomic(rollups._refresh_kpis),
        "advocacy_advocatecaseload": atomic(rollups._refresh_caseload),
        "advocacy_bottlenecksegment": atomic(rollups._refresh_segments),
    }


def explain_facts():
    from django.db import connection, transaction

    from advocacy import rollups

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM advocacy_casefact")
        sql = rollups._fact_sql(rollups._Dialect("postgresql"))
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", rollups._params(AS_OF))
        print("--- EXPLAIN ANALYZE the rollup's fact INSERT")
        print("\n".join(row[0] for row in cursor.fetchall()))
        transaction.set_rollback(True)


# 1b. Where the fact refresh spends its time --------------------------------------------------


def copy_of_facts(name, *, drop_indexes=()):
    """A plain table like advocacy_casefact (same columns and indexes) without its foreign
    keys, for timing the write without the per-row foreign key checks."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {name}")
        cursor.execute(f"CREATE TABLE {name} (LIKE advocacy_casefact INCLUDING ALL)")
        for column in drop_indexes:
            cursor.execute(
                "SELECT indexname FROM pg_indexes WHERE tablename = %s AND indexdef LIKE %s",
                [name, f"%({column})"],
            )
            for (index,) in cursor.fetchall():
                cursor.execute(f"DROP INDEX {index}")
    return name


def write_facts(table, select=None):
    """Seconds to replace every row of `table` with the baseline's fact rows (or those of the
    `select` query), as refresh_facts does: DELETE, INSERT, commit with its deferred foreign
    key checks."""
    from django.db import connection, transaction

    from advocacy import rollups

    columns = ", ".join(rollups.FACT_COLUMNS)
    source = select or f"SELECT {columns} FROM bl_casefact"
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table}")
        cursor.execute(f"INSERT INTO {table} ({columns}) {source}", rollups._params(AS_OF))
    return time.perf_counter() - started


def bench_fact_write(baseline_seconds):
    """The fact refresh split into its query and its write, each against a baseline: the
    rollup's own SELECT into a temp table (and a copy of it with date_part, which returns
    double precision, where EXTRACT computes in numeric), and the write of the same rows into
    the real table against copies of it without foreign keys (and without the advocate_id
    index that fact_advocate_active already covers)."""
    from django.db import connection

    from advocacy import rollups

    columns = ", ".join(rollups.FACT_COLUMNS)
    insert = f"INSERT INTO advocacy_casefact ({columns})"
    select = rollups._fact_sql(rollups._Dialect("postgresql")).replace(insert, "")
    queries = {
        "as is": select,
        "date_part": select.replace("EXTRACT(EPOCH FROM ", "date_part('epoch', "),
    }
    query_seconds = {}
    for name, sql in queries.items():

        def run(sql=sql):
            with connection.cursor() as cursor:
                cursor.execute("DROP TABLE IF EXISTS rl_casefact")
                started = time.perf_counter()
                cursor.execute(
                    f"CREATE TEMP TABLE rl_casefact ({columns}) AS {sql}", rollups._params(AS_OF)
                )
                return time.perf_counter() - started

        query_seconds[name] = statistics.median(run() for _ in range(RUNS))
    ours = query_seconds["as is"]
    print(
        f"fact_query_only: {ours:.3f} s (the rollup's SELECT into a temp table, median of "
        f"{RUNS}; baseline {baseline_seconds:.3f} s, ratio {ours / baseline_seconds:.2f}x; "
        f"the same SELECT with date_part for EXTRACT {query_seconds['date_part']:.3f} s)"
    )
    tables = {
        "real": "advocacy_casefact",
        "no_fk": copy_of_facts("bench_casefact_no_fk"),
        "no_fk_no_advocate_index": copy_of_facts(
            "bench_casefact_lean", drop_indexes=("advocate_id",)
        ),
    }
    seconds = {
        name: statistics.median(write_facts(table) for _ in range(RUNS))
        for name, table in tables.items()
    }
    # The proposed refresh_facts: the date_part SELECT into the lean table.
    proposed = statistics.median(
        write_facts(tables["no_fk_no_advocate_index"], queries["date_part"]) for _ in range(RUNS)
    )
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_casefact_no_fk, bench_casefact_lean")
        # The writes above left dead rows behind, as hourly refreshes would; the pages measured
        # next read the table as autovacuum would leave it.
        cursor.execute("VACUUM ANALYZE advocacy_casefact")
    real = seconds["real"]
    print(
        f"fact_write: {real:.3f} s (DELETE + INSERT of {CASES:,} fact rows into "
        f"advocacy_casefact and commit, median of {RUNS}; baseline the same into a copy without "
        f"foreign keys {seconds['no_fk']:.3f} s, ratio {real / seconds['no_fk']:.2f}x; without "
        f"foreign keys and the redundant advocate_id index {seconds['no_fk_no_advocate_index']:.3f}"
        f" s, ratio {real / seconds['no_fk_no_advocate_index']:.2f}x)"
    )
    return {"query": ours, "write": real, "proposed": proposed}


def bench_rollup():
    from advocacy import rollups

    rollup_seconds, counts = median_of(lambda: rollups.refresh(AS_OF))
    print("rollup rows: " + ", ".join(f"{table} {count:,}" for table, count in counts.items()))
    parts = {table: median_of(run)[0] for table, run in rollup_parts().items()}
    # The parts leave the same tables as refresh(); compare against each fact form's rows.
    forms, problems_by_form = {}, {}
    for form in FACT_FORMS:
        forms[form] = run_baseline(form)
        problems_by_form[form] = {table: compare_table(table) for table in BASELINE_TABLES}
    matching = [
        form for form in FACT_FORMS if not any(p for _, p in problems_by_form[form].values())
    ]
    for form, checks in problems_by_form.items():
        for table, (compared, problems) in checks.items():
            if problems:
                print(
                    f"note: the {form} baseline for {table} does NOT match the rollup "
                    f"({len(problems)} differences over {compared:,} rows), e.g. "
                    + "; ".join(problems[:3])
                )
    fact_table = "advocacy_casefact"
    if matching:
        best = min(matching, key=lambda form: forms[form][fact_table])
        baseline = forms[best]
        base_seconds = sum(baseline.values())
        ratio = rollup_seconds / base_seconds
        verdict = "met" if ratio <= ROLLUP_TARGET else "MISSED"
        print(
            f"rollup_time: {rollup_seconds:.2f} s (median of {RUNS}; baseline hand-written SQL "
            f"into temp tables, fastest verified fact form '{best}', {base_seconds:.2f} s, ratio "
            f"{ratio:.2f}x; target ≤ {ROLLUP_TARGET:g}x: {verdict})"
        )
    else:
        baseline = forms["apart"]
        print(f"rollup_time: {rollup_seconds:.2f} s (no verified baseline: no ratio)")
    for table, seconds in parts.items():
        print(
            f"rollup_part_{table.removeprefix('advocacy_')}: {seconds:.3f} s (median of {RUNS}; "
            f"baseline {baseline[table]:.3f} s, ratio {seconds / baseline[table]:.2f}x)"
        )
    for form, seconds in forms.items():
        detail = ", ".join(f"{t.removeprefix('advocacy_')} {s:.3f} s" for t, s in seconds.items())
        print(f"baseline_{form}_form: {sum(seconds.values()):.2f} s ({detail})")
    compared = sum(c for c, _ in problems_by_form[matching[0] if matching else "apart"].values())
    print(
        f"rollup_matches_baseline: {'yes' if matching else 'NO'} ({compared:,} rows over the four "
        f"tables, every column, floats within {TOLERANCE:g}, timestamps within 1 µs)"
    )
    verdict, names, rows = kpi_rows_identical()
    print(f"kpi_rows_match: {verdict} ({len(rows)} CaseTypeKpi rows as of {AS_OF:%Y-%m-%d %H:%M})")
    total = next((row for row in rows if row[0] == ""), ())
    print(
        "kpis_all_types: "
        + ", ".join(f"{name} {value}" for name, value in zip(names[1:], total[1:], strict=False))
    )
    if os.environ.get("ADVOCACY_BENCH_EXPLAIN"):
        explain_facts()
    split = bench_fact_write(baseline["advocacy_casefact"])
    if matching:
        # Like for like: the hand-written SQL writing its fact rows into the same table.
        same_write = base_seconds + split["write"]
        print(
            f"rollup_time_like_for_like: {rollup_seconds:.2f} s (baseline the hand-written SQL "
            f"{base_seconds:.2f} s + writing its fact rows into advocacy_casefact "
            f"{split['write']:.2f} s = {same_write:.2f} s, ratio "
            f"{rollup_seconds / same_write:.2f}x)"
        )
        others = sum(seconds for table, seconds in parts.items() if table != fact_table)
        projected = split["proposed"] + others
        print(
            f"rollup_time_proposed: {projected:.2f} s projected (refresh_facts as proposed: "
            f"date_part SELECT into a fact table without foreign keys or the advocate_id index "
            f"{split['proposed']:.2f} s, measured on a copy, + the aggregate parts {others:.2f} s;"
            f" baseline {base_seconds:.2f} s, ratio {projected / base_seconds:.2f}x)"
        )
    return rollup_seconds


# 2. Dashboards, API and the KPI selector -------------------------------------------------------


def make_user(username, role):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    user = get_user_model().objects.create_user(username=username)
    user.groups.add(Group.objects.get(name=role))
    return get_user_model().objects.get(pk=user.pk)


def timed_calls(function, count=REQUESTS):
    function()  # warm-up
    times = []
    for _ in range(count):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return percentiles(times)


def bench_selector(leader):
    """selectors.kpis over the leader's facts, against reading the stored KPI row."""
    from advocacy import selectors
    from advocacy.models import CaseTypeKpi

    p50, p95 = timed_calls(lambda: selectors.kpis(selectors.facts_for(leader)))
    stored_p50, stored_p95 = timed_calls(
        lambda: CaseTypeKpi.objects.filter(case_type="").order_by("-as_of").first()
    )
    print(
        f"kpi_selector_p95: {p95:.1f} ms (p50 {p50:.1f} ms over {REQUESTS} calls of "
        f"selectors.kpis(selectors.facts_for(leader)), {CASES:,} facts; baseline the stored "
        f"CaseTypeKpi row p95 {stored_p95:.1f} ms, p50 {stored_p50:.1f} ms, ratio "
        f"{p95 / stored_p95:.1f}x)"
    )
    start = (AS_OF - timedelta(days=90)).date()
    f_p50, f_p95 = timed_calls(
        lambda: selectors.kpis(
            selectors.facts_for(leader, start=start, case_type="prior_authorization")
        )
    )
    print(
        f"kpi_selector_filtered_p95: {f_p95:.1f} ms (p50 {f_p50:.1f} ms; prior authorizations "
        f"of the last 90 days; baseline unfiltered p95 {p95:.1f} ms, ratio {f_p95 / p95:.2f}x)"
    )
    # Every dashboard asks for the moment of the latest rollup.
    latest_p50, latest_p95 = timed_calls(selectors.latest_as_of)
    print(
        f"latest_as_of_p95: {latest_p95:.1f} ms (p50 {latest_p50:.1f} ms, selectors.latest_as_of "
        f"over {CASES:,} facts; baseline the latest stored CaseTypeKpi row through its as_of "
        f"index p95 {stored_p95:.1f} ms, ratio {latest_p95 / stored_p95:.1f}x)"
    )
    return p50


def bench_pages(leader, selector_p50):
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    # A page that fails answers 500 here instead of stopping the benchmark.
    client = Client(raise_request_exception=False)
    client.force_login(leader)
    targets = {
        "executive_dashboard": reverse("advocacy:executive"),
        "operations_dashboard": reverse("advocacy:operations"),
        "root_cause_dashboard": reverse("advocacy:root_cause"),
        "kpi_api": "/api/advocacy/kpis/",
    }
    for name, url in targets.items():
        status = client.get(url).status_code  # warm-up
        if status != 200:
            print(f"{name}: not available (status {status}) at GET {url}")
            continue
        with CaptureQueriesContext(connection) as captured:
            client.get(url)
        # Counted now: the request closed the connection, and reconnecting clears its log.
        queries = len(captured)
        p50, p95 = timed_calls(lambda url=url: client.get(url))
        print(
            f"{name}_p95: {p95:.1f} ms (p50 {p50:.1f} ms over {REQUESTS} GET {url} as an "
            f"operations leader; {queries} queries per request; baseline "
            f"selectors.kpis p50 {selector_p50:.1f} ms, ratio {p50 / selector_p50:.1f}x at p50)"
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
        events, interactions, feedback = generate_data()
        print(
            f"scale: {ADVOCATES} advocates in {TEAMS} teams, {PATIENTS:,} patients, "
            f"{CASES:,} cases, {events:,} events + {interactions:,} interactions "
            f"= {events + interactions:,}, {feedback:,} feedback{' (small)' if SMALL else ''}; "
            f"generated in {time.perf_counter() - built:.1f} s on PostgreSQL (throw-away "
            f"{DB_NAME}); as of {AS_OF:%Y-%m-%d %H:%M} UTC"
        )
        describe_data()
        bench_rollup()
        leader = make_user("bench-operations-leader", "Operations leader")
        selector_p50 = bench_selector(leader)
        bench_pages(leader, selector_p50)
    finally:
        connections.close_all()
        with admin_connection() as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
    print(f"total: {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
