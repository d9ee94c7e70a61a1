"""The Leader Hub pages: where each persona lands, the market hub, the individual hub and
a shift's timeline, with scope (404 outside it), the PHI audit and bounded query counts."""

import re
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from leaderhub.models import MarketMetrics, MarketProviderMetrics, ProviderMetrics, Visit
from opsintel.models import AuditEvent
from tests.factories import UserFactory
from tests.leaderhub.factories import (
    LeaderAccessFactory,
    MarketFactory,
    ProviderFactory,
    ProviderShiftFactory,
    ShiftBreakdownFactory,
    VisitFactory,
)

pytestmark = pytest.mark.django_db

AS_OF = date(2026, 3, 10)
MARKETS_URL = reverse("leaderhub:markets")


@pytest.fixture
def world():
    # Created out of alphabetical order on purpose: the selector sorts them.
    boston = MarketFactory(name="Boston", short_name="BOS")
    austin = MarketFactory(name="Austin", short_name="AUS")
    denver = MarketFactory(name="Denver", short_name="DEN")
    return {"austin": austin, "boston": boston, "denver": denver}


@pytest.fixture
def manager(world, client):
    user = UserFactory(username="manager", roles=["Market manager"])
    LeaderAccessFactory(user=user, markets=[world["boston"], world["austin"]])
    client.force_login(user)
    return client


def metrics_row(model, **fields):
    return model.objects.create(as_of=AS_OF, **fields)


# Landing --------------------------------------------------------------------------------------


def test_market_manager_lands_on_the_leader_hub(manager):
    response = manager.get(reverse("leaderhub:index"))
    assert response.status_code == 302
    assert response["Location"] == MARKETS_URL


def test_lead_app_lands_on_their_own_hub_with_a_leaders_view_switch(world, client):
    user = UserFactory(username="lead", roles=["Lead APP"])
    LeaderAccessFactory(user=user, markets=[world["austin"]])
    ProviderFactory(first_name="Lee", last_name="Lead", user=user, markets=[world["austin"]])
    client.force_login(user)

    response = client.get(reverse("leaderhub:index"))
    assert response["Location"] == reverse("leaderhub:me")
    page = client.get(response["Location"]).content.decode()
    assert "My Performance Hub" in page
    assert (
        f'<a class="button secondary view-switch" href="{MARKETS_URL}">Leader\'s view</a>' in page
    )
    # The switch leads to the Leader Hub of their markets.
    assert client.get(MARKETS_URL).context["market"] == world["austin"]


def test_app_lands_on_their_own_hub_without_the_switch(world, client):
    user = UserFactory(username="app", roles=["APP"])
    ProviderFactory(first_name="Ada", last_name="App", user=user, markets=[world["austin"]])
    client.force_login(user)

    response = client.get(reverse("leaderhub:index"))
    assert response["Location"] == reverse("leaderhub:me")
    page = client.get(response["Location"]).content.decode()
    assert "Ada App" in page
    assert "Leader's view" not in page
    assert "view-switch" not in page
    # No market view for a provider without a leader role.
    assert client.get(MARKETS_URL)["Location"] == reverse("leaderhub:index")


def test_user_without_provider_or_markets_is_told_what_to_ask_for(client_for):
    client = client_for("APP")
    response = client.get(reverse("leaderhub:index"))
    assert response.status_code == 200
    assert "ask a platform administrator to link your account" in response.content.decode()

    manager = client_for("Market manager", username="lonely")
    page = manager.get(MARKETS_URL).content.decode()
    assert "no markets are assigned to you" in page


# Leader Hub -------------------------------------------------------------------------------------


def test_market_selector_lists_own_markets_alphabetically_first_is_default(manager, world):
    response = manager.get(MARKETS_URL)
    assert response.status_code == 200
    assert response.context["markets"] == [world["austin"], world["boston"]]
    assert response.context["market"] == world["austin"]
    options = re.findall(r'<option value="(\d+)"[^>]*>([^<]+)</option>', response.content.decode())
    assert [name for _, name in options[:2]] == ["Austin", "Boston"]
    assert "Denver" not in response.content.decode()

    chosen = manager.get(MARKETS_URL, {"market": world["boston"].pk})
    assert chosen.context["market"] == world["boston"]


def test_another_market_answers_404(manager, world):
    assert manager.get(MARKETS_URL, {"market": world["denver"].pk}).status_code == 404
    assert manager.get(MARKETS_URL, {"market": "abc"}).status_code == 404


def test_market_cards_show_value_change_goal_and_window(manager, world):
    metrics_row(
        MarketMetrics,
        market=world["austin"],
        visits=30,
        first_visit_date=date(2026, 2, 1),
        last_visit_date=date(2026, 3, 9),
        on_scene_median=42.0,  # goal 45, lower is better: met
        on_scene_count=30,
        on_scene_median_prev=45.0,  # 3 minutes faster than a week ago: better
        survey_capture_rate=55.0,  # goal 60: missed
        survey_capture_rate_prev=50.0,
        chart_closure_rate=95.0,
        chart_closure_count=12,  # fewer than 20 visits with a known closure: small sample
        chart_closure_rate_prev=95.0,
        nps=40.0,
        nps_count=25,  # 5 of the 30 visits without a score
        nps_prev=50.0,
    )
    response = manager.get(MARKETS_URL)
    cards = {figure.key: figure for figure in response.context["cards"]}
    assert list(cards) == [
        "on_scene_time",
        "survey_capture_rate",
        "chart_closure_rate",
        "net_promoter_score",
    ]
    assert cards["on_scene_time"].week_change == -3.0
    assert cards["on_scene_time"].meets_goal is True
    assert cards["survey_capture_rate"].meets_goal is False

    html = response.content.decode()
    on_scene = card_html(html, "On-scene time")
    assert "42 min" in on_scene
    assert "▼" in on_scene
    assert "3 min" in on_scene
    assert "change-better" in on_scene
    assert "goal-met" in on_scene
    assert "30 visits · 02/01/2026–03/09/2026" in on_scene
    survey = card_html(html, "Survey capture rate")
    assert "55%" in survey
    assert "▲" in survey
    assert "5 pts" in survey
    assert "goal-missed" in survey
    closure = card_html(html, "Chart closure rate")
    assert "12 visits" in closure
    assert "18 without a value" in closure
    assert "Small sample" in closure
    assert "▬" in closure
    nps = card_html(html, "NPS")
    assert "+40" in nps
    assert "5 without a score" in nps
    assert "change-worse" in nps
    assert "Small sample" not in nps


def card_html(html, label):
    """The <li> of the metric card with this caption."""
    match = re.search(
        rf'<li class="metric-card[^"]*">\s*<span class="caption">{re.escape(label)}</span>'
        r"(.*?)</li>",
        html,
        re.S,
    )
    assert match, f"no card {label}"
    return match.group(0)


@pytest.fixture
def ranked(world):
    """Austin: three APPs and two DHMTs with rollup rows; one provider elsewhere."""
    austin = world["austin"]
    people = {}
    for first, last, job, on_scene, prev, nps in [
        ("Ann", "Avery", "app", 40.004, 42.0, 60.0),
        ("Bob", "Brown", "app", 40.001, 40.0, 80.0),  # ties Ann on the value rounded to 2
        ("Cat", "Cole", "app", 55.0, 50.0, 20.0),
        ("Dan", "Dunn", "dhmt", 35.0, 35.0, 50.0),
        ("Eve", "Ewing", "dhmt", 38.0, None, 90.0),
    ]:
        provider = ProviderFactory(
            first_name=first,
            last_name=last,
            job_title=job,
            markets=[austin],
            avatar_url="" if first == "Eve" else f"https://example.org/{first}.png",
        )
        metrics_row(
            MarketProviderMetrics,
            market=austin,
            provider=provider,
            visits=40,
            on_scene_median=on_scene,
            on_scene_count=40,
            on_scene_median_prev=prev,
            nps=nps,
            nps_count=30,
            survey_capture_rate=70.0 if job == "dhmt" else 10.0,
        )
        people[first] = provider
    ProviderFactory(first_name="Zed", last_name="Zulu", markets=[world["denver"]])
    return people


def ranking(response):
    return [(row.provider.first_name, row.rank) for row in response.context["page"].object_list]


def test_rankings_on_scene_time_dense_rank_per_position(manager, ranked):
    response = manager.get(MARKETS_URL)
    assert response.context["metric"].key == "on_scene_time"
    rows = ranking(response)
    # Lower is better; APPs ranked against APPs, DHMTs against DHMTs; Ann and Bob tie.
    assert dict(rows) == {"Ann": 1, "Bob": 1, "Cat": 2, "Dan": 1, "Eve": 2}
    html = response.content.decode()
    assert f'href="{reverse("leaderhub:provider", args=[ranked["Cat"].pk])}"' in html
    assert 'alt="Photo of Cat Cole"' in html
    assert '<span class="avatar avatar-initials" aria-hidden="true">EE</span>' in html
    assert "Zed" not in html
    # Tabs are links carrying the metric.
    assert "metric=net_promoter_score" in html
    assert "metric=survey_capture_rate" in html


def test_rankings_tabs_search_and_position_filter(manager, ranked):
    nps = manager.get(MARKETS_URL, {"metric": "net_promoter_score"})
    assert ranking(nps)[0] == ("Bob", 1)  # 80 is the best APP NPS
    assert dict(ranking(nps))["Eve"] == 1

    # Survey capture rate is a DHMT metric: only DHMTs are ranked.
    survey = manager.get(MARKETS_URL, {"metric": "survey_capture_rate"})
    assert {name for name, _ in ranking(survey)} == {"Dan", "Eve"}

    dhmt = manager.get(MARKETS_URL, {"position": "dhmt"})
    assert dict(ranking(dhmt)) == {"Dan": 1, "Eve": 2}

    found = manager.get(MARKETS_URL, {"q": "col"})
    assert ranking(found) == [("Cat", 2)]  # the rank is still among all APPs

    html = found.content.decode()
    assert 'value="col"' in html


# Individual hub ---------------------------------------------------------------------------------


def test_individual_page_404_outside_scope(manager, world, ranked):
    outsider = ProviderFactory(markets=[world["denver"]])
    assert manager.get(reverse("leaderhub:provider", args=[outsider.pk])).status_code == 404
    inside = manager.get(reverse("leaderhub:provider", args=[ranked["Ann"].pk]))
    assert inside.status_code == 200


def test_app_cannot_open_a_colleague(world, client):
    user = UserFactory(username="app2", roles=["APP"])
    ProviderFactory(user=user, markets=[world["austin"]])
    colleague = ProviderFactory(markets=[world["austin"]])
    client.force_login(user)
    assert client.get(reverse("leaderhub:provider", args=[colleague.pk])).status_code == 404


@pytest.fixture
def individual(world):
    provider = ProviderFactory(
        first_name="Ivy", last_name="Ives", markets=[world["boston"], world["austin"]]
    )
    metrics_row(
        ProviderMetrics,
        provider=provider,
        visits=4,
        first_visit_date=date(2026, 3, 1),
        last_visit_date=date(2026, 3, 4),
        on_scene_median=38.5,
        on_scene_count=4,
        chart_closure_rate=75.0,
        chart_closure_count=4,
        survey_capture_rate=50.0,
        escalation_rate=25.0,
        abx_rate=50.0,
        abx_rate_prev=40.0,
        nps=50.0,
        nps_count=2,
        on_task_percent=64.0,
        on_task_percent_prev=60.0,
    )
    for market, on_scene in ((world["austin"], 30.0), (world["boston"], 45.0)):
        metrics_row(
            MarketProviderMetrics,
            market=market,
            provider=provider,
            visits=2,
            on_scene_median=on_scene,
            on_scene_count=2,
        )
    visits = [
        VisitFactory(
            provider=provider,
            market=world["austin"],
            service_date=date(2026, 3, day),
            patient_athena_id=f"ATH-{day}",
            patient_first_name="Pat",
            patient_last_name=f"Number{day}",
            abx_prescribed=day % 2 == 0,
            escalated=day == 3,
        )
        for day in (1, 2, 3, 4)
    ]
    return {"provider": provider, "visits": visits}


def test_individual_header_shows_the_position_metrics(manager, individual):
    response = manager.get(reverse("leaderhub:provider", args=[individual["provider"].pk]))
    keys = [figure.key for figure in response.context["header"]]
    # An APP: chart closure rate, not survey capture rate.
    assert keys == [
        "on_scene_time",
        "chart_closure_rate",
        "net_promoter_score",
        "on_task_percent",
        "escalation_rate",
        "abx_rate",
    ]
    html = response.content.decode()
    abx = card_html(html, "ABX rate")
    assert "50%" in abx
    assert "▲" in abx
    assert "10 pts" in abx
    assert "change-worse" in abx
    assert "Small sample" in abx
    assert "4 visits · 03/01/2026–03/04/2026" in abx
    assert "last 30 days of shifts" in card_html(html, "On-task %")
    assert "Survey capture rate" not in html


def test_performance_per_market_defaults_to_first_alphabetically(manager, individual, world):
    url = reverse("leaderhub:provider", args=[individual["provider"].pk])
    response = manager.get(url)
    assert [m.name for m in response.context["provider_markets"]] == ["Austin", "Boston"]
    assert response.context["market"] == world["austin"]
    assert response.context["market_figures"][0].value == 30.0
    boston = manager.get(url, {"market": world["boston"].pk})
    assert boston.context["market_figures"][0].value == 45.0
    assert manager.get(url, {"market": world["denver"].pk}).status_code == 404


def test_visits_filter_search_and_audit(manager, individual):
    url = reverse("leaderhub:provider", args=[individual["provider"].pk])
    response = manager.get(url)
    shown = [v.pk for v in response.context["visits_page"].object_list]
    assert len(shown) == 4
    views = AuditEvent.objects.filter(object_type="leaderhub.visit")
    event = views.get()
    assert event.action == AuditEvent.Action.VIEW
    assert event.object_type == "leaderhub.visit"
    assert sorted(event.object_ids) == sorted(str(pk) for pk in shown)
    assert event.actor.username == "manager"

    abx = manager.get(url, {"abx": "yes"})
    assert {v.patient_athena_id for v in abx.context["visits_page"].object_list} == {
        "ATH-2",
        "ATH-4",
    }
    escalated = manager.get(url, {"escalated": "yes"})
    assert [v.patient_athena_id for v in escalated.context["visits_page"].object_list] == ["ATH-3"]
    found = manager.get(url, {"q": "ath-3"})
    assert [v.patient_athena_id for v in found.context["visits_page"].object_list] == ["ATH-3"]
    html = found.content.decode()
    assert "Pat Number3" in html
    assert "ATH-3" in html
    assert "ATH-1" not in html
    assert views.count() == 4
    assert views.latest("pk").object_ids == [str(Visit.objects.get(patient_athena_id="ATH-3").pk)]


def test_my_hub_shows_own_figures_and_visits(world, client):
    user = UserFactory(username="dhmt", roles=["DHMT"])
    me = ProviderFactory(first_name="Dee", last_name="Em", job_title="dhmt", user=user,
                         markets=[world["denver"]])  # fmt: skip
    VisitFactory(provider=me, market=world["denver"], patient_athena_id="MINE-1")
    client.force_login(user)
    response = client.get(reverse("leaderhub:me"))
    assert response.context["provider"] == me
    keys = [figure.key for figure in response.context["header"]]
    assert "survey_capture_rate" in keys
    assert "chart_closure_rate" not in keys
    assert "MINE-1" in response.content.decode()
    assert AuditEvent.objects.filter(object_type="leaderhub.visit").count() == 1


# Shifts -----------------------------------------------------------------------------------------


@pytest.fixture
def shift(individual, world):
    today = timezone.localdate()
    shift = ProviderShiftFactory(
        provider=individual["provider"], market=world["austin"], service_date=today, on_break=0
    )
    stages = ["en_route", "on_scene", "idle", "en_route", "on_scene"]
    for index, stage in enumerate(stages):
        ShiftBreakdownFactory(
            shift=shift,
            start=shift.start + timedelta(minutes=30 * index),
            stage=stage,
            latitude_e6=42_360_000 + 1000 * index,
            longitude_e6=-71_058_000 - 1500 * index,
        )
    return shift


def test_shift_table_lists_shifts_and_flags_a_skipped_break(manager, individual, shift):
    url = reverse("leaderhub:provider", args=[individual["provider"].pk])
    response = manager.get(url)
    assert list(response.context["shifts_page"].object_list) == [shift]
    html = response.content.decode()
    local_start = timezone.localtime(shift.start)
    assert f"{shift.service_date:%m/%d/%Y}" in html
    assert local_start.strftime("%-I:%M %p") in html
    assert "Break skipped" in html
    assert "2:30" in html  # 9000 seconds en route as h:mm
    assert reverse("leaderhub:shift", args=[shift.pk]) in html


def test_shifts_are_paginated_ten_per_page(manager, individual, world):
    today = timezone.localdate()
    for n in range(12):
        ProviderShiftFactory(
            provider=individual["provider"],
            market=world["austin"],
            service_date=today - timedelta(days=n),
        )
    url = reverse("leaderhub:provider", args=[individual["provider"].pk])
    first = manager.get(url)
    assert len(first.context["shifts_page"].object_list) == 10
    second = manager.get(url, {"shifts_page": 2})
    assert len(second.context["shifts_page"].object_list) == 2


def test_shift_details_render_an_svg_timeline_one_segment_per_breakdown(manager, shift):
    response = manager.get(reverse("leaderhub:shift", args=[shift.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    svg = re.search(r'<svg class="chart chart-timeline".*?</svg>', html, re.S).group(0)
    assert "<title>" in svg
    assert "<desc>" in svg
    segments = re.findall(r'<rect class="chart-segment chart-segment-([a-z-]+)"', svg)
    assert segments == ["en-route", "on-scene", "idle", "en-route", "on-scene"]
    assert "Timeline table" in html
    # The breakdowns carry coordinates: the route is drawn as a polyline.
    route = re.search(r'<svg class="chart chart-route".*?</svg>', html, re.S).group(0)
    assert len(re.search(r'points="([^"]+)"', route).group(1).split()) == 5


def test_shift_outside_scope_answers_404(client_for, shift):
    other = client_for("Market manager", username="elsewhere")
    assert other.get(reverse("leaderhub:shift", args=[shift.pk])).status_code == 404


# Query counts -------------------------------------------------------------------------------------


def test_leader_hub_query_count_does_not_grow_with_rows(
    manager, ranked, world, django_assert_max_num_queries
):
    for n in range(15):
        provider = ProviderFactory(markets=[world["austin"]])
        metrics_row(MarketProviderMetrics, market=world["austin"], provider=provider,
                    on_scene_median=30 + n)  # fmt: skip
    with django_assert_max_num_queries(16):
        response = manager.get(MARKETS_URL)
    assert response.status_code == 200
    assert len(response.context["page"].object_list) == 20


def test_individual_page_query_count_is_bounded(
    manager, individual, shift, django_assert_max_num_queries
):
    for _n in range(10):
        VisitFactory(provider=individual["provider"], market=individual["visits"][0].market)
    # + 1 for the unread-notice badge in the header
    with django_assert_max_num_queries(21):
        response = manager.get(reverse("leaderhub:provider", args=[individual["provider"].pk]))
    assert response.status_code == 200
