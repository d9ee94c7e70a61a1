"""The three advocacy dashboards and the refresh button, against a hand-worked fixture.

Each figure is a link to the case list selecting the cases behind it, so the tests read a
figure by its link: `figure(page, "active=1")` is the text of the link to `?active=1`.
"""

import html
import re
from datetime import timedelta
from urllib.parse import parse_qsl, urlencode

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from advocacy import insights, rollups
from advocacy.models import CaseFact, Interaction, PatientFeedback
from tests.advocacy.factories import T0, AdvocateFactory, AdvocateUserFactory, CaseFactory

pytestmark = pytest.mark.django_db

AS_OF = T0 + timedelta(days=10)
EXECUTIVE = reverse("advocacy:executive")
OPERATIONS = reverse("advocacy:operations")
ROOT_CAUSE = reverse("advocacy:root_cause")
REFRESH = reverse("advocacy:refresh_rollups")
CASES = reverse("advocacy:case_list")


def at(days=0, hours=0):
    return T0 + timedelta(days=days, hours=hours)


@pytest.fixture
def world():
    """Ann (North, capacity 1) and Bob (South, capacity 10); as of day 10, SLA 7 days:
    c1 billing, Ann, resolved after 2 days, CSAT 5, 2 interactions (10 + 20 min);
    c2 billing, Ann, high urgency, open since day 0, one interaction at 1 h: past its SLA
       and stale;
    c3 prior authorization, Ann, urgent, opened on day 9: active, on time, fresh;
    c4 prior authorization, Bob, missing documents, escalated, resolved after 4 days, CSAT 3;
    c5 claim denial, Bob, 2 handoffs, opened day 1, resolved after 8 days (past its SLA)."""
    ann = AdvocateFactory(name="Ann", team="North", capacity=1)
    bob = AdvocateFactory(name="Bob", team="South", capacity=10)
    c1 = CaseFactory(advocate=ann, status="resolved", resolved_at=at(2))
    c2 = CaseFactory(advocate=ann, status="open", urgency="high")
    c3 = CaseFactory(
        advocate=ann, case_type="prior_authorization", urgency="urgent", created_at=at(9)
    )
    c4 = CaseFactory(
        advocate=bob,
        case_type="prior_authorization",
        status="resolved",
        resolved_at=at(4),
        escalated=True,
        missing_docs=True,
    )
    c5 = CaseFactory(
        advocate=bob,
        case_type="claim_denial",
        created_at=at(1),
        status="resolved",
        resolved_at=at(9),
        handoff_count=2,
    )
    PatientFeedback.objects.create(case=c1, csat=5, submitted_at=at(3))
    PatientFeedback.objects.create(case=c4, csat=3, submitted_at=at(5))
    for case, minutes, when in ((c1, 10, at(1)), (c1, 20, at(1, 2)), (c2, 15, at(0, 1))):
        Interaction.objects.create(
            case=case, advocate=ann, channel="phone", started_at=when, duration_minutes=minutes
        )
    # Two daily snapshots, so the trend lines have something to draw.
    rollups.refresh(AS_OF - timedelta(days=1))
    rollups.refresh(AS_OF)
    return {"ann": ann, "bob": bob, "c1": c1, "c2": c2, "c3": c3, "c4": c4, "c5": c5}


@pytest.fixture
def leader(client_for):
    return client_for("Operations leader")


def page(client, url, **params):
    response = client.get(url, params)
    assert response.status_code == 200
    return response.content.decode()


def cases_link(query=""):
    """The case list address a figure links to: all cases (active=0) unless the figure says
    active only; `active` always comes first."""
    return f"{CASES}?{urlencode({'active': '0', **dict(parse_qsl(query))})}"


def figures(content, query):
    """The texts of the links to the case list with exactly this query (plus active)."""
    href = html.escape(cases_link(query))
    texts = re.findall(rf'<a href="{re.escape(href)}">([^<]*)</a>', content)
    assert texts, f"no link to {href}"
    return texts


def figure(content, query):
    """The text of the first link to the case list with exactly this query (plus active)."""
    return figures(content, query)[0]


def test_executive_cards_and_tables_by_hand(leader, world):
    content = page(leader, EXECUTIVE)
    assert figure(content, "active=1") == "2"  # c2, c3
    assert figure(content, "active=0") == "4.7 days"  # (2 + 4 + 8) / 3 = 4.67
    assert figure(content, "breached=1") == "40%"  # c2 and c5 of 5
    assert figure(content, "stale=1") == "1"  # c2
    # Backlog and KPI rows per case type.
    assert figure(content, "case_type=billing_dispute&active=1") == "1"
    assert figure(content, "case_type=prior_authorization&active=1") == "1"
    assert figure(content, "case_type=claim_denial&active=1") == "0"
    assert figure(content, "case_type=prior_authorization&escalated=1") == "50%"
    assert figure(content, "case_type=claim_denial&breached=1") == "100%"
    assert figure(content, "case_type=billing_dispute") == "2"  # total, first KPI column
    assert figure(content, "case_type=billing_dispute&stale=1") == "1"
    assert figure(content, "escalated=1") == "20%"  # all case types: c4 of 5
    # Too few cases for a bottleneck finding.
    assert "No bottleneck stands out" in content


def test_executive_kpi_table_has_every_kpi_column(leader, world):
    response = leader.get(EXECUTIVE)
    rows = {
        row["label"]: [cell["text"] for cell in row["cells"]]
        for row in response.context["kpi_rows"]
    }
    # Cases, active, h to first response, days to resolve, escalation %, reopen %, breach %,
    # interactions per case, CSAT, stale. No first-response events: "—"; nothing reopened.
    assert rows["Billing dispute"] == ["2", "1", "—", "2", "0%", "—", "50%", "1.5", "5", "1"]
    assert rows["All case types"] == ["5", "2", "—", "4.7", "20%", "—", "40%", "0.6", "4", "1"]


def test_executive_csat_card_and_trend(leader, world):
    response = leader.get(EXECUTIVE)
    cards = {card["label"]: card for card in response.context["cards"]}
    assert cards["Avg CSAT (1–5)"]["value"]["text"] == "4"  # (5 + 3) / 2
    content = response.content.decode()
    # A line per card (two daily snapshots), each with its text alternative.
    assert content.count('<svg class="chart"') == 6  # five trend lines and the backlog bars
    assert "<desc>From Mar 11 (2) to Mar 12 (2)</desc>" in content  # active cases
    assert [row["day"].isoformat() for row in response.context["trend"]] == [
        "2026-03-11",
        "2026-03-12",
    ]
    assert "Trend table" in content
    assert "Backlog table" in content
    as_of = date_format(timezone.localtime(AS_OF), "M j, Y, H:i")
    assert f"Figures as of {as_of}." in content


def test_filters_change_the_figures_and_the_links(leader, world):
    content = page(leader, EXECUTIVE, case_type="billing_dispute")
    assert figure(content, "case_type=billing_dispute&active=1") == "1"
    assert figure(content, "case_type=billing_dispute&active=0") == "2 days"
    assert figure(content, "case_type=billing_dispute&breached=1") == "50%"

    content = page(leader, EXECUTIVE, team="South")
    assert figure(content, "team=South&active=1") == "0"
    assert figure(content, "team=South&active=0") == "6 days"  # c4 4 days, c5 8 days
    assert figure(content, "team=South&breached=1") == "50%"

    # Created from day 1 to day 9: c3 and c5.
    content = page(leader, EXECUTIVE, start="2026-03-03", end="2026-03-11")
    assert figure(content, "start=2026-03-03&end=2026-03-11&active=1") == "1"
    assert figure(content, "start=2026-03-03&end=2026-03-11&active=0") == "8 days"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"start": "yesterday"}, "Created from: Enter a valid date. That filter was not applied."),
        (
            {"team": "Nowhere"},
            "Team: Select a valid choice. Nowhere is not one of the available choices. That "
            "filter was not applied.",
        ),
        (
            {"start": "2026-03-05", "end": "2026-03-01"},
            "Created to: The end date is before the start date. That filter was not applied.",
        ),
    ],
)
def test_invalid_filters_are_reported_and_ignored(leader, world, params, message):
    for url in (EXECUTIVE, OPERATIONS, ROOT_CAUSE):
        response = leader.get(url, params)
        assert response.status_code == 200
        assert [str(m) for m in response.context["messages"]] == [message]
    # The other filters still apply: only the valid start date is kept here.
    content = page(leader, EXECUTIVE, start="2026-03-05", end="2026-03-01")
    assert figure(content, "start=2026-03-05&active=1") == "1"  # c3


def test_operations_dashboard_by_hand(leader, world):
    response = leader.get(OPERATIONS)
    content = response.content.decode()
    assert figure(content, "active=1") == "2"
    assert figure(content, "urgency=urgent&active=1") == "1"  # c3
    assert figure(content, "urgency=high&active=1") == "1"  # c2
    assert figure(content, "urgency=high&active=1&breached=1") == "100%"
    assert figure(content, "stale=1") == "1"
    # The stale list links each case.
    assert [fact.case_id for fact in response.context["stale_cases"]] == [world["c2"].pk]
    assert f'href="{reverse("advocacy:case_detail", args=[world["c2"].pk])}"' in content
    # Caseload: Ann carries c2 and c3 (medium, weight 1.5 each) against a capacity of 1.
    ann, bob = world["ann"].pk, world["bob"].pk
    caseload = {item["row"].advocate.name: item for item in response.context["caseload"]}
    assert (caseload["Ann"]["utilization"], caseload["Ann"]["weighted_utilization"]) == (
        "200%",
        "300%",
    )
    assert caseload["Bob"]["utilization"] == "0%"
    assert figure(content, f"advocate={ann}&active=1") == "2"
    assert figure(content, f"advocate={ann}&stale=1") == "1"
    assert figure(content, f"advocate={ann}&active=1&breached=1") == "1"
    assert figure(content, f"advocate={bob}&active=1") == "0"
    assert figure(content, "overloaded=1") == "1"
    assert content.count("Over capacity</span>") == 1
    # Escalations: c4, a prior authorization of team South.
    assert figure(content, "case_type=prior_authorization&escalated=1") == "1"
    assert figure(content, "team=South&escalated=1") == "1"
    assert figure(content, "team=North&escalated=1") == "0"
    # Interaction load: billing has 3 interactions and 45 minutes over 2 cases.
    load = {row["label"]: row for row in response.context["load"]}
    assert (
        load["Billing dispute"]["interactions_per_case"],
        load["Billing dispute"]["minutes_per_case"],
    ) == ("1.5", "22.5")
    assert load["Claim denial"]["minutes_per_case"] == "0"
    assert content.count('<svg class="chart"') == 3  # urgency, escalations, load
    assert "Urgency table" in content
    assert "Interaction load table" in content


def test_operations_team_filter_narrows_caseload_and_its_links(leader, world):
    response = leader.get(OPERATIONS, {"team": "North", "case_type": "claim_denial"})
    assert [item["row"].advocate.name for item in response.context["caseload"]] == ["Ann"]
    content = response.content.decode()
    # The caseload is not by case type: its links carry the team only.
    assert figure(content, f"team=North&advocate={world['ann'].pk}&active=1") == "2"
    assert figure(content, "team=North&overloaded=1") == "1"
    assert figure(content, "case_type=claim_denial&team=North&active=1") == "0"


def test_stale_list_is_bounded_with_a_link_to_all(leader, world, monkeypatch):
    monkeypatch.setattr("advocacy.dashboards.STALE_LIST_SIZE", 1)
    later = CaseFactory(created_at=at(1))  # untouched since day 1: stale, but touched after c2
    rollups.refresh(AS_OF)
    response = leader.get(OPERATIONS)
    assert [fact.case_id for fact in response.context["stale_cases"]] == [world["c2"].pk]
    content = response.content.decode()
    assert f'<a href="{html.escape(cases_link("stale=1"))}">See all 2 stale cases</a>' in content
    assert reverse("advocacy:case_detail", args=[later.pk]) not in content


def test_root_cause_dashboard_by_hand(leader, world):
    response = leader.get(ROOT_CAUSE)
    content = response.content.decode()
    sections = {s["dimension"]: s for s in response.context["sections"]}
    missing = {
        row["label"]: [c["text"] for c in row["cells"]] for row in sections["missing_docs"]["rows"]
    }
    # Missing: c4 (4 days, on time). Complete: c1 2 days, c5 8 days → 5; c2 and c5 breached.
    assert missing == {"Missing documents": ["4", "0%"], "Documents complete": ["5", "50%"]}
    assert figure(content, "missing_docs=1") == "1"
    handoffs = {
        row["label"]: [c["text"] for c in row["cells"]] for row in sections["handoffs"]["rows"]
    }
    assert handoffs == {"No handoff": ["4", "3"], "2 handoffs": ["—", "8"]}  # CSAT 5 and 3
    assert figure(content, "handoffs=2") == "1"
    assert figure(content, "escalated=1&breached=1") == "0%"
    assert figure(content, "case_type=prior_authorization") == "2"
    teams = {row["label"]: [c["text"] for c in row["cells"]] for row in sections["team"]["rows"]}
    assert teams == {"North": ["2", "33.3%", "5"], "South": ["6", "50%", "3"]}
    assert figure(content, "team=South&breached=1") == "50%"
    # Advocates by resolution time: Ann 2 days (c1), Bob 6.
    advocates = response.context["advocates"]
    assert [row["name"] for row in advocates["fastest"]] == ["Ann", "Bob"]
    # (his row's other figures link to the same cases)
    assert "6" in figures(content, f"advocate={world['bob'].pk}")
    assert content.count('<svg class="chart"') == 5
    assert insights.TOO_FEW_CASES in content


def test_root_cause_summary_lists_findings_with_links(leader, world):
    # Ten more billing disputes missing documents, resolved after 9.2 days, and ten complete
    # ones after 4.4 days; with the fixture's c1 (2 days) and c5 (8 days) in other groups.
    CaseFactory.create_batch(10, missing_docs=True, status="resolved", resolved_at=at(9.2))
    CaseFactory.create_batch(10, status="resolved", resolved_at=at(4.4))
    rollups.refresh(AS_OF)
    content = page(leader, ROOT_CAUSE, case_type="billing_dispute")
    # Billing only: missing 9.2 days (10 cases); complete: 10 × 4.4 and c1's 2 → 4.2.
    assert (
        "Cases missing documents take 9.2 days to resolve, 2.2× the 4.2 days of complete ones."
        in content
    )
    missing = html.escape(cases_link("case_type=billing_dispute&missing_docs=1"))
    see = f'<a href="{missing}">See the 10 cases</a>'
    assert see in content
    executive = page(leader, EXECUTIVE, case_type="billing_dispute")
    assert "2.2× the 4.2 days of complete ones" in executive


@pytest.mark.parametrize("url", [EXECUTIVE, OPERATIONS, ROOT_CAUSE])
def test_only_operations_leaders_see_the_dashboards(client, client_for, world, url):
    assert client.get(url).status_code == 302  # anonymous: sign in first
    assert client_for("Care manager").get(url).status_code == 403  # no role in advocacy
    advocate = AdvocateUserFactory()
    client.force_login(advocate.user)
    assert client.get(url).status_code == 403  # an advocate: leaders only
    assert client_for("Platform admin").get(url).status_code == 200


def test_refresh_now_recomputes_and_goes_back(leader, world):
    CaseFact.objects.all().delete()
    back = f"{OPERATIONS}?team=North"
    response = leader.post(REFRESH, {"next": back})
    assert response.status_code == 302
    assert response["Location"] == back
    assert CaseFact.objects.count() == 5
    follow = leader.get(back)
    as_of = CaseFact.objects.values_list("as_of", flat=True).first()
    assert [str(m) for m in follow.context["messages"]] == [
        f"Figures refreshed as of {date_format(timezone.localtime(as_of), 'M j, Y, H:i')}."
    ]


def test_refresh_is_post_only_for_leaders_and_stays_on_site(leader, client, world):
    assert leader.get(REFRESH).status_code == 405
    response = leader.post(REFRESH, {"next": "https://evil.example/"})
    assert response["Location"] == EXECUTIVE
    advocate = AdvocateUserFactory()
    client.force_login(advocate.user)
    assert client.post(REFRESH).status_code == 403


@pytest.mark.parametrize("url", [EXECUTIVE, OPERATIONS, ROOT_CAUSE])
def test_query_count_does_not_grow_with_cases(leader, world, url):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert leader.get(url).status_code == 200
        return len(captured)

    before = queries()
    carl = AdvocateFactory(name="Carl", team="East")
    for case_type in ("billing_dispute", "provider_search", "care_coordination"):
        CaseFactory.create_batch(8, advocate=carl, case_type=case_type, missing_docs=True)
        CaseFactory.create_batch(4, case_type=case_type, status="resolved", resolved_at=at(3))
    rollups.refresh(AS_OF)
    assert queries() == before
