"""Campaign use-cases. Pages, the API, tasks and scripts all call these.

Every function validates its input and raises django.core.exceptions.ValidationError with the
field named; nothing is written unless everything is valid (each write is one transaction).
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import (
    Case,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.lookups import GreaterThanOrEqual, LessThanOrEqual
from django.utils import timezone

from campaigns.models import (
    Campaign,
    CampaignAssignment,
    CampaignProgress,
    Coordinator,
    Intervention,
    Measure,
    manages_campaigns,
)
from campaigns.selectors import (
    CENT,
    FINISHED_OR_CANCELLED,
    available_interventions,
    calculate_campaign_metrics,
    coordinator_workload,
    months_until,
    today_local,
)
from opsintel import assignment as engine
from opsintel.audit import Action, record_event
from opsintel.jobs import enqueue_on_commit
from opsintel.scoping import get_visible_or_404

Status = Intervention.Status


# Selecting the work ---------------------------------------------------------------------------


def resolve_selection(user, *, intervention_ids=None, member_ids=None, filters=None):
    """The interventions a request means, as a queryset; every id must be available to `user`.

    `intervention_ids`: exactly these. `member_ids` (external member IDs): those members'
    available interventions that also match `filters`. Neither: everything matching `filters`.
    """
    filters = filters or {}
    available = available_interventions(user, **filters)
    if intervention_ids is not None:
        wanted = set()
        for value in intervention_ids:
            try:
                wanted.add(int(value))
            except (TypeError, ValueError):
                raise ValidationError(
                    {"intervention_ids": f"{value!r} is not an intervention id."}
                ) from None
        found = set(available.filter(pk__in=wanted).values_list("pk", flat=True))
        missing = sorted(wanted - found)
        if missing:
            in_live_campaign = set(
                CampaignAssignment.objects.filter(
                    intervention_id__in=missing, active=True
                ).values_list("intervention_id", flat=True)
            ) & set(Intervention.objects.visible_to(user).values_list("pk", flat=True))
            if in_live_campaign:
                shown = ", ".join(str(pk) for pk in sorted(in_live_campaign)[:10])
                raise ValidationError(
                    {"intervention_ids": f"Already in another active campaign: {shown}."}
                )
            shown = ", ".join(str(pk) for pk in missing[:10])
            raise ValidationError(
                {
                    "intervention_ids": f"Unknown, closed or not yours to assign: {shown}"
                    + (f" and {len(missing) - 10} more." if len(missing) > 10 else ".")
                }
            )
        return available.filter(pk__in=found)
    if member_ids is not None:
        member_ids = {str(value).strip() for value in member_ids}
        queryset = available.filter(member__member_id__in=member_ids)
        found = set(queryset.values_list("member__member_id", flat=True))
        missing = sorted(member_ids - found)
        if missing:
            raise ValidationError(
                {
                    "member_ids": "No open interventions to assign for member IDs: "
                    + ", ".join(missing[:10])
                    + ("…" if len(missing) > 10 else "")
                }
            )
        return queryset
    return available


# Coordinators and the engine ------------------------------------------------------------------


def eligible_coordinators():
    return coordinator_workload(Coordinator.objects.filter(active=True, user__is_active=True))


def _skills(coordinator):
    codes = frozenset(measure.code for measure in coordinator.measures.all())
    return codes or None  # no specialty: any measure


def choose_coordinators(count, measure_codes):
    """The `count` active coordinators best placed to take work on these measures: those who
    handle them first, then the least busy (their live open workload)."""
    coordinators = list(eligible_coordinators().prefetch_related("measures"))

    def rank(coordinator):
        skills = _skills(coordinator)
        covers = skills is None or bool(skills & measure_codes)
        return (not covers, coordinator.open_load, str(coordinator), coordinator.pk)

    coordinators.sort(key=rank)
    return coordinators[:count]


def _engine_inputs(interventions, coordinators, months, *, limit_capacity=True):
    items = [
        engine.Item(key=pk, group=member_id, skill=code)
        for pk, member_id, code in interventions.values_list("pk", "member_id", "measure__code")
    ]
    agents = [
        engine.Agent(
            key=coordinator.pk,
            skills=_skills(coordinator),
            capacity=(
                max(0, int(coordinator.monthly_capacity * months) - coordinator.open_load)
                if limit_capacity
                else None
            ),
        )
        for coordinator in coordinators
    ]
    return items, agents


def _unassigned_message(result, total):
    reasons = Counter(result.unassigned.values())
    detail = "; ".join(f"{count} because {reason}" for reason, count in reasons.most_common())
    return f"{len(result.unassigned)} of {total} interventions cannot be assigned: {detail}."


# Preview and what-if --------------------------------------------------------------------------


@dataclass
class WhatIf:
    coordinator_count: int
    coordinators: list
    strategy: str
    largest_load: int
    imbalance: dict
    months_available: Decimal
    months_needed: Decimal
    predicted_closures: Decimal
    predicted_closures_by_target: Decimal
    warnings: list = field(default_factory=list)


def what_if(
    user, interventions, *, coordinator_count, target_date, strategy=engine.BALANCED, today=None
):
    """What this staffing would give, computed without writing anything."""
    today = today or today_local()
    _check_plan(strategy=strategy, target_date=target_date, today=today)
    metrics = calculate_campaign_metrics(interventions, target_date=target_date, today=today)
    months = months_until(target_date, today)
    codes = set(interventions.values_list("measure__code", flat=True).distinct())
    coordinators = choose_coordinators(coordinator_count, codes)
    warnings = []
    if not coordinators:
        warnings.append("No active coordinator can take this work.")
    elif len(coordinators) < coordinator_count:
        warnings.append(
            f"Only {len(coordinators)} active coordinators; {coordinator_count} were asked for."
        )
    items, agents = _engine_inputs(interventions, coordinators, months, limit_capacity=False)
    result = engine.assign(strategy, items, agents)
    if result.unassigned:
        warnings.append(_unassigned_message(result, len(items)))

    # Months each coordinator needs at capacity for their share plus their live workload.
    needed = Decimal(0)
    for coordinator in coordinators:
        load = result.loads.get(coordinator.pk, 0) + coordinator.open_load
        needed = max(needed, Decimal(load) / coordinator.monthly_capacity)
    needed = needed.quantize(CENT, ROUND_HALF_UP)
    coverage = min(Decimal(1), months / needed) if needed else Decimal(1)
    if needed > months:
        warnings.append(
            f"Capacity does not cover the work by {target_date:%b %d, %Y}: the busiest "
            f"coordinator needs {needed} months at capacity, the target allows "
            f"{months.quantize(CENT)}. Add coordinators or move the target date."
        )
    return WhatIf(
        coordinator_count=coordinator_count,
        coordinators=[str(c) for c in coordinators],
        strategy=strategy,
        largest_load=result.max_load,
        imbalance=result.summary(),
        months_available=months.quantize(CENT, ROUND_HALF_UP),
        months_needed=needed,
        predicted_closures=metrics.predicted_closures,
        predicted_closures_by_target=(metrics.predicted_closures * coverage).quantize(
            CENT, ROUND_HALF_UP
        ),
        warnings=warnings,
    )


# Creating a campaign --------------------------------------------------------------------------


def _strategy_error(strategy):
    if strategy not in Campaign.Strategy.values:
        return f"Unknown strategy {strategy!r}; choose " + ", ".join(Campaign.Strategy.values)
    return None


def _target_date_error(target, today):
    if not isinstance(target, date):
        return "Give a target completion date."
    if target < today:
        return f"The target date {target:%Y-%m-%d} is in the past."
    return None


def _check_plan(*, strategy, target_date, today):
    """Raise ValidationError naming each bad field of a staffing plan."""
    errors = {
        field_name: message
        for field_name, message in (
            ("strategy", _strategy_error(strategy)),
            ("target_completion_date", _target_date_error(target_date, today)),
        )
        if message
    }
    if errors:
        raise ValidationError(errors)


def create_campaign(
    *,
    created_by,
    name,
    coordinator_count,
    target_completion_date,
    strategy=engine.BALANCED,
    intervention_ids=None,
    member_ids=None,
    filters=None,
    today=None,
):
    """Create a campaign, its assignments and its metrics snapshot, all or nothing."""
    today = today or today_local()
    errors = {}
    if not manages_campaigns(created_by):
        raise ValidationError({"__all__": "Only care managers create campaigns."})
    name = (name or "").strip()
    if not name:
        errors["name"] = "Give the campaign a name."
    elif len(name) > 200:
        errors["name"] = "Keep the name under 200 characters."
    for field_name, message in (
        ("strategy", _strategy_error(strategy)),
        ("target_completion_date", _target_date_error(target_completion_date, today)),
    ):
        if message:
            errors[field_name] = message
    if not isinstance(coordinator_count, int) or coordinator_count < 1:
        errors["coordinator_count"] = "At least one coordinator is needed."
    elif coordinator_count > Campaign.MAX_COORDINATORS:
        errors["coordinator_count"] = (
            f"At most {Campaign.MAX_COORDINATORS} coordinators per campaign."
        )
    if errors:
        raise ValidationError(errors)

    with transaction.atomic():
        selection = resolve_selection(
            created_by, intervention_ids=intervention_ids, member_ids=member_ids, filters=filters
        )
        # Lock the selected rows so two managers cannot put the same work in two campaigns.
        ids = list(selection.select_for_update(of=("self",)).values_list("pk", flat=True))
        if not ids:
            raise ValidationError({"intervention_ids": "Select at least one intervention."})
        selection = Intervention.objects.filter(pk__in=ids)
        if coordinator_count > len(ids):
            raise ValidationError(
                {
                    "coordinator_count": f"{coordinator_count} coordinators for {len(ids)} "
                    "interventions: some would get nothing. Use at most "
                    f"{len(ids)}."
                }
            )
        months = months_until(target_completion_date, today)
        codes = set(selection.values_list("measure__code", flat=True).distinct())
        coordinators = choose_coordinators(coordinator_count, codes)
        if len(coordinators) < coordinator_count:
            raise ValidationError(
                {
                    "coordinator_count": f"Only {len(coordinators)} active coordinators are "
                    f"available; {coordinator_count} were asked for."
                }
            )
        items, agents = _engine_inputs(selection, coordinators, months)
        result = engine.assign(strategy, items, agents)
        if result.unassigned:
            raise ValidationError(
                {
                    "coordinator_count": _unassigned_message(result, len(items))
                    + " Add coordinators or move the target date."
                }
            )

        metrics = calculate_campaign_metrics(
            selection, target_date=target_completion_date, today=today
        )
        snapshot = metrics.as_snapshot()
        snapshot["imbalance"] = result.summary()
        campaign = Campaign.objects.create(
            name=name,
            created_by=created_by,
            strategy=strategy,
            coordinator_count=coordinator_count,
            target_completion_date=target_completion_date,
            status=Campaign.Status.ACTIVE,
            metrics=snapshot,
        )
        try:
            with transaction.atomic():
                CampaignAssignment.objects.bulk_create(
                    [
                        CampaignAssignment(
                            campaign=campaign,
                            intervention_id=pk,
                            coordinator_id=result.assignments[pk],
                            reason=result.reasons[pk][:255],
                        )
                        for pk in ids
                    ],
                    batch_size=2000,
                )
        except IntegrityError:
            raise ValidationError(
                {"intervention_ids": "Some interventions joined another campaign meanwhile."}
            ) from None
        snapshot_progress(today, campaign_ids=[campaign.pk])
        record_event(
            Action.CREATE,
            actor=created_by,
            model=Intervention,
            object_ids=ids,
            description=f"Campaign {campaign.pk} {name!r}: {len(ids)} interventions assigned",
        )
    return campaign


# Working a campaign ---------------------------------------------------------------------------


def record_outcome(user, assignment_id, *, status, outcome="", today=None, request=None):
    """A coordinator (own assignments only) or manager records where an intervention stands."""
    today = today or today_local()
    if status not in Status.values:
        raise ValidationError({"status": f"Unknown status {status!r}."})
    outcome = (outcome or "").strip()
    if len(outcome) > 200:
        raise ValidationError({"outcome": "Keep the outcome under 200 characters."})
    with transaction.atomic():
        assignment = get_visible_or_404(
            CampaignAssignment.objects.select_for_update(of=("self",)), user, pk=assignment_id
        )
        if not assignment.active:
            raise ValidationError({"status": "This campaign is closed; its list is read-only."})
        assignment.status = status
        assignment.outcome = outcome
        assignment.save(update_fields=["status", "outcome", "updated_at"])
        finished = status in FINISHED_OR_CANCELLED
        Intervention.objects.filter(pk=assignment.intervention_id).update(
            status=status,
            outcome=outcome,
            outcome_date=today if finished else None,
            updated_at=timezone.now(),
        )
        record_event(
            Action.UPDATE,
            request=request,
            actor=user,
            model=Intervention,
            object_ids=[assignment.intervention_id],
            description=f"Outcome recorded: {status}" + (f" ({outcome})" if outcome else ""),
        )
        # The last open assignment finished: complete the campaign once this commits.
        unfinished = CampaignAssignment.objects.filter(campaign_id=assignment.campaign_id)
        if finished and not unfinished.exclude(status__in=FINISHED_OR_CANCELLED).exists():
            from campaigns.tasks import complete_campaigns  # tasks import this module

            enqueue_on_commit(complete_campaigns, [assignment.campaign_id])
    return assignment


def _live_campaign(user, campaign_id):
    if not manages_campaigns(user):
        raise ValidationError({"__all__": "Only care managers change assignments."})
    campaign = get_visible_or_404(Campaign.objects.all(), user, pk=campaign_id)
    if campaign.status not in Campaign.LIVE_STATUSES:
        raise ValidationError({"__all__": f"Campaign is {campaign.status}; it cannot change."})
    return campaign


def move_assignments(user, campaign_id, assignment_ids, coordinator_id, *, request=None):
    """Hand some of a campaign's unfinished assignments to another coordinator."""
    with transaction.atomic():
        campaign = _live_campaign(user, campaign_id)
        coordinator = eligible_coordinators().filter(pk=coordinator_id).first()
        if coordinator is None:
            raise ValidationError({"coordinator": "Choose an active coordinator."})
        assignments = campaign.assignments.filter(pk__in=assignment_ids).exclude(
            status__in=FINISHED_OR_CANCELLED
        )
        moved_ids = list(assignments.values_list("intervention_id", flat=True))
        if len(moved_ids) != len(set(assignment_ids)):
            raise ValidationError(
                {"assignment_ids": "Pick unfinished assignments of this campaign only."}
            )
        assignments.update(
            coordinator=coordinator,
            reason=f"moved by {user.get_username()}",
            updated_at=timezone.now(),
        )
        record_event(
            Action.UPDATE,
            request=request,
            actor=user,
            model=Intervention,
            object_ids=moved_ids,
            description=f"Campaign {campaign.pk}: moved to coordinator {coordinator.pk}",
        )
    return len(moved_ids)


def rebalance_campaign(user, campaign_id, *, coordinator_ids=None, request=None):
    """Even out a campaign's unfinished work over its active coordinators (or those given),
    moving as few assignments as possible. Returns the number moved."""
    with transaction.atomic():
        campaign = _live_campaign(user, campaign_id)
        unfinished = campaign.assignments.select_for_update(of=("self",)).exclude(
            status__in=FINISHED_OR_CANCELLED
        )
        rows = list(
            unfinished.values_list(
                "pk", "coordinator_id", "intervention__member_id", "intervention__measure__code"
            )
        )
        if coordinator_ids is None:
            coordinator_ids = set(campaign.assignments.values_list("coordinator_id", flat=True))
        coordinators = list(
            eligible_coordinators().filter(pk__in=coordinator_ids).prefetch_related("measures")
        )
        if not coordinators:
            raise ValidationError({"coordinator_ids": "No active coordinator to rebalance onto."})
        items = [engine.Item(key=pk, group=member, skill=code) for pk, _, member, code in rows]
        agents = [engine.Agent(key=c.pk, skills=_skills(c)) for c in coordinators]
        current = {pk: coordinator for pk, coordinator, _, _ in rows}
        result = engine.rebalance(items, agents, current)
        if result.unassigned:
            raise ValidationError({"coordinator_ids": _unassigned_message(result, len(items))})
        changed = [pk for pk in result.assignments if result.assignments[pk] != current[pk]]
        by_target = {}
        for pk in changed:
            by_target.setdefault(result.assignments[pk], []).append(pk)
        for coordinator_id, pks in by_target.items():
            CampaignAssignment.objects.filter(pk__in=pks).update(
                coordinator_id=coordinator_id,
                reason="rebalance: moved to even out loads",
                updated_at=timezone.now(),
            )
        if changed:
            record_event(
                Action.UPDATE,
                request=request,
                actor=user,
                model=CampaignAssignment,
                object_ids=changed,
                description=f"Campaign {campaign.pk} rebalanced: {len(changed)} moved",
            )
    return len(changed)


# Set-based refreshes (nightly and on demand) --------------------------------------------------


def snapshot_progress(day, *, campaign_ids=None):
    """Upsert one progress row per live campaign for `day`. Running it twice changes nothing."""
    campaigns = Campaign.objects.filter(status__in=Campaign.LIVE_STATUSES)
    if campaign_ids is not None:
        campaigns = campaigns.filter(pk__in=campaign_ids)
    rows = (
        CampaignAssignment.objects.filter(campaign__in=campaigns)
        .values("campaign_id")
        .annotate(
            total=Count("id"),
            finished=Count("id", filter=Q(status__in=FINISHED_OR_CANCELLED)),
            closures=Count("id", filter=Q(status=Status.CLOSED)),
        )
        .order_by()
    )
    CampaignProgress.objects.bulk_create(
        [CampaignProgress(day=day, **row) for row in rows],
        update_conflicts=True,
        unique_fields=["campaign", "day"],
        update_fields=["total", "finished", "closures"],
    )
    return len(rows)


def complete_finished_campaigns(campaign_ids=None):
    """Mark live campaigns whose every assignment is finished as completed, and free their
    interventions for future campaigns. Conditional update: a re-run changes nothing."""
    unfinished = CampaignAssignment.objects.filter(campaign=OuterRef("pk")).exclude(
        status__in=FINISHED_OR_CANCELLED
    )
    done = Campaign.objects.filter(status__in=Campaign.LIVE_STATUSES).filter(
        Exists(CampaignAssignment.objects.filter(campaign=OuterRef("pk"))), ~Exists(unfinished)
    )
    if campaign_ids is not None:
        done = done.filter(pk__in=campaign_ids)
    ids = list(done.values_list("pk", flat=True))
    with transaction.atomic():
        Campaign.objects.filter(pk__in=ids).update(
            status=Campaign.Status.COMPLETED, completed_at=timezone.now()
        )
        CampaignAssignment.objects.filter(campaign_id__in=ids).update(active=False)
    return ids


def archive_campaign(user, campaign_id, *, request=None):
    """Stop a live campaign; its unfinished interventions become free for another one."""
    with transaction.atomic():
        campaign = _live_campaign(user, campaign_id)
        Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.ARCHIVED)
        campaign.assignments.update(active=False)
        record_event(
            Action.UPDATE,
            request=request,
            actor=user,
            model=Campaign,
            object_ids=[campaign.pk],
            description=f"Campaign {campaign.pk} archived",
        )
    return campaign


def refresh_priorities(today=None):
    """Recompute the priority of every open intervention from the data, in one UPDATE.

    Points: due within 14 days or overdue 2, within 30 days 1; measure star weight 3+ 2,
    2+ 1; the member failed an earlier intervention (declined, no response) 1.
    High at 3 points or more, medium at 2, low below. Undated work gets no due points.
    """
    today = today or today_local()
    weight = Subquery(Measure.objects.filter(pk=OuterRef("measure_id")).values("weight")[:1])
    due_points = Case(
        When(LessThanOrEqual(F("intervention_date"), today + timedelta(days=14)), then=Value(2)),
        When(LessThanOrEqual(F("intervention_date"), today + timedelta(days=30)), then=Value(1)),
        default=Value(0),
    )
    weight_points = Case(
        When(GreaterThanOrEqual(weight, 3), then=Value(2)),
        When(GreaterThanOrEqual(weight, 2), then=Value(1)),
        default=Value(0),
    )
    failed_before = Exists(
        Intervention.objects.filter(member=OuterRef("member_id"), status=Status.FAILED)
    )
    history_points = Case(When(failed_before, then=Value(1)), default=Value(0))
    points = ExpressionWrapper(
        due_points + weight_points + history_points, output_field=IntegerField()
    )
    return Intervention.objects.open().update(
        priority=Case(
            When(GreaterThanOrEqual(points, 3), then=Value(Intervention.Priority.HIGH)),
            When(GreaterThanOrEqual(points, 2), then=Value(Intervention.Priority.MEDIUM)),
            default=Value(Intervention.Priority.LOW),
        )
    )
