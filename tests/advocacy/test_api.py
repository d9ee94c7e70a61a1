"""The advocacy API (/api/advocacy/). Expected numbers are worked out by hand in each test."""

from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from advocacy import rollups, services
from advocacy.models import (
    Case,
    CaseEvent,
    CaseFact,
    CaseRisk,
    Interaction,
    PatientFeedback,
    SlaRiskModel,
)
from opsintel.models import AuditEvent
from tests.advocacy.factories import (
    AdvocateFactory,
    AdvocateUserFactory,
    CaseFactory,
    PatientFactory,
    case_with_history,
)

pytestmark = pytest.mark.django_db

S = Case.Status
T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
AS_OF = T0 + timedelta(days=10)
NOW = T0 + timedelta(days=11)  # "now" for writes through the API


@pytest.fixture(autouse=True)
def fixed_now(monkeypatch):
    # A whole-second clock: a write refreshes its case's fact row as of now rounded down to
    # the second (advocacy.rollups._now), and with a real clock the write itself falls a few
    # microseconds after that moment and is left out of the row.
    monkeypatch.setattr(timezone, "now", lambda: NOW)


def at(days=0, hours=0):
    return T0 + timedelta(days=days, hours=hours)


def moment(text):
    return datetime.fromisoformat(text)


def url(name, *args, **query):
    path = reverse(f"advocacy-api:{name}", args=args)
    if query:
        path += "?" + urlencode(query, doseq=True)
    return path


def ids(response):
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def event_types(case):
    return list(CaseEvent.objects.filter(case=case).values_list("type", flat=True))


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def as_user(api):
    def login(user):
        api.force_authenticate(user)
        return api

    return login


@pytest.fixture
def leader(make_user):
    return make_user("Operations leader", username="lena")


@pytest.fixture
def alice():
    return AdvocateUserFactory(name="Alice", team="North", capacity=2, user__username="alice")


@pytest.fixture
def bob():
    return AdvocateUserFactory(name="Bob", team="South", capacity=1, user__username="bob")


# Access ---------------------------------------------------------------------------------------

LIST_NAMES = ("api-root", "case-list", "kpis", "caseload-list", "bottlenecks", "risk-list")


def test_advocacy_role_required(api, as_user, make_user, alice):
    case = case_with_history(alice)
    for name in LIST_NAMES:
        assert api.get(url(name)).status_code == 401, name
    as_user(make_user("Care manager"))
    for name in LIST_NAMES:
        assert api.get(url(name)).status_code == 403, name
    assert api.get(url("case-detail", case.pk)).status_code == 403
    assert api.post(url("case-transition", case.pk), {"status": "in_progress"}).status_code == 403
    assert api.post(url("case-list"), {}, format="json").status_code == 403
    assert Case.objects.get().status == S.OPEN


def test_api_root_lists_the_endpoints(as_user, leader):
    root = as_user(leader).get(url("api-root")).json()
    assert set(root) == {"cases", "kpis", "caseload", "bottlenecks", "risk"}
    assert root["kpis"].endswith("/api/advocacy/kpis/")


def test_an_advocate_reaches_only_own_cases(as_user, alice, bob):
    own = case_with_history(alice)
    other = case_with_history(bob, steps=[("in_progress", 1), ("resolved", 2)])
    unassigned = case_with_history(None)
    api = as_user(alice.user)
    assert ids(api.get(url("case-list"))) == {own.pk}
    events_before = CaseEvent.objects.count()
    for case in (other, unassigned):
        assert api.get(url("case-detail", case.pk)).status_code == 404
        assert api.get(url("case-events", case.pk)).status_code == 404
        assert api.get(url("case-interactions", case.pk)).status_code == 404
        response = api.post(url("case-interactions", case.pk), {"channel": "phone"})
        assert response.status_code == 404
        response = api.post(url("case-transition", case.pk), {"status": "in_progress"})
        assert response.status_code == 404
    assert api.post(url("case-feedback", other.pk), {"csat": 5}).status_code == 404
    assert CaseEvent.objects.count() == events_before
    assert not Interaction.objects.exists()
    assert not PatientFeedback.objects.exists()
    assert api.get(url("case-detail", own.pk)).status_code == 200


def test_leader_sees_every_case(as_user, leader, alice, bob):
    cases = {case_with_history(alice).pk, case_with_history(bob).pk, case_with_history(None).pk}
    assert ids(as_user(leader).get(url("case-list"))) == cases


def test_opening_and_assigning_are_for_leaders(as_user, alice):
    own = case_with_history(alice)
    api = as_user(alice.user)
    response = api.post(
        url("case-list"),
        {"patient": PatientFactory().pk, "case_type": "billing_dispute"},
        format="json",
    )
    assert response.status_code == 403
    response = api.post(url("case-assign", own.pk), {"advocate": alice.pk})
    assert response.status_code == 403
    assert Case.objects.count() == 1
    assert event_types(own) == ["opened", "assigned"]


# Opening, moving and assigning cases ----------------------------------------------------------


def test_leader_opens_a_case(as_user, leader):
    patient = PatientFactory(external_id="P-77")
    response = as_user(leader).post(
        url("case-list"),
        {
            "patient": patient.pk,
            "case_type": "prior_authorization",
            "urgency": "high",
            "metadata": {"complexity": "high", "missing_docs": True, "barriers": ["language"]},
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    case = Case.objects.get()
    assert body["id"] == case.pk
    assert body["patient"] == {"id": patient.pk, "external_id": "P-77"}
    assert (body["status"], body["urgency"], body["complexity"]) == ("open", "high", "high")
    assert (case.missing_docs, case.barriers, case.handoff_count) == (True, ["language"], 0)
    assert [(e["type"], e["actor"]) for e in body["events"]] == [("opened", "lena")]
    assert body["fact"]["is_active"] is True  # the write refreshed the case's fact row
    assert body["advocate"] is None  # nobody handles prior authorizations yet


def test_a_new_case_goes_to_the_advocate_with_the_most_room(as_user, leader):
    busy = AdvocateFactory(name="Busy", capacity=2)
    CaseFactory(advocate=busy, complexity="medium")  # 1.5 of 2
    roomy = AdvocateFactory(name="Roomy", capacity=10)
    AdvocateFactory(name="Claims only", case_types=["claim_denial"], capacity=50)
    response = as_user(leader).post(
        url("case-list"),
        {"patient": PatientFactory().pk, "case_type": "billing_dispute"},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["advocate"]["id"] == roomy.pk
    assert [e["type"] for e in body["events"]] == ["opened", "assigned"]
    # Busy has no room for another medium case (1.5 + 1.5 > 2); Claims only doesn't handle it.
    assert body["events"][1]["note"] == (
        "Lowest weighted utilization among 1 advocate handling billing dispute: 0.00 (0 of 10)"
    )


def test_opening_with_bad_input_names_the_field_and_writes_nothing(as_user, leader):
    api = as_user(leader)
    patient = PatientFactory()
    response = api.post(
        url("case-list"),
        {
            "patient": patient.pk,
            "case_type": "billing_dispute",
            "metadata": {"handoff_count": -1, "missing_docs": "yes"},
        },
        format="json",
    )
    assert response.status_code == 400
    assert set(response.json()) == {"metadata.handoff_count", "metadata.missing_docs"}
    assert "whole number" in response.json()["metadata.handoff_count"][0]

    response = api.post(
        url("case-list"),
        {"patient": patient.pk, "case_type": "billing_dispute", "metadata": ["x"]},
        format="json",
    )
    assert response.json() == {"metadata": ["Metadata must be a JSON object."]}

    response = api.post(
        url("case-list"), {"patient": 999999, "case_type": "nonsense"}, format="json"
    )
    assert response.status_code == 400
    assert set(response.json()) == {"patient", "case_type"}
    assert not Case.objects.exists()
    assert not CaseEvent.objects.exists()


def test_transitions_write_the_lifecycle_events(as_user, alice):
    case = case_with_history(alice)
    api = as_user(alice.user)
    response = api.post(url("case-transition", case.pk), {"status": "pending_docs"})
    assert response.status_code == 200, response.content
    response = api.post(
        url("case-transition", case.pk), {"status": "in_progress", "note": "papers in"}
    )
    body = response.json()
    assert body["status"] == "in_progress"
    # Leaving pending_docs means the documents arrived; the first move to in progress is the
    # first response.
    assert event_types(case) == [
        "opened",
        "assigned",
        "docs_requested",
        "docs_received",
        "first_response",
    ]
    assert [e["type"] for e in body["events"]][-2:] == ["docs_received", "first_response"]
    assert body["events"][-1]["note"] == "papers in"
    assert body["events"][-1]["actor"] == "alice"
    assert body["fact"]["first_response_at"] is not None
    assert AuditEvent.objects.filter(action="update", actor=alice.user).count() == 2


def test_an_illegal_move_is_a_400_with_the_reason_and_writes_nothing(as_user, leader, alice):
    case = case_with_history(alice, steps=[("closed", 1)])
    api = as_user(leader)
    before = event_types(case)
    response = api.post(url("case-transition", case.pk), {"status": "in_progress"})
    assert response.status_code == 400
    assert response.json() == {"status": ["A case that is closed cannot become in progress."]}
    response = api.post(url("case-transition", case.pk), {"status": "lost"})
    assert response.status_code == 400
    assert list(response.json()) == ["status"]
    assert event_types(case) == before
    assert Case.objects.get().status == S.CLOSED
    assert not AuditEvent.objects.filter(action="update", actor=leader).exists()


def test_leader_assigns_a_case(as_user, leader, alice, bob):
    case = case_with_history(alice)
    response = as_user(leader).post(
        url("case-assign", case.pk), {"advocate": bob.pk, "reason": "rebalance"}
    )
    assert response.status_code == 200, response.content
    assert response.json()["advocate"] == {"id": bob.pk, "name": "Bob", "team": "South"}
    assert Case.objects.get().advocate == bob
    assert event_types(case) == ["opened", "assigned", "assigned"]
    assert CaseEvent.objects.last().note == "rebalance"
    assert CaseFact.objects.get().advocate == bob


def test_assigning_to_an_unfit_advocate_is_a_400(as_user, leader, alice):
    case = case_with_history(alice)
    retired = AdvocateFactory(name="Rita", active=False)
    specialist = AdvocateFactory(name="Sam", case_types=["claim_denial"])
    api = as_user(leader)
    response = api.post(url("case-assign", case.pk), {"advocate": retired.pk})
    assert response.json() == {"advocate": ["Rita is not active."]}
    response = api.post(url("case-assign", case.pk), {"advocate": specialist.pk})
    assert response.json() == {"advocate": ["Sam does not handle Billing dispute cases."]}
    response = api.post(url("case-assign", case.pk), {"advocate": 999999})
    assert response.status_code == 400
    assert list(response.json()) == ["advocate"]
    assert Case.objects.get().advocate == alice
    assert event_types(case) == ["opened", "assigned"]


# Interactions, events and feedback -------------------------------------------------------------


def test_an_advocate_logs_an_interaction_as_themselves(as_user, alice):
    case = case_with_history(alice)
    api = as_user(alice.user)
    response = api.post(
        url("case-interactions", case.pk),
        {"channel": "phone", "direction": "inbound", "duration_minutes": 12, "note": "called"},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["advocate"], body["advocate_name"], body["channel"]) == (
        alice.pk,
        "Alice",
        "phone",
    )
    assert CaseFact.objects.get().interaction_count == 1
    rows = api.get(url("case-interactions", case.pk)).json()["results"]
    assert [(row["channel"], row["duration_minutes"]) for row in rows] == [("phone", 12)]
    event = AuditEvent.objects.get(action="view")
    assert (event.object_type, event.object_ids) == ("advocacy.case", [str(case.pk)])


def test_only_a_leader_logs_for_another_advocate(as_user, make_user, leader, alice, bob):
    case = case_with_history(alice)
    response = as_user(alice.user).post(
        url("case-interactions", case.pk), {"channel": "sms", "advocate": bob.pk}
    )
    assert response.status_code == 400
    assert list(response.json()) == ["advocate"]
    response = as_user(leader).post(url("case-interactions", case.pk), {"channel": "sms"})
    assert response.json() == {
        "advocate": ["You are not an advocate: give the advocate who had it."]
    }
    assert not Interaction.objects.exists()
    response = as_user(leader).post(
        url("case-interactions", case.pk), {"channel": "sms", "advocate": bob.pk}
    )
    assert response.status_code == 201
    assert Interaction.objects.get().advocate == bob


def test_bad_interactions_name_the_field_and_write_nothing(as_user, alice):
    case = case_with_history(alice)
    closed = case_with_history(alice, steps=[("closed", 1)])
    api = as_user(alice.user)
    response = api.post(
        url("case-interactions", case.pk), {"channel": "pigeon", "duration_minutes": -1}
    )
    assert response.status_code == 400
    assert set(response.json()) == {"channel", "duration_minutes"}
    response = api.post(url("case-interactions", closed.pk), {"channel": "phone"})
    assert response.json() == {"case": ["The case is closed; reopen it first."]}
    assert not Interaction.objects.exists()


def test_events_are_read_only(as_user, alice):
    case = case_with_history(alice, steps=[("in_progress", 2)])
    api = as_user(alice.user)
    rows = api.get(url("case-events", case.pk)).json()["results"]
    assert [row["type"] for row in rows] == ["opened", "assigned", "first_response"]
    assert moment(rows[2]["at"]) == at(hours=2)
    assert api.post(url("case-events", case.pk), {"type": "resolved"}).status_code == 405
    assert len(event_types(case)) == 3


def test_feedback_on_a_resolved_case(as_user, alice):
    case = case_with_history(alice, steps=[("in_progress", 1), ("resolved", 5)])
    api = as_user(alice.user)
    response = api.post(url("case-feedback", case.pk), {"csat": 4, "comment": "kind"})
    assert response.status_code == 201, response.content
    assert (response.json()["csat"], response.json()["comment"]) == (4, "kind")
    assert CaseFact.objects.get().csat == 4
    response = api.post(url("case-feedback", case.pk), {"csat": 5})
    assert response.json() == {"case": ["This case already has feedback."]}
    assert PatientFeedback.objects.get().csat == 4


def test_bad_feedback_names_the_field_and_writes_nothing(as_user, alice):
    resolved = case_with_history(alice, steps=[("in_progress", 1), ("resolved", 5)])
    active = case_with_history(alice)
    api = as_user(alice.user)
    for csat in (0, 6):
        response = api.post(url("case-feedback", resolved.pk), {"csat": csat})
        assert response.status_code == 400
        assert response.json() == {"csat": [f"CSAT is a whole number from 1 to 5; got {csat}."]}
    response = api.post(url("case-feedback", resolved.pk), {"csat": "great"})
    assert list(response.json()) == ["csat"]
    response = api.post(url("case-feedback", active.pk), {"csat": 5})
    assert response.json() == {"case": ["Feedback is taken once the case is resolved."]}
    assert not PatientFeedback.objects.exists()


# Reading cases --------------------------------------------------------------------------------


def test_case_detail_has_figures_history_and_summary_and_is_audited(as_user, alice):
    case = case_with_history(alice, steps=[("in_progress", 2)])
    for channel, minutes, hours in (("phone", 10, 3), ("phone", 5, 4), ("email", 0, 5)):
        services.log_interaction(
            case, advocate=alice, channel=channel, duration_minutes=minutes, started_at=at(0, hours)
        )
    rollups.refresh(AS_OF)
    body = as_user(alice.user).get(url("case-detail", case.pk)).json()
    summary = body["interactions"]
    assert (summary["count"], summary["minutes"], moment(summary["last_at"])) == (3, 15, at(0, 5))
    assert summary["by_channel"] == {"phone": 2, "email": 1, "portal": 0, "sms": 0}
    fact = body["fact"]
    assert moment(fact["as_of"]) == AS_OF
    assert fact["hours_to_first_response"] == 2.0
    assert fact["interaction_count"] == 3
    assert fact["age_days"] == 10.0
    # Billing disputes have the default 7-day SLA; the case is still in progress on day 10.
    assert moment(fact["sla_deadline"]) == at(days=7)
    assert (fact["sla_breached"], fact["stale"]) == (True, True)
    assert (body["sla_breached"], body["stale"]) == (True, True)
    assert [e["type"] for e in body["events"]] == ["opened", "assigned", "first_response"]
    assert body["feedback"] is None
    event = AuditEvent.objects.get(action="view")
    assert (event.actor, event.object_ids) == (alice.user, [str(case.pk)])


def test_a_case_without_a_fact_row_lists_null_flags(as_user, leader):
    case = CaseFactory()  # a plain row: no services, so no fact yet
    row = as_user(leader).get(url("case-list")).json()["results"][0]
    assert (row["id"], row["stale"], row["sla_breached"], row["sla_deadline"]) == (
        case.pk,
        None,
        None,
        None,
    )


@pytest.fixture
def listed(alice, bob):
    """a: Alice, billing, urgent, opened day 0, resolved day 2.
    b: Alice, claim denial, opened day 1, in progress from day 1: breached (7-day SLA) and
       stale on day 10.
    c: Bob, billing, opened day 7 h12, untouched: stale on day 10, within SLA.
    d: nobody's, provider search, opened day 9 h12: neither."""
    a = case_with_history(
        alice, opened=at(0), urgency="urgent", steps=[("in_progress", 1), ("resolved", 48)]
    )
    b = case_with_history(alice, case_type="claim_denial", opened=at(1), steps=[("in_progress", 1)])
    c = case_with_history(bob, opened=at(7, 12))
    d = case_with_history(None, case_type="provider_search", opened=at(9, 12))
    rollups.refresh(AS_OF)
    return {"a": a.pk, "b": b.pk, "c": c.pk, "d": d.pk}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, "abcd"),
        ({"status": "in_progress"}, "b"),
        ({"status": ["open", "resolved"]}, "acd"),
        ({"case_type": "billing_dispute"}, "ac"),
        ({"urgency": "urgent"}, "a"),
        ({"team": "South"}, "c"),
        ({"created_after": "2026-03-03", "created_before": "2026-03-10"}, "bc"),
        ({"active": "true"}, "bcd"),
        ({"active": "false"}, "a"),
        ({"stale": "true"}, "bc"),
        ({"stale": "false"}, "ad"),
        ({"sla_breached": "true"}, "b"),
        ({"sla_breached": "false", "active": "true"}, "cd"),
    ],
)
def test_case_list_filters(as_user, leader, listed, query, expected):
    response = as_user(leader).get(url("case-list", **query))
    assert ids(response) == {listed[name] for name in expected}


def test_case_list_filter_by_advocate(as_user, leader, listed, bob):
    assert ids(as_user(leader).get(url("case-list", advocate=bob.pk))) == {listed["c"]}


def test_case_list_is_newest_first(as_user, leader, listed):
    rows = as_user(leader).get(url("case-list")).json()["results"]
    assert [row["id"] for row in rows] == [listed[name] for name in "dcba"]


@pytest.mark.parametrize(
    "query",
    [
        {"status": "lost"},
        {"case_type": "parking"},
        {"urgency": "whenever"},
        {"created_after": "last week"},
        {"active": "maybe"},
        {"stale": "yes please"},
        {"advocate": "alice"},
    ],
)
def test_bad_case_list_filters_name_the_parameter(as_user, leader, query):
    response = as_user(leader).get(url("case-list", **query))
    assert response.status_code == 400
    assert list(response.json()) == list(query)


def test_case_list_queries_do_not_grow_with_the_rows(as_user, leader, alice, bob):
    api = as_user(leader)

    def count_queries():
        api.get(url("case-list"))  # the user's roles are read once, then kept on the user
        with CaptureQueriesContext(connection) as queries:
            response = api.get(url("case-list"))
        assert response.status_code == 200
        return len(response.json()["results"]), len(queries)

    case_with_history(alice)
    case_with_history(None)
    rows_2, queries_2 = count_queries()
    for advocate in (alice, bob, bob, None):
        case_with_history(advocate)
    rows_6, queries_6 = count_queries()
    assert (rows_2, rows_6) == (2, 6)
    # The count and one page query (patient, advocate and fact joined), whatever the rows.
    assert queries_6 == queries_2


# KPIs, bottlenecks, caseload, risk -------------------------------------------------------------


@pytest.fixture
def history(alice, bob):
    """a: Alice (North), billing, first response after 2 h, resolved day 3, 2 interactions,
       CSAT 5.
    b: Alice, prior auth (high complexity, missing documents), first response after 4 h,
       escalated day 1, resolved day 9 (past its 7-day SLA), CSAT 2, reopened day 9.5: active.
    c: Bob (South), provider search opened day 7 h23, untouched: stale on day 10.
    Each is assigned when opened."""
    a = case_with_history(alice, steps=[("in_progress", 2)])
    services.log_interaction(a, advocate=alice, channel="phone", started_at=at(0, 3))
    services.log_interaction(a, advocate=alice, channel="email", started_at=at(1))
    services.transition(a, S.RESOLVED, at=at(3))
    services.submit_feedback(Case.objects.get(pk=a.pk), csat=5, at=at(3, 1))

    b = case_with_history(
        alice,
        case_type="prior_authorization",
        metadata={"complexity": "high", "missing_docs": True},
        steps=[("in_progress", 4), ("escalated", 24), ("resolved", 216)],
    )
    services.submit_feedback(Case.objects.get(pk=b.pk), csat=2, at=at(9, 1))
    services.transition(b, S.REOPENED, at=at(9, 12))

    c = case_with_history(
        bob, case_type="provider_search", opened=at(7, 23), metadata={"complexity": "low"}
    )
    rollups.refresh(AS_OF)
    return {"a": a, "b": b, "c": c}


def test_kpis_by_hand(as_user, leader, history):
    body = as_user(leader).get(url("kpis")).json()
    assert moment(body["as_of"]) == AS_OF
    assert body["kpis"] == {
        "total_cases": 3,
        "active_cases": 2,  # b reopened, c open
        "avg_hours_to_first_response": 3.0,  # a 2 h, b 4 h; c none yet
        "avg_days_to_resolution": 3.0,  # a only (b was reopened)
        "escalation_rate": 33.33,  # b of 3
        "reopen_rate": 50.0,  # b of the 2 ever resolved
        "sla_breach_rate": 33.33,  # b: resolved on day 9, past day 7
        "avg_interactions_per_case": 0.67,  # 2 + 0 + 0 over 3
        "avg_csat": 3.5,  # 5 and 2
        "stale_cases": 1,  # c
    }
    assert (body["by"], body["groups"]) == (None, None)


def test_kpis_filtered_and_scoped(as_user, leader, alice, bob, history):
    api = as_user(leader)
    kpis = api.get(url("kpis", team="South")).json()["kpis"]
    assert (kpis["total_cases"], kpis["stale_cases"], kpis["avg_csat"]) == (3 - 2, 1, None)
    # c was opened on March 10 at 08:00 UTC (04:00 in New York, the site's time zone).
    kpis = api.get(url("kpis", start="2026-03-05", end="2026-03-10")).json()["kpis"]
    assert kpis["total_cases"] == 1
    kpis = api.get(url("kpis", start="2026-03-02", end="2026-03-09")).json()["kpis"]
    assert kpis["total_cases"] == 2
    kpis = api.get(url("kpis", case_type="prior_authorization")).json()["kpis"]
    assert (kpis["total_cases"], kpis["escalation_rate"], kpis["reopen_rate"]) == (1, 100.0, 100.0)
    kpis = api.get(url("kpis", advocate=alice.pk)).json()["kpis"]
    assert (kpis["total_cases"], kpis["avg_hours_to_first_response"]) == (2, 3.0)
    # An advocate's figures are their own cases'.
    kpis = as_user(bob.user).get(url("kpis")).json()["kpis"]
    assert (kpis["total_cases"], kpis["active_cases"], kpis["stale_cases"]) == (1, 1, 1)
    response = as_user(bob.user).get(url("kpis", advocate=alice.pk))
    assert list(response.json()) == ["advocate"]


def test_kpis_by_team(as_user, leader, history):
    body = as_user(leader).get(url("kpis", by="team")).json()
    assert body["by"] == "team"
    groups = {row["group"]: row for row in body["groups"]}
    assert set(groups) == {"North", "South"}
    north = groups["North"]
    assert (north["total_cases"], north["active_cases"], north["sla_breach_rate"]) == (2, 1, 50.0)
    assert (north["avg_csat"], north["avg_interactions_per_case"]) == (3.5, 1.0)
    assert (groups["South"]["total_cases"], groups["South"]["stale_cases"]) == (1, 1)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"start": "yesterday"}, "start"),
        ({"end": "2026-13-01"}, "end"),
        ({"case_type": "parking"}, "case_type"),
        ({"team": "Nowhere"}, "team"),
        ({"by": "status"}, "by"),
        ({"start": "2026-03-10", "end": "2026-03-01"}, "end"),
        ({"advocate": 999999}, "advocate"),
    ],
)
def test_bad_kpi_filters_name_the_parameter(as_user, leader, alice, query, field):
    response = as_user(leader).get(url("kpis", **query))
    assert response.status_code == 400
    assert list(response.json()) == [field]
    response = as_user(leader).get(url("bottlenecks", **query))
    if field != "by":  # bottlenecks have no grouping
        assert list(response.json()) == [field]


def test_bottlenecks_by_hand(as_user, leader, history):
    body = as_user(leader).get(url("bottlenecks")).json()
    assert moment(body["as_of"]) == AS_OF
    dimensions = {row["dimension"]: row for row in body["dimensions"]}
    assert list(dimensions) == [
        "missing_docs",
        "handoffs",
        "case_type",
        "escalation",
        "advocate_load",
        "team",
    ]
    missing = {row["segment"]: row for row in dimensions["missing_docs"]["segments"]}
    assert dimensions["missing_docs"]["title"] == "Missing documents"
    # b is missing documents: escalated, breached, CSAT 2; a and c are complete.
    assert (missing["Missing documents"]["cases"], missing["Documents complete"]["cases"]) == (1, 2)
    assert missing["Missing documents"]["sla_breach_rate"] == 100.0
    assert missing["Documents complete"]["avg_hours_to_first_response"] == 2.0
    escalation = [(r["segment"], r["cases"]) for r in dimensions["escalation"]["segments"]]
    assert escalation == [("Escalated", 1), ("Not escalated", 2)]
    teams = [(r["segment"], r["cases"]) for r in dimensions["team"]["segments"]]
    assert teams == [("North", 2), ("South", 1)]
    body = as_user(leader).get(url("bottlenecks", team="South")).json()
    teams = {r["dimension"]: r["segments"] for r in body["dimensions"]}["team"]
    assert [(r["segment"], r["cases"]) for r in teams] == [("South", 1)]


def test_caseload_by_hand(as_user, leader, alice, bob, history):
    rows = as_user(leader).get(url("caseload-list")).json()["results"]
    # Alice: b active (high, weight 2.0) of capacity 2; Bob: c active (low, 1.0) of capacity 1.
    assert [
        (
            r["name"],
            r["team"],
            r["capacity"],
            r["active_cases"],
            r["utilization"],
            r["weighted_caseload"],
            r["weighted_utilization"],
            r["stale_cases"],
            r["breached_cases"],
            r["overloaded"],
        )
        for r in rows
    ] == [
        ("Bob", "South", 1, 1, 1.0, 1.0, 1.0, 1, 0, False),
        ("Alice", "North", 2, 1, 0.5, 2.0, 1.0, 0, 1, False),
    ]
    assert rows[0]["advocate"] == bob.pk
    own = as_user(alice.user).get(url("caseload-list")).json()["results"]
    assert [row["advocate"] for row in own] == [alice.pk]


def test_risk_queue_is_scoped_and_highest_first(as_user, leader, alice, bob):
    model = SlaRiskModel.objects.create(
        parameters={}, auc=0.81, train_cases=80, test_cases=20, breach_share=0.25
    )
    low = case_with_history(alice)
    high = case_with_history(bob)
    middle = case_with_history(alice, case_type="claim_denial")
    for case, probability in ((low, 0.1), (high, 0.9), (middle, 0.5)):
        CaseRisk.objects.create(
            case=case, model=model, probability=probability, reasons=["No first response"]
        )
    rows = as_user(leader).get(url("risk-list")).json()["results"]
    assert [(r["case"], r["probability"]) for r in rows] == [
        (high.pk, 0.9),
        (middle.pk, 0.5),
        (low.pk, 0.1),
    ]
    assert rows[1]["case_type"] == "claim_denial"
    assert (rows[1]["model_auc"], rows[1]["reasons"]) == (0.81, ["No first response"])
    rows = as_user(alice.user).get(url("risk-list")).json()["results"]
    assert [r["case"] for r in rows] == [middle.pk, low.pk]


# Schema ---------------------------------------------------------------------------------------


def test_schema_documents_the_advocacy_api_without_warnings(tmp_path):
    out = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    schema = out.read_text()
    for path in (
        "/api/advocacy/cases/{id}/transition/",
        "/api/advocacy/cases/{id}/interactions/",
        "/api/advocacy/kpis/",
        "/api/advocacy/risk/",
    ):
        assert path in schema
