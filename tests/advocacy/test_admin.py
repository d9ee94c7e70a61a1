"""The advocacy admin: every changelist opens without N+1 queries, PHI pages are audited, cases
are read-only, advocates are edited, and "Retrain now" trains, rescores and reports the AUC."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.urls import reverse

from advocacy import risk, rollups, services
from advocacy.models import AlertCondition, Case, CaseRisk, SlaRiskModel
from opsintel.models import AuditEvent
from tests.advocacy.factories import AdvocateFactory, PatientFactory
from tests.advocacy.test_risk import AS_OF, active_case, history

pytestmark = pytest.mark.django_db

CHANGELISTS = [
    "patient",
    "advocate",
    "case",
    "caseevent",
    "interaction",
    "patientfeedback",
    "casefact",
    "casetypekpi",
    "advocatecaseload",
    "bottlenecksegment",
    "slariskmodel",
    "caserisk",
    "alertcondition",
]


@pytest.fixture(autouse=True)
def sla_of_seven_days(settings):
    settings.ADVOCACY_DEFAULT_SLA_DAYS = 7
    settings.ADVOCACY_SLA_DAYS = {}
    settings.ADVOCACY_SLA_PAUSE_PENDING_DOCS = False


@pytest.fixture
def admin_client(client, make_user):
    user = make_user(is_staff=True, is_superuser=True)
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture
def advocacy_data():
    """Resolved history, a few active cases with interactions and feedback, every rollup, a
    trained model with its scores and an open alert: enough rows that one query per row
    would show in the counts."""
    advocates = history()
    cases = [
        active_case(advocates[n % 2], opened=AS_OF - timedelta(days=n + 1), missing_docs=n % 2 == 1)
        for n in range(4)
    ]
    for case in cases:
        services.log_interaction(
            case, advocate=case.advocate, channel="phone", started_at=AS_OF - timedelta(hours=1)
        )
    resolved = Case.objects.filter(status=Case.Status.RESOLVED)[:3]
    for case in resolved:
        services.submit_feedback(case, csat=4, at=case.resolved_at + timedelta(hours=1))
    rollups.refresh(AS_OF)
    risk.score_active_cases(risk.train(AS_OF), AS_OF)
    AlertCondition.objects.create(key="stale", message="31 stale cases (threshold 25)")
    return cases


def messages_of(response):
    return [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]


def test_each_changelist_opens_with_a_bounded_number_of_queries(
    admin_client, advocacy_data, django_assert_max_num_queries
):
    # One fixture for all thirteen lists: building the history and training take the time.
    for model in CHANGELISTS:
        with django_assert_max_num_queries(16, info=model):
            response = admin_client.get(reverse(f"admin:advocacy_{model}_changelist"))
        assert response.status_code == 200, model
        assert len(response.context["cl"].result_list) > 0, model


def test_cases_are_read_only_with_their_events_and_opening_one_is_audited(
    admin_client, advocacy_data
):
    case = advocacy_data[0]
    url = reverse("admin:advocacy_case_change", args=[case.pk])
    response = admin_client.get(url)
    assert response.status_code == 200
    assert "Opened" in response.content.decode()  # the event log inline
    assert 'name="_save"' not in response.content.decode()
    event = AuditEvent.objects.get(action=AuditEvent.Action.VIEW)
    assert (event.object_type, event.object_ids) == ("advocacy.case", [str(case.pk)])

    admin_client.post(url, {"status": "closed"})
    case.refresh_from_db()
    assert case.status == Case.Status.OPEN
    assert admin_client.get(reverse("admin:advocacy_case_add")).status_code == 403
    assert (
        admin_client.get(reverse("admin:advocacy_case_delete", args=[case.pk])).status_code == 403
    )


def test_cases_are_found_by_external_id_and_filtered_by_team(admin_client):
    north, south = AdvocateFactory(team="North"), AdvocateFactory(team="South")
    wanted = active_case(north, opened=AS_OF)
    Case.objects.filter(pk=wanted.pk).update(external_id="C-77")
    other = active_case(south, opened=AS_OF)
    changelist = reverse("admin:advocacy_case_changelist")

    found = admin_client.get(changelist, {"q": "C-77"})
    assert [c.pk for c in found.context["cl"].result_list] == [wanted.pk]
    south_only = admin_client.get(changelist, {"advocate__team": "South"})
    assert [c.pk for c in south_only.context["cl"].result_list] == [other.pk]


def test_opening_a_patient_is_audited(admin_client):
    patient = PatientFactory()
    response = admin_client.get(reverse("admin:advocacy_patient_change", args=[patient.pk]))
    assert response.status_code == 200
    event = AuditEvent.objects.get(action=AuditEvent.Action.VIEW)
    assert (event.actor, event.object_type) == (admin_client.user, "advocacy.patient")


def test_an_advocates_capacity_and_case_types_are_edited_here(admin_client):
    advocate = AdvocateFactory(name="Ana", capacity=10, case_types=[])
    response = admin_client.post(
        reverse("admin:advocacy_advocate_change", args=[advocate.pk]),
        {
            "name": "Ana",
            "team": "East",
            "capacity": "14",
            "case_types": ["billing_dispute", "claim_denial"],
            "active": "on",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    advocate.refresh_from_db()
    assert (advocate.capacity, advocate.team) == (14, "East")
    assert advocate.case_types == ["billing_dispute", "claim_denial"]


def test_an_advocate_with_no_capacity_is_refused_by_field(admin_client):
    advocate = AdvocateFactory(name="Ana", capacity=10)
    response = admin_client.post(
        reverse("admin:advocacy_advocate_change", args=[advocate.pk]),
        {"name": "Ana", "capacity": "0", "case_types": ["nonsense"], "active": "on"},
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert set(errors) == {"capacity", "case_types"}
    advocate.refresh_from_db()
    assert advocate.capacity == 10


def retrain(client):
    return client.post(
        reverse("admin:advocacy_slariskmodel_changelist"),
        {"action": "retrain_now", "index": "0"},
    )


def test_retrain_now_trains_rescores_and_reports_the_auc(admin_client):
    advocates = history()
    active = active_case(advocates[0], opened=AS_OF - timedelta(days=1), missing_docs=True)
    rollups.refresh()

    empty = admin_client.get(reverse("admin:advocacy_slariskmodel_changelist"))
    assert 'value="retrain_now"' in empty.content.decode()  # offered with nothing to tick

    response = retrain(admin_client)

    assert response.status_code == 302
    model = SlaRiskModel.objects.get()
    assert [(level, text) for level, text in messages_of(response)] == [
        (
            "success",
            f"Retrained the SLA-risk model: AUC {model.auc:.3f} on 10 held-out cases "
            "(30 for training); 1 active cases rescored.",
        )
    ]
    assert CaseRisk.objects.get().case_id == active.pk
    page = admin_client.get(reverse("admin:advocacy_slariskmodel_changelist"))
    assert f"{model.auc:.3f}" in page.content.decode()
    detail = admin_client.get(reverse("admin:advocacy_slariskmodel_change", args=[model.pk]))
    coefficient = dict(
        zip(model.parameters["features"], model.parameters["coefficients"], strict=True)
    )
    assert f"<td>missing_docs</td><td>{coefficient['missing_docs']:+.3f}</td>" in (
        detail.content.decode()
    )


def test_retrain_as_an_action_on_ticked_rows_trains_on_the_whole_history(admin_client):
    history()
    rollups.refresh()
    first = risk.train()
    response = admin_client.post(
        reverse("admin:advocacy_slariskmodel_changelist"),
        {"action": "retrain_now", "index": "0", "_selected_action": [first.pk]},
    )
    assert response.status_code == 302
    # The same history gives the same fit: retraining keeps the one model (idempotent).
    assert list(SlaRiskModel.objects.all()) == [first]
    assert messages_of(response)[0][0] == "success"


def test_retrain_without_history_shows_the_error_and_writes_nothing(admin_client):
    history(n=6)
    rollups.refresh()

    response = retrain(admin_client)

    assert response.status_code == 302
    [(level, text)] = messages_of(response)
    assert level == "error"
    assert text.startswith("Not enough resolved history to train the SLA-risk model: 6 resolved")
    assert not SlaRiskModel.objects.exists()
    assert not CaseRisk.objects.exists()


def test_retraining_needs_the_permission_to_add_models(client, make_user, admin_open_to_staff):
    history()
    rollups.refresh()
    viewer = make_user(is_staff=True)
    viewer.user_permissions.add(
        Permission.objects.get(content_type__app_label="advocacy", codename="view_slariskmodel")
    )
    client.force_login(viewer)
    changelist = client.get(reverse("admin:advocacy_slariskmodel_changelist"))
    assert changelist.status_code == 200
    assert "retrain_now" not in changelist.content.decode()
    retrain(client)
    assert not SlaRiskModel.objects.exists()
