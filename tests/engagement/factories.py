"""factory_boy factories for engagement (shared by every engagement test).

`pharmacy()` builds a small world: one location open Mon–Sat 09:00–18:00 (America/New_York),
with a pharmacist working Mon–Fri 09:00–17:00 (break 12:00–13:00). The seeded appointment
types come from migration 0002; `kind(code)` fetches one.
"""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import factory

from engagement.models import (
    AppointmentType,
    Location,
    OpeningHours,
    Patient,
    StaffMember,
    WorkingHours,
)
from tests.factories import UserFactory

ZONE = ZoneInfo("America/New_York")
MONDAY = date(2026, 3, 16)  # a Monday, after the March 8 clock change


def at(day, hh_mm, zone=ZONE):
    return datetime.combine(day, time.fromisoformat(hh_mm), tzinfo=zone)


def kind(code):
    return AppointmentType.objects.get(code=code)


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Pharmacy {n}")
    timezone = "America/New_York"

    @factory.post_generation
    def open_hours(self, create, extracted, **kwargs):
        """Mon–Sat 09:00–18:00 unless `open_hours=[(weekday, "09:00", "18:00"), ...]`."""
        rows = extracted if extracted is not None else [(d, "09:00", "18:00") for d in range(6)]
        for weekday, opens, closes in rows:
            OpeningHours.objects.create(
                location=self,
                weekday=weekday,
                opens=time.fromisoformat(opens),
                closes=time.fromisoformat(closes),
            )


class StaffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StaffMember
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Pharmacist {n:02d}")
    role = "staff_pharmacist"
    license_number = factory.Sequence(lambda n: f"RPH{n:05d}")
    qualifications = factory.LazyFunction(lambda: ["certified_immunizer", "mtm_certified"])
    max_appointments_per_day = 12

    @factory.post_generation
    def location(self, create, extracted, **kwargs):
        if extracted is not None:
            self.locations.add(extracted)

    @factory.post_generation
    def shifts(self, create, extracted, **kwargs):
        """Mon–Fri 09:00–17:00 with a 12:00–13:00 break at `location`, unless `shifts=[]`."""
        if extracted is None and self.locations.exists():
            extracted = [(d, "09:00", "17:00", "12:00", "13:00") for d in range(5)]
        for weekday, starts, ends, break_starts, break_ends in extracted or []:
            WorkingHours.objects.create(
                staff=self,
                location=self.locations.first(),
                weekday=weekday,
                starts=time.fromisoformat(starts),
                ends=time.fromisoformat(ends),
                break_starts=time.fromisoformat(break_starts) if break_starts else None,
                break_ends=time.fromisoformat(break_ends) if break_ends else None,
            )


class StaffUserFactory(StaffFactory):
    user = factory.SubFactory(UserFactory, roles=["Staff pharmacist"])


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"patient{n}@example.org")
    phone = factory.Sequence(lambda n: f"+1555{n:07d}")
    email_consent = True
    sms_consent = True
    preferred_channel = "sms"
