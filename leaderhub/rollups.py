"""Leader Hub rollups: provider_metrics, market_provider_metrics and market_metrics.

Each table is refreshed by one set-based SQL statement (window functions over the last 80
visits of each partition, then an upsert on the table's unique key), followed by removing the
rows of partitions that no longer have data, all in one transaction. Nothing loops over
providers or visits in Python. The SQL is plain enough to run unchanged on PostgreSQL and on
SQLite (3.25+: window functions, 3.24+: upsert), and both give the same numbers.

Definitions (leaderhub/metrics.py and docs/leaderhub.md):
- window: a partition's last 80 visits on or before the as-of date, newest first by service
  date, then care request id;
- on-scene time: median on-scene minutes in the window (visits without a value are skipped);
- rates (chart closure, survey capture, escalation, ABX): % of the window's visits; chart
  closure counts only visits where it is known;
- NPS: % promoters (9–10) − % detractors (0–6) among the window's visits with a score;
- on-task %: (en route + on scene) ÷ time on shift (out the door + en route + on scene +
  break + idle) over the shifts of the 30 days ending on the as-of date;
- `_prev` columns: the same figures as of 7 days earlier (the week change is now − prev).

Only identifiers from this module are formatted into the SQL; dates are bound parameters.
"""

from datetime import date, timedelta

from django.db import connection, transaction
from django.utils import timezone

from leaderhub.metrics import ON_TASK_DAYS, WEEK_DAYS, WINDOW_VISITS
from leaderhub.models import MarketMetrics, MarketProviderMetrics, ProviderMetrics

TABLES = (
    (ProviderMetrics, ("provider_id",)),
    (MarketProviderMetrics, ("market_id", "provider_id")),
    (MarketMetrics, ("market_id",)),
)

VISIT_FIGURES = (
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
)
WEEK_CHANGE_FIGURES = (
    "on_scene_median",
    "chart_closure_rate",
    "survey_capture_rate",
    "escalation_rate",
    "abx_rate",
    "nps",
)


def _windows_sql(keys):
    """CTEs `now_window` and `prev_window`: each partition's last 80 visits as of the date and
    as of 7 days earlier, from ONE ranking of the visits.

    Visits are ranked newest first; `newer` counts a partition's visits after the week-ago
    date. Those come first in the ranking, so a visit's rank among the week-ago visits is its
    rank minus `newer`: both windows come from the same sort.
    """
    k = ", ".join(keys)
    return f"""
    ranked AS (
        SELECT {k}, service_date, on_scene_minutes, chart_closed_24h, survey_captured,
               escalated, abx_prescribed, nps_score,
               ROW_NUMBER() OVER (
                   PARTITION BY {k} ORDER BY service_date DESC, care_request_id DESC, id DESC
               ) AS recency,
               SUM(CASE WHEN service_date > %(as_of_prev)s THEN 1 ELSE 0 END)
                   OVER (PARTITION BY {k}) AS newer
        FROM leaderhub_visit
        WHERE service_date <= %(as_of_now)s
    ),
    now_window AS (SELECT * FROM ranked WHERE recency <= {WINDOW_VISITS}),
    prev_window AS (
        SELECT * FROM ranked
        WHERE service_date <= %(as_of_prev)s AND recency - newer <= {WINDOW_VISITS}
    )
    """


def _visit_figures_sql(keys, window):
    """The visit figures per partition of one window CTE."""
    k = ", ".join(keys)
    return f"""
    SELECT {k},
           COUNT(*) AS visits,
           MIN(service_date) AS first_visit_date,
           MAX(service_date) AS last_visit_date,
           AVG(CASE WHEN chart_closed_24h IS NULL THEN NULL
                    WHEN chart_closed_24h THEN 100.0 ELSE 0.0 END) AS chart_closure_rate,
           COUNT(chart_closed_24h) AS chart_closure_count,
           AVG(CASE WHEN survey_captured THEN 100.0 ELSE 0.0 END) AS survey_capture_rate,
           AVG(CASE WHEN escalated THEN 100.0 ELSE 0.0 END) AS escalation_rate,
           AVG(CASE WHEN abx_prescribed THEN 100.0 ELSE 0.0 END) AS abx_rate,
           COUNT(nps_score) AS nps_count,
           (SUM(CASE WHEN nps_score >= 9 THEN 1.0 ELSE 0.0 END)
            - SUM(CASE WHEN nps_score <= 6 THEN 1.0 ELSE 0.0 END))
            * 100.0 / NULLIF(COUNT(nps_score), 0) AS nps,
           AVG(nps_score * 1.0) AS nps_average
    FROM {window}
    GROUP BY {k}
    """


def _median_sql(keys, window):
    """Median on-scene minutes of one window CTE: the middle value, or the mean of the two
    middle values, found with ROW_NUMBER and COUNT windows (no percentile function needed)."""
    k = ", ".join(keys)
    return f"""
    SELECT {k}, AVG(on_scene_minutes * 1.0) AS on_scene_median, MAX(n) AS on_scene_count
    FROM (
        SELECT {k}, on_scene_minutes,
               ROW_NUMBER() OVER (PARTITION BY {k} ORDER BY on_scene_minutes) AS position,
               COUNT(*) OVER (PARTITION BY {k}) AS n
        FROM {window}
        WHERE on_scene_minutes IS NOT NULL
    ) ordered
    WHERE position IN ((n + 1) / 2, (n + 2) / 2)
    GROUP BY {k}
    """


def _on_task_sql(keys, tag):
    k = ", ".join(keys)
    return f"""
    SELECT {k},
           SUM(en_route + on_scene) * 100.0
           / NULLIF(SUM(out_the_door + en_route + on_scene + on_break + idle), 0)
           AS on_task_percent
    FROM leaderhub_providershift
    WHERE service_date <= %(as_of_{tag})s AND service_date > %(on_task_from_{tag})s
    GROUP BY {k}
    """


_VISIT_COLUMNS = (
    "service_date, on_scene_minutes, chart_closed_24h, survey_captured, escalated, "
    "abx_prescribed, nps_score"
)


def _provider_windows_lateral_sql():
    """PostgreSQL only: each provider's two windows read straight from the
    (provider, service date, care request) index, 80 rows a provider, instead of ranking
    every visit. Same rows as `_windows_sql(("provider_id",))`."""

    def window(bound):
        return f"""
        SELECT p.id AS provider_id, v.*, 1 AS recency
        FROM leaderhub_provider p
        CROSS JOIN LATERAL (
            SELECT {_VISIT_COLUMNS} FROM leaderhub_visit
            WHERE provider_id = p.id AND service_date <= %({bound})s
            ORDER BY service_date DESC, care_request_id DESC, id DESC
            LIMIT {WINDOW_VISITS}
        ) v
        """

    return f"""
    now_window AS ({window("as_of_now")}),
    prev_window AS ({window("as_of_prev")})
    """


def _upsert_sql(model, keys, *, lateral=False):
    table = model._meta.db_table
    k = ", ".join(keys)

    def joined(alias):
        return " AND ".join(f"{alias}.{key} = p.{key}" for key in keys)

    columns = [
        *keys,
        "as_of",
        *VISIT_FIGURES,
        "on_task_percent",
        *(f"{name}_prev" for name in WEEK_CHANGE_FIGURES),
        "on_task_percent_prev",
    ]
    counts = {"visits", "nps_count", "chart_closure_count", "on_scene_count"}

    def now(name):
        source = "m" if name.startswith("on_scene") else "c"
        return f"COALESCE({source}.{name}, 0)" if name in counts else f"{source}.{name}"

    select = [
        *(f"p.{key}" for key in keys),
        "%(as_of_now)s",
        *(now(name) for name in VISIT_FIGURES),
        "t.on_task_percent",
        *(f"{'mp' if name == 'on_scene_median' else 'cp'}.{name}" for name in WEEK_CHANGE_FIGURES),
        "tp.on_task_percent",
    ]
    updates = ", ".join(f"{name} = excluded.{name}" for name in columns if name not in keys)
    return f"""
    WITH {_provider_windows_lateral_sql() if lateral else _windows_sql(keys)}
    INSERT INTO {table} ({", ".join(columns)})
    SELECT {", ".join(select)}
    FROM (
        SELECT DISTINCT {k} FROM now_window
        UNION
        SELECT DISTINCT {k} FROM leaderhub_providershift
        WHERE service_date <= %(as_of_now)s AND service_date > %(on_task_from_now)s
    ) p
    LEFT JOIN ({_visit_figures_sql(keys, "now_window")}) c ON {joined("c")}
    LEFT JOIN ({_median_sql(keys, "now_window")}) m ON {joined("m")}
    LEFT JOIN ({_on_task_sql(keys, "now")}) t ON {joined("t")}
    LEFT JOIN ({_visit_figures_sql(keys, "prev_window")}) cp ON {joined("cp")}
    LEFT JOIN ({_median_sql(keys, "prev_window")}) mp ON {joined("mp")}
    LEFT JOIN ({_on_task_sql(keys, "prev")}) tp ON {joined("tp")}
    WHERE true
    ON CONFLICT ({k}) DO UPDATE SET {updates}
    """


def refresh_rollups(as_of=None):
    """Recompute the three rollup tables as of `as_of` (default: today). Returns row counts.

    Idempotent: a second run writes the same rows. An earlier `as_of` rebuilds the tables as
    they were then.
    """
    as_of = as_of or timezone.localdate()
    if not isinstance(as_of, date):
        raise TypeError("as_of must be a date")
    prev = as_of - timedelta(days=WEEK_DAYS)
    params = {
        "as_of_now": as_of,
        "on_task_from_now": as_of - timedelta(days=ON_TASK_DAYS),
        "as_of_prev": prev,
        "on_task_from_prev": prev - timedelta(days=ON_TASK_DAYS),
    }
    counts = {}
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Sorting a table's visits in memory instead of on disk; JIT compiles longer than
            # these statements gain from it.
            cursor.execute("SET LOCAL work_mem = '256MB'")
            cursor.execute("SET LOCAL jit = off")
        for model, keys in TABLES:
            lateral = connection.vendor == "postgresql" and keys == ("provider_id",)
            cursor.execute(_upsert_sql(model, keys, lateral=lateral), params)
            # Partitions without data as of this date (a re-run for an earlier date) go.
            model.objects.exclude(as_of=as_of).delete()
            counts[model._meta.db_table] = model.objects.count()
    return counts
