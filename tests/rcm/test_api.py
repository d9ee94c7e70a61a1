"""The rcm API (/api/rcm/) and the automation endpoints (/api/automation/). Expected numbers
are worked out by hand in each test; "today" is fixed at TODAY (a Tuesday)."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from urllib.parse import urlencode

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from opsintel.models import AuditEvent
from rcm.models import Assignment, AutomationRun, Claim, FollowUp, GeneratedDocument
from tests.factories import PASSWORD
from tests.rcm.factories import (
    TODAY,
    AgentFactory,
    AgentUserFactory,
    ClaimFactory,
    PatientFactory,
    PayerFactory,
    payer,
    queue,
)

pytestmark = pytest.mark.django_db

NOW = timezone.make_aware(datetime.combine(TODAY, time(12)))


@pytest.fixture(autouse=True)
def fixed_now(monkeypatch):
    # The API ages claims and runs the engine as of today; today is TODAY.
    monkeypatch.setattr(timezone, "now", lambda: NOW)


def url(name, *args, **query):
    path = reverse(name, args=args)
    if query:
        path += "?" + urlencode(query, doseq=True)
    return path


def api_url(name, *args, **query):
    return url(f"rcm-api:{name}", *args, **query)


def auto_url(name):
    return url(f"automation-api:{name}")


def aged(days, **fields):
    """A claim submitted `days` before TODAY (served the day before)."""
    submitted = TODAY - timedelta(days=days)
    return ClaimFactory(
        submission_date=submitted, service_date=submitted - timedelta(days=1), **fields
    )


def ids(response):
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


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
def manager(make_user):
    return make_user("AR manager", username="maria")


@pytest.fixture
def gina():
    """A general agent with a login."""
    return AgentUserFactory(name="Gina", user__username="gina")


@pytest.fixture
def hugo():
    return AgentUserFactory(name="Hugo", user__username="hugo")


@pytest.fixture
def senior():
    return AgentUserFactory(
        name="Sam Senior",
        queue=queue("senior_agent"),
        user__username="sam",
        user__roles=["Senior agent"],
    )


# Paths, tokens and access ---------------------------------------------------------------------


def test_the_exact_paths():
    assert [auto_url(name) for name in ("assign-claims", "generate-appeal")] == [
        "/api/automation/assign-claims",
        "/api/automation/generate-appeal",
    ]
    assert auto_url("schedule-followups") == "/api/automation/schedule-followups"
    assert auto_url("generate-document") == "/api/automation/generate-document"
    assert auto_url("metrics") == "/api/automation/metrics"
    assert api_url("claim-list") == "/api/rcm/claims/"
    assert api_url("claim-assignments", 7) == "/api/rcm/claims/7/assignments/"
    assert api_url("follow-up-complete", 3) == "/api/rcm/follow-ups/3/complete/"
    assert api_url("document-list") == "/api/rcm/documents/"


def test_bearer_token_from_the_token_endpoint(api, manager, senior):
    aged(45, amount=Decimal("7500"), procedure_code="99214")
    assert api.get(api_url("claim-list")).status_code == 401
    assert api.post(auto_url("assign-claims")).status_code == 401
    response = api.post(reverse("api:token_obtain"), {"username": "maria", "password": PASSWORD})
    assert response.status_code == 200, response.content
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access']}")
    assert api.get(api_url("claim-list")).json()["count"] == 1
    response = api.post(auto_url("assign-claims"), {}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["assignments"] == {"Senior agents": 1}


def test_with_a_trailing_slash_the_automation_paths_answer_without_a_redirect(
    as_user, manager, senior
):
    aged(45, amount=Decimal("7500"))
    response = as_user(manager).post("/api/automation/assign-claims/", {}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["message"] == "Assigned 1 of 1 claims"
    assert as_user(manager).get("/api/automation/metrics/").status_code == 200


def test_api_root_lists_the_endpoints(as_user, manager):
    root = as_user(manager).get(api_url("api-root")).json()
    assert set(root) == {
        "claims",
        "follow-ups",
        "documents",
        "assign-claims",
        "generate-appeal",
        "schedule-followups",
        "generate-document",
        "metrics",
    }
    assert root["assign-claims"].endswith("/api/automation/assign-claims")


def test_other_apps_roles_get_403_and_nothing_is_written(as_user, make_user, gina):
    claim = aged(10, agent=gina, status="denied", denial_reason="medical_necessity")
    follow_up = FollowUp.objects.create(claim=claim, agent=gina, scheduled_at=NOW, priority="low")
    api = as_user(make_user("Care manager", "Operations leader"))
    for path in (
        api_url("api-root"),
        api_url("claim-list"),
        api_url("claim-detail", claim.pk),
        api_url("claim-assignments", claim.pk),
        api_url("follow-up-list"),
        api_url("document-list"),
        auto_url("metrics"),
    ):
        assert api.get(path).status_code == 403, path
    appeal = {
        "claim_number": claim.claim_number,
        "service_date": str(claim.service_date),
        "amount": "1200.00",
        "notes": "x",
    }
    for path, body in (
        (auto_url("assign-claims"), {}),
        (auto_url("schedule-followups"), {}),
        (auto_url("generate-appeal"), appeal),
        (auto_url("generate-document"), {"template_type": "payment_inquiry", "data": {}}),
        (api_url("follow-up-complete", follow_up.pk), {"outcome": "Paid"}),
        (api_url("claim-list"), {}),
    ):
        assert api.post(path, body, format="json").status_code == 403, path
    assert api.patch(api_url("claim-detail", claim.pk), {"notes": "x"}).status_code == 403
    assert not AutomationRun.objects.exists()
    assert not GeneratedDocument.objects.exists()
    assert FollowUp.objects.get().status == "scheduled"
    assert Claim.objects.get().notes == ""


def test_agents_get_403_on_manager_endpoints(as_user, gina):
    aged(10)
    api = as_user(gina.user)
    assert api.post(auto_url("assign-claims"), {}, format="json").status_code == 403
    assert api.post(auto_url("schedule-followups")).status_code == 403
    assert api.get(auto_url("metrics")).status_code == 403
    body = {"claim_number": "NEW-1", "patient": PatientFactory().pk, "payer": "Aetna"}
    assert api.post(api_url("claim-list"), body, format="json").status_code == 403
    assert not AutomationRun.objects.exists()
    assert Claim.objects.count() == 1
    assert Claim.objects.get().agent is None


# Automation: assign-claims and schedule-followups ---------------------------------------------


def test_the_high_value_example_through_assign_claims(as_user, manager, senior):
    AgentFactory(name="General", queue=queue("general_agent"))
    claim = aged(45, amount=Decimal("7500"), payer=payer("Aetna"), procedure_code="99214")
    response = as_user(manager).post(auto_url("assign-claims"), {}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert {key: body[key] for key in ("success", "message", "assignments", "success_rate")} == {
        "success": True,
        "message": "Assigned 1 of 1 claims",
        "assignments": {"Senior agents": 1},
        "success_rate": 100.0,
    }
    assert (body["items"], body["succeeded"], body["failed"], body["problems"]) == (1, 1, 0, [])
    claim.refresh_from_db()
    assert (claim.queue.kind, claim.agent) == ("senior_agent", senior)

    history = as_user(manager).get(api_url("claim-assignments", claim.pk)).json()["results"]
    assert [(row["rule"], row["reason"], row["agent"]["name"]) for row in history] == [
        ("High Value Rule", "High Value Rule: amount $7,500 > $5,000", "Sam Senior")
    ]
    assert history[0]["queue"] == {
        "id": claim.queue_id,
        "name": "Senior agents",
        "kind": "senior_agent",
    }


def test_assign_claims_leaves_assigned_claims_unless_reassign(as_user, manager, gina):
    aged(10)
    aged(20)
    api = as_user(manager)
    assert api.post(auto_url("assign-claims"), {}, format="json").json()["assignments"] == {
        "General agents": 2
    }
    again = api.post(auto_url("assign-claims"), {}, format="json").json()
    assert (again["message"], again["assignments"], again["success_rate"]) == (
        "Assigned 0 of 0 claims",
        {},
        None,
    )
    moved = api.post(auto_url("assign-claims"), {"reassign": True}, format="json").json()
    assert (moved["message"], moved["assignments"]) == (
        "Assigned 2 of 2 claims",
        {"General agents": 2},
    )
    assert Assignment.objects.count() == 4
    response = api.post(auto_url("assign-claims"), {"reassign": "perhaps"}, format="json")
    assert response.status_code == 400
    assert "reassign" in response.json()


def test_assign_claims_reports_claims_it_could_not_place(as_user, manager, gina):
    aged(10, claim_number="PLAIN")
    aged(10, claim_number="BIG", amount=Decimal("9000"))  # senior agents: nobody there
    body = as_user(manager).post(auto_url("assign-claims"), {}, format="json").json()
    assert (body["success"], body["message"], body["success_rate"]) == (
        False,
        "Assigned 1 of 2 claims",
        50.0,
    )
    assert body["assignments"] == {"General agents": 1}
    assert body["problems"] == [
        {"claim_number": "BIG", "reason": "Senior agents has no active agent"}
    ]


def test_schedule_followups_counts_by_priority(as_user, manager, gina):
    # Aging 40 and $12,000: high (amount > $10,000); aging 70 and $1,200: medium (aging > 60);
    # aging 40 and $1,200: low. Aetna's first call is due 30 days after submission: all three
    # are overdue, so they are booked from today on (the agent takes 10 calls a day).
    aged(40, agent=gina, amount=Decimal("12000"))
    aged(70, agent=gina)
    aged(40, agent=gina)
    aged(40)  # no agent yet: not scheduled
    api = as_user(manager)
    body = api.post(auto_url("schedule-followups")).json()
    assert {key: body[key] for key in ("success", "message", "follow_ups", "success_rate")} == {
        "success": True,
        "message": "Scheduled 3 of 3 follow-ups",
        "follow_ups": {"high": 1, "medium": 1, "low": 1},
        "success_rate": 100.0,
    }
    assert FollowUp.objects.count() == 3
    again = api.post(auto_url("schedule-followups")).json()
    assert (again["message"], again["follow_ups"]) == ("Scheduled 0 of 0 follow-ups", {})
    assert FollowUp.objects.count() == 3


# Claims: reading, scope, filters ---------------------------------------------------------------


def test_an_agent_reaches_only_own_claims(as_user, gina, hugo):
    own = aged(10, agent=gina)
    others = aged(10, agent=hugo)
    unassigned = aged(10)
    api = as_user(gina.user)
    assert ids(api.get(api_url("claim-list"))) == {own.pk}
    assert api.get(api_url("claim-detail", own.pk)).status_code == 200
    for claim in (others, unassigned):
        assert api.get(api_url("claim-detail", claim.pk)).status_code == 404
        assert api.get(api_url("claim-assignments", claim.pk)).status_code == 404
        response = api.patch(api_url("claim-detail", claim.pk), {"notes": "mine"}, format="json")
        assert response.status_code == 404
    assert set(Claim.objects.values_list("notes", flat=True)) == {""}


def test_a_manager_sees_every_claim(as_user, manager, gina, hugo):
    claims = {aged(10, agent=gina).pk, aged(10, agent=hugo).pk, aged(10).pk}
    assert ids(as_user(manager).get(api_url("claim-list"))) == claims


def test_a_claim_row(as_user, manager, gina):
    # Aetna's filing window is 180 days: at risk past 80%, 144 days.
    claim = aged(
        145,
        claim_number="C-145",
        agent=gina,
        queue=queue("general_agent"),
        amount=Decimal("7500"),
        priority="high",
        patient=PatientFactory(member_id="M-9", name="Pat Doe", date_of_birth=date(1970, 5, 1)),
    )
    row = as_user(manager).get(api_url("claim-list")).json()["results"][0]
    assert row["claim_number"] == "C-145"
    assert row["patient"] == {"id": claim.patient_id, "member_id": "M-9"}  # no name in lists
    assert row["payer"] == {"id": claim.payer_id, "name": "Aetna", "payer_type": "commercial"}
    assert (row["amount"], row["status"], row["priority"]) == ("7500.00", "submitted", "high")
    assert row["agent"] == {"id": gina.pk, "name": "Gina"}
    assert row["queue"]["kind"] == "general_agent"
    assert (row["aging_days"], row["aging_bucket"], row["timely_filing_risk"]) == (
        145,
        "120+",
        True,
    )
    assert row["submission_date"] == str(TODAY - timedelta(days=145))


def test_timely_filing_flag_boundary(as_user, manager):
    # Aetna: 180 × 0.8 = 144 days; a payer without its own window uses the setting (180 → 144);
    # Medicare's is 365 × 0.8 = 292.
    at_limit = aged(144)
    past = aged(145)
    medicare = aged(200, payer=payer("Medicare"))
    no_window = aged(145, payer=PayerFactory(name="Cigna", filing_window_days=None))
    rows = as_user(manager).get(api_url("claim-list")).json()["results"]
    flags = {row["id"]: row["timely_filing_risk"] for row in rows}
    assert flags == {at_limit.pk: False, past.pk: True, medicare.pk: False, no_window.pk: True}


def test_reading_a_claim_shows_the_patient_and_is_audited(as_user, gina):
    claim = aged(
        5,
        agent=gina,
        notes="Called twice",
        patient=PatientFactory(name="Pat Doe", member_id="M-1", date_of_birth=date(1970, 5, 1)),
    )
    body = as_user(gina.user).get(api_url("claim-detail", claim.pk)).json()
    assert body["patient"] == {
        "id": claim.patient_id,
        "member_id": "M-1",
        "name": "Pat Doe",
        "date_of_birth": "1970-05-01",
    }
    assert (body["notes"], body["aging_days"], body["aging_bucket"]) == ("Called twice", 5, "0-30")
    event = AuditEvent.objects.get(action="view")
    assert (event.object_type, event.object_ids, event.actor) == (
        "rcm.claim",
        [str(claim.pk)],
        gina.user,
    )


@pytest.mark.parametrize(
    ("bucket", "expected"),
    [
        ("0-30", {0, 30}),
        ("31-60", {31, 60}),
        ("61-90", {61, 90}),
        ("91-120", {91, 120}),
        ("120+", {121, 400}),
    ],
)
def test_aging_bucket_filter_boundaries(as_user, manager, bucket, expected):
    # Aging = days from submission to today: a claim submitted 30 days ago is in 0-30, one
    # submitted 31 days ago in 31-60; 120 is the last day of 91-120, 121 the first of 120+.
    by_aging = {days: aged(days).pk for days in (0, 30, 31, 60, 61, 90, 91, 120, 121, 400)}
    response = as_user(manager).get(api_url("claim-list", aging_bucket=bucket))
    assert ids(response) == {by_aging[days] for days in expected}
    assert {row["aging_bucket"] for row in response.json()["results"]} == {bucket}


def test_a_claim_submitted_after_today_ages_zero_days(as_user, manager):
    future = ClaimFactory(
        submission_date=TODAY + timedelta(days=3), service_date=TODAY - timedelta(days=1)
    )
    response = as_user(manager).get(api_url("claim-list", aging_bucket="0-30"))
    assert ids(response) == {future.pk}
    assert response.json()["results"][0]["aging_days"] == 0


@pytest.fixture
def listed(gina, hugo, senior):
    cigna = PayerFactory(name="Cigna")
    return {
        "a": aged(10, status="denied", agent=gina, queue=queue("general_agent")).pk,
        "b": aged(10, status="pending", agent=hugo, queue=queue("general_agent")).pk,
        "c": aged(10, status="paid", payer=cigna, agent=senior, queue=queue("senior_agent")).pk,
        "d": aged(10, status="denied", payer=payer("Medicare"), priority="high").pk,
        "cigna": cigna.pk,
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"status": "denied"}, "ad"),
        ({"status": ["denied", "paid"]}, "acd"),
        ({"payer": "Cigna"}, "c"),
        ({"payer": "medicare"}, "d"),
        ({"payer": "Nobody"}, ""),
        ({"queue": "general_agent"}, "ab"),
        ({"queue": "senior_agent", "status": "denied"}, ""),
        ({"priority": "high"}, "d"),
    ],
)
def test_claim_list_filters(as_user, manager, listed, query, expected):
    response = as_user(manager).get(api_url("claim-list", **query))
    assert ids(response) == {listed[name] for name in expected}


def test_claim_list_filters_by_ids(as_user, manager, listed, hugo):
    api = as_user(manager)
    assert ids(api.get(api_url("claim-list", payer=listed["cigna"]))) == {listed["c"]}
    assert ids(api.get(api_url("claim-list", agent=hugo.pk))) == {listed["b"]}
    general = queue("general_agent").pk
    assert ids(api.get(api_url("claim-list", queue=general))) == {listed["a"], listed["b"]}


@pytest.mark.parametrize(
    "query",
    [
        {"status": "lost"},
        {"aging_bucket": "200+"},
        {"agent": "Gina"},
        {"priority": "urgent"},
    ],
)
def test_bad_claim_filters_answer_400_naming_the_parameter(as_user, manager, query):
    response = as_user(manager).get(api_url("claim-list", **query))
    assert response.status_code == 400
    assert set(response.json()) == set(query)


def test_claim_list_query_count_does_not_grow_with_rows(as_user, manager, gina, senior):
    api = as_user(manager)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert api.get(api_url("claim-list")).status_code == 200
        return len(captured)

    aged(10, agent=gina, queue=queue("general_agent"))
    queries()  # the first request also loads the user's roles
    few = queries()
    for days in (20, 40, 70, 100, 150):
        aged(days, agent=senior, queue=queue("senior_agent"), payer=PayerFactory())
    assert queries() == few


# Claims: writing -------------------------------------------------------------------------------


def claim_body(**fields):
    return {
        "claim_number": "NEW-1",
        "patient": PatientFactory().pk,
        "provider": "Riverside Clinic",
        "payer": "Aetna",
        "amount": "850.50",
        "service_date": "2026-02-01",
        "submission_date": "2026-02-03",
        "procedure_code": "99213",
        "diagnosis_code": "E11.9",
        **fields,
    }


def test_a_manager_adds_a_claim(as_user, manager):
    response = as_user(manager).post(api_url("claim-list"), claim_body(), format="json")
    assert response.status_code == 201, response.content
    claim = Claim.objects.get()
    body = response.json()
    assert body["id"] == claim.pk
    assert (claim.claim_number, claim.payer.name, claim.status) == ("NEW-1", "Aetna", "submitted")
    assert (claim.amount, claim.balance) == (Decimal("850.50"), Decimal("850.50"))
    # Submitted 2026-02-03, today 2026-03-10: 28 + 7 = 35 days.
    assert (body["aging_days"], body["aging_bucket"], body["agent"]) == (35, "31-60", None)
    event = AuditEvent.objects.get(action="create")
    assert (event.object_type, event.object_ids) == ("rcm.claim", [str(claim.pk)])


def test_the_payer_may_be_given_by_id(as_user, manager):
    body = claim_body(payer=payer("Medicare").pk, balance="100")
    response = as_user(manager).post(api_url("claim-list"), body, format="json")
    assert response.status_code == 201, response.content
    assert (Claim.objects.get().payer.name, Claim.objects.get().balance) == (
        "Medicare",
        Decimal("100"),
    )


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"amount": "0"}, "amount"),
        ({"amount": "-5"}, "amount"),
        ({"amount": "lots"}, "amount"),
        ({"payer": "Nobody Health"}, "payer"),
        ({"payer": 99999}, "payer"),
        ({"service_date": "2026-02-04"}, "service_date"),
        ({"claim_number": "TAKEN"}, "claim_number"),
        ({"status": "lost"}, "status"),
    ],
)
def test_bad_claims_are_refused_naming_the_field(as_user, manager, fields, field):
    ClaimFactory(claim_number="TAKEN")
    response = as_user(manager).post(api_url("claim-list"), claim_body(**fields), format="json")
    assert response.status_code == 400
    assert set(response.json()) == {field}
    assert list(Claim.objects.values_list("claim_number", flat=True)) == ["TAKEN"]
    assert not AuditEvent.objects.filter(action="create").exists()


def test_the_messages_say_what_is_wrong(as_user, manager):
    ClaimFactory(claim_number="TAKEN")
    api = as_user(manager)

    def errors(**fields):
        return api.post(api_url("claim-list"), claim_body(**fields), format="json").json()

    assert errors(amount="0") == {"amount": ["The amount must be more than 0."]}
    assert errors(payer="Nobody") == {"payer": ["Unknown payer 'Nobody'."]}
    assert errors(service_date="2026-02-04") == {
        "service_date": ["The service date is after the submission date."]
    }
    assert errors(claim_number="TAKEN") == {
        "claim_number": ["A claim with this number already exists."]
    }


def test_a_manager_changes_a_claim(as_user, manager):
    claim = aged(10, amount=Decimal("100"))
    api = as_user(manager)
    response = api.patch(
        api_url("claim-detail", claim.pk),
        {"amount": "250", "status": "denied", "denial_reason": "not_covered"},
        format="json",
    )
    assert response.status_code == 200, response.content
    claim.refresh_from_db()
    assert (claim.amount, claim.status, claim.denial_reason) == (
        Decimal("250"),
        "denied",
        "not_covered",
    )
    assert AuditEvent.objects.get(action="update").description == (
        "Claim changed (API): amount, denial_reason, status"
    )
    # The service date may not move past the submission date (taken from the claim).
    after = str(claim.submission_date + timedelta(days=1))
    response = api.patch(api_url("claim-detail", claim.pk), {"service_date": after}, format="json")
    assert (response.status_code, set(response.json())) == (400, {"service_date"})
    response = api.patch(api_url("claim-detail", claim.pk), {"amount": "0"}, format="json")
    assert (response.status_code, set(response.json())) == (400, {"amount"})
    claim.refresh_from_db()
    assert (claim.amount, claim.service_date) == (Decimal("250"), TODAY - timedelta(days=11))


def test_an_agent_may_change_only_the_notes_of_own_claims(as_user, gina):
    claim = aged(10, agent=gina, amount=Decimal("100"))
    api = as_user(gina.user)
    path = api_url("claim-detail", claim.pk)
    response = api.patch(path, {"notes": "Payer asked for records"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["notes"] == "Payer asked for records"
    response = api.patch(path, {"notes": "x", "amount": "1"}, format="json")
    assert response.status_code == 403
    assert "amount" in response.json()["detail"]
    assert (
        api.put(path, claim_body(claim_number=claim.claim_number), format="json").status_code == 403
    )
    claim.refresh_from_db()
    assert (claim.notes, claim.amount) == ("Payer asked for records", Decimal("100"))


# Follow-ups ------------------------------------------------------------------------------------


def call(claim, day, *, status="scheduled", priority="low"):
    return FollowUp.objects.create(
        claim=claim,
        agent=claim.agent,
        scheduled_at=timezone.make_aware(datetime.combine(day, time(9))),
        status=status,
        priority=priority,
    )


def test_follow_ups_are_scoped_and_filtered(as_user, manager, gina, hugo):
    own_today = call(aged(40, agent=gina), TODAY)
    own_done = call(aged(40, agent=gina), TODAY - timedelta(days=7), status="done")
    others = call(aged(40, agent=hugo), TODAY, priority="high")
    api = as_user(gina.user)
    assert ids(api.get(api_url("follow-up-list"))) == {own_today.pk, own_done.pk}
    assert api.get(api_url("follow-up-detail", others.pk)).status_code == 404
    api = as_user(manager)
    assert ids(api.get(api_url("follow-up-list"))) == {own_today.pk, own_done.pk, others.pk}
    assert ids(api.get(api_url("follow-up-list", status="done"))) == {own_done.pk}
    assert ids(api.get(api_url("follow-up-list", agent=hugo.pk))) == {others.pk}
    assert ids(api.get(api_url("follow-up-list", date=str(TODAY)))) == {own_today.pk, others.pk}
    assert ids(api.get(api_url("follow-up-list", priority="high"))) == {others.pk}
    assert api.get(api_url("follow-up-list", date="someday")).status_code == 400
    row = api.get(api_url("follow-up-detail", own_today.pk)).json()
    assert (row["claim_number"], row["agent"]["name"], row["status"]) == (
        own_today.claim.claim_number,
        "Gina",
        "scheduled",
    )


def test_an_agent_completes_a_call_and_the_next_is_booked(as_user, gina):
    claim = aged(40, agent=gina)
    first = call(claim, TODAY)
    response = as_user(gina.user).post(
        api_url("follow-up-complete", first.pk), {"outcome": "In process"}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["outcome"]) == ("done", "In process")
    # Aetna: 14 days after today's call, Tue 2026-03-24, at 09:00 (its first call time).
    following = FollowUp.objects.get(pk=body["next_follow_up"])
    assert following.scheduled_at == timezone.make_aware(datetime(2026, 3, 24, 9))


def test_completing_with_a_claim_status_settles_the_claim(as_user, manager, gina):
    claim = aged(40, agent=gina)
    first = call(claim, TODAY)
    body = (
        as_user(manager)
        .post(
            api_url("follow-up-complete", first.pk),
            {"outcome": "Paid in full", "claim_status": "paid"},
            format="json",
        )
        .json()
    )
    assert body["next_follow_up"] is None
    claim.refresh_from_db()
    assert claim.status == "paid"


def test_bad_completions_answer_400_and_change_nothing(as_user, gina, hugo):
    waiting = call(aged(40, agent=gina), TODAY)
    done = call(aged(40, agent=gina), TODAY, status="done")
    others = call(aged(40, agent=hugo), TODAY)
    api = as_user(gina.user)

    def complete(follow_up, **body):
        return api.post(api_url("follow-up-complete", follow_up.pk), body, format="json")

    response = complete(waiting, outcome="  ")
    assert (response.status_code, set(response.json())) == (400, {"outcome"})
    response = complete(waiting, outcome="ok", claim_status="lost")
    assert (response.status_code, set(response.json())) == (400, {"claim_status"})
    response = complete(done, outcome="again")
    assert response.status_code == 400
    assert response.json() == {"status": ["This follow-up is already done."]}
    assert complete(others, outcome="not mine").status_code == 404
    assert set(FollowUp.objects.values_list("status", flat=True)) == {"scheduled", "done"}
    assert FollowUp.objects.count() == 3
    assert FollowUp.objects.get(pk=waiting.pk).outcome == ""


# Appeals and documents -------------------------------------------------------------------------


@pytest.fixture
def denied(gina):
    return aged(
        40,
        claim_number="CLM-DENIED",
        agent=gina,
        amount=Decimal("1200"),
        status="denied",
        denial_reason="medical_necessity",
        patient=PatientFactory(name="Pat Doe", member_id="M-1", date_of_birth=date(1970, 5, 1)),
    )


def appeal_body(claim, **fields):
    return {
        "claim_number": claim.claim_number,
        "service_date": str(claim.service_date),
        "amount": str(claim.amount),
        "notes": "MRI shows a torn meniscus; six weeks of therapy failed.",
        **fields,
    }


def test_an_agent_generates_an_appeal_for_own_claim(as_user, gina, denied):
    response = as_user(gina.user).post(
        auto_url("generate-appeal"), appeal_body(denied), format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    document = GeneratedDocument.objects.get()
    assert body["id"] == document.pk
    assert (body["template_type"], body["needs_review"], body["claim_number"]) == (
        "appeal_medical_necessity",
        False,
        "CLM-DENIED",
    )
    assert body["title"] == document.title
    assert "MRI shows a torn meniscus" in body["text"]
    assert "Pat Doe" in body["text"]
    assert body["downloads"] == {
        "txt": f"/rcm/documents/{document.pk}.txt",
        "pdf": f"/rcm/documents/{document.pk}.pdf",
    }
    assert (document.claim, document.created_by) == (denied, gina.user)
    denied.refresh_from_db()
    assert denied.status == "appealed"


def test_an_unknown_denial_reason_gets_a_generic_appeal_to_review(as_user, manager, denied):
    response = as_user(manager).post(
        auto_url("generate-appeal"),
        appeal_body(denied, denial_reason="lost in the mail"),
        format="json",
    )
    assert response.status_code == 201, response.content
    assert (response.json()["template_type"], response.json()["needs_review"]) == (
        "appeal_generic",
        True,
    )


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"service_date": "2020-01-01"}, "service_date"),
        ({"amount": "1200.01"}, "amount"),
        ({"amount": "much"}, "amount"),
        ({"claim_number": None}, "claim_number"),
        ({"notes": ""}, "data"),  # the letter's clinical justification would be empty
    ],
)
def test_a_bad_appeal_request_answers_400_and_writes_nothing(as_user, gina, denied, fields, field):
    body = {key: value for key, value in appeal_body(denied, **fields).items() if value is not None}
    response = as_user(gina.user).post(auto_url("generate-appeal"), body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not GeneratedDocument.objects.exists()
    assert not AutomationRun.objects.exists()
    denied.refresh_from_db()
    assert denied.status == "denied"


def test_the_guard_messages_name_the_claims_values(as_user, gina, denied):
    body = appeal_body(denied, service_date="2020-01-01", amount="99")
    errors = as_user(gina.user).post(auto_url("generate-appeal"), body, format="json").json()
    service_date = denied.service_date
    assert errors == {
        "service_date": [f"Claim CLM-DENIED was for service on {service_date}, not 2020-01-01."],
        "amount": ["Claim CLM-DENIED is for $1,200, not $99."],
    }


def test_appeals_and_documents_for_claims_out_of_scope_are_404(as_user, hugo, denied):
    api = as_user(hugo.user)
    response = api.post(auto_url("generate-appeal"), appeal_body(denied), format="json")
    assert response.status_code == 404
    response = api.post(
        auto_url("generate-appeal"), appeal_body(denied, claim_number="NO-SUCH"), format="json"
    )
    assert response.status_code == 404
    body = {
        "template_type": "medical_records_request",
        "data": {"recipient": "Records"},
        "claim_number": denied.claim_number,
    }
    assert api.post(auto_url("generate-document"), body, format="json").status_code == 404
    assert not GeneratedDocument.objects.exists()


def test_generate_document_for_a_claim(as_user, gina, denied):
    body = {
        "template_type": "medical_records_request",
        "data": {"recipient": "Lakeside Imaging, Records Department"},
        "claim_number": denied.claim_number,
    }
    response = as_user(gina.user).post(auto_url("generate-document"), body, format="json")
    assert response.status_code == 201, response.content
    document = GeneratedDocument.objects.get()
    assert response.json()["template_type"] == "medical_records_request"
    assert "Lakeside Imaging, Records Department" in response.json()["text"]
    assert (document.claim, document.needs_review) == (denied, False)


def test_generate_document_names_every_missing_variable_and_writes_nothing(as_user, gina, denied):
    api = as_user(gina.user)
    body = {"template_type": "medical_records_request", "data": {}, "claim_number": "CLM-DENIED"}
    response = api.post(auto_url("generate-document"), body, format="json")
    assert response.status_code == 400
    assert response.json() == {"data": ["Missing variables: recipient."]}
    response = api.post(
        auto_url("generate-document"), {"template_type": "haiku", "data": {}}, format="json"
    )
    assert (response.status_code, set(response.json())) == (400, {"template_type"})
    response = api.post(
        auto_url("generate-document"),
        {"template_type": "payment_inquiry", "data": [1]},
        format="json",
    )
    assert (response.status_code, set(response.json())) == (400, {"data"})
    assert not GeneratedDocument.objects.exists()


def test_documents_are_scoped_and_reading_one_is_audited(as_user, manager, gina, hugo, denied):
    api = as_user(gina.user)
    api.post(auto_url("generate-appeal"), appeal_body(denied), format="json")
    own = GeneratedDocument.objects.get()
    others_claim = aged(
        10,
        agent=hugo,
        claim_number="HUGO-1",
        patient=PatientFactory(date_of_birth=date(1980, 1, 2)),
    )
    response = as_user(hugo.user).post(
        auto_url("generate-document"),
        {
            "template_type": "medical_records_request",
            "data": {"recipient": "X"},
            "claim_number": "HUGO-1",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    others = GeneratedDocument.objects.get(claim=others_claim)
    api = as_user(gina.user)
    listed = api.get(api_url("document-list")).json()["results"]
    assert [row["id"] for row in listed] == [own.pk]
    assert "text" not in listed[0]
    assert api.get(api_url("document-detail", others.pk)).status_code == 404
    detail = api.get(api_url("document-detail", own.pk)).json()
    assert detail["text"] == own.text
    event = AuditEvent.objects.filter(action="view").get()
    assert (event.object_type, event.object_ids) == ("rcm.generateddocument", [str(own.pk)])
    api = as_user(manager)
    assert ids(api.get(api_url("document-list"))) == {own.pk, others.pk}
    assert ids(api.get(api_url("document-list", claim=others_claim.pk))) == {others.pk}
    query = {"template_type": "appeal_medical_necessity"}
    assert ids(api.get(api_url("document-list", **query))) == {own.pk}


# Metrics ---------------------------------------------------------------------------------------


def test_metrics_for_managers(as_user, manager, gina):
    aged(10)
    aged(20)
    api = as_user(manager)
    api.post(auto_url("assign-claims"), {}, format="json")
    response = api.get(auto_url("metrics"))
    assert response.status_code == 200, response.content
    body = response.json()
    # One run that placed 2 claims today: 2 tasks, 2 × 15 min = 0.5 h, 2 × $25 = $50.
    assert body["today"] == "2026-03-10"
    assert body["tasks_automated"] == {"today": 2, "week": 2}
    assert body["time_saved_hours"] == {"today": 0.5, "week": 0.5}
    assert body["cost_reduction"] == {"today": "50.00", "week": "50.00"}


# Schema ----------------------------------------------------------------------------------------


def test_schema_documents_the_rcm_api_without_warnings(tmp_path):
    out = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    for path in (
        "/api/automation/assign-claims:",
        "/api/automation/generate-appeal:",
        "/api/automation/schedule-followups:",
        "/api/automation/generate-document:",
        "/api/automation/metrics:",
        "/api/rcm/claims/{id}/assignments/:",
        "/api/rcm/follow-ups/{id}/complete/:",
    ):
        assert path in text
    assert "/api/automation/assign-claims/:" not in text  # the slash variant is not documented
