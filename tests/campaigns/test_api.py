"""The campaigns API (/api/campaigns/). Expected numbers are worked out by hand in each test."""

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from campaigns import selectors, services
from campaigns.exports import CALL_LIST_HEADER, CRM_HEADER
from campaigns.models import Campaign, CampaignAssignment, Intervention
from opsintel.models import AuditEvent
from tests.campaigns.factories import (
    CoordinatorFactory,
    InterventionFactory,
    MeasureFactory,
    MemberFactory,
)

pytestmark = pytest.mark.django_db

Status = Intervention.Status
TODAY = date(2026, 3, 10)  # a fixed "today": month arithmetic in the metrics stays exact


def url(name, *args, **query):
    path = reverse(f"campaigns-api:{name}", args=args)
    if query:
        from urllib.parse import urlencode

        path += "?" + urlencode(query, doseq=True)
    return path


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch):
    monkeypatch.setattr(selectors, "today_local", lambda: TODAY)
    monkeypatch.setattr(services, "today_local", lambda: TODAY)


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def manager(make_user):
    return make_user("Care manager", username="manager")


@pytest.fixture
def as_user(api):
    def login(user):
        api.force_authenticate(user)
        return api

    return login


def coordinator(first, last, **fields):
    return CoordinatorFactory(
        user__first_name=first, user__last_name=last, user__username=first.lower(), **fields
    )


def make_campaign(manager, plan, *, name="Spring outreach"):
    """A live campaign holding `plan`: [(coordinator, intervention), ...]."""
    campaign = Campaign.objects.create(
        name=name,
        created_by=manager,
        coordinator_count=len({c.pk for c, _ in plan}),
        target_completion_date=TODAY + timedelta(days=30),
        metrics={"total_interventions": len(plan)},
    )
    assignments = [
        CampaignAssignment.objects.create(
            campaign=campaign, intervention=i, coordinator=c, status=i.status, reason="test"
        )
        for c, i in plan
    ]
    return campaign, assignments


def ids(response):
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def csv_rows(response):
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    body = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.reader(io.StringIO(body, newline="")))


# Access ---------------------------------------------------------------------------------------


def test_campaigns_role_required(api, as_user, make_user):
    for name in ("api-root", "measure-list", "intervention-list", "campaign-list"):
        assert api.get(url(name)).status_code == 401, name
    as_user(make_user("AR manager"))
    for name in ("api-root", "measure-list", "intervention-list", "member-list", "campaign-list"):
        assert api.get(url(name)).status_code == 403, name
    assert api.post(url("campaign-preview"), {}, format="json").status_code == 403


def test_platform_api_root_links_to_the_campaigns_api(as_user, manager):
    endpoints = as_user(manager).get(reverse("api:root")).json()["endpoints"]
    assert endpoints["campaigns"].endswith("/api/campaigns/")
    root = as_user(manager).get(endpoints["campaigns"]).json()
    assert {"measures", "interventions", "members", "campaigns", "coordinators/workload"} <= set(
        root
    )


def test_coordinators_cannot_create_preview_or_rebalance(as_user, manager):
    alice = coordinator("Alice", "Able")
    intervention = InterventionFactory()
    campaign, _ = make_campaign(manager, [(alice, intervention)])
    api = as_user(alice.user)
    body = {
        "name": "Mine",
        "intervention_ids": [intervention.pk],
        "coordinator_count": 1,
        "target_completion_date": str(TODAY + timedelta(days=30)),
    }
    assert api.post(url("campaign-list"), body, format="json").status_code == 403
    assert api.post(url("campaign-preview"), body, format="json").status_code == 403
    assert api.post(url("campaign-rebalance", campaign.pk), {}, format="json").status_code == 403
    assert Campaign.objects.count() == 1


# Available work -------------------------------------------------------------------------------


@pytest.fixture
def work():
    cbp, col = MeasureFactory(code="CBP"), MeasureFactory(code="COL")
    soon = InterventionFactory(measure=cbp, intervention_date=TODAY + timedelta(days=5))
    later = InterventionFactory(
        measure=cbp, status=Status.SCHEDULED, intervention_date=TODAY + timedelta(days=40)
    )
    overdue = InterventionFactory(
        measure=col,
        status=Status.IN_PROGRESS,
        intervention_date=TODAY - timedelta(days=3),
        member__last_name="Quixote",
    )
    done = InterventionFactory(measure=col, status=Status.COMPLETED, intervention_date=TODAY)
    undated = InterventionFactory(measure=cbp)
    taken = InterventionFactory(measure=cbp, intervention_date=TODAY)
    return {
        "cbp": cbp,
        "col": col,
        "soon": soon,
        "later": later,
        "overdue": overdue,
        "done": done,
        "undated": undated,
        "taken": taken,
    }


def test_interventions_lists_available_work_and_filters_it(as_user, manager, work):
    make_campaign(manager, [(coordinator("Alice", "Able"), work["taken"])])
    api = as_user(manager)
    w = {key: getattr(value, "pk", None) for key, value in work.items()}

    # Open work not in a live campaign; completed and taken work is not available.
    assert ids(api.get(url("intervention-list"))) == {
        w["soon"],
        w["later"],
        w["overdue"],
        w["undated"],
    }
    assert ids(api.get(url("intervention-list", measure=w["col"]))) == {w["overdue"]}
    assert ids(api.get(url("intervention-list", status="pending,scheduled"))) == {
        w["soon"],
        w["later"],
        w["undated"],
    }
    assert ids(api.get(url("intervention-list", status=["pending", "completed"]))) == {
        w["soon"],
        w["undated"],
        w["done"],
    }
    # Within 7 days: dated today+5 and the overdue one; undated work drops out.
    assert ids(api.get(url("intervention-list", days_ahead=7))) == {w["soon"], w["overdue"]}
    assert ids(api.get(url("intervention-list", search="quixote"))) == {w["overdue"]}

    row = next(
        r for r in api.get(url("intervention-list")).json()["results"] if r["id"] == w["overdue"]
    )
    member = work["overdue"].member
    assert row == {
        "id": w["overdue"],
        "member": {
            "id": member.pk,
            "member_id": member.member_id,
            "name": member.name,
            "phone": member.phone,
            "email": member.email,
        },
        "measure": "COL",
        "status": "in_progress",
        "intervention_date": str(TODAY - timedelta(days=3)),
        "cost": "10.00",
        "priority": "medium",
    }


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"status": "bogus"}, "status"),
        ({"status": "pending,nope"}, "status"),
        ({"days_ahead": "-1"}, "days_ahead"),
        ({"days_ahead": "soon"}, "days_ahead"),
        ({"measure": "999999"}, "measure"),
    ],
)
def test_bad_filters_answer_400_naming_the_parameter(as_user, manager, query, field):
    response = as_user(manager).get(url("intervention-list", **query))
    assert response.status_code == 400
    assert field in response.json()
    assert as_user(manager).get(url("member-list", **query)).status_code == 400


def test_members_list_those_with_available_work(as_user, manager, work):
    api = as_user(manager)
    members = api.get(url("member-list", measure=work["col"].pk)).json()["results"]
    assert [m["member_id"] for m in members] == [work["overdue"].member.member_id]
    assert set(members[0]) == {
        "id",
        "member_id",
        "name",
        "phone",
        "email",
        "date_of_birth",
        "plan",
    }


def test_member_retrieve_is_audited_and_scoped(as_user, manager):
    alice, bob = coordinator("Alice", "Able"), coordinator("Bob", "Brown")
    mine, theirs = InterventionFactory(), InterventionFactory()
    make_campaign(manager, [(alice, mine), (bob, theirs)])

    response = as_user(manager).get(url("member-detail", mine.member.pk))
    assert response.status_code == 200
    assert response.json()["member_id"] == mine.member.member_id
    event = AuditEvent.objects.get(action="view")
    assert (event.actor, event.object_type, event.object_ids) == (
        manager,
        "campaigns.member",
        [str(mine.member.pk)],
    )

    api = as_user(alice.user)
    assert api.get(url("member-detail", mine.member.pk)).status_code == 200
    assert api.get(url("member-detail", theirs.member.pk)).status_code == 404
    assert AuditEvent.objects.filter(action="view").count() == 2


# Scope ----------------------------------------------------------------------------------------


def test_coordinator_sees_and_changes_only_their_own_assignments(as_user, manager):
    alice, bob = coordinator("Alice", "Able"), coordinator("Bob", "Brown")
    a1, a2, b1 = InterventionFactory(), InterventionFactory(), InterventionFactory()
    campaign, (mine1, mine2, theirs) = make_campaign(manager, [(alice, a1), (alice, a2), (bob, b1)])
    api = as_user(alice.user)

    assert ids(api.get(url("campaign-assignments", campaign.pk))) == {mine1.pk, mine2.pk}
    assert ids(api.get(url("assignment-list"))) == {mine1.pk, mine2.pk}
    assert api.get(url("assignment-detail", mine1.pk)).status_code == 200
    assert api.get(url("assignment-detail", theirs.pk)).status_code == 404
    response = api.patch(url("assignment-detail", theirs.pk), {"status": "closed"}, format="json")
    assert response.status_code == 404
    b1.refresh_from_db()
    assert b1.status == Status.PENDING

    # The campaign shows her part: 2 of its 3 assignments, and only her breakdown row.
    detail = api.get(url("campaign-detail", campaign.pk)).json()
    assert detail["progress"] == {"total": 2, "finished": 0, "closures": 0, "members": 2}
    assert [row["name"] for row in detail["coordinators"]] == ["Alice Able"]

    other, _ = make_campaign(manager, [(bob, InterventionFactory())], name="Bob's")
    assert api.get(url("campaign-detail", other.pk)).status_code == 404
    assert ids(api.get(url("campaign-list"))) == {campaign.pk}


def test_campaign_list_and_detail(as_user, manager):
    alice, bob = coordinator("Alice", "Able"), coordinator("Bob", "Brown")
    closed = InterventionFactory(status=Status.CLOSED)
    campaign, _ = make_campaign(
        manager,
        [(alice, closed), (alice, InterventionFactory()), (bob, InterventionFactory())],
    )
    api = as_user(manager)

    (row,) = api.get(url("campaign-list")).json()["results"]
    assert row["name"] == "Spring outreach"
    assert row["created_by"] == "manager"
    assert row["metrics"] == {"total_interventions": 3}
    assert row["progress"] == {"total": 3, "finished": 1, "closures": 1, "members": 3}

    detail = api.get(url("campaign-detail", campaign.pk)).json()
    assert [
        (r["name"], r["assigned"], r["done"], r["remaining"]) for r in detail["coordinators"]
    ] == [
        ("Alice Able", 2, 1, 1),
        ("Bob Brown", 1, 0, 1),
    ]
    # Loads 2 and 1: spread 1 around a mean of 1.5.
    assert detail["imbalance"] == {"max": 2, "min": 1, "spread": 1, "ideal": "1.50"}


def test_coordinator_workload(as_user, manager):
    alice, bob = coordinator("Alice", "Able"), coordinator("Bob", "Brown", monthly_capacity=30)
    make_campaign(
        manager,
        [
            (alice, InterventionFactory()),
            (alice, InterventionFactory(status=Status.SCHEDULED)),
            (alice, InterventionFactory(status=Status.FAILED)),  # finished: not open
            (bob, InterventionFactory()),
        ],
    )
    rows = as_user(manager).get(url("coordinator-workload-list")).json()["results"]
    assert [(r["name"], r["open_load"], r["monthly_capacity"]) for r in rows] == [
        ("Alice Able", 2, 50),
        ("Bob Brown", 1, 30),
    ]
    rows = as_user(bob.user).get(url("coordinator-workload-list")).json()["results"]
    assert [r["username"] for r in rows] == ["bob"]


# Creating -------------------------------------------------------------------------------------


def test_create_campaign_assigns_the_work_evenly(as_user, manager):
    coordinators = [coordinator(n, "Coord") for n in ("Ann", "Ben", "Cai")]
    ids_ = [InterventionFactory().pk for _ in range(6)]
    body = {
        "name": "Q2 blood pressure",
        "intervention_ids": ids_,
        "coordinator_count": 3,
        "strategy": "balanced",
        "target_completion_date": str(TODAY + timedelta(days=60)),
    }
    response = as_user(manager).post(url("campaign-list"), body, format="json")
    assert response.status_code == 201, response.content
    data = response.json()

    campaign = Campaign.objects.get()
    assert data["id"] == campaign.pk
    assert (data["name"], data["status"], data["created_by"]) == (
        "Q2 blood pressure",
        "active",
        "manager",
    )
    # 6 interventions over 3 coordinators: 2 each.
    assert sorted(r["assigned"] for r in data["coordinators"]) == [2, 2, 2]
    assert data["imbalance"] == {"max": 2, "min": 2, "spread": 0, "ideal": "2.00"}
    assert data["progress"]["total"] == 6
    assert data["metrics"]["total_interventions"] == 6
    per_coordinator = {
        c.pk: CampaignAssignment.objects.filter(campaign=campaign, coordinator=c).count()
        for c in coordinators
    }
    assert sorted(per_coordinator.values()) == [2, 2, 2]


def test_create_campaign_from_member_ids_and_filters(as_user, manager):
    coordinator("Ann", "Coord")
    cbp = MeasureFactory(code="CBP")
    member = MemberFactory(member_id="MBR-7")
    two = [InterventionFactory(member=member, measure=cbp) for _ in range(2)]
    InterventionFactory(member=member)  # another measure: filtered out
    InterventionFactory(measure=cbp)  # another member
    body = {
        "name": "One member",
        "member_ids": ["MBR-7"],
        "filters": {"measure_id": cbp.pk},
        "coordinator_count": 1,
        "target_completion_date": str(TODAY + timedelta(days=30)),
    }
    response = as_user(manager).post(url("campaign-list"), body, format="json")
    assert response.status_code == 201, response.content
    assert set(CampaignAssignment.objects.values_list("intervention_id", flat=True)) == {
        i.pk for i in two
    }


@pytest.fixture
def create_setup(manager):
    """Two active coordinators (and an inactive one), three open interventions."""
    coordinator("Ann", "Coord")
    coordinator("Ben", "Coord")
    coordinator("Cai", "Coord", active=False)
    interventions = [InterventionFactory() for _ in range(3)]
    return {
        "name": "Q2",
        "intervention_ids": [i.pk for i in interventions],
        "coordinator_count": 2,
        "strategy": "balanced",
        "target_completion_date": str(TODAY + timedelta(days=60)),
    }


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"intervention_ids": []}, "intervention_ids"),
        ({"intervention_ids": [999999]}, "intervention_ids"),
        ({"coordinator_count": 0}, "coordinator_count"),
        ("one intervention, two coordinators", "coordinator_count"),
        ({"coordinator_count": 3}, "coordinator_count"),  # only 2 are active
        ({"target_completion_date": str(TODAY - timedelta(days=1))}, "target_completion_date"),
        ({"strategy": "alphabetical"}, "strategy"),
        ({"name": "  "}, "name"),
        ({"intervention_ids": None, "member_ids": None, "filters": None}, "intervention_ids"),
    ],
)
def test_create_campaign_rejects_bad_input_and_writes_nothing(
    as_user, manager, create_setup, change, field
):
    body = dict(create_setup)
    if change == "one intervention, two coordinators":
        body["intervention_ids"] = body["intervention_ids"][:1]
    else:
        body.update(change)
    body = {key: value for key, value in body.items() if value is not None}
    response = as_user(manager).post(url("campaign-list"), body, format="json")
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert Campaign.objects.count() == 0
    assert CampaignAssignment.objects.count() == 0


def test_create_campaign_rejects_work_already_in_another_live_campaign(
    as_user, manager, create_setup
):
    taken = Intervention.objects.get(pk=create_setup["intervention_ids"][0])
    make_campaign(manager, [(coordinator("Dee", "Coord"), taken)])
    response = as_user(manager).post(url("campaign-list"), create_setup, format="json")
    assert response.status_code == 400
    assert "Already in another active campaign" in response.json()["intervention_ids"][0]
    assert Campaign.objects.count() == 1
    assert CampaignAssignment.objects.count() == 1


# Preview --------------------------------------------------------------------------------------


@pytest.fixture
def preview_setup(settings):
    """History: CBP closed 2 of 3 finished (its own rate, 2/3); COL closed 1 of 1 (too little
    history at a minimum of 2, so the portfolio rate 3 of 4 = 0.75).
    Selection: 3 CBP at $10 (revenue $300 a closure), 2 COL at $20 ($100), over 4 members."""
    settings.CAMPAIGN_MIN_MEASURE_HISTORY = 2
    settings.CAMPAIGN_CAPACITY_PER_FTE_MONTH = 10
    cbp = MeasureFactory(code="CBP", revenue_per_closure=Decimal("300.00"))
    col = MeasureFactory(code="COL", revenue_per_closure=Decimal("100.00"))
    for measure, status in [(cbp, Status.CLOSED), (cbp, Status.CLOSED), (cbp, Status.FAILED)]:
        InterventionFactory(measure=measure, status=status)
    InterventionFactory(measure=col, status=Status.CLOSED)
    shared = MemberFactory()
    selection = [
        InterventionFactory(measure=cbp, member=shared),
        InterventionFactory(measure=cbp),
        InterventionFactory(measure=cbp),
        InterventionFactory(measure=col, member=shared, cost=Decimal("20.00")),
        InterventionFactory(measure=col, cost=Decimal("20.00")),
    ]
    return [i.pk for i in selection]


def test_preview_metrics(as_user, manager, preview_setup):
    response = as_user(manager).post(
        url("campaign-preview"), {"intervention_ids": preview_setup}, format="json"
    )
    assert response.status_code == 200, response.content
    data = response.json()
    metrics = data["metrics"]
    assert data["what_if"] is None
    assert metrics["total_members"] == 4
    assert metrics["total_interventions"] == 5
    # CBP: 3 × 2/3 = 2 closures × $300 = $600; COL: 2 × 0.75 = 1.5 closures × $100 = $150.
    assert Decimal(metrics["predicted_closures"]) == Decimal("3.50")
    assert Decimal(metrics["predicted_success_rate"]) == Decimal("0.7")  # 3.5 / 5
    assert Decimal(metrics["total_value"]) == Decimal("750")
    assert Decimal(metrics["total_cost"]) == Decimal("70")  # 3 × 10 + 2 × 20
    assert Decimal(metrics["net_benefit"]) == Decimal("680")
    assert Decimal(metrics["roi"]) == Decimal("971.4")  # 680 / 70 = 9.714…
    assert Decimal(metrics["portfolio_rate"]) == Decimal("0.75")
    # No target: one month; 5 interventions ÷ 10 a month = 0.5 FTE, so one coordinator.
    assert Decimal(metrics["required_fte"]) == Decimal("0.5")
    assert metrics["suggested_coordinators"] == 1
    assert [
        (m["code"], Decimal(m["rate"]), m["basis"], Decimal(m["value"]))
        for m in metrics["by_measure"]
    ] == [
        ("CBP", Decimal("0.6667"), "measure", Decimal("600")),
        ("COL", Decimal("0.75"), "portfolio", Decimal("150")),
    ]
    assert Campaign.objects.count() == 0


def test_preview_what_if(as_user, manager, preview_setup):
    coordinator("Ann", "Coord", monthly_capacity=1)
    coordinator("Ben", "Coord", monthly_capacity=1)
    body = {
        "intervention_ids": preview_setup,
        "coordinator_count": 2,
        "target_completion_date": "2026-05-10",  # two months after TODAY
    }
    data = as_user(manager).post(url("campaign-preview"), body, format="json").json()
    # Two months: 5 ÷ (10 × 2) = 0.25 FTE.
    assert Decimal(data["metrics"]["months"]) == 2
    assert Decimal(data["metrics"]["required_fte"]) == Decimal("0.25")
    what_if = data["what_if"]
    # 5 interventions over 2 coordinators: 3 and 2. At 1 a month the busiest needs 3 months,
    # the target allows 2, so 2/3 of the 3.5 predicted closures land by the target.
    assert what_if["largest_load"] == 3
    assert what_if["months_available"] == "2.00"
    assert what_if["months_needed"] == "3.00"
    assert what_if["predicted_closures"] == "3.50"
    assert what_if["predicted_closures_by_target"] == "2.33"
    assert len(what_if["warnings"]) == 1
    assert "Capacity does not cover" in what_if["warnings"][0]
    assert Campaign.objects.count() == 0
    assert CampaignAssignment.objects.count() == 0


def test_preview_of_an_empty_selection_is_400(as_user, manager, preview_setup):
    api = as_user(manager)
    response = api.post(url("campaign-preview"), {"intervention_ids": []}, format="json")
    assert response.status_code == 400
    assert "intervention_ids" in response.json()
    empty = MeasureFactory(code="EMPTY")
    body = {"filters": {"measure_id": empty.pk}}
    response = api.post(url("campaign-preview"), body, format="json")
    assert response.status_code == 400
    assert "filters" in response.json()


# Working a campaign ---------------------------------------------------------------------------


def test_patch_records_the_outcome_on_the_intervention(as_user, manager):
    alice = coordinator("Alice", "Able")
    intervention = InterventionFactory()
    _, (assignment,) = make_campaign(manager, [(alice, intervention)])
    api = as_user(alice.user)

    response = api.patch(
        url("assignment-detail", assignment.pk),
        {"status": "closed", "outcome": "Screening done"},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["outcome"]) == ("closed", "Screening done")
    intervention.refresh_from_db()
    assert (intervention.status, intervention.outcome, intervention.outcome_date) == (
        Status.CLOSED,
        "Screening done",
        TODAY,
    )
    assert AuditEvent.objects.filter(action="update", actor=alice.user).count() == 1

    response = api.patch(url("assignment-detail", assignment.pk), {"status": "won"}, format="json")
    assert response.status_code == 400
    assert "status" in response.json()


def test_rebalance(as_user, manager):
    alice, bob = coordinator("Alice", "Able"), coordinator("Bob", "Brown")
    campaign, _ = make_campaign(
        manager,
        [(alice, InterventionFactory()) for _ in range(3)] + [(bob, InterventionFactory())],
    )
    response = as_user(manager).post(url("campaign-rebalance", campaign.pk), {}, format="json")
    # Loads 3 and 1 even out to 2 and 2 by moving one.
    assert response.json() == {"moved": 1}
    assert CampaignAssignment.objects.filter(coordinator=bob).count() == 2


# Exports --------------------------------------------------------------------------------------


@pytest.fixture
def exported(manager):
    alice, bob = coordinator("Alice", "Able"), coordinator("Bob", "Brown")
    bp = MeasureFactory(code="CBP")
    evil = MemberFactory(
        member_id="M1", first_name='=HYPERLINK("http://x.test","click")', last_name=""
    )
    late = InterventionFactory(member=evil, measure=bp, intervention_date=date(2026, 4, 2))
    early = InterventionFactory(
        member__member_id="M2", measure=bp, intervention_date=date(2026, 3, 20)
    )
    bobs = InterventionFactory(
        member__member_id="M3", measure=bp, intervention_date=date(2026, 3, 15)
    )
    campaign, _ = make_campaign(manager, [(alice, late), (alice, early), (bob, bobs)])
    return {"campaign": campaign, "alice": alice, "bob": bob, "evil": evil, "early": early}


def test_crm_export(as_user, manager, exported):
    campaign = exported["campaign"]
    rows = csv_rows(as_user(manager).get(url("campaign-export-crm", campaign.pk)))
    assert rows[0] == [
        "Member ID",
        "Member Name",
        "Phone",
        "Email",
        "Measure",
        "Intervention Date",
        "Coordinator",
        "Status",
        "Priority",
    ]
    assert tuple(rows[0]) == CRM_HEADER
    evil = exported["evil"]
    # Alice's two by date, then Bob's; the formula is defused with a leading quote.
    assert [r[0] for r in rows[1:]] == ["M2", "M1", "M3"]
    assert rows[2] == [
        "M1",
        '\'=HYPERLINK("http://x.test","click")',
        evil.phone,
        evil.email,
        "CBP",
        "2026-04-02",
        "Alice Able",
        "Pending",
        "Medium",
    ]
    event = AuditEvent.objects.get(action="export")
    assert event.actor == manager
    assert event.object_type == "campaigns.intervention"
    assert event.object_count == 3

    # Bob exports only his own row.
    rows = csv_rows(as_user(exported["bob"].user).get(url("campaign-export-crm", campaign.pk)))
    assert [r[0] for r in rows[1:]] == ["M3"]


def test_call_list_export(as_user, manager, exported):
    campaign, alice, bob = exported["campaign"], exported["alice"], exported["bob"]
    api = as_user(manager)
    rows = csv_rows(api.get(url("campaign-export-call-list", campaign.pk, coordinator=bob.pk)))
    assert rows[0] == [
        "Member ID",
        "Member Name",
        "Phone",
        "Measure",
        "Intervention Date",
        "Status",
        "Notes",
    ]
    assert tuple(rows[0]) == CALL_LIST_HEADER
    assert [(r[0], r[3], r[4], r[5], r[6]) for r in rows[1:]] == [
        ("M3", "CBP", "2026-03-15", "Pending", "")
    ]
    assert AuditEvent.objects.filter(action="export", actor=manager).count() == 1

    api = as_user(alice.user)
    rows = csv_rows(api.get(url("campaign-export-call-list", campaign.pk)))
    assert [r[0] for r in rows[1:]] == ["M2", "M1"]
    assert rows[2][1] == '\'=HYPERLINK("http://x.test","click")'
    # Someone else's list is not hers to ask for; nor is a campaign she has no part in.
    response = api.get(url("campaign-export-call-list", campaign.pk, coordinator=bob.pk))
    assert response.status_code == 400
    assert "coordinator" in response.json()
    other, _ = make_campaign(manager, [(bob, InterventionFactory())], name="Bob's")
    assert api.get(url("campaign-export-crm", other.pk)).status_code == 404
