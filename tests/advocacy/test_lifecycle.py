"""The case lifecycle service: allowed moves, the events they write, and bad input."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError

from advocacy import services
from advocacy.models import Advocate, Case, CaseEvent, Interaction, Patient, PatientFeedback

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
S = Case.Status


def hours(n):
    return T0 + timedelta(hours=n)


@pytest.fixture
def case():
    patient = Patient.objects.create(insurance_type="Medicare", state="CO")
    return services.open_case(
        patient=patient,
        case_type="prior_authorization",
        urgency="high",
        metadata={"intake_source": "portal", "handoff_count": 2, "missing_docs": True},
        at=T0,
    )


def events(case):
    return list(case.events.values_list("type", flat=True))


def test_opening_a_case_writes_the_opened_event_and_typed_metadata(case):
    assert events(case) == ["opened"]
    assert (case.status, case.intake_source, case.handoff_count, case.missing_docs) == (
        S.OPEN,
        "portal",
        2,
        True,
    )
    assert case.complexity == "medium"  # default when not given
    assert case.metadata["barriers"] == []


def test_a_full_lifecycle_writes_every_event_in_order(case):
    advocate = Advocate.objects.create(name="Rita Moss", case_types=["prior_authorization"])
    services.assign(case, advocate, at=hours(1), reason="lowest utilization")
    services.transition(case, S.IN_PROGRESS, at=hours(3))
    services.transition(case, S.PENDING_DOCS, at=hours(5))
    services.transition(case, S.ESCALATED, at=hours(30))
    case = services.transition(case, S.RESOLVED, at=hours(50))
    assert case.resolved_at == hours(50)
    assert case.escalated is True
    case = services.transition(case, S.REOPENED, at=hours(60))
    assert case.resolved_at is None
    assert case.is_active
    services.transition(case, S.RESOLVED, at=hours(70))
    services.transition(case, S.CLOSED, at=hours(71))
    assert events(case) == [
        "opened",
        "assigned",
        "first_response",
        "docs_requested",
        "docs_received",  # leaving pending_docs
        "escalated",
        "resolved",
        "reopened",
        "resolved",
        "closed",
    ]
    # first_response is written once, on the first move to in progress only.
    assert CaseEvent.objects.filter(case=case, type="first_response").count() == 1


@pytest.mark.parametrize(
    ("path", "illegal", "words"),
    [
        ([S.RESOLVED, S.CLOSED], S.RESOLVED, "A case that is closed cannot become resolved"),
        ([], S.REOPENED, "A case that is open cannot become reopened"),
        ([S.IN_PROGRESS], S.OPEN, "cannot become open"),
        ([], "won", "Unknown status 'won'"),
    ],
)
def test_illegal_moves_are_refused_and_write_nothing(case, path, illegal, words):
    for step, status in enumerate(path, start=1):
        services.transition(case, status, at=hours(step))
    before = (Case.objects.get(pk=case.pk).status, CaseEvent.objects.count())
    with pytest.raises(ValidationError) as error:
        services.transition(case, illegal, at=hours(10))
    assert words in error.value.message_dict["status"][0]
    assert (Case.objects.get(pk=case.pk).status, CaseEvent.objects.count()) == before


def test_events_cannot_go_back_in_time(case):
    services.transition(case, S.IN_PROGRESS, at=hours(5))
    with pytest.raises(ValidationError) as error:
        services.transition(case, S.ESCALATED, at=hours(4))
    assert "at" in error.value.message_dict


@pytest.mark.parametrize(
    ("metadata", "field"),
    [
        ({"handoff_count": "two"}, "metadata.handoff_count"),
        ({"handoff_count": -1}, "metadata.handoff_count"),
        ({"missing_docs": "yes"}, "metadata.missing_docs"),
        ({"barriers": "cost"}, "metadata.barriers"),
        ({"complexity": "extreme"}, "metadata.complexity"),
        ({"colour": "blue"}, "metadata"),
        (["not", "an", "object"], "metadata"),
    ],
)
def test_invalid_metadata_is_rejected_with_the_field_named(metadata, field):
    patient = Patient.objects.create()
    with pytest.raises(ValidationError) as error:
        services.open_case(patient=patient, case_type="claim_denial", metadata=metadata)
    assert field in error.value.message_dict
    assert not Case.objects.exists()


def test_assignment_respects_the_case_types_an_advocate_handles(case):
    billing_only = Advocate.objects.create(name="Bo", case_types=["billing_dispute"])
    with pytest.raises(ValidationError) as error:
        services.assign(case, billing_only, at=hours(1))
    assert "does not handle Prior authorization" in error.value.message_dict["advocate"][0]
    assert Case.objects.get(pk=case.pk).advocate is None


def test_feedback_only_after_resolution_and_csat_in_range(case):
    with pytest.raises(ValidationError) as error:
        services.submit_feedback(case, csat=5)
    assert "resolved" in error.value.message_dict["case"][0]
    services.transition(case, S.RESOLVED, at=hours(2))
    case.refresh_from_db()
    with pytest.raises(ValidationError) as error:
        services.submit_feedback(case, csat=6)
    assert "csat" in error.value.message_dict
    assert services.submit_feedback(case, csat=4).csat == 4
    with pytest.raises(ValidationError):
        services.submit_feedback(case, csat=5)
    assert PatientFeedback.objects.count() == 1


def test_interactions_are_logged_on_active_cases_only(case):
    advocate = Advocate.objects.create(name="Rita Moss")
    services.log_interaction(case, advocate=advocate, channel="phone", duration_minutes=12)
    with pytest.raises(ValidationError) as error:
        services.log_interaction(case, advocate=advocate, channel="fax")
    assert "channel" in error.value.message_dict
    services.transition(case, S.RESOLVED, at=hours(1))
    case.refresh_from_db()
    with pytest.raises(ValidationError) as error:
        services.log_interaction(case, advocate=advocate, channel="email")
    assert "reopen it first" in error.value.message_dict["case"][0]
    assert Interaction.objects.count() == 1
