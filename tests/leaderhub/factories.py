"""factory_boy factories for the Leader Hub source tables (shared by every leaderhub test).

Defaults make a consistent little world: a visit's or shift's market defaults to a new market,
so pass `market=` (and the provider's `MarketActiveProvider`) when the test cares about scope.
"""

from datetime import UTC, date, datetime, timedelta

import factory

from leaderhub.models import (
    LeaderAccess,
    Market,
    MarketActiveProvider,
    MarketGroup,
    Provider,
    ProviderShift,
    ShiftBreakdown,
    Visit,
)
from tests.factories import UserFactory

DAY = date(2026, 3, 10)


def at(day, hour, minute=0):
    """A UTC datetime on `day` at hour:minute."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


class MarketGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MarketGroup
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Group {n}")
    short_name = factory.Sequence(lambda n: f"G{n}")


class MarketFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Market
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Market {n}")
    short_name = factory.Sequence(lambda n: f"M{n}")
    market_group = factory.SubFactory(MarketGroupFactory)


class ProviderFactory(factory.django.DjangoModelFactory):
    """A provider (APP by default). `markets=[m1, m2]` makes them active in those markets."""

    class Meta:
        model = Provider
        skip_postgeneration_save = True

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    avatar_url = factory.Sequence(lambda n: f"https://example.org/avatars/{n}.png")
    job_title = Provider.Position.APP
    user = None

    @factory.post_generation
    def markets(self, create, extracted, **kwargs):
        for market in extracted or ():
            MarketActiveProvider.objects.get_or_create(market=market, provider=self)


class MarketActiveProviderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MarketActiveProvider
        django_get_or_create = ("market", "provider")

    market = factory.SubFactory(MarketFactory)
    provider = factory.SubFactory(ProviderFactory)


class VisitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Visit

    care_request_id = factory.Sequence(lambda n: 100000 + n)
    provider = factory.SubFactory(ProviderFactory)
    market = factory.SubFactory(MarketFactory)
    service_date = DAY
    patient_first_name = factory.Faker("first_name")
    patient_last_name = factory.Faker("last_name")
    patient_athena_id = factory.Sequence(lambda n: f"A{n:07d}")
    chief_complaint = "Cough"
    diagnosis = "Acute bronchitis"
    on_scene_minutes = 40
    chart_closed_24h = True
    survey_captured = True
    nps_score = 9
    escalated = False
    abx_prescribed = False


class ProviderShiftFactory(factory.django.DjangoModelFactory):
    """A 10-hour shift on `service_date` (08:00–18:00 UTC) with durations that add up."""

    class Meta:
        model = ProviderShift

    shift_team_id = factory.Sequence(lambda n: 500000 + n)
    provider = factory.SubFactory(ProviderFactory)
    market = factory.SubFactory(MarketFactory)
    service_date = DAY
    start = factory.LazyAttribute(lambda s: at(s.service_date, 8))
    end = factory.LazyAttribute(lambda s: s.start + timedelta(hours=10))
    patients_seen = 6
    out_the_door = 1800
    en_route = 9000
    on_scene = 14400
    on_break = 1800
    idle = 9000


class ShiftBreakdownFactory(factory.django.DjangoModelFactory):
    """A 30-minute segment; pass `start=` to place it (unique per shift and start)."""

    class Meta:
        model = ShiftBreakdown

    shift = factory.SubFactory(ProviderShiftFactory)
    start = factory.LazyAttribute(lambda b: b.shift.start)
    end = factory.LazyAttribute(lambda b: b.start + timedelta(minutes=30))
    stage = ShiftBreakdown.Stage.EN_ROUTE
    latitude_e6 = None
    longitude_e6 = None


class LeaderAccessFactory(factory.django.DjangoModelFactory):
    """A leader's markets: `LeaderAccessFactory(user=u, markets=[m1])`; the user defaults to a
    new Market manager."""

    class Meta:
        model = LeaderAccess
        django_get_or_create = ("user",)
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory, roles=["Market manager"])

    @factory.post_generation
    def markets(self, create, extracted, **kwargs):
        if extracted:
            self.markets.set(extracted)
