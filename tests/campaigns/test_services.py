"""Campaign metrics and use-cases, with every expected number worked out by hand."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404

from campaigns import services
from campaigns.models import Campaign, CampaignAssignment, CampaignProgress, Intervention
from campaigns.selectors import (
    available_interventions,
    calculate_campaign_metrics,
    get_available_members,
    months_until,
)
from opsintel.models import AuditEvent
from tests.campaigns.factories import (
    CoordinatorFactory,
    InterventionFactory,
    MeasureFactory,
    MemberFactory,
)

pytestmark = pytest.mark.django_db

TODAY = date(2026, 1, 15)
S = Intervention.Status


@pytest.fixture
def portfolio(settings):
    """Two measures with history, five members, seven open interventions selected.

    HBA1C ($150/closure): history 3 closed, 1 completed, 1 failed (+1 cancelled, not counted)
      → 5 finished, rate 3/5 = 0.6, enough history (minimum set to 4).
    COL ($100/closure): history 1 closed, 1 failed → 2 finished, below the minimum
      → portfolio rate (3 + 1) / (5 + 2) = 4/7.
    Open: HBA1C for members A, A, B, C at $10; COL for A, D, E at $20.
    Member A also has an open BCS gap that is NOT selected.
    """
    settings.CAMPAIGN_MIN_MEASURE_HISTORY = 4
    settings.CAMPAIGN_CAPACITY_PER_FTE_MONTH = 50
    hba1c = MeasureFactory(code="HBA1C", revenue_per_closure=Decimal("150.00"))
    col = MeasureFactory(code="COL", revenue_per_closure=Decimal("100.00"))
    bcs = MeasureFactory(code="BCS")
    history = MemberFactory()
    for status in [S.CLOSED, S.CLOSED, S.CLOSED, S.COMPLETED, S.FAILED, S.CANCELLED]:
        InterventionFactory(member=history, measure=hba1c, status=status)
    for status in [S.CLOSED, S.FAILED]:
        InterventionFactory(member=history, measure=col, status=status)

    a, b, c, d, e = (MemberFactory(member_id=f"MBR-{x}") for x in "ABCDE")
    selected = [
        InterventionFactory(member=m, measure=hba1c, cost=Decimal("10.00"), intervention_date=TODAY)
        for m in (a, a, b, c)
    ] + [
        InterventionFactory(member=m, measure=col, cost=Decimal("20.00"), intervention_date=TODAY)
        for m in (a, d, e)
    ]
    other_gap = InterventionFactory(member=a, measure=bcs, cost=Decimal("99.00"))
    return {
        "hba1c": hba1c,
        "col": col,
        "members": (a, b, c, d, e),
        "selected": selected,
        "other_gap": other_gap,
    }


@pytest.fixture
def manager(make_user):
    return make_user("Care manager", username="manager")


def ids(interventions):
    return [i.pk for i in interventions]


# Metrics --------------------------------------------------------------------------------------


def test_metrics_count_only_the_selected_interventions(portfolio):
    metrics = calculate_campaign_metrics(
        ids(portfolio["selected"]), target_date=date(2026, 3, 15), today=TODAY
    )
    assert metrics.total_members == 5
    assert metrics.total_interventions == 7
    # HBA1C 4 × 0.6 = 2.4; COL 3 × 4/7 = 1.7142857 → 4.1142857
    assert metrics.predicted_closures == Decimal("4.11")
    assert metrics.predicted_success_rate == Decimal("0.5878")  # 4.1142857 / 7
    # 2.4 × 150 = 360; 1.7142857 × 100 = 171.43 → 531.43
    assert metrics.total_value == Decimal("531.43")
    assert metrics.total_cost == Decimal("100.00")  # 4 × 10 + 3 × 20; not the $99 BCS gap
    assert metrics.net_benefit == Decimal("431.43")
    assert metrics.roi == Decimal("431.4")  # 431.43 / 100 as a percentage
    # 7 interventions ÷ (50 a month × 2 months)
    assert metrics.months == Decimal("2.00")
    assert metrics.required_fte == Decimal("0.07")
    assert metrics.suggested_coordinators == 1


def test_success_rate_basis_is_shown_per_measure(portfolio):
    metrics = calculate_campaign_metrics(ids(portfolio["selected"]), today=TODAY)
    by_code = {row.code: row for row in metrics.by_measure}
    assert (by_code["HBA1C"].rate, by_code["HBA1C"].basis) == (Decimal("0.6000"), "measure")
    assert (by_code["COL"].rate, by_code["COL"].basis) == (Decimal("0.5714"), "portfolio")
    assert by_code["COL"].finished == 2
    assert by_code["HBA1C"].value == Decimal("360.00")
    assert metrics.portfolio_rate == Decimal("0.5714")


def test_no_history_means_no_predicted_closures(db):
    measure = MeasureFactory(code="NEW")
    interventions = InterventionFactory.create_batch(3, measure=measure, cost=Decimal("5"))
    metrics = calculate_campaign_metrics(ids(interventions), today=TODAY)
    assert metrics.by_measure[0].basis == "no history"
    assert metrics.predicted_closures == Decimal("0.00")
    assert metrics.net_benefit == Decimal("-15.00")
    assert metrics.roi == Decimal("-100.0")


@pytest.mark.parametrize(
    ("target", "months"),
    [
        (date(2026, 3, 15), Decimal("2")),  # two calendar months
        (date(2026, 4, 30), Decimal("3.5")),  # three months and 15 days
        (date(2026, 2, 1), Decimal("1")),  # 17 days: at least one month
        (date(2025, 12, 1), Decimal("1")),  # past: at least one month
    ],
)
def test_months_until_target(target, months):
    assert months_until(target, TODAY) == months


@pytest.mark.parametrize(
    ("capacity", "fte", "coordinators"),
    [(2, Decimal("1.00"), 1), (1, Decimal("2.00"), 2), (3, Decimal("0.67"), 1)],
)
def test_required_fte(portfolio, settings, capacity, fte, coordinators):
    # 7 interventions over 3.5 months: 7 ÷ (capacity × 3.5)
    settings.CAMPAIGN_CAPACITY_PER_FTE_MONTH = capacity
    metrics = calculate_campaign_metrics(
        ids(portfolio["selected"]), target_date=date(2026, 4, 30), today=TODAY
    )
    assert metrics.required_fte == fte
    assert metrics.suggested_coordinators == coordinators


# Selection ------------------------------------------------------------------------------------


def test_default_filter_returns_the_open_work_not_in_a_live_campaign(portfolio, manager):
    found = set(available_interventions(manager, today=TODAY).values_list("pk", flat=True))
    assert found == {*ids(portfolio["selected"]), portfolio["other_gap"].pk}


def test_filters_by_measure_window_status_and_search(portfolio, manager):
    col = portfolio["col"]
    assert available_interventions(manager, measure_id=col.pk).count() == 3
    later = InterventionFactory(measure=col, intervention_date=date(2026, 3, 1))
    assert later not in available_interventions(manager, days_ahead=30, today=TODAY)
    assert later in available_interventions(manager, days_ahead=60, today=TODAY)
    assert available_interventions(manager, search="MBR-D").count() == 1
    assert available_interventions(manager, statuses=[S.CLOSED]).count() == 4
    members = get_available_members(manager, measure_id=col.pk)
    assert {m.member_id for m in members} >= {"MBR-A", "MBR-D", "MBR-E"}


# Creating campaigns ---------------------------------------------------------------------------


def make_coordinators(count, **kwargs):
    return [CoordinatorFactory(**kwargs) for _ in range(count)]


def create(manager, portfolio, **overrides):
    arguments = {
        "created_by": manager,
        "name": "Q1 diabetes and colorectal",
        "intervention_ids": ids(portfolio["selected"]),
        "coordinator_count": 2,
        "target_completion_date": date(2026, 3, 15),
        "today": TODAY,
    }
    arguments.update(overrides)
    return services.create_campaign(**arguments)


def loads(campaign):
    counts = {}
    for assignment in campaign.assignments.all():
        counts[assignment.coordinator_id] = counts.get(assignment.coordinator_id, 0) + 1
    return sorted(counts.values())


def test_balanced_campaign_is_even_and_keeps_members_together(portfolio, manager):
    make_coordinators(3)
    campaign = create(manager, portfolio)
    assert (campaign.name, campaign.created_by, campaign.status) == (
        "Q1 diabetes and colorectal",
        manager,
        Campaign.Status.ACTIVE,
    )
    assert loads(campaign) == [3, 4]
    # Member A's three interventions (two HBA1C, one COL) are with one coordinator.
    member_a = portfolio["members"][0]
    holders = set(
        campaign.assignments.filter(intervention__member=member_a).values_list(
            "coordinator", flat=True
        )
    )
    assert len(holders) == 1
    assert campaign.metrics["total_interventions"] == 7
    assert campaign.metrics["total_value"] == "531.43"
    assert campaign.metrics["imbalance"]["spread"] == 1
    progress = CampaignProgress.objects.get(campaign=campaign)
    assert (progress.day, progress.total, progress.finished) == (TODAY, 7, 0)
    event = AuditEvent.objects.get(action="create")
    assert event.object_count == 7
    assert all(a.reason.startswith("balanced") for a in campaign.assignments.all())


def test_group_by_measure_keeps_each_measure_with_one_coordinator(portfolio, manager):
    make_coordinators(2)
    campaign = create(manager, portfolio, strategy=Campaign.Strategy.GROUP_BY_MEASURE)
    for measure in (portfolio["hba1c"], portfolio["col"]):
        holders = set(
            campaign.assignments.filter(intervention__measure=measure).values_list(
                "coordinator", flat=True
            )
        )
        assert len(holders) == 1
    assert loads(campaign) == [3, 4]


def test_measure_expertise_is_respected(portfolio, manager):
    col_only = CoordinatorFactory(measures=[portfolio["col"]])
    anyone = CoordinatorFactory()
    campaign = create(manager, portfolio)
    hba1c = campaign.assignments.filter(intervention__measure=portfolio["hba1c"])
    assert set(hba1c.values_list("coordinator", flat=True)) == {anyone.pk}
    assert campaign.assignments.filter(coordinator=col_only).exists()


def test_capacity_shortfall_is_refused_plainly(portfolio, manager):
    make_coordinators(2, monthly_capacity=1)  # 2 months × 1 = 2 each, 4 in all, 7 needed
    with pytest.raises(ValidationError) as error:
        create(manager, portfolio)
    message = error.value.message_dict["coordinator_count"][0]
    assert "3 of 7 interventions cannot be assigned" in message
    assert "at capacity" in message
    assert Campaign.objects.count() == 0
    assert CampaignAssignment.objects.count() == 0


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"intervention_ids": []}, "intervention_ids", "Select at least one"),
        ({"intervention_ids": [10**9]}, "intervention_ids", "Unknown, closed or not yours"),
        ({"coordinator_count": 0}, "coordinator_count", "At least one coordinator"),
        ({"coordinator_count": 8}, "coordinator_count", "8 coordinators for 7 interventions"),
        ({"coordinator_count": 4}, "coordinator_count", "Only 3 active coordinators"),
        ({"target_completion_date": date(2026, 1, 14)}, "target_completion_date", "in the past"),
        ({"strategy": "fastest"}, "strategy", "Unknown strategy 'fastest'"),
        ({"name": "  "}, "name", "Give the campaign a name"),
    ],
)
def test_bad_requests_name_the_field_and_write_nothing(portfolio, manager, overrides, field, words):
    make_coordinators(3)
    with pytest.raises(ValidationError) as error:
        create(manager, portfolio, **overrides)
    assert words in " ".join(error.value.message_dict[field])
    assert Campaign.objects.count() == 0
    assert CampaignAssignment.objects.count() == 0
    assert not AuditEvent.objects.filter(action="create").exists()


def test_an_intervention_is_in_one_live_campaign_only(portfolio, manager):
    make_coordinators(2)
    first = create(manager, portfolio, intervention_ids=ids(portfolio["selected"][:2]))
    with pytest.raises(ValidationError) as error:
        create(manager, portfolio, name="Second")
    assert "Already in another active campaign" in error.value.message_dict["intervention_ids"][0]
    assert list(Campaign.objects.all()) == [first]
    # Once the first campaign is archived its interventions may join another.
    services.archive_campaign(manager, first.pk)
    second = create(manager, portfolio, name="Second")
    assert second.assignments.count() == 7


def test_coordinators_cannot_create_campaigns(portfolio, make_user):
    make_coordinators(2)
    with pytest.raises(ValidationError):
        create(make_user("Care coordinator"), portfolio)
    assert Campaign.objects.count() == 0


def test_member_ids_select_only_their_matching_open_interventions(portfolio, manager):
    make_coordinators(1)
    campaign = create(
        manager,
        portfolio,
        intervention_ids=None,
        member_ids=["MBR-A"],
        filters={"measure_id": portfolio["hba1c"].pk},
        coordinator_count=1,
    )
    # Member A has two open HBA1C, one COL and one BCS: only the HBA1C two match the filter.
    assert campaign.assignments.count() == 2


# Working a campaign ---------------------------------------------------------------------------


@pytest.fixture
def campaign(portfolio, manager):
    make_coordinators(2)
    return create(manager, portfolio)


def test_coordinator_records_outcome_on_own_assignment_only(
    campaign, django_capture_on_commit_callbacks
):
    mine = campaign.assignments.first()
    theirs = campaign.assignments.exclude(coordinator=mine.coordinator).first()
    user = mine.coordinator.user
    services.record_outcome(user, mine.pk, status=S.CLOSED, outcome="A1c done", today=TODAY)
    intervention = Intervention.objects.get(pk=mine.intervention_id)
    assert (intervention.status, intervention.outcome, intervention.outcome_date) == (
        S.CLOSED,
        "A1c done",
        TODAY,
    )
    with pytest.raises(Http404):
        services.record_outcome(user, theirs.pk, status=S.CLOSED, today=TODAY)
    with pytest.raises(ValidationError) as error:
        services.record_outcome(user, mine.pk, status="won", today=TODAY)
    assert "status" in error.value.message_dict


def test_campaign_completes_when_every_assignment_is_finished(
    campaign, manager, django_capture_on_commit_callbacks
):
    assignments = list(campaign.assignments.all())
    with django_capture_on_commit_callbacks(execute=True):
        for assignment in assignments[:-1]:
            services.record_outcome(manager, assignment.pk, status=S.FAILED, today=TODAY)
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.ACTIVE
    with django_capture_on_commit_callbacks(execute=True):
        services.record_outcome(manager, assignments[-1].pk, status=S.CLOSED, today=TODAY)
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.COMPLETED
    assert not campaign.assignments.filter(active=True).exists()
    # The finished campaign no longer blocks its (now finished) interventions; a re-run is a no-op.
    assert services.complete_finished_campaigns() == []


def test_rebalance_after_a_coordinator_leaves_moves_only_their_work(campaign, manager):
    before = dict(campaign.assignments.values_list("pk", "coordinator"))
    leaver_id = campaign.assignments.first().coordinator_id
    leaver_count = sum(1 for c in before.values() if c == leaver_id)
    newcomer = CoordinatorFactory()
    from campaigns.models import Coordinator

    Coordinator.objects.filter(pk=leaver_id).update(active=False)
    remaining = {c for c in before.values() if c != leaver_id} | {newcomer.pk}
    moved = services.rebalance_campaign(manager, campaign.pk, coordinator_ids=remaining)
    after = dict(campaign.assignments.values_list("pk", "coordinator"))
    assert leaver_id not in after.values()
    assert moved == sum(1 for pk in before if before[pk] != after[pk])
    # 7 over 2 coordinators: 4 and 3. The one who stays keeps all theirs (≤ 4) and the
    # newcomer takes the leaver's share: only the leaver's assignments move.
    assert moved == leaver_count
    assert loads(campaign) == [3, 4]


def test_move_assignments_to_another_coordinator(campaign, manager):
    target = CoordinatorFactory()
    some = list(campaign.assignments.values_list("pk", flat=True)[:2])
    assert services.move_assignments(manager, campaign.pk, some, target.pk) == 2
    assert set(
        CampaignAssignment.objects.filter(pk__in=some).values_list("coordinator", flat=True)
    ) == {target.pk}
    with pytest.raises(ValidationError):
        services.move_assignments(manager, campaign.pk, [10**9], target.pk)


def test_progress_snapshot_is_an_idempotent_upsert(campaign, manager):
    first = campaign.assignments.first()
    services.record_outcome(manager, first.pk, status=S.CLOSED, today=TODAY)
    day = date(2026, 1, 16)
    assert services.snapshot_progress(day) == 1
    assert services.snapshot_progress(day) == 1
    rows = list(
        CampaignProgress.objects.filter(day=day).values_list("total", "finished", "closures")
    )
    assert rows == [(7, 1, 1)]


def test_what_if_shows_load_months_and_closures_by_target(portfolio, manager):
    make_coordinators(2, monthly_capacity=2)
    selection = Intervention.objects.filter(pk__in=ids(portfolio["selected"]))
    result = services.what_if(
        manager, selection, coordinator_count=2, target_date=date(2026, 2, 15), today=TODAY
    )
    # Balanced 7 over 2: largest load 4; 4 ÷ 2 a month = 2 months needed, 1 available,
    # so half the predicted 4.11 closures land by the target: 2.06.
    assert result.largest_load == 4
    assert result.months_available == Decimal("1.00")
    assert result.months_needed == Decimal("2.00")
    assert result.predicted_closures_by_target == Decimal("2.06")
    assert any("Capacity does not cover" in warning for warning in result.warnings)
    assert Campaign.objects.count() == 0


def test_what_if_refuses_a_past_target_date(portfolio, manager):
    selection = Intervention.objects.filter(pk__in=ids(portfolio["selected"]))
    with pytest.raises(ValidationError) as error:
        services.what_if(
            manager, selection, coordinator_count=1, target_date=date(2026, 1, 1), today=TODAY
        )
    assert "in the past" in error.value.message_dict["target_completion_date"][0]


def test_what_if_with_nobody_available_says_so(portfolio, manager):
    selection = Intervention.objects.filter(pk__in=ids(portfolio["selected"]))
    result = services.what_if(
        manager, selection, coordinator_count=2, target_date=date(2026, 3, 15), today=TODAY
    )
    assert "No active coordinator can take this work." in result.warnings


# Priority -------------------------------------------------------------------------------------


def test_priority_is_computed_from_date_measure_weight_and_history(db):
    heavy = MeasureFactory(code="CBP", weight=Decimal("3"))
    light = MeasureFactory(code="BCS", weight=Decimal("1"))
    struggling = MemberFactory()
    InterventionFactory(member=struggling, measure=light, status=S.FAILED)
    cases = {
        # due in 10 days (2) + weight 3 (2) = 4 → high
        "soon_heavy": InterventionFactory(measure=heavy, intervention_date=date(2026, 1, 25)),
        # due in 20 days (1) + weight 1 (0) + failed before (1) = 2 → medium
        "struggling": InterventionFactory(
            member=struggling, measure=light, intervention_date=date(2026, 2, 4)
        ),
        # due in 60 days (0) + weight 1 (0) = 0 → low
        "later_light": InterventionFactory(measure=light, intervention_date=date(2026, 3, 16)),
        # overdue (2) + weight 1 (0) = 2 → medium
        "overdue": InterventionFactory(measure=light, intervention_date=date(2026, 1, 2)),
    }
    services.refresh_priorities(TODAY)
    priorities = {name: Intervention.objects.get(pk=i.pk).priority for name, i in cases.items()}
    assert priorities == {
        "soon_heavy": "high",
        "struggling": "medium",
        "later_light": "low",
        "overdue": "medium",
    }
