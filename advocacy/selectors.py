"""Advocacy KPIs: one definition each, computed in the database as of an explicit moment.

Pages, the API and the rollups all call these. `as_of` fixes every time-dependent figure
(SLA breach of open cases, staleness), so the same moment always gives the same numbers.
Cases count when they were created on or before `as_of`; events and interactions after it
are ignored.
"""

from datetime import timedelta

from django.conf import settings
from django.db.models import (
    Avg,
    BooleanField,
    Count,
    DateTimeField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models import Case as Choose
from django.db.models.functions import Coalesce, Greatest

from advocacy.models import Case, CaseEvent, CaseType, Interaction

Event = CaseEvent.Type
STALE_AFTER = timedelta(hours=48)


def sla_days(case_type):
    """A case type's SLA in days: settings.ADVOCACY_SLA_DAYS overrides the default."""
    return settings.ADVOCACY_SLA_DAYS.get(case_type, settings.ADVOCACY_DEFAULT_SLA_DAYS)


def _sla_deadline():
    """created_at + the case type's SLA, as a database expression."""
    return Choose(
        *(
            When(case_type=case_type, then=F("created_at") + timedelta(days=sla_days(case_type)))
            for case_type in CaseType.values
        ),
        default=F("created_at") + timedelta(days=settings.ADVOCACY_DEFAULT_SLA_DAYS),
        output_field=DateTimeField(),
    )


def _first(queryset, field):
    return Subquery(queryset.order_by(field).values(field)[:1])


def _last(queryset, field):
    return Subquery(queryset.order_by(f"-{field}").values(field)[:1])


def with_lifecycle(cases, as_of):
    """Cases created by `as_of`, each with its first response, last touch, SLA and stale flags.

    - first_response_at: the first `first_response` event;
    - last_touch: the latest event or interaction (the creation when there is none);
    - sla_breached: resolved after the deadline, or still active past it at `as_of`;
    - stale: active with no event or interaction in the 48 hours before `as_of`.
    """
    events = CaseEvent.objects.filter(case=OuterRef("pk"), at__lte=as_of)
    interactions = Interaction.objects.filter(case=OuterRef("pk"), started_at__lte=as_of)
    active = Q(status__in=Case.ACTIVE_STATUSES)
    return (
        cases.filter(created_at__lte=as_of)
        .alias(sla_deadline=_sla_deadline())
        .annotate(
            first_response_at=_first(events.filter(type=Event.FIRST_RESPONSE), "at"),
            last_touch=Greatest(
                Coalesce(_last(events, "at"), F("created_at")),
                Coalesce(_last(interactions, "started_at"), F("created_at")),
            ),
            ever_resolved=Exists(events.filter(type=Event.RESOLVED)),
            ever_reopened=Exists(events.filter(type=Event.REOPENED)),
            interaction_count=Coalesce(
                Subquery(
                    interactions.order_by().values("case").annotate(n=Count("pk")).values("n")
                ),
                0,
            ),
            sla_breached=Choose(
                When(Q(resolved_at__isnull=False, resolved_at__gt=F("sla_deadline")), then=True),
                When(active & Q(resolved_at__isnull=True, sla_deadline__lt=as_of), then=True),
                default=False,
                output_field=BooleanField(),
            ),
        )
        .annotate(
            stale=Choose(
                When(active & Q(last_touch__lt=as_of - STALE_AFTER), then=True),
                default=False,
                output_field=BooleanField(),
            )
        )
    )


def _hours(duration):
    return None if duration is None else duration.total_seconds() / 3600


def kpis(cases, as_of):
    """The KPI figures over `cases` (already scoped and filtered) as of `as_of`."""
    rows = with_lifecycle(cases, as_of)
    # Aggregate names differ from the annotations they count ("n_stale" counts "stale").
    totals = rows.aggregate(
        n_total=Count("pk"),
        n_active=Count("pk", filter=Q(status__in=Case.ACTIVE_STATUSES)),
        n_escalated=Count("pk", filter=Q(escalated=True)),
        n_resolved=Count("pk", filter=Q(ever_resolved=True)),
        n_reopened=Count("pk", filter=Q(ever_resolved=True, ever_reopened=True)),
        n_breached=Count("pk", filter=Q(sla_breached=True)),
        n_stale=Count("pk", filter=Q(stale=True)),
        n_avg_first_response=Avg(
            ExpressionWrapper(
                F("first_response_at") - F("created_at"), output_field=DurationField()
            )
        ),
        n_avg_resolution=Avg(
            ExpressionWrapper(F("resolved_at") - F("created_at"), output_field=DurationField()),
            filter=Q(resolved_at__isnull=False),
        ),
        n_interactions=Avg("interaction_count"),
        n_csat=Avg("feedback__csat", filter=Q(feedback__submitted_at__lte=as_of)),
    )
    total = totals["n_total"]

    def share(count, of):
        return round(100 * count / of, 2) if of else None

    resolution = _hours(totals["n_avg_resolution"])
    return {
        "as_of": as_of,
        "total_cases": total,
        "active_cases": totals["n_active"],
        "avg_hours_to_first_response": _round(_hours(totals["n_avg_first_response"])),
        "avg_days_to_resolution": _round(None if resolution is None else resolution / 24),
        "escalation_rate": share(totals["n_escalated"], total),
        "reopen_rate": share(totals["n_reopened"], totals["n_resolved"]),
        "sla_breach_rate": share(totals["n_breached"], total),
        "avg_interactions_per_case": _round(totals["n_interactions"]),
        "avg_csat": _round(totals["n_csat"]),
        "stale_cases": totals["n_stale"],
    }


def _round(value, places=2):
    return None if value is None else round(float(value), places)


def caseload(advocates, as_of):
    """Per advocate: active cases against capacity (utilization), and the caseload weighted by
    complexity (settings.ADVOCACY_COMPLEXITY_WEIGHTS)."""
    active = Q(cases__status__in=Case.ACTIVE_STATUSES, cases__created_at__lte=as_of)
    weight = Choose(
        *(
            When(cases__complexity=level, then=Value(float(w)))
            for level, w in settings.ADVOCACY_COMPLEXITY_WEIGHTS.items()
        ),
        default=Value(1.0),
        output_field=FloatField(),
    )
    return (
        advocates.annotate(
            active_cases=Count("cases", filter=active),
            weighted_caseload=Coalesce(Sum(weight, filter=active), 0.0),
        )
        .annotate(
            utilization=ExpressionWrapper(
                F("active_cases") * 1.0 / F("capacity"), output_field=FloatField()
            ),
            weighted_utilization=ExpressionWrapper(
                F("weighted_caseload") / F("capacity"), output_field=FloatField()
            ),
        )
        .order_by("-utilization", "name")
    )
