# ruff: noqa: S608 (SQL built from this module's constants and identifiers; values are parameters)
"""The AR engine's nightly batch at the issue's scale, on PostgreSQL: assign + schedule.

Scale: the seeded queues, assignment rules and follow-up rules (migrations run: Aetna, Medicare
and the default rule), 10 payers (Aetna, Medicare and eight more: Medicaid, Tricare and six
commercial), 40 agents spread over the five queues in proportion to the work each gets, daily
capacities 30–60, 60,000 patients, 100,000 open unassigned claims submitted over the year
before TODAY (40% in the last 30 days, 10% older than 120), amounts mostly $80–$1,500 with a
tail to $60,000, E/M, lab, imaging and ~8% complex surgical CPT codes, a fifth denied with a
reason, and the 2026 US federal holidays. RCM_BENCH_SCALE=small runs 5,000 claims and 15
agents.

The script creates a throw-away PostgreSQL database (RCM_BENCH_PG, default
postgres@127.0.0.1:5432, database opsintel_bench_rcm), migrates it, generates the data with
server-side SQL (INSERT … SELECT FROM generate_series with hash-based pseudo-random columns:
the same data every run), ANALYZEs it and drops the database at the end.

Figures:
1. Same work, both ways: the batch path (rcm.services.assign_claims, then
   schedule_follow_ups) and a naive per-claim ORM loop written here (per claim: load it with
   its payer, try the rules with rcm.rules.evaluate, count each queue agent's open claims with
   a query, save the claim, create the Assignment; then per claim its follow-up rule and last
   call, and per candidate day a holiday query and a bookings count, a per-time count on the
   chosen day, create the FollowUp, save the claim's priority) on an even sample of the claims,
   each from the same starting state in a transaction rolled back afterwards. Their results
   are compared claim by claim (agent, queue, call time).
2. throughput: the batch path over all claims, against the naive loop's per-claim time
   extrapolated linearly to all claims. Target: batch ≥ 20× faster. The extrapolation favours
   the loop: on the sample each agent's calendar is nearly empty, at full scale the loop would
   count many more booked days per claim.
3. queries: CaptureQueriesContext around assign_claims and schedule_follow_ups for ½, 1, 2 and
   4 × rcm.services.BATCH claims (rolled back): queries per run, split by statement kind, and
   whether the count is a constant plus a constant per batch.

RCM_BENCH_WRITES=1 also times, after the full run, three ways of writing the claims' new queue
and agent, and their priority, in batches of rcm.services.BATCH (rolled back): Django's
bulk_update (a CASE WHEN per row), one .update() per distinct value in the batch, and (queue and
agent) one UPDATE … FROM unnest(arrays) per batch, each after a VACUUM.

Run with `DEBUG=1 .venv/bin/python bench/bench_rcm.py` (or `make bench`); a few minutes at full
scale.
"""

import os
import re
import sys
import time
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SMALL = os.environ.get("RCM_BENCH_SCALE", "").lower() == "small"
CLAIMS = 5_000 if SMALL else 100_000
PATIENTS = CLAIMS * 6 // 10
AGENTS = 15 if SMALL else 40
NAIVE_SAMPLE = 500 if SMALL else 2_000
TODAY = date(2026, 3, 10)  # a Tuesday
SPEED_TARGET = 20  # batch ≥ 20× faster than the per-claim loop

PG_SERVER = os.environ.get("RCM_BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
DB_NAME = "opsintel_bench_rcm"

# Share of the work each queue gets with the data below (measured), for staffing the queues.
QUEUE_SHARES = {
    "senior_agent": 0.10,
    "government_specialist": 0.31,
    "escalation_team": 0.12,
    "specialist": 0.04,
    "general_agent": 0.43,
}
# name, type, filing window (None: the setting), share of the claims in %
PAYERS = (
    ("Aetna", None, None, 12),
    ("Medicare", None, None, 25),
    ("Medicaid", "medicaid", 365, 10),
    ("Tricare", "other_government", 365, 3),
    ("Blue Cross Blue Shield", "commercial", 365, 14),
    ("UnitedHealthcare", "commercial", 90, 12),
    ("Cigna", "commercial", 90, 8),
    ("Humana", "commercial", 180, 7),
    ("Anthem", "commercial", 180, 5),
    ("Kaiser Permanente", "commercial", None, 4),
)
HOLIDAYS = (
    ("2026-05-25", "Memorial Day"),
    ("2026-06-19", "Juneteenth"),
    ("2026-07-03", "Independence Day (observed)"),
    ("2026-09-07", "Labor Day"),
    ("2026-10-12", "Columbus Day"),
    ("2026-11-11", "Veterans Day"),
    ("2026-11-26", "Thanksgiving"),
    ("2026-12-25", "Christmas Day"),
    ("2027-01-01", "New Year's Day"),
)
# fmt: off
COMMON_CODES = (
    "99212", "99213", "99213", "99213", "99214", "99214", "99215", "99203", "99204", "99205",
    "80053", "85025", "83036", "80061", "71046", "73721", "72148", "93000", "20610", "97110",
)
COMPLEX_CODES = (
    "27447", "27130", "22551", "22612", "33208", "33249", "43644", "47562", "63030", "63047",
)
DIAGNOSES = (
    "E11.9", "I10", "M54.5", "J06.9", "M17.11", "Z00.00", "I25.10", "K80.20", "N18.3", "F41.1",
)
# fmt: on
DENIALS = (
    "authorization_required",
    "medical_necessity",
    "not_covered",
    "incorrect_coding",
    "timely_filing",
    "duplicate",
    "other",
)


def rnd(seed, expression="n"):
    """A deterministic pseudo-random non-negative int from the series number."""
    return f"(hashint8extended({expression}::bigint, {seed}) & 2147483647)"


def pick(array, r):
    return f"(ARRAY[{', '.join(repr(item) for item in array)}])[1 + {r} % {len(array)}]"


def staffing():
    """Agents per queue in proportion to its share of the work, at least one each."""
    counts = {kind: max(1, round(AGENTS * share)) for kind, share in QUEUE_SHARES.items()}
    counts["general_agent"] += AGENTS - sum(counts.values())
    return counts


# Data -------------------------------------------------------------------------------------------


def generate_data():
    """Fill the migrated database with server-side SQL; no claim goes through Python."""
    from django.db import connection

    payer_rows = ", ".join(
        f"('{name}', '{kind}', {window or 'NULL'})"
        for name, kind, window, _ in PAYERS
        if kind is not None
    )
    cuts, total = [], 0
    for name, _, _, share in PAYERS:
        total += share
        cuts.append(f"WHEN r % 100 < {total} THEN '{name}'")
    payer_case = f"CASE {' '.join(cuts)} END"
    agent_rows = []
    n = 0
    for kind, count in staffing().items():
        for _ in range(count):
            n += 1
            agent_rows.append(f"({n}, '{kind}')")
    holidays = ", ".join(f"(date '{day}', %s)" for day, _ in HOLIDAYS)
    today = f"date '{TODAY.isoformat()}'"
    # Amount: 70% $80–$1,500, 20% to $5,000, 7% to $15,000, 3% to $60,000.
    amount = """round(CASE WHEN r2 % 100 < 70 THEN 80 + r3 % 142000 / 100.0
                     WHEN r2 % 100 < 90 THEN 1500 + r3 % 350000 / 100.0
                     WHEN r2 % 100 < 97 THEN 5000 + r3 % 1000000 / 100.0
                     ELSE 15000 + r3 % 4500000 / 100.0 END, 2)"""
    # Days since submission: 40% 0–30, 25% 31–60, 15% 61–90, 10% 91–120, 10% 121–365.
    age = """CASE WHEN r4 % 100 < 40 THEN r5 % 31 WHEN r4 % 100 < 65 THEN 31 + r5 % 30
                  WHEN r4 % 100 < 80 THEN 61 + r5 % 30 WHEN r4 % 100 < 90 THEN 91 + r5 % 30
                  ELSE 121 + r5 % 245 END"""
    status = """CASE WHEN r6 % 100 < 45 THEN 'submitted' WHEN r6 % 100 < 75 THEN 'pending'
                     WHEN r6 % 100 < 95 THEN 'denied' ELSE 'appealed' END"""
    code = f"""CASE WHEN r7 % 100 < 8 THEN {pick(COMPLEX_CODES, "r7 / 100")}
                    ELSE {pick(COMMON_CODES, "r7 / 100")} END"""
    statements = [
        "SET synchronous_commit = off",
        f"""INSERT INTO rcm_payer (name, payer_type, filing_window_days)
            VALUES {payer_rows}""",
        (f"INSERT INTO rcm_holiday (date, name) VALUES {holidays}", [n for _, n in HOLIDAYS]),
        f"""INSERT INTO rcm_agent (id, name, queue_id, daily_capacity, active, user_id)
            SELECT a.n, 'Agent ' || lpad(a.n::text, 3, '0'), q.id,
                   30 + {rnd(1, "a.n")} % 31, true, NULL
            FROM (VALUES {", ".join(agent_rows)}) a (n, kind)
            JOIN rcm_workqueue q ON q.kind = a.kind""",
        f"""INSERT INTO rcm_patient (id, member_id, name, date_of_birth)
            SELECT p, 'M' || lpad(p::text, 8, '0'), 'Patient ' || p,
                   date '1940-01-01' + ({rnd(2, "p")} % 25000)::int
            FROM generate_series(1, {PATIENTS}) p""",
        f"""INSERT INTO rcm_claim (
                id, claim_number, patient_id, provider, payer_id, amount, balance,
                service_date, submission_date, procedure_code, diagnosis_code, status,
                denial_reason, notes, queue_id, agent_id, priority, created_at, updated_at)
            SELECT n, 'CLM' || lpad(n::text, 8, '0'), 1 + r1 % {PATIENTS},
                   {
            pick(
                [
                    "Riverside Clinic",
                    "Lakeview Orthopedics",
                    "Northside Cardiology",
                    "Harbor Family Medicine",
                    "Summit Imaging",
                ],
                "r8",
            )
        },
                   payer.id, amount, amount, submitted - (r9 % 20)::int, submitted, code,
                   {pick(DIAGNOSES, "r10")}, status,
                   CASE WHEN status IN ('denied', 'appealed')
                        THEN {pick(DENIALS, "r11")} ELSE '' END,
                   '', NULL, NULL, '', now(), now()
            FROM (
                SELECT n, r1, r8, r9, r10, r11, {amount} AS amount,
                       {today} - ({age})::int AS submitted, {status} AS status,
                       {code} AS code, {payer_case} AS payer_name
                FROM (SELECT n, {rnd(3)} AS r, {rnd(4)} AS r1, {rnd(5)} AS r2, {rnd(6)} AS r3,
                             {rnd(7)} AS r4, {rnd(8)} AS r5, {rnd(9)} AS r6, {rnd(10)} AS r7,
                             {rnd(11)} AS r8, {rnd(12)} AS r9, {rnd(13)} AS r10,
                             {rnd(14)} AS r11
                      FROM generate_series(1, {CLAIMS}) n OFFSET 0) x
            ) c
            JOIN rcm_payer payer ON payer.name = c.payer_name
            ORDER BY n""",
        *(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            for table in ("rcm_agent", "rcm_patient", "rcm_claim")
        ),
        "SET synchronous_commit = on",
    ]
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(*(sql if isinstance(sql, tuple) else (sql,)))
        cursor.execute("VACUUM ANALYZE rcm_claim, rcm_patient, rcm_agent, rcm_payer")


def describe_data():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT count(*), round(avg(amount), 2), percentile_cont(0.5) WITHIN GROUP
                      (ORDER BY amount), max(amount), round(avg(%s - submission_date), 1),
                      count(*) FILTER (WHERE denial_reason <> '')
               FROM rcm_claim""",
            [TODAY],
        )
        count, mean, median, top, age, denied = cursor.fetchone()
        cursor.execute(
            """SELECT q.name, count(a.id), min(a.daily_capacity), max(a.daily_capacity)
               FROM rcm_workqueue q LEFT JOIN rcm_agent a ON a.queue_id = q.id
               GROUP BY q.name ORDER BY q.name"""
        )
        queues = cursor.fetchall()
    print(
        f"data: {count:,} open claims (amount mean ${mean:,}, median ${median:,.2f}, max "
        f"${top:,}; mean age {age} days; {denied:,} denied with a reason); agents by queue: "
        + ", ".join(f"{name} {n} (capacity {low}–{high})" for name, n, low, high in queues)
    )


# The naive per-claim loop ------------------------------------------------------------------------


def naive_assign(claim_ids, today):
    """Per claim: load it with its payer, try the rules, count each agent's open claims, save.
    The rules are read once (kinder to the loop than reading them per claim). Claims are taken
    in the batch path's order (filing-window risk first, then the oldest), so both do the same
    work and their results can be compared."""
    from django.conf import settings

    from rcm import rules, services
    from rcm.models import OPEN_STATUSES, Agent, Assignment, AssignmentRule, Claim

    rule_list = list(AssignmentRule.objects.filter(active=True).order_by("priority"))
    ordered = list(
        Claim.objects.filter(pk__in=claim_ids)
        .order_by("submission_date", "pk")
        .values_list("pk", "submission_date", "payer__filing_window_days")
    )
    window = settings.RCM_FILING_WINDOW_DAYS
    ordered.sort(
        key=lambda row: (
            rules.aging_days(row[1], today) <= services.timely_filing_limit(row[2] or window)
        )
    )
    for pk, _, _ in ordered:
        claim = Claim.objects.select_related("payer").get(pk=pk)
        facts = rules.ClaimFacts.of(claim, today)
        rule = reason = None
        for candidate in rule_list:
            reason = rules.evaluate(candidate, facts)
            if reason is not None:
                rule = candidate
                break
        if rule is None:
            continue
        agents = list(Agent.objects.filter(queue_id=rule.queue_id, active=True).order_by("name"))
        if not agents:
            continue
        shares = [
            Claim.objects.filter(agent=agent, status__in=OPEN_STATUSES).count()
            / agent.daily_capacity
            for agent in agents
        ]
        agent = agents[shares.index(min(shares))]
        claim.queue_id = rule.queue_id
        claim.agent = agent
        claim.save(update_fields=["queue", "agent", "updated_at"])
        Assignment.objects.create(
            claim=claim, queue_id=rule.queue_id, agent=agent, rule=rule, reason=reason
        )


def naive_schedule(claim_ids, today):
    """Per claim: its follow-up rule and last call (queries), the priority matrix; then in
    priority order, per candidate day a holiday query and a count of the agent's bookings, a
    per-time count on the chosen day, create the FollowUp, save the claim's priority. The day
    counts use an index-friendly range on scheduled_at (kinder than scheduled_at__date)."""
    from django.conf import settings
    from django.db.models import Count
    from django.utils import timezone

    from rcm import rules, services
    from rcm.models import OPEN_STATUSES, Claim, FollowUp, FollowUpRule, Holiday

    zone = timezone.get_current_timezone()
    window = settings.RCM_FILING_WINDOW_DAYS
    plans = []
    for pk in claim_ids:
        claim = Claim.objects.select_related("payer", "agent").get(pk=pk)
        if claim.status not in OPEN_STATUSES or claim.agent is None or not claim.agent.active:
            continue
        if claim.follow_ups.filter(status=FollowUp.Status.SCHEDULED).exists():
            continue
        rule = FollowUpRule.objects.filter(payer=claim.payer).first() or FollowUpRule.objects.get(
            payer__isnull=True
        )
        last = (
            claim.follow_ups.filter(status__in=[FollowUp.Status.DONE, FollowUp.Status.MISSED])
            .order_by("-scheduled_at")
            .first()
        )
        aging = rules.aging_days(claim.submission_date, today)
        risk = aging > services.timely_filing_limit(claim.payer.filing_window_days or window)
        priority = services.follow_up_priority(claim.amount, aging, filing_risk=risk)
        if last is None:
            due = claim.submission_date + timedelta(days=rule.initial_days)
        elif last.status == FollowUp.Status.MISSED:
            due = today
        else:
            due = timezone.localdate(last.scheduled_at) + timedelta(days=rule.subsequent_days)
        order = services.PRIORITY_ORDER[priority]
        plans.append((order, max(due, today), claim.claim_number, claim, rule, priority))
    plans.sort(key=lambda plan: plan[:3])
    last_day = today + timedelta(days=services.HORIZON_DAYS)
    for _, due, _, claim, rule, priority in plans:
        day = due
        while day <= last_day:
            start = timezone.make_aware(datetime.combine(day, datetime.min.time()), zone)
            end = start + timedelta(days=1)
            booked = FollowUp.objects.filter(
                agent=claim.agent,
                status=FollowUp.Status.SCHEDULED,
                scheduled_at__gte=start,
                scheduled_at__lt=end,
            )
            if (
                day.weekday() < 5
                and day.weekday() in rule.preferred_weekdays
                and not Holiday.objects.filter(date=day).exists()
                and booked.count() < claim.agent.daily_capacity
            ):
                break
            day += timedelta(days=1)
        else:
            continue
        per_time = Counter(
            {
                timezone.localtime(at).time(): n
                for at, n in booked.values_list("scheduled_at").annotate(n=Count("pk"))
            }
        )
        call_time = min(rule.call_times, key=lambda t: (per_time[t], t))
        FollowUp.objects.create(
            claim=claim,
            agent=claim.agent,
            scheduled_at=timezone.make_aware(datetime.combine(day, call_time), zone),
            priority=priority,
        )
        claim.priority = priority
        claim.save(update_fields=["priority", "updated_at"])


def outcome(claim_ids):
    """{claim id: (queue, agent, scheduled at)} after a run, for comparing two runs."""
    from rcm.models import Claim, FollowUp

    calls = dict(
        FollowUp.objects.filter(claim_id__in=claim_ids, status="scheduled").values_list(
            "claim_id", "scheduled_at"
        )
    )
    return {
        pk: (queue, agent, calls.get(pk))
        for pk, queue, agent in Claim.objects.filter(pk__in=claim_ids).values_list(
            "pk", "queue_id", "agent_id"
        )
    }


def vacuum():
    """Clear the dead row versions that rolled-back runs leave, as autovacuum would."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE rcm_claim, rcm_assignment, rcm_followup")


def rolled_back(function):
    """(seconds, result) of function() in a transaction that is rolled back."""
    from django.db import transaction

    with transaction.atomic():
        started = time.perf_counter()
        result = function()
        seconds = time.perf_counter() - started
        transaction.set_rollback(True)
    return seconds, result


def bench_same_work():
    """Batch path and naive loop on the same sample from the same state; returns the naive
    seconds per claim (assign, schedule)."""
    from rcm import services
    from rcm.models import Claim

    step = CLAIMS // NAIVE_SAMPLE
    sample = list(range(1, CLAIMS + 1, step))[:NAIVE_SAMPLE]

    def batch():
        claims = Claim.objects.filter(pk__in=sample)
        started = time.perf_counter()
        services.assign_claims(claims, today=TODAY)
        assigned = time.perf_counter()
        services.schedule_follow_ups(claims, today=TODAY)
        return assigned - started, time.perf_counter() - assigned, outcome(sample)

    def naive():
        started = time.perf_counter()
        naive_assign(sample, TODAY)
        assigned = time.perf_counter()
        naive_schedule(sample, TODAY)
        return assigned - started, time.perf_counter() - assigned, outcome(sample)

    _, (batch_assign, batch_schedule, batch_result) = rolled_back(batch)
    _, (naive_assign_s, naive_schedule_s, naive_result) = rolled_back(naive)
    differences = [pk for pk in sample if batch_result[pk] != naive_result[pk]]
    booked = sum(1 for value in batch_result.values() if value[2] is not None)
    n = len(sample)
    print(
        f"same_work_sample: {n:,} claims (every {step}th), batch assign {batch_assign:.2f} s + "
        f"schedule {batch_schedule:.2f} s = {batch_assign + batch_schedule:.2f} s; naive loop "
        f"assign {naive_assign_s:.2f} s + schedule {naive_schedule_s:.2f} s = "
        f"{naive_assign_s + naive_schedule_s:.2f} s (ratio "
        f"{(naive_assign_s + naive_schedule_s) / (batch_assign + batch_schedule):.1f}x); "
        f"{booked:,} calls booked; results identical claim by claim: "
        + ("yes" if not differences else f"NO ({len(differences)} differ, e.g. {differences[:3]})")
    )
    return naive_assign_s / n, naive_schedule_s / n


# The batch path at full scale ------------------------------------------------------------------


def statement_kind(sql):
    """'SELECT rcm_claim', 'INSERT rcm_assignment', 'UPDATE rcm_claim', 'SAVEPOINT' …"""
    sql = sql.lstrip()
    verb = sql.split(None, 1)[0].upper()
    if verb in ("SAVEPOINT", "RELEASE", "ROLLBACK"):
        return "savepoint"
    pattern = {
        "SELECT": r'\bFROM\s+"?(\w+)"?',
        "INSERT": r'^INSERT\s+INTO\s+"?(\w+)"?',
        "UPDATE": r'^UPDATE\s+"?(\w+)"?',
        "DELETE": r'^DELETE\s+FROM\s+"?(\w+)"?',
    }.get(verb)
    found = re.search(pattern, sql, re.IGNORECASE) if pattern else None
    return f"{verb} {found.group(1)}" if found else verb


class SqlTimer:
    """Seconds spent in the database per statement kind (a connection execute wrapper)."""

    def __init__(self):
        self.seconds = Counter()
        self.count = Counter()

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            kind = statement_kind(sql)
            self.seconds[kind] += time.perf_counter() - started
            self.count[kind] += 1

    def summary(self, top=4):
        kinds = sorted(self.seconds, key=self.seconds.get, reverse=True)[:top]
        return ", ".join(f"{kind} {self.seconds[kind]:.2f} s/{self.count[kind]}" for kind in kinds)


def bench_full(naive_assign_per_claim, naive_schedule_per_claim):
    from django.db import connection

    from rcm import services
    from rcm.models import FollowUp

    timers = {"assign": SqlTimer(), "schedule": SqlTimer()}
    with connection.execute_wrapper(timers["assign"]):
        started = time.perf_counter()
        assigned = services.assign_claims(today=TODAY)
        assign_seconds = time.perf_counter() - started
    with connection.execute_wrapper(timers["schedule"]):
        started = time.perf_counter()
        scheduled = services.schedule_follow_ups(today=TODAY)
        schedule_seconds = time.perf_counter() - started
    for name, seconds, report in (
        ("assign", assign_seconds, assigned),
        ("schedule", schedule_seconds, scheduled),
    ):
        timer = timers[name]
        in_sql = sum(timer.seconds.values())
        print(
            f"batch_{name}: {seconds:.2f} s for {report.items:,} claims, "
            f"{report.items / seconds:,.0f} claims/s ({report.succeeded:,} done, "
            f"{report.failed:,} failed; "
            + ", ".join(f"{key} {value:,}" for key, value in sorted(report.counts.items()))
            + f"; in SQL {in_sql:.2f} s over {sum(timer.count.values())} statements "
            f"({timer.summary()}), in Python {seconds - in_sql:.2f} s)"
        )
    batch = assign_seconds + schedule_seconds
    naive_assign = naive_assign_per_claim * assigned.items
    naive_schedule = naive_schedule_per_claim * scheduled.items
    naive = naive_assign + naive_schedule
    ratio = naive / batch
    print(
        f"throughput: {CLAIMS / batch:,.0f} claims/s (assign + schedule of {CLAIMS:,} claims in "
        f"{batch:.2f} s; baseline naive per-claim ORM loop {CLAIMS / naive:,.0f} claims/s, "
        f"{naive:.0f} s EXTRAPOLATED linearly from its {NAIVE_SAMPLE:,}-claim sample "
        f"(assign {naive_assign:.0f} s + schedule {naive_schedule:.0f} s; on the sample the "
        f"calendars are nearly empty, so this understates the loop); ratio {ratio:.1f}x; "
        f"target ≥ {SPEED_TARGET}x: {'met' if ratio >= SPEED_TARGET else 'MISSED'})"
    )
    print(
        f"ratio_by_step: assign {naive_assign / assign_seconds:.1f}x, schedule "
        f"{naive_schedule / schedule_seconds:.1f}x (naive extrapolated ÷ batch)"
    )
    check_calendar(FollowUp)


def check_calendar(FollowUp):
    """What the full run booked, checked in SQL: capacity, weekends, holidays (printed)."""
    from django.conf import settings
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """WITH day AS (
                   SELECT f.agent_id, (f.scheduled_at AT TIME ZONE %s)::date AS d, count(*) AS n
                   FROM rcm_followup f WHERE f.status = 'scheduled' GROUP BY 1, 2)
               SELECT count(*) FILTER (WHERE day.n > a.daily_capacity),
                      count(*) FILTER (WHERE extract(isodow FROM day.d) > 5),
                      count(*) FILTER (WHERE day.d IN (SELECT date FROM rcm_holiday)),
                      max(day.d), round(avg(day.n::numeric / a.daily_capacity) * 100, 1)
               FROM day JOIN rcm_agent a ON a.id = day.agent_id""",
            [settings.TIME_ZONE],
        )
        over, weekend, holiday, last, fill = cursor.fetchone()
    print(
        f"calendar: {FollowUp.objects.filter(status='scheduled').count():,} calls booked up to "
        f"{last}; agent-days over capacity {over}, on weekends {weekend}, on holidays "
        f"{holiday}; booked days filled to {fill}% of capacity on average"
    )


# Query counts --------------------------------------------------------------------------------


def bench_queries():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from rcm import services
    from rcm.models import Claim

    sizes = [services.BATCH // 2, services.BATCH, 2 * services.BATCH, 4 * services.BATCH]
    sizes = [size for size in sizes if size <= CLAIMS]
    kinds = {}

    def run(size):
        claims = Claim.objects.filter(pk__lte=size)
        found = {}
        with CaptureQueriesContext(connection) as captured:
            services.assign_claims(claims, today=TODAY)
        found["assign"] = Counter(statement_kind(q["sql"]) for q in captured.captured_queries)
        with CaptureQueriesContext(connection) as captured:
            services.schedule_follow_ups(claims, today=TODAY)
        found["schedule"] = Counter(statement_kind(q["sql"]) for q in captured.captured_queries)
        return found

    for size in sizes:
        kinds[size] = rolled_back(lambda size=size: run(size))[1]
    for step in ("assign", "schedule"):
        totals = {size: sum(kinds[size][step].values()) for size in sizes}
        batches = {size: -(-size // services.BATCH) for size in sizes}
        full = [size for size in sizes if size >= services.BATCH]
        first, last = full[0], full[-1]
        per_batch = (totals[last] - totals[first]) / (batches[last] - batches[first])
        fixed = totals[first] - per_batch * batches[first]
        linear = all(totals[size] == fixed + per_batch * batches[size] for size in sizes)
        growing = sorted(
            kind
            for kind in set().union(*(kinds[size][step] for size in sizes))
            if len({kinds[size][step][kind] for size in sizes}) > 1
        )
        detail = "; ".join(
            f"{kind} " + "/".join(str(kinds[size][step][kind]) for size in sizes)
            for kind in growing
        )
        print(
            f"queries_{step}: "
            + ", ".join(f"{size:,} claims {totals[size]}" for size in sizes)
            + f" (BATCH = {services.BATCH:,}; "
            + (
                f"constant per batch: yes, {fixed:g} + {per_batch:g} per batch; "
                if linear and per_batch == int(per_batch)
                else "constant per batch: NO; "
            )
            + (f"growing: {detail})" if growing else "nothing grows)")
        )


def bench_claim_writes():
    """The claim writes of the batch path done three ways, each rolled back."""
    from django.db import connection

    from rcm import services
    from rcm.models import Claim

    rows = list(Claim.objects.order_by("pk").values_list("pk", "queue_id", "agent_id"))
    priorities = [(pk, ("high", "medium", "low")[pk % 3]) for pk, _, _ in rows]
    size = services.BATCH
    batches = [(start, start + size) for start in range(0, len(rows), size)]

    def bulk_update():
        for start, end in batches:
            claims = [Claim(pk=pk, queue_id=q, agent_id=a) for pk, q, a in rows[start:end]]
            Claim.objects.bulk_update(claims, ["queue", "agent"], batch_size=len(claims))

    def grouped():
        for start, end in batches:
            by_value = defaultdict(list)
            for pk, queue_id, agent_id in rows[start:end]:
                by_value[queue_id, agent_id].append(pk)
            for (queue_id, agent_id), pks in by_value.items():
                Claim.objects.filter(pk__in=pks).update(queue_id=queue_id, agent_id=agent_id)

    def unnest():
        with connection.cursor() as cursor:
            for start, end in batches:
                pks, queues, agents = zip(*rows[start:end], strict=True)
                cursor.execute(
                    """UPDATE rcm_claim c SET queue_id = v.queue_id, agent_id = v.agent_id
                       FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[])
                            v (id, queue_id, agent_id)
                       WHERE c.id = v.id""",
                    [list(pks), list(queues), list(agents)],
                )

    def priority_bulk_update():
        for start, end in batches:
            claims = [Claim(pk=pk, priority=p) for pk, p in priorities[start:end]]
            Claim.objects.bulk_update(claims, ["priority"])

    def priority_grouped():
        for start, end in batches:
            by_value = defaultdict(list)
            for pk, priority in priorities[start:end]:
                by_value[priority].append(pk)
            for priority, pks in by_value.items():
                Claim.objects.filter(pk__in=pks).update(priority=priority)

    def timed(function):
        # Each rolled-back run leaves 100,000 dead row versions; every way starts clean.
        vacuum()
        return rolled_back(function)[0]

    seconds = {
        name: timed(function)
        for name, function in (
            ("bulk_update", bulk_update),
            ("grouped", grouped),
            ("unnest", unnest),
            ("priority_bulk_update", priority_bulk_update),
            ("priority_grouped", priority_grouped),
        )
    }
    print(
        f"claim_writes_queue_agent: {seconds['grouped']:.2f} s with one .update() per (queue, "
        f"agent) in each batch, {seconds['unnest']:.2f} s with one UPDATE … FROM unnest per "
        f"batch (baseline bulk_update {seconds['bulk_update']:.2f} s, ratio "
        f"{seconds['bulk_update'] / seconds['grouped']:.1f}x and "
        f"{seconds['bulk_update'] / seconds['unnest']:.1f}x; {len(rows):,} claims in batches of "
        f"{size:,}, each after VACUUM)"
    )
    print(
        f"claim_writes_priority: {seconds['priority_grouped']:.2f} s with one .update() per "
        f"priority in each batch (baseline bulk_update {seconds['priority_bulk_update']:.2f} s, "
        f"ratio {seconds['priority_bulk_update'] / seconds['priority_grouped']:.1f}x)"
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
            f"scale: {CLAIMS:,} open claims, {PATIENTS:,} patients, {len(PAYERS)} payers, "
            f"{AGENTS} agents in 5 queues{' (small)' if SMALL else ''}; generated in "
            f"{time.perf_counter() - built:.1f} s on PostgreSQL (throw-away {DB_NAME}); "
            f"today {TODAY}"
        )
        describe_data()
        naive_per_claim = bench_same_work()
        bench_queries()
        vacuum()
        bench_full(*naive_per_claim)
        if os.environ.get("RCM_BENCH_WRITES"):
            bench_claim_writes()
    finally:
        connections.close_all()
        with admin_connection() as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
    print(f"total: {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
