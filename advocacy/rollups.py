"""Advocacy rollups: the case lifecycle fact table and the tables aggregated from it.

`refresh(as_of)` recomputes, in one transaction and as of one explicit moment:
- CaseFact: one row per case created by `as_of` (timings from the event log, interaction
  count, last touch, SLA deadline and breach, stale flag, CSAT). One INSERT … SELECT with the
  events and interactions grouped once each; this SQL is the only definition of the per-case
  flags, and everything else reads them from the table;
- CaseTypeKpi: the KPIs per case type and for all types (kept per `as_of`, for trends);
- AdvocateCaseload: active cases against capacity, plain and weighted by complexity;
- BottleneckSegment: outcome figures per segment of each bottleneck dimension.
The aggregate tables come from GROUP BY queries over the fact table (advocacy.selectors), the
same ones the dashboards run with their filters. Re-running for the same moment gives the
same rows.

Definitions (docs/advocacy.md):
- first response: the first `first_response` event; last touch: the latest event or
  interaction, the creation when there is none;
- SLA deadline: created + the case type's SLA days (settings.ADVOCACY_SLA_DAYS, default
  ADVOCACY_DEFAULT_SLA_DAYS) + with settings.ADVOCACY_SLA_PAUSE_PENDING_DOCS, the time spent
  waiting on the patient (from each `docs_requested` event to the next `docs_received`,
  `resolved` or `closed` event, or to `as_of`);
- SLA breached: resolved after the deadline, or still active and past it at `as_of`;
- stale: active, with no event or interaction in the 48 hours before `as_of`.
Status and resolution time are the case's current ones; events, interactions and feedback
after `as_of` are ignored, as are cases created after it.

The SQL runs on PostgreSQL and SQLite; the few vendor differences (epoch seconds, timestamps
from epoch seconds, two-argument max) are in `_Dialect`. Only identifiers and numbers from
this module are formatted into it; moments are bound parameters.
"""

from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from advocacy import selectors
from advocacy.models import (
    Advocate,
    AdvocateCaseload,
    BottleneckSegment,
    Case,
    CaseFact,
    CaseType,
    CaseTypeKpi,
)

STALE_AFTER = selectors.STALE_AFTER

FACT_COLUMNS = (
    "case_id",
    "as_of",
    "case_type",
    "status",
    "urgency",
    "complexity",
    "advocate_id",
    "team",
    "created_at",
    "missing_docs",
    "handoff_count",
    "first_response_at",
    "resolved_at",
    "hours_to_first_response",
    "days_to_resolution",
    "age_days",
    "interaction_count",
    "interaction_minutes",
    "last_touch",
    "is_active",
    "escalated",
    "ever_resolved",
    "reopened",
    "sla_paused_hours",
    "sla_deadline",
    "sla_breached",
    "stale",
    "csat",
)


class _Dialect:
    def __init__(self, vendor):
        self.postgres = vendor == "postgresql"

    def epoch(self, column):
        if self.postgres:
            # date_part is double precision; EXTRACT would compute in numeric, slower.
            return f"date_part('epoch', {column})"
        # Whole seconds exactly (julianday's float would make 2 h into 2.0000000037 h), plus
        # the milliseconds SQLite keeps.
        return (
            f"(CAST(strftime('%%s', {column}) AS REAL)"
            f" + CAST(strftime('%%f', {column}) AS REAL)"
            f" - CAST(strftime('%%S', {column}) AS REAL))"
        )

    def timestamp(self, seconds):
        if self.postgres:
            return f"to_timestamp({seconds})"
        return f"strftime('%%Y-%%m-%%d %%H:%%M:%%f', {seconds}, 'unixepoch')"

    def greatest(self, *columns):
        return f"{'GREATEST' if self.postgres else 'MAX'}({', '.join(columns)})"


def _sla_seconds_sql():
    """The case type's SLA in seconds, as a CASE over case_type (numbers from settings)."""
    whens = " ".join(
        f"WHEN '{case_type}' THEN {int(selectors.sla_days(case_type)) * 86400}"
        for case_type in CaseType.values
    )
    return f"CASE c.case_type {whens} ELSE {int(settings.ADVOCACY_DEFAULT_SLA_DAYS) * 86400} END"


def _fact_sql(dialect, *, only_cases=False):
    d = dialect
    active = ", ".join(f"'{status}'" for status in Case.ACTIVE_STATUSES)
    # Refreshing a few cases: every grouped CTE reads only their rows.
    scope = "AND case_id IN (SELECT value FROM chosen)" if only_cases else ""
    case_filter = "AND c.id IN (SELECT value FROM chosen)" if only_cases else ""
    if settings.ADVOCACY_SLA_PAUSE_PENDING_DOCS:
        # Each documents request pauses the clock until the next event that ends the wait.
        pauses = f"""
        pauses AS (
            SELECT case_id,
                   SUM({d.epoch("COALESCE(wait_end, %(as_of)s)")} - {d.epoch("at")}) AS seconds
            FROM (
                SELECT case_id, type, at,
                       LEAD(at) OVER (PARTITION BY case_id ORDER BY at, id) AS wait_end
                FROM advocacy_caseevent
                WHERE at <= %(as_of)s {scope}
                  AND type IN ('docs_requested', 'docs_received', 'resolved', 'closed')
            ) waits
            WHERE type = 'docs_requested'
            GROUP BY case_id
        ),"""
    else:
        pauses = "pauses AS (SELECT id AS case_id, 0 AS seconds FROM advocacy_case WHERE 1 = 0),"
    chosen = (
        ("chosen AS (SELECT unnest(%(case_ids)s::bigint[]) AS value)," if d.postgres else "")
        if only_cases
        else ""
    )
    if only_cases and not d.postgres:
        chosen = "chosen AS (SELECT value FROM json_each(%(case_ids)s)),"
    return f"""
    WITH {chosen}
    events AS (
        SELECT case_id,
               MIN(CASE WHEN type = 'first_response' THEN at END) AS first_response_at,
               MAX(at) AS last_at,
               MAX(CASE WHEN type = 'resolved' THEN 1 ELSE 0 END) AS ever_resolved,
               MAX(CASE WHEN type = 'reopened' THEN 1 ELSE 0 END) AS ever_reopened
        FROM advocacy_caseevent
        WHERE at <= %(as_of)s {scope}
        GROUP BY case_id
    ),
    interactions AS (
        SELECT case_id, COUNT(*) AS n, SUM(duration_minutes) AS minutes, MAX(started_at) AS last_at
        FROM advocacy_interaction
        WHERE started_at <= %(as_of)s {scope}
        GROUP BY case_id
    ),
    {pauses}
    lifecycle AS (
        SELECT c.id, c.case_type, c.status, c.urgency, c.complexity, c.advocate_id,
               COALESCE(a.team, '') AS team, c.created_at, c.missing_docs, c.handoff_count,
               e.first_response_at, c.resolved_at,
               c.status IN ({active}) AS is_active, c.escalated,
               COALESCE(e.ever_resolved, 0) = 1 AS ever_resolved,
               COALESCE(e.ever_resolved, 0) = 1 AND COALESCE(e.ever_reopened, 0) = 1
                   AS reopened,
               COALESCE(i.n, 0) AS interaction_count,
               COALESCE(i.minutes, 0) AS interaction_minutes,
               {
        d.greatest("COALESCE(e.last_at, c.created_at)", "COALESCE(i.last_at, c.created_at)")
    } AS last_touch,
               COALESCE(p.seconds, 0) AS paused_seconds,
               {d.epoch("c.created_at")} + {_sla_seconds_sql()} + COALESCE(p.seconds, 0)
                   AS deadline,
               f.csat AS csat
        FROM advocacy_case c
        LEFT JOIN advocacy_advocate a ON a.id = c.advocate_id
        LEFT JOIN events e ON e.case_id = c.id
        LEFT JOIN interactions i ON i.case_id = c.id
        LEFT JOIN pauses p ON p.case_id = c.id
        LEFT JOIN advocacy_patientfeedback f
               ON f.case_id = c.id AND f.submitted_at <= %(as_of)s
        WHERE c.created_at <= %(as_of)s {case_filter}
    )
    INSERT INTO advocacy_casefact ({", ".join(FACT_COLUMNS)})
    SELECT id, %(as_of)s, case_type, status, urgency, complexity, advocate_id, team,
           created_at, missing_docs, handoff_count, first_response_at, resolved_at,
           ({d.epoch("first_response_at")} - {d.epoch("created_at")}) / 3600.0,
           ({d.epoch("resolved_at")} - {d.epoch("created_at")}) / 86400.0,
           (%(as_of_epoch)s - {d.epoch("created_at")}) / 86400.0,
           interaction_count, interaction_minutes, last_touch, is_active, escalated,
           ever_resolved, reopened, paused_seconds / 3600.0, {d.timestamp("deadline")},
           (resolved_at IS NOT NULL AND {d.epoch("resolved_at")} > deadline)
               OR (is_active AND resolved_at IS NULL AND %(as_of_epoch)s > deadline),
           is_active AND last_touch < %(stale_before)s,
           csat
    FROM lifecycle
    """


def _params(as_of, case_ids=None):
    ops = connection.ops
    params = {
        "as_of": ops.adapt_datetimefield_value(as_of),
        "as_of_epoch": as_of.timestamp(),
        "stale_before": ops.adapt_datetimefield_value(as_of - STALE_AFTER),
    }
    if case_ids is not None:
        ids = [int(pk) for pk in case_ids]
        params["case_ids"] = ids if connection.vendor == "postgresql" else str(ids)
    return params


def as_of_moment(as_of=None):
    """The moment to compute as of: now by default (not rounded: a write made a microsecond
    ago must count in its case's refreshed row); a naive moment is in TIME_ZONE."""
    as_of = as_of or timezone.now()
    if timezone.is_naive(as_of):
        as_of = timezone.make_aware(as_of)
    return as_of


def refresh_facts(as_of=None):
    """Recompute every case's fact row as of `as_of`; returns the number of rows."""
    as_of = as_of_moment(as_of)
    with transaction.atomic(), connection.cursor() as cursor:
        # TRUNCATE on PostgreSQL: no dead rows to write and vacuum (readers wait for the
        # transaction, a few seconds an hour); SQLite's unqualified DELETE is its truncate.
        cursor.execute(
            "TRUNCATE advocacy_casefact"
            if connection.vendor == "postgresql"
            else "DELETE FROM advocacy_casefact"
        )
        cursor.execute(_fact_sql(_Dialect(connection.vendor)), _params(as_of))
    # (sqlite3 reports no row count for a statement that starts with WITH)
    return CaseFact.objects.count()


def refresh_case_facts(case_ids, as_of=None):
    """Recompute the fact rows of a few cases (after a transition, say), as of now."""
    case_ids = list(case_ids)
    if not case_ids:
        return 0
    as_of = as_of_moment(as_of)
    with transaction.atomic(), connection.cursor() as cursor:
        CaseFact.objects.filter(case_id__in=case_ids).delete()
        cursor.execute(
            _fact_sql(_Dialect(connection.vendor), only_cases=True), _params(as_of, case_ids)
        )
    return CaseFact.objects.filter(case_id__in=case_ids).count()


def _refresh_kpis(as_of):
    facts = CaseFact.objects.all()
    rows = [{"case_type": "", **selectors.kpis(facts)}]
    rows += selectors.kpis_by(facts, "case_type")
    CaseTypeKpi.objects.filter(as_of=as_of).delete()
    CaseTypeKpi.objects.bulk_create(CaseTypeKpi(as_of=as_of, **row) for row in rows)
    return len(rows)


def _refresh_caseload(as_of):
    AdvocateCaseload.objects.all().delete()
    rows = [
        AdvocateCaseload(
            advocate_id=advocate.pk,
            as_of=as_of,
            team=advocate.team,
            capacity=advocate.capacity,
            active_cases=advocate.active_cases,
            weighted_caseload=advocate.weighted_caseload,
            utilization=advocate.utilization,
            weighted_utilization=advocate.weighted_utilization,
            stale_cases=advocate.stale_cases,
            breached_cases=advocate.breached_cases,
        )
        for advocate in selectors.caseload(Advocate.objects.filter(active=True))
    ]
    AdvocateCaseload.objects.bulk_create(rows)
    return len(rows)


def _refresh_segments(as_of):
    BottleneckSegment.objects.all().delete()
    rows = [
        BottleneckSegment(as_of=as_of, dimension=dimension, **row)
        for dimension in selectors.DIMENSIONS
        for row in selectors.segments(CaseFact.objects.all(), dimension)
    ]
    BottleneckSegment.objects.bulk_create(rows)
    return len(rows)


def refresh(as_of=None):
    """Recompute all four tables as of `as_of` (now by default) in one transaction.

    Returns {table: rows}."""
    as_of = as_of_moment(as_of)
    with transaction.atomic():
        counts = {"case facts": refresh_facts(as_of)}
        counts["KPIs by case type"] = _refresh_kpis(as_of)
        counts["advocate caseload"] = _refresh_caseload(as_of)
        counts["bottleneck segments"] = _refresh_segments(as_of)
    return counts


KPI_HISTORY = timedelta(days=400)


def prune_kpi_history(now=None):
    """KPI sets older than KPI_HISTORY go (hourly rollups would otherwise grow without end)."""
    now = now or timezone.now()
    return CaseTypeKpi.objects.filter(as_of__lt=now - KPI_HISTORY).delete()[0]
