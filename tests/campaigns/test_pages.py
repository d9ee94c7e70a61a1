from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from campaigns import services
from campaigns.models import Campaign, Intervention
from campaigns.selectors import today_local
from opsintel.models import AuditEvent
from tests.campaigns.factories import (
    CoordinatorFactory,
    InterventionFactory,
    MeasureFactory,
    MemberFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def open_work(db):
    hba1c = MeasureFactory(code="HBA1C", revenue_per_closure=Decimal("150"))
    col = MeasureFactory(code="COL")
    today = today_local()
    work = [
        InterventionFactory(
            member=MemberFactory(member_id=f"MBR-{n}", last_name=f"Person{n}"),
            measure=hba1c if n % 2 else col,
            intervention_date=today + timedelta(days=n),
        )
        for n in range(1, 9)
    ]
    return {"hba1c": hba1c, "col": col, "work": work}


@pytest.fixture
def manager_client(client_for):
    return client_for("Care manager", username="manager")


def select(client, **data):
    return client.post(reverse("campaigns:select"), data)


def selection(client):
    return set(client.session.get("campaigns.selection", []))


def test_build_page_lists_open_work_for_managers_only(manager_client, open_work, client_for):
    page = manager_client.get(reverse("campaigns:build"))
    assert page.status_code == 200
    assert page.context["page"].paginator.count == 8
    assert "MBR-3" in page.content.decode()
    coordinator = client_for("Care coordinator")
    assert coordinator.get(reverse("campaigns:build")).status_code == 403


def test_build_filter_shows_the_statuses_it_lists_on_the_first_visit(manager_client, open_work):
    page = manager_client.get(reverse("campaigns:build"))
    ticked = {
        widget.data["value"]
        for widget in page.context["filter_form"]["status"]
        if widget.data["selected"]
    }
    assert ticked == {"pending", "scheduled", "in_progress"}


def test_select_all_takes_every_matching_row_not_just_the_page(manager_client, open_work):
    select(manager_client, action="all", measure=open_work["hba1c"].pk)
    hba1c_ids = {i.pk for i in open_work["work"] if i.measure == open_work["hba1c"]}
    assert selection(manager_client) == hba1c_ids

    # Per-row ticks survive a filter change: tick one COL row, the HBA1C ones stay.
    col_row = next(i for i in open_work["work"] if i.measure == open_work["col"])
    select(manager_client, action="page", page_ids=[col_row.pk], ids=[col_row.pk])
    assert selection(manager_client) == hba1c_ids | {col_row.pk}

    # Unticking a row on a page removes only that row.
    one = sorted(hba1c_ids)[0]
    select(manager_client, action="page", page_ids=[one], ids=[])
    assert selection(manager_client) == (hba1c_ids - {one}) | {col_row.pk}

    select(manager_client, action="clear")
    assert selection(manager_client) == set()


def test_ticking_a_row_returns_the_new_count_and_metrics(manager_client, open_work):
    row = open_work["work"][0]
    response = manager_client.post(
        reverse("campaigns:select"),
        {"action": "page", "page_ids": [row.pk], "ids": [row.pk]},
        headers={"X-Requested-With": "fetch"},
    )
    body = response.json()
    assert body["count"] == 1
    assert '1</span><span class="caption">interventions' in body["metrics_html"]


def test_create_from_the_build_page(manager_client, open_work):
    CoordinatorFactory.create_batch(2)
    select(manager_client, action="all")
    target = today_local() + timedelta(days=60)
    form = {
        "name": "Spring outreach",
        "coordinator_count": 2,
        "strategy": "balanced",
        "target_completion_date": target.isoformat(),
    }
    preview = manager_client.post(reverse("campaigns:build"), {**form, "preview": "1"})
    assert preview.status_code == 200
    assert preview.context["what_if"].largest_load == 4
    assert Campaign.objects.count() == 0

    response = manager_client.post(reverse("campaigns:build"), {**form, "create": "1"})
    campaign = Campaign.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("campaigns:detail", args=[campaign.pk])
    assert campaign.assignments.count() == 8
    assert selection(manager_client) == set()


def test_build_page_shows_field_errors_and_writes_nothing(manager_client, open_work):
    CoordinatorFactory.create_batch(2)
    select(manager_client, action="all")
    response = manager_client.post(
        reverse("campaigns:build"),
        {
            "name": "Too many",
            "coordinator_count": 5,
            "strategy": "balanced",
            "target_completion_date": (today_local() - timedelta(days=1)).isoformat(),
            "create": "1",
        },
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "is in the past" in errors["target_completion_date"][0]
    assert Campaign.objects.count() == 0


@pytest.fixture
def campaign(open_work, make_user):
    manager = make_user("Care manager", username="boss")
    coordinators = CoordinatorFactory.create_batch(2)
    campaign = services.create_campaign(
        created_by=manager,
        name="Winter gaps",
        intervention_ids=[i.pk for i in open_work["work"]],
        coordinator_count=2,
        target_completion_date=today_local() + timedelta(days=30),
    )
    return campaign, coordinators


def test_detail_for_a_manager_shows_balance_charts_and_actions(manager_client, campaign):
    campaign, _ = campaign
    page = manager_client.get(reverse("campaigns:detail", args=[campaign.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "spread 0" in html
    assert "<svg" in html
    assert reverse("campaigns:rebalance", args=[campaign.pk]) in html
    assert reverse("campaigns:export_crm", args=[campaign.pk]) in html


def test_coordinators_see_their_own_part_and_nothing_else(client, campaign, make_user):
    campaign, (first, _) = campaign
    client.force_login(first.user)
    page = client.get(reverse("campaigns:detail", args=[campaign.pk]))
    assert page.status_code == 200
    assert [row["coordinator_id"] for row in page.context["workload"]] == [first.pk]
    shown = {a.coordinator_id for a in page.context["page"].object_list}
    assert shown == {first.pk}

    outsider = CoordinatorFactory()
    client.force_login(outsider.user)
    assert client.get(reverse("campaigns:detail", args=[campaign.pk])).status_code == 404
    assert client.get(reverse("campaigns:call_list", args=[campaign.pk])).status_code == 404


def test_coordinator_records_an_outcome_from_their_list(client, campaign):
    campaign, (first, second) = campaign
    client.force_login(first.user)
    page = client.get(reverse("campaigns:my_list"))
    mine = list(page.context["page"].object_list)
    assert {a.coordinator_id for a in mine} == {first.pk}
    assert len(mine) == 4

    response = client.post(
        reverse("campaigns:record_outcome", args=[mine[0].pk]),
        {"status": "closed", "outcome": "Screening booked and done"},
    )
    assert response.status_code == 302
    intervention = Intervention.objects.get(pk=mine[0].intervention_id)
    assert (intervention.status, intervention.outcome) == ("closed", "Screening booked and done")
    assert AuditEvent.objects.filter(action="update", actor=first.user).exists()

    theirs = campaign.assignments.filter(coordinator=second).first()
    client.post(reverse("campaigns:record_outcome", args=[theirs.pk]), {"status": "closed"})
    theirs.refresh_from_db()
    assert theirs.status == "pending"


def test_printable_call_list_has_one_page_per_coordinator(manager_client, campaign):
    campaign, (first, _) = campaign
    page = manager_client.get(reverse("campaigns:call_list", args=[campaign.pk]))
    assert page.status_code == 200
    assert page.content.decode().count('class="print-page"') == 2
    assert AuditEvent.objects.filter(action="export").exists()
    one = manager_client.get(
        reverse("campaigns:call_list", args=[campaign.pk]) + f"?coordinator={first.pk}"
    )
    assert one.content.decode().count('class="print-page"') == 1


def test_mobile_view_is_read_only(manager_client, campaign):
    campaign, _ = campaign
    page = manager_client.get(reverse("campaigns:mobile"))
    html = page.content.decode()
    assert page.status_code == 200
    assert page.context["campaign"] == campaign
    assert 'method="post"' not in html.split("</header>", 1)[1]  # only the sign-out form
    for forbidden in ("build", "export", "rebalance", "archive", "call-list"):
        assert f"/campaigns/{forbidden}" not in html
        assert f"/{campaign.pk}/{forbidden}" not in html
    assert "<svg" in html


def test_a_break_even_campaign_shows_an_roi_of_zero_not_a_dash(manager_client, campaign):
    campaign, _ = campaign
    campaign.metrics = {**campaign.metrics, "roi": 0}
    campaign.save(update_fields=["metrics"])
    detail = manager_client.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()
    mobile = manager_client.get(reverse("campaigns:mobile")).content.decode()
    assert '<span class="figure">0%</span><span class="caption">ROI' in detail
    assert "<dt>ROI</dt><dd>0%</dd>" in mobile


def test_dashboard_shows_totals_charts_and_tables(
    manager_client, campaign, django_assert_max_num_queries
):
    with django_assert_max_num_queries(20):
        page = manager_client.get(reverse("campaigns:dashboard"))
    html = page.content.decode()
    assert page.status_code == 200
    assert page.context["summary"]["total_campaigns"] == 1
    assert html.count("<svg") >= 2
    assert "Workload table" in html


def test_campaign_list_puts_active_campaigns_first(manager_client, campaign, make_user):
    campaign, _ = campaign
    done = Campaign.objects.create(
        name="Old",
        created_by=campaign.created_by,
        coordinator_count=1,
        target_completion_date=today_local(),
        status=Campaign.Status.COMPLETED,
    )
    page = manager_client.get(reverse("campaigns:list"))
    assert [c.pk for c in page.context["page"].object_list] == [campaign.pk, done.pk]


def test_build_page_query_count_does_not_grow_with_rows(
    manager_client, open_work, django_assert_max_num_queries
):
    InterventionFactory.create_batch(40, measure=open_work["col"])
    with django_assert_max_num_queries(15):
        assert manager_client.get(reverse("campaigns:build")).status_code == 200


def test_call_list_puts_open_urgent_work_first(client, campaign):
    campaign, (first, _) = campaign
    mine = list(campaign.assignments.filter(coordinator=first).order_by("pk"))
    done, high, later, sooner = mine  # four each: 8 interventions over 2 coordinators
    services.record_outcome(first.user, done.pk, status="closed")
    Intervention.objects.filter(pk=high.intervention_id).update(priority="high")
    Intervention.objects.filter(pk__in=[later.intervention_id, sooner.intervention_id]).update(
        priority="low"
    )
    Intervention.objects.filter(pk=later.intervention_id).update(
        intervention_date=today_local() + timedelta(days=50)
    )
    Intervention.objects.filter(pk=sooner.intervention_id).update(
        intervention_date=today_local() + timedelta(days=20)
    )
    client.force_login(first.user)
    rows = list(client.get(reverse("campaigns:my_list")).context["page"].object_list)
    assert [a.pk for a in rows] == [high.pk, sooner.pk, later.pk, done.pk]
