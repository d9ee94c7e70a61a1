"""The Leader Hub API (/v1/leader-hub-metrics/). Rollup rows are written directly, with
figures chosen by hand, so every expected rank, change and flag is worked out in the test."""

from datetime import date, datetime, timedelta
from urllib.parse import urlencode

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from leaderhub import selectors
from leaderhub.models import (
    MarketActiveProvider,
    MarketMetrics,
    MarketProviderMetrics,
    Provider,
    ProviderMetrics,
)
from opsintel.models import AuditEvent
from tests.leaderhub.factories import (
    LeaderAccessFactory,
    MarketFactory,
    ProviderFactory,
    ProviderShiftFactory,
    ShiftBreakdownFactory,
    VisitFactory,
    at,
)

pytestmark = pytest.mark.django_db

TODAY = date(2026, 3, 10)
APP, DHMT = Provider.Position.APP, Provider.Position.DHMT


def url(name, *args, **query):
    path = reverse(f"leaderhub-api:{name}", args=args)
    return path + ("?" + urlencode(query) if query else "")


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch):
    monkeypatch.setattr(selectors, "today_local", lambda: TODAY)


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def as_user(api):
    def login(user):
        api.force_authenticate(user)
        return api

    return login


def mpm(market, provider, **figures):
    """A MarketProviderMetrics row with the given figures (the rest unknown)."""
    figures.setdefault("visits", 40)
    return MarketProviderMetrics.objects.create(
        market=market, provider=provider, as_of=TODAY, **figures
    )


def provider(last, job_title=APP, markets=()):
    return ProviderFactory(first_name="Pat", last_name=last, job_title=job_title, markets=markets)


@pytest.fixture
def world(make_user):
    """Market A (overseen by `manager`) with 5 APPs and 2 DHMTs, market B with `outsider`
    (an APP only in B), and `app` = the APP Adams, who works in A and B and has an account."""
    a = MarketFactory(name="Alpha", short_name="ALP")
    b = MarketFactory(name="Bravo", short_name="BRV")
    manager = make_user("Market manager", username="manager")
    LeaderAccessFactory(user=manager, markets=[a])
    app_user = make_user("APP", username="adams")
    adams = ProviderFactory(
        first_name="Ann", last_name="Adams", job_title=APP, user=app_user, markets=[a, b]
    )
    w = {
        "a": a,
        "b": b,
        "manager": manager,
        "app_user": app_user,
        "adams": adams,
        "baker": provider("Baker", markets=[a]),
        "clark": provider("Clark", markets=[a]),
        "davis": provider("Davis", markets=[a]),
        "evans": provider("Evans", markets=[a]),
        "dhmt_fox": provider("Fox", DHMT, markets=[a]),
        "dhmt_gray": provider("Gray", DHMT, markets=[a]),
        "outsider": provider("Outsider", markets=[b]),
    }
    return w


@pytest.fixture
def ranked(world):
    """Figures of market A, chosen for ties after rounding, nulls, and APP vs DHMT:

    on-scene (lower is better)   NPS (higher is better)
      Adams  30.004 → 30.00  #2    80  (prev 75 → +5)  #1
      Baker  29.996 → 30.00  #2    60                  #3
      Clark  35.0            #3    80                  #1
      Davis  25.5            #1    —                   no rank
      Evans  —          no rank    70                  #2
      Fox    50.0  (DHMT)    #2    90  (DHMT)          #1
      Gray   20.0  (DHMT)    #1    —
    Each DHMT would be #1 / #4 overall: they are ranked among DHMTs only.
    """
    a, w = world["a"], world
    mpm(a, w["adams"], on_scene_median=30.004, on_scene_median_prev=31.004, nps=80, nps_prev=75)
    mpm(a, w["baker"], on_scene_median=29.996, nps=60, chart_closure_rate=91.0)
    mpm(a, w["clark"], on_scene_median=35.0, nps=80, chart_closure_rate=88.5)
    mpm(a, w["davis"], on_scene_median=25.5, chart_closure_rate=99.0)
    mpm(a, w["evans"], nps=70)
    mpm(a, w["dhmt_fox"], on_scene_median=50.0, nps=90, survey_capture_rate=55.0)
    mpm(a, w["dhmt_gray"], on_scene_median=20.0, survey_capture_rate=65.0)
    # Outsider's row in A does not count: not active in A any more.
    mpm(a, w["outsider"], on_scene_median=1.0, nps=100)
    return w


def rows(response):
    assert response.status_code == 200, response.content
    return [
        (row["name"].split()[-1], row["position"], row["value"], row["rank"])
        for row in response.json()["results"]
    ]


# Rankings ---------------------------------------------------------------------------------------


def test_on_scene_ranking_dense_ties_nulls_last_and_positions_apart(as_user, ranked):
    response = as_user(ranked["manager"]).get(url("market-providers", ranked["a"].pk))
    assert rows(response) == [
        ("Davis", APP, 25.5, 1),
        ("Gray", DHMT, 20.0, 1),
        ("Adams", APP, 30.004, 2),
        ("Baker", APP, 29.996, 2),
        ("Fox", DHMT, 50.0, 2),
        ("Clark", APP, 35.0, 3),
        ("Evans", APP, None, None),
    ]
    first = response.json()["results"][0]
    assert first["provider_id"] == ranked["davis"].pk
    assert first["avatar_url"] == ranked["davis"].avatar_url
    assert response.json()["count"] == 7


def test_nps_ranking_higher_is_better_with_week_change(as_user, ranked):
    response = as_user(ranked["manager"]).get(
        url("market-providers", ranked["a"].pk, metric_type="net_promoter_score", position="app")
    )
    assert rows(response) == [
        ("Adams", APP, 80.0, 1),
        ("Clark", APP, 80.0, 1),
        ("Evans", APP, 70.0, 2),
        ("Baker", APP, 60.0, 3),
        ("Davis", APP, None, None),
    ]
    changes = {row["name"]: row["week_change"] for row in response.json()["results"]}
    assert changes["Ann Adams"] == pytest.approx(5.0)  # 80 − 75
    assert changes["Pat Clark"] is None  # no figure a week earlier


def test_ranks_ignore_search_and_orderings_keep_nulls_last(as_user, ranked):
    client = as_user(ranked["manager"])
    market = ranked["a"].pk
    # Clark is still #3 of the market when the list is searched down to him.
    found = client.get(url("market-providers", market, search="clark"))
    assert rows(found) == [("Clark", APP, 35.0, 3)]
    assert rows(client.get(url("market-providers", market, search="pat ev"))) == [
        ("Evans", APP, None, None)
    ]

    worst_first = client.get(url("market-providers", market, position="app", ordering="-rank"))
    assert [r[0] for r in rows(worst_first)] == ["Clark", "Adams", "Baker", "Davis", "Evans"]
    by_name = client.get(url("market-providers", market, position="dhmt", ordering="-name"))
    assert [r[0] for r in rows(by_name)] == ["Gray", "Fox"]
    by_value = client.get(url("market-providers", market, position="app", ordering="-value"))
    assert [r[0] for r in rows(by_value)] == ["Clark", "Adams", "Baker", "Davis", "Evans"]


def test_position_only_metrics(as_user, ranked):
    client = as_user(ranked["manager"])
    market = ranked["a"].pk
    closure = client.get(url("market-providers", market, metric_type="chart_closure_rate"))
    assert rows(closure) == [
        ("Davis", APP, 99.0, 1),
        ("Baker", APP, 91.0, 2),
        ("Clark", APP, 88.5, 3),
        ("Adams", APP, None, None),
        ("Evans", APP, None, None),
    ]
    survey = client.get(url("market-providers", market, metric_type="survey_capture_rate"))
    assert rows(survey) == [("Gray", DHMT, 65.0, 1), ("Fox", DHMT, 55.0, 2)]
    # Asking for the other position is a 400 naming it.
    wrong = client.get(
        url("market-providers", market, metric_type="chart_closure_rate", position="dhmt")
    )
    assert wrong.status_code == 400
    assert "position" in wrong.json()


def test_small_sample_flag_on_ranking_rows(as_user, world):
    mpm(world["a"], world["adams"], visits=19, on_scene_count=19, on_scene_median=30.0)
    mpm(world["a"], world["baker"], visits=25, on_scene_count=20, on_scene_median=31.0)
    response = as_user(world["manager"]).get(url("market-providers", world["a"].pk))
    flags = {row["name"]: row["small_sample"] for row in response.json()["results"]}
    assert flags == {"Ann Adams": True, "Pat Baker": False}


def test_bad_ranking_parameters_are_400s_naming_them(as_user, ranked):
    client = as_user(ranked["manager"])
    market = ranked["a"].pk
    for query, field in [
        ({"metric_type": "speed"}, "metric_type"),
        ({"position": "doctor"}, "position"),
        ({"ordering": "salary"}, "ordering"),
        ({"page_size": "-5"}, "page_size"),
        ({"page_size": "ten"}, "page_size"),
        ({"page": "0"}, "page"),
        ({"page": "x"}, "page"),
    ]:
        response = client.get(url("market-providers", market, **query))
        assert response.status_code == 400, query
        assert field in response.json(), query


def test_providers_list_query_count_does_not_grow_with_page_size(
    as_user, world, django_assert_max_num_queries
):
    a = world["a"]
    extra = ProviderFactory.create_batch(60, first_name="Sam", job_title=APP, markets=[a])
    MarketProviderMetrics.objects.bulk_create(
        MarketProviderMetrics(
            market=a, provider=p, as_of=TODAY, visits=80, on_scene_median=20 + n % 7, nps=n
        )
        for n, p in enumerate(extra)
    )
    client = as_user(world["manager"])
    client.get(url("market-providers", a.pk))  # loads the user's permissions once
    # The market (scope), the count, the page; plus the savepoint pair of ATOMIC_REQUESTS.
    for size in (5, 50):
        with django_assert_max_num_queries(5):
            response = client.get(
                url("market-providers", a.pk, page_size=size, search="sam", ordering="-value")
            )
        assert len(response.json()["results"]) == size


# Market and provider figures ----------------------------------------------------------------


def test_market_figures_with_week_change_goal_window_and_small_sample(as_user, world):
    MarketMetrics.objects.create(
        market=world["a"],
        as_of=TODAY,
        visits=15,
        first_visit_date=date(2026, 2, 1),
        last_visit_date=date(2026, 3, 9),
        on_scene_median=42.5,
        on_scene_median_prev=45.0,
        on_scene_count=14,
        chart_closure_rate=80.0,
        chart_closure_count=12,
        survey_capture_rate=60.0,
        survey_capture_rate_prev=50.0,
        nps=50.0,
        nps_count=10,
        on_task_percent=70.0,
    )
    body = as_user(world["manager"]).get(url("market", world["a"].pk)).json()
    assert body["market"]["name"] == "Alpha"
    assert body["window"] == {
        "as_of": "2026-03-10",
        "first_visit_date": "2026-02-01",
        "last_visit_date": "2026-03-09",
        "visits": 15,
        "small_sample": True,
    }
    on_scene = body["metrics"]["on_scene_time"]
    assert on_scene["value"] == 42.5
    assert on_scene["week_change"] == -2.5  # 42.5 − 45.0
    assert on_scene["goal"] == 45.0
    assert on_scene["meets_goal"] is True  # lower is better
    assert (on_scene["used"], on_scene["without_value"]) == (14, 1)
    assert on_scene["small_sample"] is True
    survey = body["metrics"]["survey_capture_rate"]
    assert (survey["week_change"], survey["meets_goal"]) == (10.0, True)
    closure = body["metrics"]["chart_closure_rate"]
    assert (closure["week_change"], closure["goal"], closure["meets_goal"]) == (None, 90.0, False)
    assert (closure["used"], closure["without_value"]) == (12, 3)
    nps = body["metrics"]["net_promoter_score"]
    assert (nps["value"], nps["used"], nps["without_value"]) == (50.0, 10, 5)
    on_task = body["metrics"]["on_task_percent"]
    assert (on_task["value"], on_task["used"]) == (70.0, None)
    assert set(body["metrics"]) == set(selectors.HEADER_METRICS)


def test_market_without_rollup_yet_has_null_figures(as_user, world):
    body = as_user(world["manager"]).get(url("market", world["a"].pk)).json()
    assert body["window"]["visits"] == 0
    assert body["metrics"]["net_promoter_score"]["value"] is None


def test_large_sample_is_not_flagged(as_user, world):
    MarketMetrics.objects.create(
        market=world["a"], as_of=TODAY, visits=20, on_scene_count=20, nps_count=19, nps=10.0
    )
    body = as_user(world["manager"]).get(url("market", world["a"].pk)).json()
    assert body["window"]["small_sample"] is False
    assert body["metrics"]["on_scene_time"]["small_sample"] is False
    assert body["metrics"]["net_promoter_score"]["small_sample"] is True  # 19 scored


def test_provider_figures_and_markets_in_scope(as_user, world):
    adams = world["adams"]
    ProviderMetrics.objects.create(
        provider=adams,
        as_of=TODAY,
        visits=80,
        on_scene_median=33.0,
        on_scene_median_prev=30.0,
        on_scene_count=80,
        chart_closure_rate=95.0,
        chart_closure_count=80,
        survey_capture_rate=10.0,
        escalation_rate=2.5,
        abx_rate=12.5,
    )
    mpm(world["a"], adams, on_scene_median=31.0, chart_closure_rate=94.0, on_task_percent=60.0)
    mpm(world["b"], adams, on_scene_median=36.0, nps=40.0)

    body = as_user(world["manager"]).get(url("provider", adams.pk)).json()
    assert body["provider"]["name"] == "Ann Adams"
    assert body["provider"]["position"] == "app"
    metrics = body["metrics"]
    assert metrics["on_scene_time"]["week_change"] == 3.0
    assert metrics["chart_closure_rate"]["value"] == 95.0
    assert metrics["survey_capture_rate"] is None  # a DHMT metric
    assert (metrics["escalation_rate"]["value"], metrics["abx_rate"]["value"]) == (2.5, 12.5)
    # The manager oversees A only: B's figures are not theirs to read.
    assert [m["market"]["name"] for m in body["markets"]] == ["Alpha"]
    alpha = body["markets"][0]["metrics"]
    assert (alpha["on_scene_time"]["value"], alpha["on_task_percent"]["value"]) == (31.0, 60.0)
    assert alpha["survey_capture_rate"] is None

    own = as_user(world["app_user"]).get(url("provider", adams.pk)).json()
    assert [m["market"]["name"] for m in own["markets"]] == ["Alpha", "Bravo"]
    assert own["markets"][1]["metrics"]["net_promoter_score"]["value"] == 40.0


# Visits, shifts, breakdowns -----------------------------------------------------------------


@pytest.fixture
def visits(world):
    adams, a, b = world["adams"], world["a"], world["b"]
    return {
        "roe": VisitFactory(
            provider=adams,
            market=a,
            service_date=TODAY,
            patient_first_name="Jane",
            patient_last_name="Roe",
            patient_athena_id="ATH100",
            abx_prescribed=True,
            abx_details="Amoxicillin",
        ),
        "poe": VisitFactory(
            provider=adams,
            market=a,
            service_date=TODAY - timedelta(days=1),
            patient_first_name="Edgar",
            patient_last_name="Poe",
            patient_athena_id="ATH200",
            escalated=True,
            escalation_reason="Chest pain",
        ),
        "in_b": VisitFactory(provider=adams, market=b, service_date=TODAY - timedelta(days=2)),
        "baker": VisitFactory(provider=world["baker"], market=a),
    }


def visit_ids(response):
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_visits_filters_columns_and_scope(as_user, world, visits):
    adams = world["adams"]
    client = as_user(world["manager"])
    # The manager reads Adams's visits in A only, newest first.
    assert visit_ids(client.get(url("provider-visits", adams.pk))) == [
        visits["roe"].pk,
        visits["poe"].pk,
    ]
    for search in ("ath1", "jane r", "ROE"):
        found = client.get(url("provider-visits", adams.pk, search=search))
        assert visit_ids(found) == [visits["roe"].pk], search
    assert visit_ids(client.get(url("provider-visits", adams.pk, abx="true"))) == [visits["roe"].pk]
    assert visit_ids(client.get(url("provider-visits", adams.pk, abx="false"))) == [
        visits["poe"].pk
    ]
    assert visit_ids(client.get(url("provider-visits", adams.pk, escalated="true"))) == [
        visits["poe"].pk
    ]
    row = client.get(url("provider-visits", adams.pk, escalated="true")).json()["results"][0]
    assert row["patient_name"] == "Edgar Poe"
    assert row["patient_athena_id"] == "ATH200"
    assert (row["escalated"], row["escalation_reason"], row["abx"]) == (True, "Chest pain", False)
    assert row["on_scene_minutes"] == "40.00"
    assert row["nps_score"] == 9
    # Adams reads all of their own visits.
    own = as_user(world["app_user"]).get(url("provider-visits", adams.pk))
    assert len(visit_ids(own)) == 3

    bad = client.get(url("provider-visits", adams.pk, abx="maybe"))
    assert bad.status_code == 400
    assert "abx" in bad.json()


def test_visit_list_is_audited_with_the_ids_on_the_page(as_user, world, visits):
    adams = world["adams"]
    AuditEvent.objects.all().delete()
    response = as_user(world["manager"]).get(url("provider-visits", adams.pk, page_size=1))
    assert response.status_code == 200
    event = AuditEvent.objects.get()
    assert (event.action, event.actor, event.object_type) == (
        "view",
        world["manager"],
        "leaderhub.visit",
    )
    assert event.object_ids == [str(visits["roe"].pk)]
    assert event.object_count == 1


@pytest.fixture
def shifts(world):
    adams, a, b = world["adams"], world["a"], world["b"]
    in_window = [
        ProviderShiftFactory(provider=adams, market=a, service_date=TODAY - timedelta(days=n))
        for n in range(11)  # 11 shifts: today back to 10 days ago
    ]
    oldest_in = ProviderShiftFactory(
        provider=adams, market=a, service_date=TODAY - timedelta(days=29), on_break=0
    )
    too_old = ProviderShiftFactory(
        provider=adams, market=a, service_date=TODAY - timedelta(days=30)
    )
    in_b = ProviderShiftFactory(provider=adams, market=b, service_date=TODAY)
    return {"in_window": in_window, "oldest_in": oldest_in, "too_old": too_old, "in_b": in_b}


def test_shifts_last_days_pagination_and_columns(as_user, world, shifts):
    adams = world["adams"]
    client = as_user(world["manager"])
    first = client.get(url("provider-shifts", adams.pk))
    body = first.json()
    assert body["count"] == 12  # 11 + the one 29 days ago; not 30 days ago, not market B
    assert len(body["results"]) == 10
    assert body["results"][0]["id"] == shifts["in_window"][0].pk
    second = client.get(url("provider-shifts", adams.pk, page=2)).json()["results"]
    assert second[-1]["id"] == shifts["oldest_in"].pk
    assert second[-1]["break_skipped"] is True
    row = body["results"][0]
    assert row["service_date"] == "2026-03-10"
    assert datetime.fromisoformat(row["start"]) == at(TODAY, 8)  # shown in local time
    assert (row["out_the_door"], row["en_route"], row["on_scene"], row["idle"]) == (
        1800,
        9000,
        14400,
        9000,
    )
    assert (row["on_break"], row["patients_seen"], row["break_skipped"]) == (1800, 6, False)

    today_only = client.get(url("provider-shifts", adams.pk, last_days=1)).json()
    assert [r["id"] for r in today_only["results"]] == [shifts["in_window"][0].pk]
    own = as_user(world["app_user"]).get(url("provider-shifts", adams.pk, last_days=1)).json()
    assert {r["id"] for r in own["results"]} == {shifts["in_window"][0].pk, shifts["in_b"].pk}

    for bad in ("0", "-3", "week"):
        response = client.get(url("provider-shifts", adams.pk, last_days=bad))
        assert response.status_code == 400, bad
        assert "last_days" in response.json(), bad


def test_shift_breakdowns_ordered_by_start(as_user, world):
    shift = ProviderShiftFactory(provider=world["adams"], market=world["a"], service_date=TODAY)
    later = ShiftBreakdownFactory(
        shift=shift,
        start=at(TODAY, 9),
        stage="on_scene",
        latitude_e6=39739236,
        longitude_e6=-104990251,
    )
    first = ShiftBreakdownFactory(shift=shift, start=at(TODAY, 8), stage="en_route")
    response = as_user(world["manager"]).get(url("provider-shift-breakdowns", shift.pk))
    assert response.status_code == 200
    body = response.json()
    assert [row["id"] for row in body] == [first.pk, later.pk]
    segment = body[1]
    assert (segment["id"], segment["stage"]) == (later.pk, "on_scene")
    assert (segment["latitude_e6"], segment["longitude_e6"]) == (39739236, -104990251)
    # Times are written in local time (TIME_ZONE); the instants are 09:00–09:30 UTC.
    assert datetime.fromisoformat(segment["start"]) == at(TODAY, 9)
    assert datetime.fromisoformat(segment["end"]) == at(TODAY, 9, 30)


# Access -----------------------------------------------------------------------------------------


def status_of(client, name, *args):
    return client.get(url(name, *args)).status_code


def test_market_manager_scope(as_user, world):
    client = as_user(world["manager"])
    a, b, outsider = world["a"], world["b"], world["outsider"]
    shift_b = ProviderShiftFactory(provider=outsider, market=b)
    VisitFactory(provider=outsider, market=b)
    assert status_of(client, "market", a.pk) == 200
    assert status_of(client, "market-providers", a.pk) == 200
    assert status_of(client, "market", b.pk) == 404
    assert status_of(client, "market-providers", b.pk) == 404
    assert status_of(client, "provider", outsider.pk) == 404
    assert status_of(client, "provider-visits", outsider.pk) == 404
    assert status_of(client, "provider-shifts", outsider.pk) == 404
    assert status_of(client, "provider-shift-breakdowns", shift_b.pk) == 404
    # Adams works in A (and B): readable.
    assert status_of(client, "provider", world["adams"].pk) == 200
    # Adams's shift in B is outside the manager's markets.
    adams_in_b = ProviderShiftFactory(provider=world["adams"], market=b)
    assert status_of(client, "provider-shift-breakdowns", adams_in_b.pk) == 404
    # A market's ranking never lists someone no longer active there.
    MarketActiveProvider.objects.filter(provider=world["baker"]).delete()
    mpm(a, world["baker"], on_scene_median=10.0)
    assert rows(client.get(url("market-providers", a.pk))) == []
    assert status_of(client, "provider", world["baker"].pk) == 404


def test_provider_reads_only_their_own(as_user, world):
    client = as_user(world["app_user"])
    adams, a = world["adams"], world["a"]
    shift = ProviderShiftFactory(provider=adams, market=world["b"])
    assert status_of(client, "provider", adams.pk) == 200
    assert status_of(client, "provider-visits", adams.pk) == 200
    assert status_of(client, "provider-shifts", adams.pk) == 200
    assert status_of(client, "provider-shift-breakdowns", shift.pk) == 200
    assert status_of(client, "market", a.pk) == 403
    assert status_of(client, "market-providers", a.pk) == 403
    assert status_of(client, "provider", world["baker"].pk) == 404
    assert status_of(client, "provider-visits", world["baker"].pk) == 404
    assert status_of(client, "provider-shifts", world["baker"].pk) == 404
    other_shift = ProviderShiftFactory(provider=world["baker"], market=a)
    assert status_of(client, "provider-shift-breakdowns", other_shift.pk) == 404


def test_lead_app_is_a_leader(as_user, world, make_user):
    lead = make_user("Lead APP", username="lead")
    LeaderAccessFactory(user=lead, markets=[world["b"]])
    client = as_user(lead)
    assert status_of(client, "market", world["b"].pk) == 200
    assert status_of(client, "market", world["a"].pk) == 404
    assert status_of(client, "provider", world["outsider"].pk) == 200


def test_leaderhub_role_required_and_ids_are_numeric(api, as_user, world, make_user):
    a, adams = world["a"], world["adams"]
    shift = ProviderShiftFactory(provider=adams, market=a)
    endpoints = [
        ("market", a.pk),
        ("market-providers", a.pk),
        ("provider", adams.pk),
        ("provider-visits", adams.pk),
        ("provider-shifts", adams.pk),
        ("provider-shift-breakdowns", shift.pk),
    ]
    for name, pk in endpoints:
        assert status_of(api, name, pk) == 401, name
    client = as_user(make_user("Care manager"))
    for name, pk in endpoints:
        assert status_of(client, name, pk) == 403, name
    assert client.get(url("api-root")).status_code == 403
    AuditEvent.objects.all().delete()
    as_user(world["manager"])
    for path in (
        "/v1/leader-hub-metrics/markets/abc",
        "/v1/leader-hub-metrics/providers/1x/provider-visits",
        "/v1/leader-hub-metrics/provider-shifts/-1/provider-shift-breakdowns",
    ):
        assert api.get(path).status_code == 404, path
    assert not AuditEvent.objects.filter(object_type="leaderhub.visit").exists()


def test_api_root_lists_the_endpoints_and_the_users_markets(as_user, world):
    client = as_user(world["manager"])
    endpoints = client.get(reverse("api:root")).json()["endpoints"]
    assert endpoints["leaderhub"].endswith("/v1/leader-hub-metrics/")
    root = client.get(endpoints["leaderhub"]).json()
    assert root["endpoints"]["market_providers"].endswith(
        "/v1/leader-hub-metrics/markets/{market_id}/providers"
    )
    assert [m["name"] for m in root["my_markets"]] == ["Alpha"]
    assert root["my_provider_id"] is None
    assert as_user(world["app_user"]).get(endpoints["leaderhub"]).json()["my_provider_id"] == (
        world["adams"].pk
    )


def test_exact_paths():
    assert url("market", 7) == "/v1/leader-hub-metrics/markets/7"
    assert url("market-providers", 7) == "/v1/leader-hub-metrics/markets/7/providers"
    assert url("provider", 7) == "/v1/leader-hub-metrics/providers/7"
    assert url("provider-visits", 7) == "/v1/leader-hub-metrics/providers/7/provider-visits"
    assert url("provider-shifts", 7) == "/v1/leader-hub-metrics/providers/7/provider-shifts"
    assert (
        url("provider-shift-breakdowns", 7)
        == "/v1/leader-hub-metrics/provider-shifts/7/provider-shift-breakdowns"
    )
