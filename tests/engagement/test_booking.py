"""Slot search and booking rules, worked by hand (times are New York wall-clock times)."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError

from engagement import booking
from engagement.models import Appointment, LocationHoliday, Reminder, TimeOff
from tests.engagement.factories import (
    MONDAY,
    LocationFactory,
    PatientFactory,
    StaffFactory,
    at,
    kind,
)

pytestmark = pytest.mark.django_db
NOW = at(MONDAY - timedelta(days=3), "12:00")  # the Friday before


@pytest.fixture
def pharmacy():
    location = LocationFactory()
    return {
        "location": location,
        "ann": StaffFactory(name="Ann", location=location),
        "patient": PatientFactory(location=location),
    }


def starts(slots):
    return [(slot.starts_at.astimezone(at(MONDAY, "00:00").tzinfo).strftime("%a %H:%M"),
             slot.staff.name) for slot in slots]  # fmt: skip


def book(pharmacy, code, when, staff=None, **kwargs):
    return booking.book(
        patient=pharmacy["patient"],
        appointment_type=kind(code),
        staff=staff or pharmacy["ann"],
        location=pharmacy["location"],
        starts_at=when,
        now=NOW,
        **kwargs,
    )


def test_slots_respect_hours_buffers_and_breaks(pharmacy):
    # A 45-minute MTM session with a 10-minute buffer booked at 09:00 holds Ann until 09:55.
    book(pharmacy, "mtm_session", at(MONDAY, "09:00"))
    slots = booking.find_slots(
        kind("vaccination"), pharmacy["location"], MONDAY, MONDAY, now=NOW, limit=100
    )
    times = [s for s, _ in starts(slots)]
    # Vaccination: 15 min + 5 min buffer, on the 15-minute grid. 09:45 would run its buffer
    # into nothing but its service into the MTM's hold (until 09:55): 10:00 is first. The
    # service must end by the break (11:45 is the last morning start) and by her shift's end.
    assert times == [
        *(f"Mon {h}:{m}" for h in ("10", "11") for m in ("00", "15", "30", "45")),
        *(f"Mon {h}:{m}" for h in ("13", "14", "15", "16") for m in ("00", "15", "30", "45")),
    ]


def test_a_buffer_must_clear_the_next_appointment(pharmacy):
    book(pharmacy, "vaccination", at(MONDAY, "10:15"))
    # The vaccination holds 10:15–10:35. A 20-minute screening (+5 buffer) at 09:45 holds
    # until 10:10: fine; at 10:00 (until 10:25) or 10:30 it collides; 10:45 is free again.
    slots = booking.find_slots(
        kind("health_screening"), pharmacy["location"], MONDAY, MONDAY, now=NOW, limit=5
    )
    assert [s for s, _ in starts(slots)] == [
        "Mon 09:00",
        "Mon 09:15",
        "Mon 09:30",
        "Mon 09:45",
        "Mon 10:45",
    ]


def test_earliest_slots_spread_over_qualified_staff(pharmacy):
    bo = StaffFactory(name="Bo", location=pharmacy["location"])
    book(pharmacy, "vaccination", at(MONDAY, "09:00"))  # Ann has one appointment today
    slots = booking.find_slots(
        kind("vaccination"), pharmacy["location"], MONDAY, MONDAY, now=NOW, limit=2
    )
    # 09:00: Ann is busy, Bo is free. 09:15: Ann is still held (until 09:20); Bo again.
    assert starts(slots) == [("Mon 09:00", "Bo"), ("Mon 09:15", "Bo")]
    assert bo.pk == slots[0].staff_id


def test_unqualified_staff_are_never_offered_and_cannot_be_booked(pharmacy):
    tech = StaffFactory(
        name="Tess", role="pharmacy_technician", qualifications=[], location=pharmacy["location"]
    )
    slots = booking.find_slots(
        kind("vaccination"), pharmacy["location"], MONDAY, MONDAY, now=NOW, limit=50
    )
    assert {slot.staff.name for slot in slots} == {"Ann"}
    with pytest.raises(ValidationError) as error:
        book(pharmacy, "vaccination", at(MONDAY, "10:00"), staff=tech)
    assert error.value.message_dict["staff"] == [
        "Tess is not qualified to deliver Vaccination here."
    ]
    # A technician may do a health screening.
    assert book(pharmacy, "health_screening", at(MONDAY, "10:00"), staff=tech).staff == tech


@pytest.mark.parametrize(
    ("when", "field", "message"),
    [
        (at(MONDAY, "08:45"), "starts_at", "is not open for the whole appointment"),
        (at(MONDAY, "17:00"), "starts_at", "Ann is not working then."),
        (at(MONDAY, "12:15"), "starts_at", "That is during Ann's break."),
        (at(MONDAY - timedelta(days=4), "10:00"), "starts_at", "That time is in the past."),
        (at(MONDAY + timedelta(days=70), "10:00"), "starts_at", "booked at most 60 days ahead"),
        (at(MONDAY + timedelta(days=5), "10:00"), "starts_at", "Ann is not working then."),
    ],
)
def test_bad_bookings_are_refused_with_the_reason_and_nothing_written(
    pharmacy, when, field, message
):
    with pytest.raises(ValidationError) as error:
        book(pharmacy, "vaccination", when)
    assert any(message in text for text in error.value.message_dict[field])
    assert not Appointment.objects.exists()
    assert not Reminder.objects.exists()


def test_holidays_time_off_and_overlaps_are_refused(pharmacy):
    LocationHoliday.objects.create(location=pharmacy["location"], date=MONDAY, name="Closed")
    with pytest.raises(ValidationError, match="closed on March 16"):
        book(pharmacy, "vaccination", at(MONDAY, "10:00"))
    tuesday = MONDAY + timedelta(days=1)
    TimeOff.objects.create(
        staff=pharmacy["ann"], starts_at=at(tuesday, "09:00"), ends_at=at(tuesday, "11:00"),
        status="approved",
    )  # fmt: skip
    with pytest.raises(ValidationError, match="has time off then"):
        book(pharmacy, "vaccination", at(tuesday, "10:45"))
    book(pharmacy, "vaccination", at(tuesday, "11:00"))
    with pytest.raises(ValidationError, match="has another appointment then"):
        book(pharmacy, "vaccination", at(tuesday, "11:15"))  # 11:00 holds until 11:20
    assert Appointment.objects.count() == 1


def test_lead_time_and_daily_caps(pharmacy):
    ann = pharmacy["ann"]
    ann.max_appointments_per_day = 2
    ann.save()
    # MTM needs 2 hours' notice.
    with pytest.raises(ValidationError, match="at least 2 h ahead"):
        booking.book(
            patient=pharmacy["patient"], appointment_type=kind("mtm_session"), staff=ann,
            location=pharmacy["location"], starts_at=at(MONDAY, "10:00"),
            now=at(MONDAY, "08:30"),
        )  # fmt: skip
    book(pharmacy, "vaccination", at(MONDAY, "10:00"))
    book(pharmacy, "vaccination", at(MONDAY, "11:00"))
    with pytest.raises(ValidationError, match="fully booked on March 16"):
        book(pharmacy, "vaccination", at(MONDAY, "14:00"))


def test_dst_change_day_keeps_wall_clock_hours():
    location = LocationFactory()
    StaffFactory(name="Ann", location=location, shifts=[(6, "09:00", "17:00", None, None)])
    sunday = date(2026, 3, 8)  # clocks go forward at 02:00
    slots = booking.find_slots(
        kind("vaccination"), location, sunday, sunday, now=at(sunday - timedelta(days=2), "12:00")
    )
    assert slots == []  # closed on Sundays (Mon–Sat)
    location.hours.create(
        weekday=6, opens=at(sunday, "09:00").time(), closes=at(sunday, "18:00").time()
    )
    slots = booking.find_slots(
        kind("vaccination"), location, sunday, sunday, now=at(sunday - timedelta(days=2), "12:00")
    )
    first = slots[0].starts_at
    assert (first.hour, first.utcoffset()) == (9, timedelta(hours=-4))  # 09:00 EDT = 13:00 UTC


def test_booking_schedules_reminders_and_cancelling_cancels_them(pharmacy):
    appointment = book(pharmacy, "vaccination", at(MONDAY, "10:00"))
    assert sorted(appointment.reminders.values_list("template", "status", "send_at")) == [
        ("appointment_24h", "scheduled", at(MONDAY - timedelta(days=1), "10:00")),
        ("appointment_2h", "scheduled", at(MONDAY, "08:00")),
    ]
    late = booking.cancel(appointment, reason="Feeling better", now=at(MONDAY, "07:00"))
    assert late.late_cancellation is True  # inside the 24 h window
    assert set(appointment.reminders.values_list("status", flat=True)) == {"cancelled"}
    with pytest.raises(ValidationError, match="cancelled appointment can't be cancelled"):
        booking.cancel(appointment)


def test_reschedule_checks_the_same_rules_and_moves_reminders(pharmacy):
    appointment = book(pharmacy, "vaccination", at(MONDAY, "10:00"))
    moved = booking.reschedule(appointment, starts_at=at(MONDAY, "10:15"), now=NOW)
    assert moved.blocked_until == at(MONDAY, "10:35")
    assert appointment.reminders.get(template="appointment_2h").send_at == at(MONDAY, "08:15")
    with pytest.raises(ValidationError, match="is not working then"):
        booking.reschedule(appointment, starts_at=at(MONDAY, "16:50"), now=NOW)
