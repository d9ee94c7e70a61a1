from decimal import Decimal

import factory

from campaigns.models import Coordinator, Intervention, Measure, Member
from tests.factories import UserFactory


class MeasureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Measure
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"M{n:03d}")
    name = factory.LazyAttribute(lambda m: f"Measure {m.code}")
    revenue_per_closure = Decimal("100.00")


class MemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Member

    member_id = factory.Sequence(lambda n: f"MBR{n:06d}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    phone = factory.Sequence(lambda n: f"555-01{n % 100:02d}")
    email = factory.LazyAttribute(lambda m: f"{m.member_id.lower()}@example.org")


class InterventionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Intervention

    member = factory.SubFactory(MemberFactory)
    measure = factory.SubFactory(MeasureFactory)
    status = Intervention.Status.PENDING
    cost = Decimal("10.00")


class CoordinatorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Coordinator
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory, roles=["Care coordinator"])
    monthly_capacity = 50

    @factory.post_generation
    def measures(self, create, extracted, **kwargs):
        if extracted:
            self.measures.set(extracted)
