"""The Leader Hub demo data: idempotent, sized as documented, the demo logins linked to
markets and providers, and providers that visibly differ."""

import pytest
from django.db import transaction
from django.db.models import Count, Max, Min

from leaderhub import demo
from leaderhub.demo import DAYS, LEADER_MARKETS, PERSONA_PROVIDERS, reference_day, seed_leaderhub
from leaderhub.models import (
    LeaderAccess,
    Market,
    MarketActiveProvider,
    MarketGroup,
    MarketMetrics,
    Provider,
    ProviderMetrics,
    ProviderShift,
    ShiftBreakdown,
    Visit,
)
from opsintel.demo import DemoContext, demo_users
from opsintel.models import User

pytestmark = pytest.mark.django_db

SNAPSHOT_MODELS = [
    MarketGroup,
    Market,
    Provider,
    MarketActiveProvider,
    LeaderAccess.markets.through,
    Visit,
    ProviderShift,
    ShiftBreakdown,
    ProviderMetrics,
]


def seed():
    ctx = DemoContext(size="small")
    for generator in (demo_users, seed_leaderhub):
        with transaction.atomic():
            generator(ctx)
    return ctx


def snapshot():
    return {
        model._meta.label: sorted(
            model.objects.values_list(*(f.attname for f in model._meta.concrete_fields))
        )
        for model in SNAPSHOT_MODELS
    }


PROVIDERS = 30  # two chunks of providers; `seed_demo` makes 120 (a dozen seconds, twice)


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """Seed twice for the whole module, keeping both snapshots; rolled back afterwards."""
    with (
        pytest.MonkeyPatch.context() as patch,
        django_db_blocker.unblock(),
        transaction.atomic(),
    ):
        patch.setattr(demo, "PROVIDERS_AT_SMALL", PROVIDERS)
        seed()
        first = snapshot()
        seed()
        second = snapshot()
        yield first, second
        transaction.set_rollback(True)


def test_seeding_twice_leaves_identical_data(seeded):
    first, second = seeded
    assert second == first
    assert len(first["leaderhub.MarketGroup"]) == 3
    assert len(first["leaderhub.Market"]) == 8
    assert len(first["leaderhub.Provider"]) == PROVIDERS
    # About 6 visits and 3 shifts a week for a year, 4–8 segments a shift.
    assert 5 * 52 * PROVIDERS < len(first["leaderhub.Visit"]) < 7 * 52 * PROVIDERS
    assert len(first["leaderhub.ProviderShift"]) == 3 * 52 * PROVIDERS
    assert len(first["leaderhub.ShiftBreakdown"]) > 4 * len(first["leaderhub.ProviderShift"])
    assert len(first["leaderhub.ProviderMetrics"]) == PROVIDERS


def test_demo_personas_have_markets_and_providers(seeded):
    for username, shorts in LEADER_MARKETS.items():
        access = LeaderAccess.objects.get(user__username=username)
        assert sorted(access.markets.values_list("short_name", flat=True)) == sorted(shorts)
    assert LeaderAccess.objects.get(user__username="rdo").markets.count() == 8
    for username, (_, position, shorts) in PERSONA_PROVIDERS.items():
        provider = Provider.objects.get(user__username=username)
        user = User.objects.get(username=username)
        assert provider.job_title == position
        assert provider.name == f"{user.first_name} {user.last_name}"
        assert sorted(provider.active_markets.values_list("market__short_name", flat=True)) == (
            sorted(shorts)
        )
        assert provider.visits.count() > 200
        assert provider.metrics.visits == 80


def test_a_year_of_work_with_shift_timelines(seeded):
    day0 = reference_day()
    span = Visit.objects.aggregate(first=Min("service_date"), last=Max("service_date"))
    assert (day0 - span["first"]).days <= DAYS
    assert span["last"] < day0
    positions = dict(Provider.objects.values_list("job_title").annotate(n=Count("pk")))
    assert positions == {"app": 18, "dhmt": 12}  # 60 % APP
    in_two = Provider.objects.annotate(n=Count("active_markets")).filter(n=2).count()
    assert 3 <= in_two <= 15
    segments = ShiftBreakdown.objects.values("shift").annotate(n=Count("pk"))
    assert {row["n"] for row in segments} <= set(range(3, 9))
    assert ProviderShift.objects.filter(on_break=0).count() > 0  # some skipped breaks
    for shift in ProviderShift.objects.order_by("pk")[:50]:
        total = shift.out_the_door + shift.en_route + shift.on_scene + shift.on_break + shift.idle
        assert total == (shift.end - shift.start).total_seconds()
    assert not ShiftBreakdown.objects.filter(latitude_e6__isnull=True).exists()
    assert MarketMetrics.objects.count() == 8


def test_providers_differ_visibly(seeded):
    metrics = ProviderMetrics.objects.all()
    on_scene = sorted(m.on_scene_median for m in metrics)
    assert on_scene[-1] - on_scene[0] > 20  # minutes
    closure = [m.chart_closure_rate for m in metrics.filter(provider__job_title="app")]
    assert max(closure) - min(closure) > 15  # percentage points
    nps = [m.nps for m in metrics if m.nps is not None]
    assert max(nps) - min(nps) > 30
    changed = [m for m in metrics if m.on_scene_median_prev is not None]
    assert any(m.on_scene_median != m.on_scene_median_prev for m in changed)
