"""Every periodic job of every app, in one list.

Beat reads its schedule from the database (django-celery-beat), so operators can change times
or pause a job in the admin. This list is what a fresh database starts with: `migrate` creates
the jobs that are missing and leaves edited ones alone; `manage.py sync_schedule --reset` puts
every listed job back to the times written here. Times are UTC.
"""

import json
from dataclasses import dataclass, field

from django.db import transaction


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    task: str
    minute: str = "0"
    hour: str = "*"
    day_of_week: str = "*"
    kwargs: dict = field(default_factory=dict)
    description: str = ""


PERIODIC_JOBS = (
    PeriodicJob(
        name="platform: clear expired sessions",
        task="opsintel.clear_expired_sessions",
        minute="15",
        hour="3",
        description="Deletes signed-out and timed-out sessions.",
    ),
    PeriodicJob(
        name="campaigns: nightly progress snapshot",
        task="campaigns.snapshot_progress",
        minute="30",
        hour="5",  # 00:30 in New York, after the day has ended
        description="One progress row per live campaign for the trend line.",
    ),
    PeriodicJob(
        name="campaigns: complete finished campaigns",
        task="campaigns.complete_campaigns",
        minute="10",
        description="Hourly: campaigns whose assignments are all finished become completed.",
    ),
    PeriodicJob(
        name="campaigns: refresh intervention priorities",
        task="campaigns.refresh_priorities",
        minute="0",
        hour="6",
        description="Priorities move as intervention dates approach.",
    ),
    PeriodicJob(
        name="leaderhub: daily metric rollup",
        task="leaderhub.refresh_rollups",
        minute="0",
        hour="8",  # 03:00 in New York, after the daily source files have loaded
        description="Recomputes provider, market-provider and market metrics.",
    ),
    PeriodicJob(
        name="advocacy: hourly rollup, risk scores and alerts",
        task="advocacy.refresh_rollups",
        minute="5",
        description="Case facts, KPIs by case type, caseload, bottlenecks as of now; then the "
        "active cases' SLA risk and the stale/overload alerts.",
    ),
    PeriodicJob(
        name="advocacy: weekly SLA-risk model retrain",
        task="advocacy.retrain_risk_model",
        minute="30",
        hour="6",
        day_of_week="1",  # Monday, 01:30 in New York
        description="Retrains the breach-probability model on the resolved history.",
    ),
    PeriodicJob(
        name="advocacy: assign new cases",
        task="advocacy.assign_new_cases",
        minute="*/10",
        description="Unassigned active cases go to the eligible advocate with the lowest "
        "complexity-weighted utilization (cases opened in the app are assigned at once).",
    ),
    PeriodicJob(
        name="rcm: nightly claim automation",
        task="rcm.nightly_automation",
        minute="0",
        hour="7",  # 02:00 in New York
        description="Marks unmade follow-up calls missed, assigns unassigned claims, books "
        "the next follow-up of every open claim.",
    ),
    PeriodicJob(
        name="engagement: send due reminders",
        task="engagement.send_due_reminders",
        minute="*/5",
        description="Sends due appointment and task reminders (each exactly once; failed sends "
        "are retried with backoff).",
    ),
    PeriodicJob(
        name="engagement: escalate overdue follow-up tasks",
        task="engagement.escalate_overdue_tasks",
        minute="20",
        description="Hourly: overdue tasks go to the location's managers, once each.",
    ),
    PeriodicJob(
        name="engagement: daily, weekly and monthly reports",
        task="engagement.generate_reports",
        minute="0",
        hour="10",  # past midnight in every US time zone
        description="Yesterday's operations report; last week's on Mondays; last month's on "
        "the 1st. Stored and emailed to the managers.",
    ),
    PeriodicJob(
        name="engagement: KPI alerts",
        task="engagement.check_kpi_alerts",
        minute="50",
        description="Hourly: a KPI outside its target tells the location's managers once.",
    ),
    # Each app adds its daily and hourly jobs here.
)


def _crontab(job):
    from django_celery_beat.models import CrontabSchedule

    schedule, _ = CrontabSchedule.objects.get_or_create(
        minute=job.minute,
        hour=job.hour,
        day_of_week=job.day_of_week,
        day_of_month="*",
        month_of_year="*",
        timezone="UTC",
    )
    return schedule


@transaction.atomic
def sync_periodic_tasks(*, reset=False, jobs=PERIODIC_JOBS):
    """Create the listed jobs that are missing (and with `reset`, rewrite the existing ones).

    Returns (created, reset) counts. Jobs in the database that are not listed are left as they
    are: an operator may have added them on purpose.
    """
    from django_celery_beat.models import PeriodicTask

    created = updated = 0
    for job in jobs:
        defaults = {
            "task": job.task,
            "crontab": _crontab(job),
            "interval": None,
            "kwargs": json.dumps(job.kwargs),
            "description": job.description,
        }
        task = PeriodicTask.objects.filter(name=job.name).first()
        if task is None:
            PeriodicTask.objects.create(name=job.name, **defaults)
            created += 1
        elif reset:
            for attribute, value in defaults.items():
                setattr(task, attribute, value)
            task.enabled = True
            task.save()
            updated += 1
    return created, updated


def create_missing_periodic_tasks(sender, using="default", **kwargs):
    """post_migrate receiver: a migrated database always has the listed jobs."""
    if using != "default":
        return
    sync_periodic_tasks()
