"""Assigning new cases to advocates by complexity-weighted utilization.

Each unassigned active case (most urgent first, then oldest) goes to the advocate who handles
its case type and has the lowest weighted utilization (active cases weighted by complexity,
settings.ADVOCACY_COMPLEXITY_WEIGHTS, ÷ capacity) among those with room for it. When every
advocate who handles it is full, it still goes to the one with the lowest utilization, the
reason says "over capacity" and the operations leaders are told (one notice per run, listing
the cases). A case type nobody handles stays unassigned, and the leaders are told that too.

Caseloads are counted live from the Case rows (one aggregate query), not from the hourly
rollup, and kept up to date in memory as the run assigns.

The placing itself is the shared engine's (opsintel.assignment): it checks case types (skills)
and room (capacity). The engine balances absolute load and knows nothing of loads carried in
from before, so each case is placed on its own: the advocates are handed over in order of
utilization, each with their remaining room as capacity, and the engine takes the first one
in that order who handles the case and has room. One batch call per run would also reorder
the cases heaviest first, which would put urgency second.
"""

from dataclasses import dataclass, field, replace
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case as Choose
from django.db.models import Count, IntegerField, Q, QuerySet, Value, When
from django.urls import reverse

from advocacy import services
from advocacy.alerts import operations_leaders
from advocacy.models import Advocate, Case
from opsintel import assignment as engine
from opsintel.audit import Action, record_event
from opsintel.notices import notify

URGENCY_RANK = {
    Case.Urgency.URGENT: 4,
    Case.Urgency.HIGH: 3,
    Case.Urgency.MEDIUM: 2,
    Case.Urgency.LOW: 1,
}


def complexity_weights():
    """Weight per complexity level, exact (Decimal), so "room for it" never misses by 1e-16."""
    return {level: Decimal(str(w)) for level, w in settings.ADVOCACY_COMPLEXITY_WEIGHTS.items()}


def case_weight(case, weights):
    return weights.get(case.complexity, Decimal(1))  # same default as the rollup's caseload


@dataclass
class Standing:
    """An advocate's weighted caseload during a run."""

    advocate: Advocate
    load: Decimal

    @property
    def capacity(self):
        return Decimal(self.advocate.capacity)

    @property
    def utilization(self):
        return self.load / self.capacity

    @property
    def room(self):
        return self.capacity - self.load

    def describe(self):
        return f"{self.utilization:.2f} ({float(self.load):g} of {self.advocate.capacity})"


@dataclass
class Placement:
    case: Case
    advocate: Advocate
    reason: str
    over_capacity: bool = False


@dataclass
class AssignmentRun:
    assigned: list = field(default_factory=list)  # Placements, in the order made
    unassigned: list = field(default_factory=list)  # (case, reason)

    @property
    def over_capacity(self):
        return [placement for placement in self.assigned if placement.over_capacity]

    def summary(self):
        return {
            "assigned": len(self.assigned),
            "over_capacity": len(self.over_capacity),
            "unassigned": len(self.unassigned),
        }


def standings(weights):
    """Every active advocate's current weighted caseload, counted from the Case rows in one
    query: {advocate id: Standing}."""
    active = Q(cases__status__in=Case.ACTIVE_STATUSES)
    levels = list(weights)
    per_level = {
        f"n_{n}": Count("cases", filter=active & Q(cases__complexity=level))
        for n, level in enumerate(levels)
    }
    advocates = (
        Advocate.objects.filter(active=True)
        .annotate(n_active=Count("cases", filter=active), **per_level)
        .order_by("name", "pk")
    )
    result = {}
    for advocate in advocates:
        counted = [getattr(advocate, f"n_{n}") for n in range(len(levels))]
        load = sum(
            (count * weights[level] for count, level in zip(counted, levels, strict=True)),
            Decimal(0),
        )
        load += advocate.n_active - sum(counted)  # levels without a weight count as 1
        result[advocate.pk] = Standing(advocate, load)
    return result


def _agent(standing):
    types = standing.advocate.case_types
    return engine.Agent(
        key=standing.advocate.pk,
        capacity=standing.room,
        skills=frozenset(types) if types else None,
    )


def _advocates(count):
    return f"{count} advocate{'s' * (count != 1)}"


def choose(case, board, weights):
    """(Standing, over capacity?, reason) for the case, or (None, False, why not)."""
    weight = case_weight(case, weights)
    label = case.get_case_type_display().lower()
    ordered = sorted(board.values(), key=lambda s: (s.utilization, s.advocate.name, s.advocate.pk))
    agents = [_agent(standing) for standing in ordered]
    item = engine.Item(key=case.pk, skill=case.case_type, weight=weight)
    result = engine.balanced([item], agents)
    eligible = [s for s in ordered if s.advocate.handles(case.case_type)]
    if case.pk in result.assignments:
        chosen = board[result.assignments[case.pk]]
        with_room = sum(1 for s in eligible if s.room >= weight)
        reason = (
            f"Lowest weighted utilization among {_advocates(with_room)} handling {label}: "
            f"{chosen.describe()}"
        )
        return chosen, False, reason
    if not eligible:
        return None, False, f"No active advocate handles {label}"
    # Everyone who handles it is full: still someone's, the least utilized, and flagged.
    result = engine.balanced([item], [replace(agent, capacity=None) for agent in agents])
    chosen = board[result.assignments[case.pk]]
    reason = (
        f"Over capacity: all {_advocates(len(eligible))} handling {label} are full; "
        f"lowest weighted utilization {chosen.describe()}"
    )
    return chosen, True, reason


def _waiting(cases):
    """Unassigned active cases, most urgent first, then oldest."""
    queryset = Case.objects.filter(advocate__isnull=True, status__in=Case.ACTIVE_STATUSES)
    if cases is not None:
        ids = cases.values("pk") if isinstance(cases, QuerySet) else [case.pk for case in cases]
        queryset = queryset.filter(pk__in=ids)
    rank = Choose(
        *(When(urgency=urgency, then=Value(n)) for urgency, n in URGENCY_RANK.items()),
        default=Value(0),
        output_field=IntegerField(),
    )
    return queryset.alias(rank=rank).order_by("-rank", "created_at", "pk")


def assign_new_cases(cases=None, *, actor=None, at=None):
    """Assign the unassigned active cases (all of them, or those among `cases`).

    Returns an AssignmentRun: the placements in the order made (each with its reason, which is
    also the note of the case's `assigned` event) and the cases nobody could take."""
    weights = complexity_weights()
    board = standings(weights)
    run = AssignmentRun()
    for case in _waiting(cases):
        chosen, over, reason = choose(case, board, weights)
        if chosen is None:
            run.unassigned.append((case, reason))
            continue
        with transaction.atomic():
            # Another run (or a person) may have taken it since we read it.
            still_waiting = (
                Case.objects.select_for_update()
                .filter(pk=case.pk, advocate__isnull=True, status__in=Case.ACTIVE_STATUSES)
                .exists()
            )
            if not still_waiting:
                continue
            try:
                case = services.assign(case, chosen.advocate, actor=actor, at=at, reason=reason)
            except ValidationError as error:
                run.unassigned.append((case, "; ".join(error.messages)))
                continue
        chosen.load += case_weight(case, weights)
        run.assigned.append(Placement(case, chosen.advocate, reason, over_capacity=over))
    if run.assigned:
        record_event(
            Action.UPDATE,
            actor=actor,
            objects=[placement.case for placement in run.assigned],
            description=f"Assigned {len(run.assigned)} new cases by weighted utilization",
        )
    _tell_leaders(run)
    return run


def assign_case(case, actor=None):
    """Assign one newly opened case (pages and the API call this after open_case).

    Returns the AssignmentRun: `run.assigned[0]` when it found an advocate, else
    `run.unassigned[0]` says why. A case already assigned or no longer active is left alone."""
    return assign_new_cases([case], actor=actor)


def _tell_leaders(run):
    over, nobody = run.over_capacity, run.unassigned
    if not over and not nobody:
        return
    parts, lines = [], []
    if over:
        parts.append(f"{len(over)} assigned over capacity")
        lines += [f"{p.case} → {p.advocate}: {p.reason}" for p in over]
    if nobody:
        parts.append(f"{len(nobody)} left unassigned")
        lines += [f"{case}: {reason}" for case, reason in nobody]
    notify(
        operations_leaders(),
        title=f"New cases: {' and '.join(parts)}",
        body="\n".join(lines),
        link=reverse("advocacy:operations"),
        app_label="advocacy",
    )
