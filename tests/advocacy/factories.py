"""factory_boy factories for advocacy (shared by every advocacy test).

Cases made by CaseFactory are plain rows (no events); for a case with a history, open it with
`advocacy.services.open_case` and move it with `services.transition`, or use `case_with_history`.
"""

from datetime import UTC, datetime, timedelta

import factory

from advocacy import services
from advocacy.models import Advocate, Case, Patient
from tests.factories import UserFactory

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
AS_OF = T0 + timedelta(days=10)  # the moment the hand-worked KPI fixture is computed as of


def at(days=0, hours=0):
    return T0 + timedelta(days=days, hours=hours)


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    external_id = factory.Sequence(lambda n: f"p{n}")
    insurance_type = "commercial"
    preferred_channel = "phone"
    state = "TX"


class AdvocateFactory(factory.django.DjangoModelFactory):
    """An advocate; `user=UserFactory(roles=["Advocate"])` gives them a login."""

    class Meta:
        model = Advocate

    name = factory.Sequence(lambda n: f"Advocate {n:02d}")
    team = "North"
    capacity = 10


class AdvocateUserFactory(AdvocateFactory):
    user = factory.SubFactory(UserFactory, roles=["Advocate"])


class CaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Case

    patient = factory.SubFactory(PatientFactory)
    case_type = "billing_dispute"
    urgency = "medium"
    created_at = T0
    complexity = "medium"
    metadata = factory.LazyAttribute(
        lambda case: services.clean_metadata(
            {"complexity": case.complexity, "missing_docs": case.missing_docs,
             "handoff_count": case.handoff_count}
        )
    )  # fmt: skip
    missing_docs = False
    handoff_count = 0


def case_with_history(advocate, *, case_type="billing_dispute", opened=T0, steps=(), **fields):
    """Open a case through the services, assign it, then apply `steps`: (status, hours after
    opening) pairs, e.g. [("in_progress", 2), ("resolved", 72)]."""
    case = services.open_case(patient=PatientFactory(), case_type=case_type, at=opened, **fields)
    if advocate is not None:
        case = services.assign(case, advocate, at=opened)
    for status, hours in steps:
        case = services.transition(case, status, at=opened + timedelta(hours=hours))
    return case
