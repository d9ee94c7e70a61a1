from decimal import Decimal

import pytest
from django.db import transaction

from campaigns.demo import CAMPAIGNS, COORDINATORS, seed_campaigns
from campaigns.models import (
    Campaign,
    CampaignAssignment,
    CampaignProgress,
    Coordinator,
    Intervention,
    Measure,
    Member,
)
from campaigns.selectors import closure_rates
from opsintel.demo import DemoContext, demo_users

pytestmark = pytest.mark.django_db

SNAPSHOT_MODELS = [
    Measure,
    Member,
    Intervention,
    Coordinator,
    Coordinator.measures.through,
    Campaign,
    CampaignAssignment,
    CampaignProgress,
]


def seed():
    """What `seed_demo --size small` runs for this app: the platform's users, then ours, each in
    its own transaction."""
    ctx = DemoContext(size="small")
    for generator in (demo_users, seed_campaigns):
        with transaction.atomic():
            generator(ctx)
    return ctx


def snapshot():
    """Every column of every row the generator writes, in a stable order."""
    return {
        model._meta.label: sorted(
            model.objects.values_list(*(f.attname for f in model._meta.concrete_fields))
        )
        for model in SNAPSHOT_MODELS
    }


def test_seeding_twice_leaves_identical_data():
    seed()
    first = snapshot()
    seed()
    assert snapshot() == first
    assert len(first["campaigns.Member"]) == 2_500
    assert len(first["campaigns.Campaign"]) == len(CAMPAIGNS)
    assert len(first["campaigns.CampaignProgress"]) > len(CAMPAIGNS)


def test_demo_data_tells_a_story():
    ctx = seed()
    # The coordinators are printed with the other demo logins.
    assert {username for username, _ in ctx.logins} >= {row[0] for row in COORDINATORS}

    # Ten real measures, money as Decimal, closure rates that clearly differ.
    measures = Measure.objects.in_bulk(field_name="code")
    assert len(measures) == 10
    assert {m.weight for m in measures.values()} == {Decimal(1), Decimal(3)}
    assert all(Decimal(80) <= m.revenue_per_closure <= Decimal(250) for m in measures.values())
    per_measure, _ = closure_rates()
    rate = {
        code: Decimal(closed) / finished
        for code, (closed, finished) in (
            (m.code, per_measure[m.pk]) for m in measures.values() if m.pk in per_measure
        )
    }
    assert rate["HBA1C"] - rate["COL"] > Decimal("0.10")
    assert max(rate.values()) - min(rate.values()) > Decimal("0.30")

    # Open work ahead, some of it overdue, next to a year of history.
    assert Intervention.objects.open().count() > 1_000
    assert Intervention.objects.finished().count() > 1_000

    # Three live campaigns (one per strategy), partly worked, with a rising trend.
    campaigns = Campaign.objects.order_by("pk")
    assert {c.strategy for c in campaigns} == {row[1] for row in CAMPAIGNS}
    assert all(c.status == Campaign.Status.ACTIVE for c in campaigns)
    for campaign in campaigns:
        statuses = list(campaign.assignments.values_list("status", flat=True))
        finished = sum(status in Intervention.FINISHED_STATUSES for status in statuses)
        assert 0 < finished < len(statuses), campaign.name
        trend = list(campaign.progress.order_by("day").values_list("finished", flat=True))
        assert len(trend) >= 3
        assert trend == sorted(trend), campaign.name
        assert trend[0] < trend[-1], campaign.name

    # The care-coordinator demo login has a call list in the balanced campaign.
    persona = CampaignAssignment.objects.filter(coordinator__user__username="care-coordinator")
    assert persona.filter(active=True).exists()
    assert persona.filter(campaign__strategy=Campaign.Strategy.BALANCED).exists()
