"""The appointment lifecycle, follow-up tasks, time off and surveys, worked by hand (times are
New York wall-clock times; MONDAY is 2026-03-16)."""

import json
from datetime import date, timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from engagement import booking, reminders, services
from engagement import tasks as jobs
from engagement.models import (
    Appointment,
    FollowUpTask,
    SurveyResponse,
    TimeOff,
)
from opsintel.models import AuditEvent, Notice
from tests.engagement.factories import (
    MONDAY,
    LocationFactory,
    PatientFactory,
    StaffFactory,
    at,
    kind,
)
from tests.factories import UserFactory

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


def book(pharmacy, code, when, staff=None, patient=None):
    return booking.book(
        patient=patient or pharmacy["patient"],
        appointment_type=kind(code),
        staff=staff or pharmacy["ann"],
        location=pharmacy["location"],
        starts_at=when,
        now=NOW,
    )


def events(description):
    return AuditEvent.objects.filter(description=description).count()


def refused(call, field="status"):
    """Run `call`, expect a ValidationError on `field`, return its messages."""
    with pytest.raises(ValidationError) as caught:
        call()
    assert field in caught.value.message_dict, caught.value.message_dict
    return caught.value.message_dict[field]


def stored_status(appointment):
    return Appointment.objects.get(pk=appointment.pk).status


# --- Lifecycle ------------------------------------------------------------------------------


def test_confirm_then_refuse_a_second_confirmation(pharmacy):
    appointment = book(pharmacy, "health_screening", at(MONDAY, "09:00"))
    user = UserFactory()
    services.confirm(appointment, by=user)
    assert appointment.status == stored_status(appointment) == "confirmed"
    assert AuditEvent.objects.filter(description="Appointment confirmed", actor=user).count() == 1

    assert refused(lambda: services.confirm(appointment)) == [
        "A confirmed appointment can't be confirmed."
    ]
    assert events("Appointment confirmed") == 1


def test_check_in_opens_on_the_day(pharmacy):
    appointment = book(pharmacy, "health_screening", at(MONDAY, "15:00"))
    assert refused(
        lambda: services.check_in(appointment, now=at(MONDAY - timedelta(days=1), "23:59"))
    ) == ["Check-in opens on the day of the appointment."]
    assert stored_status(appointment) == "scheduled"

    # Early in the morning of the day (after midnight UTC too) is fine, confirmed or not.
    services.check_in(appointment, now=at(MONDAY, "08:00"))
    assert stored_status(appointment) == "checked_in"
    assert events("Patient checked in") == 1
    assert refused(lambda: services.check_in(appointment, now=at(MONDAY, "15:00"))) == [
        "A checked in appointment can't be checked in."
    ]


def test_a_cancelled_appointment_moves_nowhere(pharmacy):
    appointment = book(pharmacy, "mtm_session", at(MONDAY, "09:00"))
    booking.cancel(appointment, now=NOW)
    later = at(MONDAY, "10:00")
    assert refused(lambda: services.confirm(appointment)) == [
        "A cancelled appointment can't be confirmed."
    ]
    assert refused(lambda: services.check_in(appointment, now=later)) == [
        "A cancelled appointment can't be checked in."
    ]
    assert refused(lambda: services.complete(appointment, now=later)) == [
        "A cancelled appointment can't be completed."
    ]
    assert refused(lambda: services.mark_no_show(appointment, now=later)) == [
        "A cancelled appointment can't be marked as a no-show."
    ]
    assert stored_status(appointment) == "cancelled"
    assert not FollowUpTask.objects.exists()


def test_completing_an_mtm_session_creates_its_follow_up_call_once(pharmacy):
    bea = StaffFactory(name="Bea", location=pharmacy["location"])
    appointment = book(pharmacy, "mtm_session", at(MONDAY, "16:00"))
    assert refused(lambda: services.complete(appointment, now=at(MONDAY, "15:59"))) == [
        "An appointment can't be completed before it starts."
    ]
    assert not FollowUpTask.objects.exists()

    # 23:30 in New York is already Tuesday in UTC: the follow-up counts from Monday, the
    # pharmacy's date, so it is due 14 days later on Monday March 30.
    done_at = at(MONDAY, "23:30")
    created = services.complete(appointment, outcome_notes="Plan agreed", now=done_at)
    assert appointment.status == "completed"
    stored = Appointment.objects.get(pk=appointment.pk)
    assert (stored.status, stored.outcome_notes, stored.completed_at) == (
        "completed",
        "Plan agreed",
        done_at,
    )
    [task] = created
    assert (task.reason, task.due_date, task.source, task.priority, task.status) == (
        "MTM follow-up call",
        date(2026, 3, 30),
        "appointment_outcome",
        "medium",
        "open",
    )
    assert task.patient == pharmacy["patient"]
    assert task.appointment == appointment
    assert task.assignee in (pharmacy["ann"], bea)
    # The patient hears the day before it is due (10:00 at the pharmacy) by their channel.
    assert list(task.reminders.values_list("channel", "send_at", "status")) == [
        ("sms", at(date(2026, 3, 29), "10:00"), "scheduled")
    ]

    # A double submit or retried request: the same task, nothing new written.
    again = services.complete(appointment, outcome_notes="Other notes", now=done_at)
    assert again == [task]
    assert FollowUpTask.objects.count() == 1
    assert Appointment.objects.get(pk=appointment.pk).outcome_notes == "Plan agreed"
    assert events("Appointment completed") == 1
    assert events("Follow-up task created") == 1


def test_a_type_without_a_follow_up_rule_creates_no_task(pharmacy):
    appointment = book(pharmacy, "health_screening", at(MONDAY, "09:00"))
    services.confirm(appointment)
    services.check_in(appointment, now=at(MONDAY, "08:55"))
    assert services.complete(appointment, now=at(MONDAY, "09:20")) == []
    assert stored_status(appointment) == "completed"
    assert not FollowUpTask.objects.exists()


def test_no_show_only_after_the_start_and_it_stops_the_reminders(pharmacy):
    appointment = book(pharmacy, "vaccination", at(MONDAY, "09:00"))
    assert set(appointment.reminders.values_list("status", flat=True)) == {"scheduled"}
    assert refused(lambda: services.mark_no_show(appointment, now=at(MONDAY, "08:59"))) == [
        "A patient can only be a no-show once the appointment has started."
    ]
    assert stored_status(appointment) == "scheduled"
    assert set(appointment.reminders.values_list("status", flat=True)) == {"scheduled"}

    services.mark_no_show(appointment, now=at(MONDAY, "09:15"))
    assert stored_status(appointment) == "no_show"
    assert set(appointment.reminders.values_list("status", flat=True)) == {"cancelled"}
    assert events("Appointment marked no-show") == 1
    assert refused(lambda: services.complete(appointment, now=at(MONDAY, "09:30"))) == [
        "A no-show appointment can't be completed."
    ]


def test_a_patient_who_came_is_no_no_show(pharmacy):
    appointment = book(pharmacy, "vaccination", at(MONDAY, "09:00"))
    services.check_in(appointment, now=at(MONDAY, "08:50"))
    assert refused(lambda: services.mark_no_show(appointment, now=at(MONDAY, "09:30"))) == [
        "A checked in appointment can't be marked as a no-show."
    ]
    services.complete(appointment, now=at(MONDAY, "09:20"))
    assert refused(lambda: services.mark_no_show(appointment, now=at(MONDAY, "09:30"))) == [
        "A completed appointment can't be marked as a no-show."
    ]
    assert stored_status(appointment) == "completed"


# --- Follow-up tasks ------------------------------------------------------------------------


def open_tasks(staff, patient, count, status="open"):
    for n in range(count):
        FollowUpTask.objects.create(
            patient=patient, reason=f"call {n}", due_date=MONDAY, assignee=staff, status=status
        )


@pytest.fixture
def team(pharmacy):
    location, patient = pharmacy["location"], pharmacy["patient"]
    ann = pharmacy["ann"]
    bea = StaffFactory(name="Bea", location=location, role="senior_pharmacist")
    cal = StaffFactory(name="Cal", location=location, role="pharmacy_manager")
    open_tasks(ann, patient, 2)
    open_tasks(cal, patient, 1)
    # Finished work is no load: Bea's five done and cancelled tasks don't count.
    open_tasks(bea, patient, 3, status="done")
    open_tasks(bea, patient, 2, status="cancelled")
    # Not eligible, however idle: a technician, an inactive pharmacist, one at another store.
    StaffFactory(name="Aaron tech", location=location, role="pharmacy_technician")
    StaffFactory(name="Abe gone", location=location, active=False)
    StaffFactory(name="Abby elsewhere", location=LocationFactory())
    return {**pharmacy, "bea": bea, "cal": cal}


def test_a_new_task_goes_to_the_eligible_pharmacist_with_the_least_open_work(team):
    # Open tasks: Ann 2, Bea 0, Cal 1 (equal capacity 12) → Bea. Then Bea 1 and Cal 1 tie,
    # and the tie goes by name → Bea again; then Ann 2, Bea 2, Cal 1 → Cal.
    user = UserFactory()
    assignees = [
        services.create_task(
            patient=team["patient"],
            reason=f"Adherence call {n}",
            due_date=MONDAY,
            by=user,
            now=NOW,
        ).assignee.name
        for n in range(3)
    ]
    assert assignees == ["Bea", "Bea", "Cal"]
    task = FollowUpTask.objects.get(reason="Adherence call 0")
    assert (task.source, task.priority, task.status, task.appointment) == (
        "manual",
        "medium",
        "open",
        None,
    )
    assert AuditEvent.objects.filter(description="Follow-up task created", actor=user).count() == 3


def test_assignment_weighs_open_work_against_capacity(team):
    # Ann: 2 open of 20 a day (0.10); Cal: 1 of 8 (0.125); Bea (0 of 12) is away on leave.
    team["ann"].max_appointments_per_day = 20
    team["ann"].save()
    team["cal"].max_appointments_per_day = 8
    team["cal"].save()
    team["bea"].active = False
    team["bea"].save()
    task = services.create_task(
        patient=team["patient"], reason="Refill due", due_date=MONDAY, now=NOW
    )
    assert task.assignee == team["ann"]


def test_a_task_with_nobody_eligible_waits_unassigned():
    location = LocationFactory()
    StaffFactory(location=location, role="pharmacy_technician")
    task = services.create_task(
        patient=PatientFactory(location=location),
        reason="Call back",
        due_date=MONDAY,
        source="refill_trigger",
        priority="high",
        now=NOW,
    )
    assert (task.assignee, task.source, task.priority) == (None, "refill_trigger", "high")


def test_bad_task_input_names_the_field_and_writes_nothing(pharmacy):
    def create(**changes):
        values = {
            "patient": pharmacy["patient"],
            "reason": "Call",
            "due_date": MONDAY,
            "now": NOW,
        }
        return lambda: services.create_task(**{**values, **changes})

    assert refused(create(reason="  "), "reason") == ["Say what the follow-up is for."]
    # NOW is Friday March 13: Thursday is past.
    assert refused(create(due_date=date(2026, 3, 12)), "due_date") == [
        "The due date is in the past."
    ]
    assert refused(create(due_date=None), "due_date") == ["Give a due date."]
    assert refused(create(priority="urgent"), "priority") == ["Unknown priority 'urgent'."]
    assert refused(create(source="fax"), "source") == ["Unknown source 'fax'."]
    stranger = PatientFactory(location=pharmacy["location"])
    other = book(pharmacy, "vaccination", at(MONDAY, "09:00"), patient=stranger)
    assert refused(create(appointment=other), "appointment") == [
        "That appointment is another patient's."
    ]
    assert not FollowUpTask.objects.exists()


def test_complete_and_cancel_a_task(pharmacy):
    task = services.create_task(
        patient=pharmacy["patient"], reason="Call", due_date=MONDAY, now=NOW
    )
    [reminder] = task.reminders.all()
    assert reminder.status == "scheduled"
    assert refused(lambda: services.complete_task(task, outcome=" "), "outcome") == [
        "Say what came of the follow-up."
    ]
    assert FollowUpTask.objects.get(pk=task.pk).status == "open"

    done_at = at(MONDAY, "11:00")
    services.complete_task(task, outcome="Taking it daily now", now=done_at)
    stored = FollowUpTask.objects.get(pk=task.pk)
    assert (stored.status, stored.outcome, stored.completed_at) == (
        "done",
        "Taking it daily now",
        done_at,
    )
    reminder.refresh_from_db()
    assert reminder.status == "cancelled"
    assert refused(lambda: services.complete_task(task, outcome="again")) == [
        "A done task can't be completed."
    ]
    assert refused(lambda: services.cancel_task(task)) == ["A done task can't be cancelled."]

    other = services.create_task(
        patient=pharmacy["patient"], reason="Other", due_date=MONDAY, now=NOW
    )
    services.cancel_task(other, reason="Patient moved away")
    assert FollowUpTask.objects.get(pk=other.pk).status == "cancelled"
    assert events("Follow-up task cancelled") == 1


# --- Escalation -----------------------------------------------------------------------------


def manager(location, name):
    user = UserFactory(roles=["Pharmacy manager"], email=f"{name.lower()}@example.org")
    return StaffFactory(name=name, location=location, role="pharmacy_manager", user=user)


def test_overdue_tasks_are_escalated_to_the_managers_once(
    pharmacy, django_capture_on_commit_callbacks
):
    location, patient = pharmacy["location"], pharmacy["patient"]
    mia, max_ = manager(location, "Mia"), manager(location, "Max")
    elsewhere = LocationFactory()
    manager(elsewhere, "Zoe")

    def task(reason, due, **fields):
        return FollowUpTask.objects.create(
            patient=patient, reason=reason, due_date=due, assignee=pharmacy["ann"], **fields
        )

    today = date(2026, 3, 20)
    late = task("Check blood pressure", date(2026, 3, 18))
    later = task("Refill reminder call", date(2026, 3, 19))
    task("Due today", today)
    task("Done late", date(2026, 3, 1), status="done")
    task("Told before", date(2026, 3, 1), escalated_at=NOW)

    with django_capture_on_commit_callbacks(execute=True):
        assert services.escalate_overdue_tasks(today=today) == 2
    assert set(FollowUpTask.objects.filter(escalated_at__gt=NOW).values_list("pk", flat=True)) == {
        late.pk,
        later.pk,
    }
    notices = Notice.objects.order_by("recipient__username")
    assert sorted(n.recipient_id for n in notices) == sorted([mia.user_id, max_.user_id])
    notice = notices[0]
    assert notice.title == f"2 overdue follow-up tasks at {location}"
    assert notice.body == (
        "These follow-up tasks are past due:\n"
        f"#{late.pk} Check blood pressure: due Mar 18, Ann\n"
        f"#{later.pk} Refill reminder call: due Mar 19, Ann"
    )
    assert patient.name not in notice.body  # emailed: no PHI
    assert sorted(m.to[0] for m in mail.outbox) == ["max@example.org", "mia@example.org"]

    # The next hour's run: nothing new is overdue, so nobody hears anything.
    assert services.escalate_overdue_tasks(today=today) == 0
    assert Notice.objects.count() == 2

    # The next day "Due today" is overdue: the managers hear about that one only.
    assert jobs.escalate_overdue_tasks.delay(today="2026-03-21").get() == {"escalated": 1}
    assert Notice.objects.count() == 4
    assert Notice.objects.latest("pk").title == f"1 overdue follow-up task at {location}"


# --- Time off -------------------------------------------------------------------------------


def test_time_off_may_not_overlap_ones_own(pharmacy):
    ann = pharmacy["ann"]
    first = services.request_time_off(
        ann, starts_at=at(MONDAY, "08:00"), ends_at=at(MONDAY, "13:00"), reason="Dentist"
    )
    assert (first.status, first.reason) == ("requested", "Dentist")
    messages = refused(
        lambda: services.request_time_off(
            ann, starts_at=at(MONDAY, "12:00"), ends_at=at(MONDAY, "18:00")
        ),
        "starts_at",
    )
    assert messages == ["It overlaps Ann's requested time off from Mar 16 08:00 to Mar 16 13:00."]
    assert refused(
        lambda: services.request_time_off(
            ann, starts_at=at(MONDAY, "15:00"), ends_at=at(MONDAY, "14:00")
        ),
        "ends_at",
    ) == ["The time off must end after it starts."]
    assert TimeOff.objects.count() == 1

    # Back to back is no overlap; a declined request blocks nothing; a colleague's is theirs.
    services.request_time_off(ann, starts_at=at(MONDAY, "13:00"), ends_at=at(MONDAY, "14:00"))
    services.decline_time_off(first, by=UserFactory())
    assert TimeOff.objects.get(pk=first.pk).status == "declined"
    services.request_time_off(ann, starts_at=at(MONDAY, "09:00"), ends_at=at(MONDAY, "10:00"))
    bea = StaffFactory(name="Bea", location=pharmacy["location"])
    services.request_time_off(bea, starts_at=at(MONDAY, "08:00"), ends_at=at(MONDAY, "13:00"))
    assert TimeOff.objects.count() == 4


@pytest.fixture
def told(monkeypatch):
    """The patient notices approve_time_off sends, as (appointment id, template) pairs."""
    try:
        from engagement.reminders import notify_patient
    except ImportError:
        pytest.fail(
            "engagement.reminders.notify_patient(appointment, template, *, now=None) does not "
            "exist yet (the reminders helper writes it); approve_time_off tells patients "
            "through it."
        )
    calls = []

    def record(appointment, template, *, now=None):
        calls.append((appointment.pk, template))
        return notify_patient(appointment, template, now=now)

    monkeypatch.setattr(reminders, "notify_patient", record)
    return calls


def test_approving_time_off_moves_or_marks_for_rebooking(pharmacy, told):
    location = pharmacy["location"]
    ann = pharmacy["ann"]
    # Bea is an immunizer and MTM certified; Cal only MTM certified.
    bea = StaffFactory(name="Bea", location=location)
    cal = StaffFactory(name="Cal", location=location, qualifications=["mtm_certified"])
    mtm = book(pharmacy, "mtm_session", at(MONDAY, "09:00"))  # holds Ann 09:00–09:55
    shot = book(pharmacy, "vaccination", at(MONDAY, "10:00"))
    afternoon = book(pharmacy, "vaccination", at(MONDAY, "14:00"))
    bea_busy = book(pharmacy, "vaccination", at(MONDAY, "10:00"), staff=bea)
    time_off = services.request_time_off(
        ann, starts_at=at(MONDAY, "08:00"), ends_at=at(MONDAY, "13:00")
    )
    boss = UserFactory()

    result = services.approve_time_off(time_off, by=boss, now=NOW)

    # The MTM session: Bea and Cal are both qualified and free at 09:00; Cal has fewer
    # appointments that day (0 against Bea's 1), so Cal takes it. The 10:00 vaccination:
    # Bea is busy then and Cal is no immunizer, so it waits for rebooking. 14:00 is after
    # the time off and stays with Ann.
    assert [a.pk for a in result["moved"]] == [mtm.pk]
    assert [a.pk for a in result["needs_rebooking"]] == [shot.pk]
    stored = {a.pk: a for a in Appointment.objects.all()}
    assert (stored[mtm.pk].staff, stored[mtm.pk].needs_rebooking) == (cal, False)
    assert (stored[mtm.pk].starts_at, stored[mtm.pk].status) == (at(MONDAY, "09:00"), "scheduled")
    assert (stored[shot.pk].staff, stored[shot.pk].needs_rebooking) == (ann, True)
    assert (stored[afternoon.pk].staff, stored[afternoon.pk].needs_rebooking) == (ann, False)
    assert stored[bea_busy.pk].staff == bea

    # The stranded appointment's reminders stop; the moved one's still go (same time); each
    # patient gets a notice due at once.
    def reminders_of(appointment):
        return dict(appointment.reminders.values_list("template", "status"))

    assert reminders_of(stored[shot.pk]) == {
        "appointment_24h": "cancelled",
        "appointment_2h": "cancelled",
        "needs_rebooking": "scheduled",
    }
    assert reminders_of(stored[mtm.pk]) == {
        "appointment_24h": "scheduled",
        "appointment_2h": "scheduled",
        "moved": "scheduled",
    }
    assert told == [
        (mtm.pk, "moved"),
        (shot.pk, "needs_rebooking"),
    ]
    time_off.refresh_from_db()
    assert (time_off.status, time_off.decided_by, time_off.decided_at) == ("approved", boss, NOW)
    assert events("Time off approved: 1 appointments moved, 1 to rebook") == 1

    # Now that Ann is off, the slot search offers her nothing that morning either.
    slots = booking.find_slots(kind("mtm_session"), location, MONDAY, MONDAY, now=NOW, limit=50)
    morning = [s.staff.name for s in slots if s.starts_at < at(MONDAY, "13:00")]
    assert morning
    assert "Ann" not in morning

    assert refused(lambda: services.approve_time_off(time_off, by=boss, now=NOW)) == [
        "This time off was already approved."
    ]
    assert refused(lambda: services.decline_time_off(time_off, by=boss)) == [
        "This time off was already approved."
    ]


def test_a_colleague_on_time_off_takes_nothing_over(pharmacy, told):
    location, ann = pharmacy["location"], pharmacy["ann"]
    bea = StaffFactory(name="Bea", location=location)
    appointment = book(pharmacy, "vaccination", at(MONDAY, "11:00"))
    bea_off = services.request_time_off(
        bea, starts_at=at(MONDAY, "00:00"), ends_at=at(MONDAY + timedelta(days=1), "00:00")
    )
    services.approve_time_off(bea_off, by=None, now=NOW)
    ann_off = services.request_time_off(
        ann, starts_at=at(MONDAY, "10:00"), ends_at=at(MONDAY, "12:00")
    )
    result = services.approve_time_off(ann_off, by=None, now=NOW)
    assert result == {"moved": [], "needs_rebooking": [appointment]}
    assert Appointment.objects.get(pk=appointment.pk).staff == ann


# --- Surveys --------------------------------------------------------------------------------


def test_a_survey_only_for_a_completed_appointment_once(pharmacy):
    appointment = book(pharmacy, "health_screening", at(MONDAY, "09:00"))
    assert refused(
        lambda: services.submit_survey(appointment, satisfaction=5, would_recommend=10),
        "appointment",
    ) == ["Only a completed appointment can be rated."]
    services.complete(appointment, now=at(MONDAY, "09:30"))

    def bad(**scores):
        with pytest.raises(ValidationError) as caught:
            services.submit_survey(appointment, **scores)
        return caught.value.message_dict

    assert bad(satisfaction=0, would_recommend=11) == {
        "satisfaction": ["Give a whole number from 1 to 5."],
        "would_recommend": ["Give a whole number from 0 to 10."],
    }
    assert bad(satisfaction=6, would_recommend=-1) == {
        "satisfaction": ["Give a whole number from 1 to 5."],
        "would_recommend": ["Give a whole number from 0 to 10."],
    }
    assert bad(satisfaction=True, would_recommend="ten") == {
        "satisfaction": ["Give a whole number from 1 to 5."],
        "would_recommend": ["Give a whole number from 0 to 10."],
    }
    assert bad(satisfaction=4.5, would_recommend=None).keys() == {
        "satisfaction",
        "would_recommend",
    }
    assert not SurveyResponse.objects.exists()

    # The edges are in range, and form input arrives as text.
    response = services.submit_survey(
        appointment, satisfaction="1", would_recommend=0, comment=" Long wait "
    )
    stored = SurveyResponse.objects.get(appointment=appointment)
    assert stored == response
    assert (stored.satisfaction, stored.would_recommend, stored.comment) == (1, 0, "Long wait")
    assert refused(
        lambda: services.submit_survey(appointment, satisfaction=5, would_recommend=10),
        "appointment",
    ) == ["This appointment has already been rated."]
    assert SurveyResponse.objects.count() == 1


# --- Jobs -----------------------------------------------------------------------------------


def test_the_jobs_take_iso_arguments_and_return_plain_results(pharmacy):
    # Through Celery (in-process here): arguments as a broker carries them, results JSON-able.
    from engagement.models import KpiAlert, Report

    sent = jobs.send_due_reminders.delay(now="2026-03-16T12:00:00+00:00").get()
    assert isinstance(sent, dict)
    assert json.loads(json.dumps(sent)) == sent
    written = jobs.generate_reports.delay(today="2026-03-16").get()
    assert sorted(written["reports"]) == sorted(Report.objects.values_list("pk", flat=True))
    assert written["reports"]  # Monday: at least yesterday's daily report
    alerts = jobs.check_kpi_alerts.delay(now="2026-03-16T12:00:00+00:00").get()
    assert alerts == {"alerts raised": list(KpiAlert.objects.values_list("pk", flat=True))}
    assert jobs.escalate_overdue_tasks.delay().get() == {"escalated": 0}
