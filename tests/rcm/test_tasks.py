"""The nightly AR job runs the three services in order and is safe to repeat."""

from datetime import timedelta

import pytest

from rcm import tasks
from rcm.models import AutomationRun, FollowUp
from tests.rcm.factories import TODAY, AgentFactory, ClaimFactory

pytestmark = pytest.mark.django_db


def test_nightly_job_assigns_schedules_and_marks_missed():
    agent = AgentFactory()
    claim = ClaimFactory(submission_date=TODAY - timedelta(days=40))  # first call overdue
    first = tasks.nightly_automation.delay(TODAY.isoformat()).get()
    assert first == {
        "missed": 0,
        "assigned": 1,
        "assignment failures": 0,
        "scheduled": 1,
        "scheduling failures": 0,
    }
    claim.refresh_from_db()
    assert claim.agent == agent
    assert AutomationRun.objects.count() == 3
    # Run again the same night: nothing more to do.
    again = tasks.nightly_automation.delay(TODAY.isoformat()).get()
    assert (again["assigned"], again["scheduled"]) == (0, 0)
    # The next night the call (today, unmade) is missed and booked again.
    tomorrow = (TODAY + timedelta(days=1)).isoformat()
    night = tasks.nightly_automation.delay(tomorrow).get()
    assert (night["missed"], night["scheduled"]) == (1, 1)
    assert list(claim.follow_ups.values_list("status", flat=True).order_by("pk")) == [
        FollowUp.Status.MISSED,
        FollowUp.Status.SCHEDULED,
    ]
