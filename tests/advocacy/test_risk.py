"""The SLA-risk model: trained on resolved history without leaking the outcome, stored as JSON,
scored by hand-checkable arithmetic, with reasons people can read and a scoped queue."""

import json
import math
from datetime import UTC, datetime, timedelta

import pytest

from advocacy import risk, rollups, services
from advocacy.models import Case, CaseEvent, CaseRisk, SlaRiskModel
from tests.advocacy.factories import (
    AdvocateFactory,
    AdvocateUserFactory,
    CaseFactory,
    PatientFactory,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
AS_OF = T0 + timedelta(days=40)


@pytest.fixture(autouse=True)
def sla_of_seven_days(settings):
    settings.ADVOCACY_DEFAULT_SLA_DAYS = 7
    settings.ADVOCACY_SLA_DAYS = {}
    settings.ADVOCACY_SLA_PAUSE_PENDING_DOCS = False


def resolved_case(advocate, *, opened, days_open, missing_docs):
    case = CaseFactory(
        advocate=advocate,
        status=Case.Status.RESOLVED,
        created_at=opened,
        resolved_at=opened + timedelta(days=days_open),
        missing_docs=missing_docs,
    )
    CaseEvent.objects.bulk_create(
        [
            CaseEvent(case=case, type=CaseEvent.Type.OPENED, at=case.created_at),
            CaseEvent(case=case, type=CaseEvent.Type.RESOLVED, at=case.resolved_at),
        ]
    )
    return case


def history(n=40, *, noisy=3, late_days=9):
    """n resolved cases opened 12 hours apart over two advocates: the missing-documents half
    resolved after `late_days` (past the 7-day SLA), the complete half after 2 days, except
    `noisy` of each half, which go the other way."""
    advocates = [AdvocateFactory(capacity=10), AdvocateFactory(capacity=10)]
    for i in range(n):
        missing = i % 2 == 0
        late = missing if (i // 2) >= noisy else not missing
        resolved_case(
            advocates[i % 2 if i < n // 2 else 1 - i % 2],
            opened=T0 + timedelta(hours=12 * i),
            days_open=late_days if late else 2,
            missing_docs=missing,
        )
    return advocates


def active_case(advocate, *, opened, missing_docs=False, **metadata):
    case = services.open_case(
        patient=PatientFactory(),
        case_type="billing_dispute",
        metadata={"missing_docs": missing_docs, **metadata},
        at=opened,
    )
    return services.assign(case, advocate, at=opened)


def trained(as_of=AS_OF):
    rollups.refresh(as_of)
    return risk.train(as_of)


def test_training_learns_that_missing_documents_drive_breaches():
    history()
    model = trained()
    # 40 cases, 20 breached (17 missing documents + 3 complete): a stratified 25 % split
    # holds out 10 cases, 5 of each outcome.
    assert (model.train_cases, model.test_cases) == (30, 10)
    assert model.breach_share == 0.5
    assert model.auc > 0.8
    assert model.algorithm == "logistic_regression"
    assert model.trained_at == AS_OF
    parameters = model.parameters
    coefficients = dict(zip(parameters["features"], parameters["coefficients"], strict=True))
    assert coefficients["missing_docs"] > 0
    assert max(coefficients, key=lambda name: abs(coefficients[name])) in {
        "missing_docs",
        "age_days",
    }


def test_parameters_are_plain_json_and_the_stored_row_reloads_them():
    history()
    model = trained()
    stored = SlaRiskModel.objects.get(pk=model.pk).parameters
    assert json.loads(json.dumps(stored)) == stored
    assert stored["features"] == risk.feature_names()
    n = len(stored["features"])
    assert len(stored["means"]) == len(stored["scales"]) == len(stored["coefficients"]) == n
    assert isinstance(stored["intercept"], float)
    assert all(scale > 0 for scale in stored["scales"])


def test_the_case_missing_documents_is_riskier_and_says_why():
    advocates = history()
    missing = active_case(advocates[0], opened=AS_OF - timedelta(days=2), missing_docs=True)
    complete = active_case(advocates[0], opened=AS_OF - timedelta(days=2))
    model = trained()

    assert risk.score_active_cases(model, AS_OF) == 2

    risks = {r.case_id: r for r in CaseRisk.objects.all()}
    assert risks[missing.pk].probability > risks[complete.pk].probability
    assert risks[missing.pk].reasons[0] == "Missing documents"
    assert "Missing documents" not in risks[complete.pk].reasons
    assert all(r.model == model and r.scored_at == AS_OF for r in risks.values())


def test_probability_is_the_sigmoid_of_the_stored_coefficients_by_hand():
    advocate = AdvocateFactory(capacity=2)
    case = active_case(
        advocate, opened=AS_OF - timedelta(days=5), missing_docs=True, handoff_count=2
    )
    for _ in range(2):  # three active cases against a capacity of two: 1.5× utilization
        active_case(advocate, opened=AS_OF - timedelta(days=5))
    rollups.refresh(AS_OF)
    model = SlaRiskModel.objects.create(
        trained_at=AS_OF,
        parameters={
            "features": [
                "missing_docs",
                "age_days",
                "handoff_count",
                "advocate_utilization",
                "complexity",
            ],
            "means": [0.5, 3.0, 1.0, 0.5, 0.0],
            "scales": [0.5, 2.0, 1.0, 0.5, 1.0],
            "coefficients": [1.2, 0.4, -0.3, 0.1, 0.01],
            "intercept": -0.5,
        },
        auc=None,
        train_cases=0,
        test_cases=0,
        breach_share=0,
    )

    risk.score_active_cases(model, AS_OF)

    # Medium complexity is 1. z = ((1 − 0.5)/0.5, (5 − 3)/2, (2 − 1)/1, (1.5 − 0.5)/0.5, 1)
    # = (1, 1, 1, 2, 1); logit = 1.2·1 + 0.4·1 − 0.3·1 + 0.1·2 + 0.01·1 − 0.5 = 1.01
    scored = CaseRisk.objects.get(case=case)
    assert scored.probability == pytest.approx(1 / (1 + math.exp(-1.01)), abs=1e-12)
    # Contributions 1.2, 0.4, 0.2 raise the risk; handoffs (−0.3) lower it; complexity's 0.01
    # is too small to be a reason.
    assert scored.reasons == [
        "Missing documents",
        "Open 5 days",
        "Advocate over capacity (1.5× utilization)",
    ]
    # The two complete cases: z = (−1, 1, −1, 2, 1),
    # logit = −1.2 + 0.4 + 0.3 + 0.2 + 0.01 − 0.5 = −0.79
    others = CaseRisk.objects.exclude(case=case)
    assert [round(r.probability, 12) for r in others] == [round(1 / (1 + math.exp(0.79)), 12)] * 2
    assert others[0].reasons == ["Open 5 days", "Advocate over capacity (1.5× utilization)"]


def test_a_case_past_its_deadline_has_breached_for_certain():
    advocates = history()
    overdue = active_case(advocates[0], opened=AS_OF - timedelta(days=10))
    model = trained()

    risk.score_active_cases(model, AS_OF)

    scored = CaseRisk.objects.get(case=overdue)
    assert scored.probability == 1.0
    assert scored.reasons[0] == "Past its SLA deadline by 3 days"  # 10 days against 7
    assert len(scored.reasons) <= 3
    assert not [reason for reason in scored.reasons if reason.startswith("Open ")]


def test_queue_is_riskiest_first_and_an_advocate_sees_only_own_cases(make_user):
    history()
    mine = AdvocateUserFactory()
    other = AdvocateFactory()
    opened = AS_OF - timedelta(days=3)
    own_cases = [
        active_case(mine, opened=opened, missing_docs=True),
        active_case(mine, opened=opened),
    ]
    others = [
        active_case(other, opened=opened, missing_docs=True),
        active_case(other, opened=opened),
    ]
    risk.score_active_cases(trained(), AS_OF)

    leader_queue = list(risk.risk_queue(make_user("Operations leader")))
    probabilities = [r.probability for r in leader_queue]
    assert probabilities == sorted(probabilities, reverse=True)
    assert {r.case_id for r in leader_queue} == {c.pk for c in own_cases + others}

    advocate_queue = list(risk.risk_queue(mine.user))
    assert [r.case_id for r in advocate_queue] == [own_cases[0].pk, own_cases[1].pk]
    assert advocate_queue[0].probability > advocate_queue[1].probability
    assert list(risk.risk_queue(UserFactory(roles=["Advocate"]))) == []


def test_queue_reads_patient_and_advocate_without_extra_queries(
    make_user, django_assert_num_queries
):
    advocates = history()
    for _ in range(3):
        active_case(advocates[0], opened=AS_OF - timedelta(days=1))
    risk.score_active_cases(trained(), AS_OF)
    queue = risk.risk_queue(make_user("Operations leader"))  # the role is looked up here
    with django_assert_num_queries(1):
        rows = [(r.case.patient.external_id, r.case.advocate.name) for r in queue]
    assert len(rows) == 3


def test_rescoring_gives_identical_rows_and_cases_no_longer_active_drop_out():
    advocates = history()
    first = active_case(advocates[0], opened=AS_OF - timedelta(days=2), missing_docs=True)
    second = active_case(advocates[1], opened=AS_OF - timedelta(days=1))
    model = trained()

    def rows():
        return list(
            CaseRisk.objects.order_by("case_id").values_list(
                "case_id", "model_id", "probability", "reasons", "scored_at"
            )
        )

    risk.score_active_cases(model, AS_OF)
    once = rows()
    risk.score_active_cases(model, AS_OF)
    assert rows() == once
    assert [row[0] for row in once] == [first.pk, second.pk]

    services.transition(first, Case.Status.RESOLVED, at=AS_OF + timedelta(hours=1))
    later = AS_OF + timedelta(hours=2)
    rollups.refresh(later)
    assert risk.score_active_cases(model, later) == 1
    assert [row[0] for row in rows()] == [second.pk]


def test_scoring_uses_the_latest_model_by_default():
    advocates = history()
    active_case(advocates[0], opened=AS_OF - timedelta(days=1))
    trained(AS_OF - timedelta(days=1))
    newest = trained()
    assert risk.latest_model() == newest
    risk.score_active_cases(as_of=AS_OF)
    assert CaseRisk.objects.get().model == newest


def test_too_little_history_is_refused_and_nothing_is_written():
    history(n=12)
    with pytest.raises(risk.RiskModelError, match="12 resolved cases"):
        trained()
    assert not SlaRiskModel.objects.exists()


def test_history_with_one_outcome_only_is_refused():
    history(n=30, late_days=3)
    with pytest.raises(risk.RiskModelError, match="0 breached, 30 on time"):
        trained()
    assert not SlaRiskModel.objects.exists()


def test_a_failed_training_leaves_the_current_scores_alone():
    advocates = history()
    active_case(advocates[0], opened=AS_OF - timedelta(days=1))
    model = trained()
    risk.score_active_cases(model, AS_OF)
    Case.objects.filter(status=Case.Status.RESOLVED).delete()
    rollups.refresh(AS_OF)
    with pytest.raises(risk.RiskModelError):
        risk.train(AS_OF)
    assert list(SlaRiskModel.objects.all()) == [model]
    assert CaseRisk.objects.count() == 1


def test_scoring_without_a_model_says_so():
    with pytest.raises(risk.RiskModelError, match="No SLA-risk model"):
        risk.score_active_cases(as_of=AS_OF)


@pytest.mark.parametrize(
    ("feature", "value", "text"),
    [
        ("case_type=prior_authorization", 1, "Prior authorization case"),
        ("urgency=urgent", 1, "Marked urgent"),
        ("complexity", 2, "High complexity"),
        ("missing_docs", 1, "Missing documents"),
        ("handoff_count", 1, "Handed off once"),
        ("handoff_count", 3, "Handed off 3 times"),
        ("age_days", 9.7, "Open 9 days"),
        ("age_days", 1.2, "Open 1 day"),
        ("age_days", 0.4, "Opened less than a day ago"),
        ("advocate_utilization", 1.3, "Advocate over capacity (1.3× utilization)"),
        ("advocate_utilization", 0.85, "Advocate at 85% of capacity"),
    ],
)
def test_reasons_read_as_people_say_them(feature, value, text):
    assert risk.reason_text(feature, value) == text
