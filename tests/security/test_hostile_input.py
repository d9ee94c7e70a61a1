"""Hostile input on every write endpoint of the API and on the main page forms.

Each row names an endpoint, a valid request for it and the fields to attack. Every field is
sent, one at a time, with values that are wrong for its type: other JSON types, 100k-character
strings, NUL and other control characters, integers past 64 bits, negative numbers where
none are allowed, impossible dates, SQL and script payloads. Each must be refused with a 400
that names the field, never a 500, and must write nothing. Text that is legitimately
accepted (script, RTL and emoji in a note) is checked to come back escaped on the pages.
"""

import json
import re

import pytest
from django.apps import apps
from django.db import transaction
from django.forms import BaseForm
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from tests.factories import UserFactory
from tests.security.test_api_fuzz import FUZZ_ROLES, build_world

SCRIPT = "<script>alert(1)</script>"
SQL = "'; DROP TABLE opsintel_user; --"
HUGE = "x" * 100_000
RTL_EMOJI = "\u202eevil\u202c \u05e9\u05dc\u05d5\u05dd \U0001f600\U0001f4a3"

# Values that are wrong for each kind of field.
INVALID = {
    "int": ["abc", 2**63, -(2**63) - 1, 1.5, [1], {"a": 1}, SQL, SCRIPT, True],
    # A row by id. (DRF's related fields look up 1.5 and true as pk 1, so those are left out.)
    "fk": ["abc", 2**63, -(2**63) - 1, -1, 10**9, [1], {"a": 1}, SQL, SCRIPT],
    "date": ["2026-13-45", "2026-02-30", "not-a-date", "99999-01-01", 20260101, SQL, [1]],
    "datetime": ["2026-13-45T10:00", "yesterday", "2026-03-16T25:61:00", 2**63, SCRIPT, [1]],
    "decimal": ["abc", "1e400", "NaN", "Infinity", "1" + "0" * 40, [1], SQL],
    "choice": [SCRIPT, SQL, "x\x00", 2**63, ["a"], {"a": 1}],
    "bool": ["maybe", 2, [True], {"a": 1}, SCRIPT],
    "object": [SCRIPT, [1, 2], 2**63],
    "array": ["1,2", ["abc"], [2**63], {"a": 1}, SQL],
    # Bounded text: over the limit, NUL, not text at all.
    "str": [HUGE, "a\x00b", {"a": 1}, ["x"]],
    # Free text: NUL (PostgreSQL cannot store it) and non-text must be refused.
    "text": ["a\x00b", {"a": 1}, ["x"]],
}


def api(path_name, *keys):
    """A URL builder: reverse(path_name) with the world's ids for `keys`."""
    return lambda w: reverse(path_name, args=[w[k] for k in keys])


# (id, method, url(world), valid body(world), {field: kind or (kind, [extra invalid values])},
#  app whose rows must not change, (model label, world key) of a row that must stay as it was)
API_ENDPOINTS = [
    (
        "advocacy-case-create",
        "post",
        lambda w: "/api/advocacy/cases/",
        lambda w: {"patient": w["advocacy_patient"], "case_type": "billing_dispute"},
        {"patient": "fk", "case_type": "choice", "urgency": "choice", "metadata": "object"},
        "advocacy",
        None,
    ),
    (
        "advocacy-case-assign",
        "post",
        lambda w: f"/api/advocacy/cases/{w['case']}/assign/",
        lambda w: {"advocate": w["advocate"], "reason": "cover"},
        {"advocate": "fk", "reason": "str"},
        "advocacy",
        ("advocacy.Case", "case"),
    ),
    (
        "advocacy-case-interaction",
        "post",
        lambda w: f"/api/advocacy/cases/{w['case']}/interactions/",
        lambda w: {
            "channel": "phone",
            "duration_minutes": 5,
            "note": "called",
            "advocate": w["advocate"],
        },
        {
            "channel": "choice",
            "direction": "choice",
            "started_at": "datetime",
            "duration_minutes": ("int", [-1, 10**6]),
            "note": "text",
            "advocate": "fk",
        },
        "advocacy",
        ("advocacy.Case", "case"),
    ),
    (
        "advocacy-case-transition",
        "post",
        lambda w: f"/api/advocacy/cases/{w['case']}/transition/",
        lambda w: {"status": "in_progress", "note": "working"},
        {"status": "choice", "note": "str"},
        "advocacy",
        ("advocacy.Case", "case"),
    ),
    (
        "advocacy-case-feedback",
        "post",
        lambda w: f"/api/advocacy/cases/{w['case']}/feedback/",
        lambda w: {"csat": 4, "comment": "fine"},
        {"csat": ("int", [0, -1, 6]), "comment": "text"},
        "advocacy",
        ("advocacy.Case", "case"),
    ),
    (
        "campaigns-create",
        "post",
        lambda w: "/api/campaigns/campaigns/",
        lambda w: {
            "name": "Q3",
            "coordinator_count": 1,
            "target_completion_date": "2099-01-01",
            "intervention_ids": [w["free_intervention"]],
        },
        {
            "name": "str",
            "coordinator_count": ("int", [0, -1]),
            "strategy": "choice",
            "target_completion_date": ("date", ["1999-01-01"]),
            "intervention_ids": "array",
        },
        "campaigns",
        None,
    ),
    (
        "campaigns-preview",
        "post",
        lambda w: "/api/campaigns/campaigns/preview/",
        lambda w: {"intervention_ids": [w["free_intervention"]], "coordinator_count": 1},
        {
            "coordinator_count": ("int", [0, -1]),
            "target_completion_date": "date",
            "intervention_ids": "array",
            "strategy": "choice",
        },
        "campaigns",
        None,
    ),
    (
        "campaigns-rebalance",
        "post",
        lambda w: f"/api/campaigns/campaigns/{w['campaign']}/rebalance/",
        lambda w: {"coordinator_ids": w["coordinators"]},
        {"coordinator_ids": ("array", [[], [-1]])},
        "campaigns",
        None,
    ),
    (
        "campaigns-assignment-outcome",
        "patch",
        lambda w: f"/api/campaigns/assignments/{w['assignment']}/",
        lambda w: {"status": "in_progress", "outcome": "called"},
        {"status": "choice", "outcome": "text"},
        "campaigns",
        ("campaigns.CampaignAssignment", "assignment"),
    ),
    (
        "rcm-claim-create",
        "post",
        lambda w: "/api/rcm/claims/",
        lambda w: {
            "claim_number": "CLM-NEW-1",
            "patient": w["rcm_patient"],
            "provider": "Riverside Clinic",
            "payer": w["payer"],
            "amount": "100.00",
            "service_date": "2026-01-10",
            "submission_date": "2026-01-12",
            "procedure_code": "99213",
            "diagnosis_code": "E11.9",
        },
        {
            "claim_number": "str",
            "patient": "fk",
            "provider": "str",
            "payer": "fk",
            "amount": ("decimal", ["-5.00"]),
            "balance": "decimal",
            "service_date": "date",
            "submission_date": "date",
            "procedure_code": "str",
            "diagnosis_code": "str",
            "status": "choice",
            "denial_reason": "choice",
            "notes": "text",
        },
        "rcm",
        None,
    ),
    (
        "rcm-claim-patch",
        "patch",
        lambda w: f"/api/rcm/claims/{w['claim']}/",
        lambda w: {"notes": "checked"},
        {
            "amount": "decimal",
            "service_date": "date",
            "status": "choice",
            "provider": "str",
            "notes": "text",
            "patient": "fk",
        },
        "rcm",
        ("rcm.Claim", "claim"),
    ),
    (
        "rcm-follow-up-complete",
        "post",
        lambda w: f"/api/rcm/follow-ups/{w['follow_up']}/complete/",
        lambda w: {"outcome": "Payer says in process"},
        {"outcome": "text", "claim_status": "choice"},
        "rcm",
        ("rcm.FollowUp", "follow_up"),
    ),
    (
        "rcm-generate-appeal",
        "post",
        lambda w: "/api/automation/generate-appeal",
        lambda w: {"claim_number": "CLM-X", "service_date": "2026-01-10", "amount": "100.00"},
        {
            "claim_number": "str",
            "denial_reason": "str",
            "service_date": "date",
            "amount": "decimal",
            "notes": "text",
        },
        "rcm",
        None,
    ),
    (
        "rcm-generate-document",
        "post",
        lambda w: "/api/automation/generate-document",
        lambda w: {"template_type": "appeal_authorization", "data": {}},
        {"template_type": "choice", "data": "object", "claim_number": "str"},
        "rcm",
        None,
    ),
    (
        "engagement-book",
        "post",
        lambda w: "/api/engagement/appointments/",
        lambda w: {
            "patient": w["patient"],
            "appointment_type": w["appointment_type"],
            "staff": w["free_slot_staff"],
            "location": w["location"],
            "starts_at": w["free_slot_starts_at"],
        },
        {
            "patient": "fk",
            "appointment_type": "fk",
            "staff": "fk",
            "location": "fk",
            "starts_at": ("datetime", ["2000-01-01T10:00:00Z"]),
        },
        "engagement",
        None,
    ),
    (
        "engagement-cancel",
        "post",
        lambda w: f"/api/engagement/appointments/{w['appointment']}/cancel/",
        lambda w: {"reason": "sick"},
        {"reason": "str"},
        "engagement",
        ("engagement.Appointment", "appointment"),
    ),
    (
        "engagement-reschedule",
        "post",
        lambda w: f"/api/engagement/appointments/{w['appointment']}/reschedule/",
        lambda w: {"starts_at": w["free_slot_starts_at"]},
        {"starts_at": "datetime", "staff": "fk"},
        "engagement",
        ("engagement.Appointment", "appointment"),
    ),
    (
        "engagement-status",
        "post",
        lambda w: f"/api/engagement/appointments/{w['appointment']}/status/",
        lambda w: {"action": "confirm"},
        {"action": "choice", "outcome_notes": "text"},
        "engagement",
        ("engagement.Appointment", "appointment"),
    ),
    (
        "engagement-survey",
        "post",
        lambda w: f"/api/engagement/appointments/{w['appointment']}/survey/",
        lambda w: {"satisfaction": 5, "would_recommend": 9},
        {
            "satisfaction": ("int", [0, 6, -1]),
            "would_recommend": ("int", [-1, 11]),
            "comment": "text",
        },
        "engagement",
        ("engagement.Appointment", "appointment"),
    ),
    (
        "engagement-patient-register",
        "post",
        lambda w: "/api/engagement/patients/",
        lambda w: {"location": w["location"], "name": "New Person", "phone": "+15550001111"},
        {
            "location": "fk",
            "name": "str",
            "date_of_birth": ("date", ["2999-01-01"]),
            "email": ("str", ["not-an-email", SCRIPT]),
            "phone": "str",
            "email_consent": "bool",
            "preferred_channel": "choice",
        },
        "engagement",
        None,
    ),
    (
        "engagement-task-create",
        "post",
        lambda w: "/api/engagement/tasks/",
        lambda w: {"patient": w["patient"], "reason": "Call back", "due_date": "2099-01-01"},
        {
            "patient": "fk",
            "reason": "str",
            "due_date": ("date", ["2000-01-01"]),
            "priority": "choice",
            "source": "choice",
            "appointment": "fk",
        },
        "engagement",
        None,
    ),
    (
        "engagement-task-complete",
        "post",
        lambda w: f"/api/engagement/tasks/{w['task']}/complete/",
        lambda w: {"outcome": "Reached"},
        {"outcome": "text"},
        "engagement",
        ("engagement.FollowUpTask", "task"),
    ),
]


def app_counts(label):
    return {
        model._meta.label: model.objects.count()
        for model in apps.get_app_config(label).get_models()
    }


def row(target, world):
    if target is None:
        return None
    model_label, key = target
    return list(apps.get_model(model_label).objects.filter(pk=world[key]).values())


def error_fields(body):
    """Every key of a DRF error body, nested ones included."""
    found = set()

    def walk(value):
        if isinstance(value, dict):
            for key, inner in value.items():
                found.add(key)
                walk(inner)
        elif isinstance(value, list):
            for inner in value:
                walk(inner)

    walk(body)
    return found


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """One world for the module, rolled back at its end; each test runs in a savepoint."""
    with django_db_blocker.unblock(), transaction.atomic():
        user = UserFactory(username="hostile", roles=FUZZ_ROLES)
        ids = build_world(user)
        ids["user"] = user
        yield ids
        transaction.set_rollback(True)


@pytest.fixture
def api_client(world, db):
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(world["user"])
    return client


def cases():
    for endpoint in API_ENDPOINTS:
        for field, kind in endpoint[4].items():
            yield pytest.param(endpoint, field, kind, id=f"{endpoint[0]}:{field}")


@pytest.mark.parametrize(("endpoint", "field", "kind"), list(cases()))
def test_api_refuses_hostile_value(api_client, world, endpoint, field, kind):
    _name, method, url, valid, _fields, app_label, target = endpoint
    kind, extra = kind if isinstance(kind, tuple) else (kind, [])
    before_counts, before_row = app_counts(app_label), row(target, world)
    problems = []
    for value in [*INVALID[kind], *extra]:
        body = {**valid(world), field: value}
        response = getattr(api_client, method)(
            url(world), json.dumps(body), content_type="application/json"
        )
        shown = repr(value)[:40]
        if response.status_code != 400:
            problems.append(f"{shown}: {response.status_code} {response.content[:300]!r}")
        elif field not in error_fields(response.json()):
            problems.append(f"{shown}: 400 without naming {field}: {response.json()}")
    assert not problems, "\n".join(problems)
    assert app_counts(app_label) == before_counts, "a refused request wrote rows"
    assert row(target, world) == before_row, "a refused request changed the row"


@pytest.mark.parametrize(
    "endpoint", [pytest.param(e, id=e[0]) for e in API_ENDPOINTS if e[1] == "post"]
)
def test_api_refuses_malformed_bodies(api_client, world, endpoint):
    _name, method, url, _valid, _fields, app_label, _target = endpoint
    before = app_counts(app_label)
    for raw, content_type in [
        ("{not json", "application/json"),
        ("\x00", "application/json"),
        ("[1, 2, 3]", "application/json"),
        ("null", "application/json"),
        ('"' + HUGE + '"', "application/json"),
        ("<?xml version='1.0'?><a/>", "application/xml"),
    ]:
        response = getattr(api_client, method)(url(world), raw, content_type=content_type)
        assert response.status_code in (400, 415), (raw[:20], response.status_code)
    assert app_counts(app_label) == before


# Pages -----------------------------------------------------------------------------------------


@pytest.fixture
def page_client(world, db):
    client = Client(raise_request_exception=False)
    client.force_login(world["user"])
    return client


def page(name, *keys):
    return lambda w: reverse(name, args=[w[k] for k in keys])


# (id, url(world), valid form data(world), {field: [invalid values]}, app, target row)
PAGE_FORMS = [
    (
        "campaign-build",
        page("campaigns:build"),
        lambda w: {
            "create": "1",
            "name": "Q3",
            "coordinator_count": "1",
            "strategy": "balanced",
            "target_completion_date": "2099-01-01",
            "ids": str(w["free_intervention"]),
        },
        {
            "name": [HUGE, "a\x00b"],
            "coordinator_count": ["abc", str(2**63), "-1", "0", SCRIPT],
            "strategy": [SCRIPT, SQL],
            "target_completion_date": ["2026-13-45", "99999-01-01", SCRIPT, SQL],
        },
        "campaigns",
        None,
    ),
    (
        "campaign-outcome",
        page("campaigns:record_outcome", "assignment"),
        lambda w: {"status": "in_progress", "outcome": "called"},
        {"status": [SCRIPT, SQL, ""], "outcome": [HUGE, "a\x00b"]},
        "campaigns",
        ("campaigns.CampaignAssignment", "assignment"),
    ),
    (
        "advocacy-interaction",
        page("advocacy:log_interaction", "case"),
        lambda w: {"channel": "phone", "direction": "outbound", "duration_minutes": "5"},
        {
            "channel": [SCRIPT, SQL],
            "duration_minutes": ["-1", str(2**63), "abc", SCRIPT],
            "note": [HUGE, "a\x00b"],
        },
        "advocacy",
        ("advocacy.Case", "case"),
    ),
    (
        "advocacy-status",
        page("advocacy:change_status", "case"),
        lambda w: {"status": "in_progress"},
        {"status": [SCRIPT, SQL, "closed\x00"], "note": [HUGE, "a\x00b"]},
        "advocacy",
        ("advocacy.Case", "case"),
    ),
    (
        "advocacy-assign",
        page("advocacy:assign_case", "case"),
        lambda w: {"advocate": str(w["advocate"])},
        {"advocate": ["abc", str(2**63), "-1", SCRIPT], "reason": [HUGE, "a\x00b"]},
        "advocacy",
        ("advocacy.Case", "case"),
    ),
    (
        "rcm-follow-up-complete",
        page("rcm:complete_follow_up", "follow_up"),
        lambda w: {"outcome": "Payer says in process"},
        {"outcome": [HUGE, "a\x00b", ""], "claim_status": [SCRIPT, SQL]},
        "rcm",
        ("rcm.FollowUp", "follow_up"),
    ),
    (
        "engagement-patient-register",
        page("engagement:patient_create"),
        lambda w: {"location": str(w["location"]), "name": "New Person"},
        {
            "name": [HUGE, "a\x00b"],
            "date_of_birth": ["2026-13-45", "99999-01-01", "2999-01-01", SCRIPT],
            "email": [SCRIPT, "not-an-email"],
            "location": ["abc", str(2**63), SCRIPT],
        },
        "engagement",
        None,
    ),
    (
        "engagement-task-complete",
        page("engagement:task_complete", "task"),
        lambda w: {"outcome": "Reached"},
        {"outcome": [HUGE, "a\x00b", ""]},
        "engagement",
        ("engagement.FollowUpTask", "task"),
    ),
    (
        "engagement-book",
        page("engagement:book"),
        lambda w: {
            "patient": str(w["patient"]),
            "appointment_type": str(w["appointment_type"]),
            "staff": str(w["free_slot_staff"]),
            "location": str(w["location"]),
            "starts_at": w["free_slot_starts_at"],
        },
        {
            "patient": ["abc", str(2**63), SCRIPT],
            "starts_at": ["2026-13-45T10:00", "yesterday", SCRIPT],
            "staff": ["-1", SQL],
        },
        "engagement",
        None,
    ),
]


def form_error_on(response, field):
    """Whether a form the page was rendered with holds an error for `field` (or, on the booking
    page, which lists the form's errors as text, whether it shows any)."""
    for context in response.context or []:
        for name, value in context.flatten().items():
            if isinstance(value, BaseForm) and field in value.errors:
                return True
            if name == "booking_errors" and value:
                return True
    return False


def page_cases():
    for form in PAGE_FORMS:
        for field, values in form[3].items():
            yield pytest.param(form, field, values, id=f"{form[0]}:{field}")


@pytest.mark.parametrize(("form", "field", "values"), list(page_cases()))
def test_page_form_refuses_hostile_value(page_client, world, form, field, values):
    _name, url, valid, _fields, app_label, target = form
    before_counts, before_row = app_counts(app_label), row(target, world)
    problems = []
    for value in values:
        response = page_client.post(url(world), {**valid(world), field: value})
        html = response.content.decode("utf-8", "replace")
        shown = repr(value)[:40]
        # Refused: the form again with the field marked (200 or 400), or, for the small
        # forms embedded in list pages, a redirect back with an error message.
        if response.status_code not in (200, 302, 400):
            problems.append(f"{shown}: {response.status_code}")
        elif response.status_code != 302 and not form_error_on(response, field):
            problems.append(f"{shown}: {response.status_code} without marking {field}")
        if "<script>alert(1)" in html:
            problems.append(f"{shown}: script reflected unescaped")
    assert not problems, "\n".join(problems)
    assert app_counts(app_label) == before_counts, "a refused form wrote rows"
    assert row(target, world) == before_row, "a refused form changed the row"


# Accepted text comes back escaped ----------------------------------------------------------------

HOSTILE_TEXT = f"{SCRIPT} {SQL} {RTL_EMOJI}"


def test_accepted_hostile_text_is_escaped_on_pages(api_client, page_client, world):
    """Script, SQL and RTL/emoji text is legitimate in free-text fields; wherever it is shown
    it must come back escaped."""
    case, task = world["case"], world["task"]
    response = api_client.post(
        f"/api/advocacy/cases/{case}/interactions/",
        {"channel": "phone", "note": HOSTILE_TEXT, "advocate": world["advocate"]},
        format="json",
    )
    assert response.status_code == 201, response.content
    response = api_client.post(
        "/api/engagement/patients/",
        {"location": world["location"], "name": SCRIPT, "phone": "+15550001111"},
        format="json",
    )
    assert response.status_code == 201, response.content
    patient = response.json()["id"]
    response = api_client.post(
        f"/api/engagement/tasks/{task}/complete/", {"outcome": HOSTILE_TEXT}, format="json"
    )
    assert response.status_code == 200, response.content
    for url in [
        reverse("advocacy:case_detail", args=[case]),
        reverse("engagement:patient_detail", args=[patient]),
        reverse("engagement:patient_list"),
        reverse("engagement:task_list") + "?status=done",
    ]:
        response = page_client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert "<script>alert(1)" not in html, url
    # The case page shows the note, escaped, and the RTL text intact.
    html = page_client.get(reverse("advocacy:case_detail", args=[case])).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert re.search("\u05e9\u05dc\u05d5\u05dd", html)
