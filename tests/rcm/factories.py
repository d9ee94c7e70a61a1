"""factory_boy factories for rcm (shared by every rcm test).

The migrations seed the five queues, the five assignment rules, Aetna and Medicare with their
follow-up rules and the default follow-up rule; `queue(kind)` and `payer(name)` fetch them.
"""

from datetime import date
from decimal import Decimal

import factory

from rcm.models import Agent, Claim, Patient, Payer, WorkQueue
from tests.factories import UserFactory

TODAY = date(2026, 3, 10)  # a Tuesday


def queue(kind):
    return WorkQueue.objects.get(kind=kind)


def payer(name):
    return Payer.objects.get(name=name)


class PayerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Payer
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Payer {n}")
    payer_type = "commercial"


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    member_id = factory.Sequence(lambda n: f"M{n:06d}")
    name = factory.Faker("name")


class AgentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agent

    name = factory.Sequence(lambda n: f"Agent {n:02d}")
    queue = factory.LazyFunction(lambda: queue("general_agent"))
    daily_capacity = 10


class AgentUserFactory(AgentFactory):
    user = factory.SubFactory(UserFactory, roles=["General agent"])


class ClaimFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Claim

    claim_number = factory.Sequence(lambda n: f"CLM{n:07d}")
    patient = factory.SubFactory(PatientFactory)
    provider = "Riverside Clinic"
    payer = factory.LazyFunction(lambda: payer("Aetna"))
    amount = Decimal("1200.00")
    balance = factory.LazyAttribute(lambda claim: claim.amount)
    service_date = date(2026, 1, 20)
    submission_date = date(2026, 1, 25)
    procedure_code = "99213"
    diagnosis_code = "E11.9"
    status = "submitted"
