"""The Leader Hub metrics: one definition each, used by rollups, pages and the API."""

from dataclasses import dataclass

from django.conf import settings

WINDOW_VISITS = 80  # metrics use each partition's last 80 visits
ON_TASK_DAYS = 30  # on-task % uses the last 30 days of shifts
WEEK_DAYS = 7  # week change: now minus the same metric as of 7 days earlier
SMALL_SAMPLE = 20  # fewer visits than this: the figure is flagged as a small sample

APP, DHMT = "app", "dhmt"


@dataclass(frozen=True)
class Metric:
    key: str  # the API's metric_type
    field: str  # column on the rollup tables (`<field>_prev` holds the week-ago value)
    label: str
    higher_is_better: bool
    positions: tuple = (APP, DHMT)  # ranked and shown only for these
    unit: str = "%"


METRICS = {
    metric.key: metric
    for metric in (
        Metric("on_scene_time", "on_scene_median", "On-scene time", False, unit=" min"),
        Metric("chart_closure_rate", "chart_closure_rate", "Chart closure rate", True, (APP,)),
        Metric("survey_capture_rate", "survey_capture_rate", "Survey capture rate", True, (DHMT,)),
        Metric("net_promoter_score", "nps", "NPS", True, unit=""),
        Metric("on_task_percent", "on_task_percent", "On-task %", True),
        Metric("escalation_rate", "escalation_rate", "Escalation rate", False),
        Metric("abx_rate", "abx_rate", "ABX rate", False),
    )
}
RANKED = (
    "on_scene_time",
    "survey_capture_rate",
    "chart_closure_rate",
    "net_promoter_score",
    "on_task_percent",
)


def goal(metric_key):
    """The goal a market card is coloured against (settings.LEADERHUB_GOALS), or None."""
    return settings.LEADERHUB_GOALS.get(metric_key)
