"""AR follow-up background jobs (the schedule is in opsintel/schedule.py). Thin: each calls
a service, which records the run as an AutomationRun; every job is safe to run twice."""

from datetime import date

from opsintel.jobs import idempotent_task
from rcm import services


def _day(value):
    return date.fromisoformat(value) if value else None


@idempotent_task(name="rcm.nightly_automation")
def nightly_automation(today=None):
    """Nightly, in this order: mark yesterday's unmade calls missed, give unassigned open
    claims to agents, then book the next call of every open claim without one (missed ones
    are retried at once)."""
    day = _day(today)
    missed = services.mark_missed_follow_ups(today=day)
    assigned = services.assign_claims(today=day)
    scheduled = services.schedule_follow_ups(today=day)
    return {
        "missed": missed.succeeded,
        "assigned": assigned.succeeded,
        "assignment failures": assigned.failed,
        "scheduled": scheduled.succeeded,
        "scheduling failures": scheduled.failed,
    }
