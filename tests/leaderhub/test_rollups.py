"""The Leader Hub rollups against hand-computed figures (run on SQLite and PostgreSQL)."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.management import call_command

from leaderhub.models import (
    Market,
    MarketGroup,
    MarketMetrics,
    MarketProviderMetrics,
    Provider,
    ProviderMetrics,
    ProviderShift,
    Visit,
)
from leaderhub.rollups import refresh_rollups

pytestmark = pytest.mark.django_db

AS_OF = date(2026, 3, 31)


def visit(provider, market, day, crid, **figures):
    defaults = {"on_scene_minutes": None, "chart_closed_24h": None, "survey_captured": False}
    return Visit.objects.create(
        provider=provider,
        market=market,
        service_date=day,
        care_request_id=crid,
        **{**defaults, **figures},
    )


def shift(provider, market, day, team_id, **seconds):
    start = datetime(day.year, day.month, day.day, 14, tzinfo=UTC)
    return ProviderShift.objects.create(
        shift_team_id=team_id,
        provider=provider,
        market=market,
        service_date=day,
        start=start,
        end=start + timedelta(hours=10),
        **seconds,
    )


@pytest.fixture
def world():
    group = MarketGroup.objects.create(name="Mountain", short_name="MTN")
    a = Market.objects.create(name="Denver", short_name="DEN", market_group=group)
    b = Market.objects.create(name="Boulder", short_name="BOU", market_group=group)
    p1 = Provider.objects.create(first_name="Ana", last_name="Ruiz", job_title="app")
    p2 = Provider.objects.create(first_name="Ben", last_name="Ode", job_title="dhmt")

    # P1: three visits in Denver, one in Boulder.
    visit(p1, a, date(2026, 3, 30), 1, on_scene_minutes=30, chart_closed_24h=True,
          survey_captured=True, nps_score=10, abx_prescribed=True)  # fmt: skip
    visit(p1, a, date(2026, 3, 29), 2, on_scene_minutes=50, chart_closed_24h=False,
          nps_score=6, escalated=True)  # fmt: skip
    visit(p1, a, date(2026, 3, 20), 3, on_scene_minutes=40)
    visit(p1, b, date(2026, 3, 31), 4, on_scene_minutes=20, chart_closed_24h=True,
          survey_captured=True, nps_score=8)  # fmt: skip

    # P2: 85 visits in Denver, one a day from Jan 1; on-scene = i minutes; the 5 oldest
    # escalated; surveys captured on even days. Only the newest 80 (i = 5..84) count.
    for i in range(85):
        visit(p2, a, date(2026, 1, 1) + timedelta(days=i), 100 + i, on_scene_minutes=i,
              escalated=i < 5, survey_captured=i % 2 == 0)  # fmt: skip

    # Shifts: P1 Denver in the last 30 days, an older one that must not count, Boulder.
    shift(p1, a, date(2026, 3, 30), 1, out_the_door=600, en_route=1800, on_scene=3600,
          on_break=1200, idle=600)  # fmt: skip
    shift(p1, a, date(2026, 2, 1), 2, idle=10000)
    shift(p1, b, date(2026, 3, 31), 3, en_route=1000, on_scene=1000, idle=2000)
    return {"denver": a, "boulder": b, "p1": p1, "p2": p2}


def test_provider_figures_over_all_markets(world):
    refresh_rollups(AS_OF)
    m = ProviderMetrics.objects.get(provider=world["p1"])
    assert (m.visits, m.first_visit_date, m.last_visit_date) == (
        4,
        date(2026, 3, 20),
        date(2026, 3, 31),
    )
    assert m.on_scene_median == 35.0  # 20, 30, 40, 50 → (30 + 40) / 2
    assert m.on_scene_count == 4
    assert m.chart_closure_rate == pytest.approx(200 / 3)  # 2 of the 3 known
    assert m.chart_closure_count == 3
    assert m.survey_capture_rate == 50.0
    assert m.escalation_rate == 25.0
    assert m.abx_rate == 25.0
    assert m.nps == 0.0  # scores 10, 6, 8: one promoter, one detractor, of three
    assert m.nps_average == 8.0
    assert m.nps_count == 3
    # (1800 + 3600 + 1000 + 1000) / (7800 + 4000); the February shift is outside 30 days.
    assert m.on_task_percent == pytest.approx(7400 / 11800 * 100)


def test_week_ago_figures_for_the_week_change(world):
    refresh_rollups(AS_OF)
    m = ProviderMetrics.objects.get(provider=world["p1"])
    # As of Mar 24 only the Mar 20 visit existed: on-scene 40, no chart known, no score.
    assert m.on_scene_median_prev == 40.0
    assert m.chart_closure_rate_prev is None
    assert m.survey_capture_rate_prev == 0.0
    assert m.nps_prev is None
    assert m.on_task_percent_prev is None  # no shift between Feb 22 and Mar 24


def test_provider_in_market_figures(world):
    refresh_rollups(AS_OF)
    denver = MarketProviderMetrics.objects.get(market=world["denver"], provider=world["p1"])
    assert denver.visits == 3
    assert denver.on_scene_median == 40.0  # 30, 40, 50
    assert denver.chart_closure_rate == 50.0
    assert denver.survey_capture_rate == pytest.approx(100 / 3)
    assert denver.nps == 0.0  # 10 and 6
    assert denver.on_task_percent == pytest.approx(5400 / 7800 * 100)
    boulder = MarketProviderMetrics.objects.get(market=world["boulder"], provider=world["p1"])
    assert (boulder.visits, boulder.on_scene_median, boulder.nps) == (1, 20.0, 0.0)  # 8: passive


def test_only_the_last_80_visits_count(world):
    refresh_rollups(AS_OF)
    m = ProviderMetrics.objects.get(provider=world["p2"])
    assert m.visits == 80
    assert m.first_visit_date == date(2026, 1, 6)  # i = 5
    assert m.escalation_rate == 0.0  # the five escalated visits are older than the window
    assert m.on_scene_median == 44.5  # 5..84 → (44 + 45) / 2
    assert m.survey_capture_rate == 50.0  # 6, 8, …, 84: 40 of 80
    assert (m.nps, m.nps_average, m.nps_count) == (None, None, 0)


def test_market_figures_use_the_markets_last_80_visits(world):
    refresh_rollups(AS_OF)
    m = MarketMetrics.objects.get(market=world["denver"])
    # 88 Denver visits; the 8 oldest (P2, i = 0..7) fall out.
    assert m.visits == 80
    assert m.escalation_rate == 1.25  # only P1's Mar 29 visit: 1 of 80
    # P2's 8..84 and P1's 30, 40, 50: the 40th and 41st values are 45 and 46.
    assert m.on_scene_median == 45.5
    assert MarketMetrics.objects.get(market=world["boulder"]).visits == 1


def test_rollup_is_idempotent_and_reproduces_history(world):
    def snapshot():
        return {
            model.__name__: sorted(
                tuple(row) for row in model.objects.values_list(*[
                    f.attname for f in model._meta.concrete_fields if f.name != "id"
                ])
            )
            for model in (ProviderMetrics, MarketProviderMetrics, MarketMetrics)
        }  # fmt: skip

    refresh_rollups(AS_OF)
    first = snapshot()
    refresh_rollups(AS_OF)
    assert snapshot() == first

    call_command("rollup_leaderhub", "--as-of", "2026-03-24")
    # On Mar 24 P1 had only the Denver visit of Mar 20, and nothing in Boulder yet.
    assert not MarketProviderMetrics.objects.filter(market=world["boulder"]).exists()
    assert ProviderMetrics.objects.get(provider=world["p1"]).visits == 1
    assert set(ProviderMetrics.objects.values_list("as_of", flat=True)) == {date(2026, 3, 24)}

    refresh_rollups(AS_OF)
    assert snapshot() == first


def test_rollup_runs_in_a_constant_number_of_queries(world, django_assert_max_num_queries):
    with django_assert_max_num_queries(14):  # 3 upserts, 3 deletes, counts, SET LOCALs
        refresh_rollups(AS_OF)
