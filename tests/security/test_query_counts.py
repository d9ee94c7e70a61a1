"""Slow-query review: the heaviest pages run the same number of queries whether they show N rows
or about 3N, so an N+1 (a query per row shown) fails here.

Each test builds N rows, counts the queries of a second request to the page (the first warms
per-process caches such as content types), adds about 2N more rows, counts again and asserts
the two counts are equal and that the page shows the new rows. Pages whose app tests already
pin this (advocacy dashboards and case list, rcm work queue / claim list / dashboard / claim
detail, engagement schedule / dashboard / task list) are not repeated here.
"""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from campaigns import services as campaign_services
from campaigns.selectors import today_local
from engagement.models import FollowUpTask
from leaderhub.models import MarketProviderMetrics, ProviderMetrics
from tests.advocacy.factories import AdvocateUserFactory, case_with_history
from tests.campaigns.factories import CoordinatorFactory, InterventionFactory, MeasureFactory
from tests.engagement.factories import LocationFactory, PatientFactory, StaffUserFactory, at
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


def signed_in(user):
    client = Client()
    client.force_login(user)
    return client


def count_queries(client, url, params=None):
    """(queries of one GET, the response), after a warm-up GET of the same page."""
    client.get(url, params or {})
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params or {})
        body = b"".join(response.streaming_content) if response.streaming else response.content
    assert response.status_code == 200, (url, response.status_code)
    response.body = body.decode()
    return len(captured), response


def assert_constant(counts_before, counts_after):
    assert counts_after == counts_before, (
        "queries grew with the rows shown (page: before → after): "
        + ", ".join(
            f"{page}: {counts_before[page]} → {counts_after[page]}"
            for page in counts_before
            if counts_before[page] != counts_after[page]
        )
    )


# Campaigns: dashboard, list, detail, CRM and call-list exports, coordinator pages -------------


def test_campaign_pages_do_not_grow_with_campaigns_and_assignments():
    manager = UserFactory(username="qc-manager", roles=["Care manager"])
    coordinators = CoordinatorFactory.create_batch(4)
    measures = [MeasureFactory(code="HBA1C"), MeasureFactory(code="COL")]
    today = today_local()

    def campaign_of(size, coordinator_count):
        work = [
            InterventionFactory(
                measure=measures[n % 2], intervention_date=today + timedelta(days=1 + n % 20)
            )
            for n in range(size)
        ]
        return campaign_services.create_campaign(
            created_by=manager,
            name=f"Campaign of {size}",
            intervention_ids=[i.pk for i in work],
            coordinator_count=coordinator_count,
            target_completion_date=today + timedelta(days=30),
        )

    manager_client = signed_in(manager)

    def manager_pages(campaign):
        return {
            "dashboard": reverse("campaigns:dashboard"),
            "list": reverse("campaigns:list"),
            "detail": reverse("campaigns:detail", args=[campaign.pk]),
            "crm export": reverse("campaigns:export_crm", args=[campaign.pk]),
            "call-list export": reverse("campaigns:export_call_list", args=[campaign.pk]),
            "call list": reverse("campaigns:call_list", args=[campaign.pk]),
        }

    small = campaign_of(6, 2)
    # A coordinator in both campaigns (the big one takes all four).
    coordinator = small.assignments.select_related("coordinator__user").first().coordinator
    coordinator_client = signed_in(coordinator.user)
    coordinator_pages = {
        "my list": reverse("campaigns:my_list"),
        "mobile": reverse("campaigns:mobile"),
    }

    def counts(campaign):
        result = {}
        for name, url in manager_pages(campaign).items():
            result[name], _ = count_queries(manager_client, url)
        for name, url in coordinator_pages.items():
            result[name], _ = count_queries(coordinator_client, url)
        return result

    before = counts(small)
    big = campaign_of(18, 4)
    assert big.assignments.count() == 18
    assert {a.coordinator_id for a in big.assignments.all()} == {c.pk for c in coordinators}
    after = counts(big)
    assert_constant(before, after)
    _, export = count_queries(manager_client, reverse("campaigns:export_crm", args=[big.pk]))
    assert export.body.count("\n") >= 19  # header + 18 rows: the bigger campaign was measured


# Leader Hub: market hub, provider hub, own hub, shift timeline ----------------------------------

AS_OF = date(2026, 3, 10)


def test_leader_hub_pages_do_not_grow_with_providers_visits_shifts_and_segments():
    austin = MarketFactory(name="Austin", short_name="AUS")
    manager = UserFactory(username="qc-market", roles=["Market manager"])
    LeaderAccessFactory(user=manager, markets=[austin])
    client = signed_in(manager)
    own_user = UserFactory(username="qc-app", roles=["APP"])
    provider = ProviderFactory(first_name="Ivy", last_name="Ives", user=own_user, markets=[austin])
    ProviderMetrics.objects.create(as_of=AS_OF, provider=provider, visits=4, on_scene_median=38)
    own_client = signed_in(own_user)
    today = timezone.localdate()
    shift = ProviderShiftFactory(provider=provider, market=austin, service_date=today)

    def grow(n, offset):
        for i in range(n):
            other = ProviderFactory(markets=[austin], job_title="app")
            MarketProviderMetrics.objects.create(
                as_of=AS_OF, market=austin, provider=other, visits=40, on_scene_median=30 + i
            )
            VisitFactory(provider=provider, market=austin, service_date=today)
            ProviderShiftFactory(
                provider=provider, market=austin, service_date=today - timedelta(days=1 + i)
            )
            ShiftBreakdownFactory(
                shift=shift,
                start=shift.start + timedelta(minutes=30 * (offset + i)),
                stage="en_route" if i % 2 else "on_scene",
                latitude_e6=42_360_000 + 1000 * (offset + i),
                longitude_e6=-71_058_000 - 1500 * (offset + i),
            )

    pages = {
        "markets": (client, reverse("leaderhub:markets")),
        "provider": (client, reverse("leaderhub:provider", args=[provider.pk])),
        "shift": (client, reverse("leaderhub:shift", args=[shift.pk])),
        "me": (own_client, reverse("leaderhub:me")),
    }

    def counts():
        result, shown = {}, {}
        for name, (who, url) in pages.items():
            result[name], response = count_queries(who, url)
            shown[name] = response
        return result, shown

    grow(3, 0)
    before, _ = counts()
    grow(6, 3)
    after, shown = counts()
    assert_constant(before, after)
    assert len(shown["markets"].context["page"].object_list) == 9
    assert len(shown["provider"].context["visits_page"].object_list) == 9
    assert len(shown["provider"].context["shifts_page"].object_list) == 10
    assert len(shown["shift"].context["segments"]) == 9


# Advocacy: an advocate's own queue, a case's timeline ------------------------------------------


def test_advocacy_my_cases_and_case_detail_do_not_grow_with_cases_and_events():
    rita = AdvocateUserFactory(name="Rita Moss", user__username="qc-rita", team="North")
    client = signed_in(rita.user)
    now = timezone.now()
    steps = [("in_progress", 1), ("pending_docs", 2), ("in_progress", 3)]

    def grow(n):
        return [
            case_with_history(rita, opened=now - timedelta(hours=10 + i), steps=steps[: i % 4])
            for i in range(n)
        ]

    first = grow(3)[0]
    cycle = ("in_progress", "pending_docs", "in_progress", "escalated")
    many_steps = [(cycle[i % 4], 1 + i) for i in range(9)]  # 3× the events of `first`
    before = {
        "my cases": count_queries(client, reverse("advocacy:my_cases"))[0],
        "case detail": count_queries(client, reverse("advocacy:case_detail", args=[first.pk]))[0],
    }
    grow(6)
    busy = case_with_history(rita, opened=now - timedelta(hours=30), steps=many_steps)
    after_cases, my_cases = count_queries(client, reverse("advocacy:my_cases"))
    after = {
        "my cases": after_cases,
        "case detail": count_queries(client, reverse("advocacy:case_detail", args=[busy.pk]))[0],
    }
    assert_constant(before, after)
    assert my_cases.body.count(reverse("advocacy:case_detail", args=[busy.pk])) >= 1


# Engagement: patients, a patient's record -------------------------------------------------------


def test_engagement_patient_pages_do_not_grow_with_patients_and_history():
    from engagement import booking
    from tests.engagement.factories import kind

    main = LocationFactory(name="Main Street")
    mia = StaffUserFactory(
        name="Mia",
        role="pharmacy_manager",
        location=main,
        shifts=[],
        user__username="qc-mia",
        user__roles=["Pharmacy manager"],
    )
    ann = StaffUserFactory(
        name="Ann",
        role="staff_pharmacist",
        location=main,
        user__username="qc-ann",
        user__roles=["Staff pharmacist"],
    )
    client = signed_in(mia.user)
    pat = PatientFactory(name="Pat Lee", location=main)
    day = timezone.localdate() + timedelta(days=2)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    hours = iter(["09:00", "09:30", "10:00", "10:30", "11:00", "13:00", "13:30", "14:00", "14:30"])

    def grow(n):
        for i in range(n):
            PatientFactory(location=main)
            booking.book(
                patient=pat,
                appointment_type=kind("health_screening"),
                staff=ann,
                location=main,
                starts_at=at(day, next(hours)),
            )
            FollowUpTask.objects.create(
                patient=pat, reason=f"Call {i}", due_date=day, assignee=ann, priority="medium"
            )

    pages = {
        "patient list": reverse("engagement:patient_list"),
        "patient detail": reverse("engagement:patient_detail", args=[pat.pk]),
    }
    grow(3)
    before = {name: count_queries(client, url)[0] for name, url in pages.items()}
    grow(6)
    after, shown = {}, {}
    for name, url in pages.items():
        after[name], shown[name] = count_queries(client, url)
    assert_constant(before, after)
    assert len(shown["patient list"].context["page"].object_list) == 10
    assert len(shown["patient detail"].context["appointments"]) == 9
