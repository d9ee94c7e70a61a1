"""Advocacy reads: KPIs, caseload and bottleneck segments, one definition each.

Every figure aggregates CaseFact rows (advocacy.rollups computes the per-case timings and
flags as of one moment), so pages, the API and the rollup tables agree by construction. The
dashboards call these with their filters; the rollup stores the unfiltered results.
"""

from datetime import timedelta

from django.conf import settings
from django.db.models import Avg, Count, F, FloatField, Q, Sum, Value, When
from django.db.models import Case as Choose
from django.db.models.functions import Coalesce

from advocacy.models import (
    Advocate,
    AdvocateCaseload,
    CaseFact,
    CaseType,
    CaseTypeKpi,
    leads_operations,
)

STALE_AFTER = timedelta(hours=48)


def sla_days(case_type):
    """A case type's SLA in days: settings.ADVOCACY_SLA_DAYS overrides the default."""
    return settings.ADVOCACY_SLA_DAYS.get(case_type, settings.ADVOCACY_DEFAULT_SLA_DAYS)


def kpi_aggregates():
    """The aggregates every KPI is computed from, over CaseFact rows (one definition each).

    Their names differ from the fact columns they count: an aggregate named like a column
    it filters silently counts nothing."""
    return {
        "n_total": Count("pk"),
        "n_active": Count("pk", filter=Q(is_active=True)),
        "n_escalated": Count("pk", filter=Q(escalated=True)),
        "n_resolved": Count("pk", filter=Q(ever_resolved=True)),
        "n_reopened": Count("pk", filter=Q(reopened=True)),
        "n_breached": Count("pk", filter=Q(sla_breached=True)),
        "n_stale": Count("pk", filter=Q(stale=True)),
        "n_first_response": Avg("hours_to_first_response"),
        "n_resolution": Avg("days_to_resolution"),
        "n_interactions": Avg("interaction_count"),
        "n_csat": Avg("csat"),
    }


def _share(count, of):
    return round(100 * count / of, 2) if of else None


def _figures(totals):
    total = totals["n_total"]
    return {
        "total_cases": total,
        "active_cases": totals["n_active"],
        "avg_hours_to_first_response": _round(totals["n_first_response"]),
        "avg_days_to_resolution": _round(totals["n_resolution"]),
        "escalation_rate": _share(totals["n_escalated"], total),
        "reopen_rate": _share(totals["n_reopened"], totals["n_resolved"]),
        "sla_breach_rate": _share(totals["n_breached"], total),
        "avg_interactions_per_case": _round(totals["n_interactions"]),
        "avg_csat": _round(totals["n_csat"]),
        "stale_cases": totals["n_stale"],
    }


def _round(value, places=2):
    return None if value is None else round(float(value), places)


KPI_NAMES = tuple(_figures(dict.fromkeys(kpi_aggregates(), 0)))


def kpis(facts):
    """The KPI figures over CaseFact rows (already scoped and filtered)."""
    return _figures(facts.aggregate(**kpi_aggregates()))


def kpis_by(facts, field):
    """The KPI figures per value of `field` (case_type, team, advocate, urgency …)."""
    rows = facts.order_by(field).values(field).annotate(**kpi_aggregates())
    return [{field: row[field], **_figures(row)} for row in rows]


def caseload(advocates):
    """Per advocate: active cases against capacity (utilization) and the caseload weighted by
    complexity (settings.ADVOCACY_COMPLEXITY_WEIGHTS), with their stale and breached active
    cases, from the fact table."""
    active = Q(facts__is_active=True)
    weight = Choose(
        *(
            When(facts__complexity=level, then=Value(float(w)))
            for level, w in settings.ADVOCACY_COMPLEXITY_WEIGHTS.items()
        ),
        default=Value(1.0),
        output_field=FloatField(),
    )
    return (
        advocates.annotate(
            active_cases=Count("facts", filter=active),
            weighted_caseload=Coalesce(Sum(weight, filter=active), 0.0),
            stale_cases=Count("facts", filter=active & Q(facts__stale=True)),
            breached_cases=Count("facts", filter=active & Q(facts__sla_breached=True)),
        )
        .annotate(
            utilization=F("active_cases") * 1.0 / F("capacity"),
            weighted_utilization=F("weighted_caseload") / F("capacity"),
        )
        .order_by("-utilization", "name")
    )


# Bottleneck dimensions: name -> (title, [(segment label, condition)]) in display order.
# "team" has no fixed segments: one per team.
DIMENSIONS = {
    "missing_docs": (
        "Missing documents",
        [("Missing documents", Q(missing_docs=True)), ("Documents complete", Q())],
    ),
    "handoffs": (
        "Handoffs",
        [
            ("No handoff", Q(handoff_count=0)),
            ("1 handoff", Q(handoff_count=1)),
            ("2 handoffs", Q(handoff_count=2)),
            ("3+ handoffs", Q()),
        ],
    ),
    "case_type": ("Case type", [(label, Q(case_type=value)) for value, label in CaseType.choices]),
    "escalation": ("Escalation", [("Escalated", Q(escalated=True)), ("Not escalated", Q())]),
    "advocate_load": (
        "Advocate load",
        [
            ("Unassigned", Q(advocate__isnull=True)),
            ("Over capacity", Q(advocate__caseload__utilization__gt=1)),
            ("Within capacity", Q()),
        ],
    ),
    "team": ("Team", None),
}


def segment_aggregates():
    aggregates = kpi_aggregates()
    return {name: aggregates[name] for name in SEGMENT_AGGREGATES}


SEGMENT_AGGREGATES = (
    "n_total",
    "n_escalated",
    "n_breached",
    "n_first_response",
    "n_resolution",
    "n_csat",
)


def _segment_figures(label, position, totals):
    figures = _figures({**dict.fromkeys(kpi_aggregates(), 0), **totals})
    return {
        "segment": label,
        "position": position,
        "cases": figures["total_cases"],
        "avg_days_to_resolution": figures["avg_days_to_resolution"],
        "sla_breach_rate": figures["sla_breach_rate"],
        "avg_csat": figures["avg_csat"],
        "escalation_rate": figures["escalation_rate"],
        "avg_hours_to_first_response": figures["avg_hours_to_first_response"],
    }


def segments(facts, dimension):
    """Outcome figures per segment of a bottleneck dimension (one GROUP BY query); segments
    without cases are left out."""
    _title, conditions = DIMENSIONS[dimension]
    if conditions is None:
        rows = facts.order_by("team").values("team").annotate(**segment_aggregates())
        return [
            _segment_figures(row["team"] or "No team", position, row)
            for position, row in enumerate(rows)
        ]
    # An empty condition is "everything else": the CASE's default.
    otherwise = next((i for i, (_, condition) in enumerate(conditions) if not condition), None)
    label = Choose(
        *(
            When(condition, then=Value(position))
            for position, (_, condition) in enumerate(conditions)
            if condition
        ),
        default=Value(otherwise),
    )
    rows = facts.order_by().values(position=label).annotate(**segment_aggregates())
    return sorted(
        (_segment_figures(conditions[row["position"]][0], row["position"], row) for row in rows),
        key=lambda row: row["position"],
    )


def facts_for(user, *, start=None, end=None, case_type=None, team=None, advocate=None):
    """The fact rows the user may see, filtered as on the dashboards: cases created from
    `start` to `end` (dates, inclusive), of one case type, one team, one advocate."""
    facts = CaseFact.objects.visible_to(user)
    if start:
        facts = facts.filter(created_at__date__gte=start)
    if end:
        facts = facts.filter(created_at__date__lte=end)
    if case_type:
        facts = facts.filter(case_type=case_type)
    if team:
        facts = facts.filter(team=team)
    if advocate:
        facts = facts.filter(advocate=advocate)
    return facts


def interaction_load(facts, field="case_type"):
    """Interactions and minutes per case, per value of `field` (one GROUP BY query)."""
    rows = (
        facts.order_by(field)
        .values(field)
        .annotate(
            cases=Count("pk"),
            interactions=Sum("interaction_count"),
            minutes=Sum("interaction_minutes"),
        )
    )
    return [
        {
            field: row[field],
            "cases": row["cases"],
            "interactions": row["interactions"] or 0,
            "minutes": row["minutes"] or 0,
            "interactions_per_case": round((row["interactions"] or 0) / row["cases"], 2),
            "minutes_per_case": round((row["minutes"] or 0) / row["cases"], 2),
        }
        for row in rows
    ]


def latest_as_of():
    """The moment of the latest rollup (None before the first)."""
    # From the KPI sets (indexed, one per rollup), not the fact table (a scan).
    return CaseTypeKpi.objects.order_by("-as_of").values_list("as_of", flat=True).first()


def kpi_trend(case_type="", since=None):
    """The stored KPI sets of one case type ("" = all), oldest first: the last set of each
    day, for trend lines."""
    rows = CaseTypeKpi.objects.filter(case_type=case_type)
    if since:
        rows = rows.filter(as_of__gte=since)
    latest = {}
    for row in rows.order_by("as_of"):
        latest[row.as_of.date()] = row
    return list(latest.values())


def caseload_for(user):
    """The stored caseload rows the user may see (leaders: everyone; an advocate: own)."""
    rows = AdvocateCaseload.objects.select_related("advocate")
    if leads_operations(user):
        return rows
    return rows.filter(advocate__user=user)


def teams():
    return list(
        Advocate.objects.exclude(team="").order_by("team").values_list("team", flat=True).distinct()
    )
