"""The beat schedule in the admin: every periodic job, its description and schedule, and a
"Run now" action.

Replaces django-celery-beat's own PeriodicTask admin (same forms and fields) with a changelist
that shows what operators need to read the schedule (the task, what it does, when it runs in
words, whether the job is one of the platform's listed jobs in opsintel/schedule.py) and
actions that need the change permission, so a user who may only view the schedule cannot
enable, disable or run jobs. Only platform admins reach the admin and hold these permissions
(opsintel/roles.py).

"Run now" queues each selected job's task with the job's arguments, as beat would. It goes
through the registered task's `apply_async`, not `send_task`, so that in the embedded demo
(no broker, `task_always_eager`) the job runs in-process instead of failing to reach a broker.
Running twice is safe: every job is idempotent.
"""

import json
import logging
import uuid

from django.contrib import admin, messages
from django.utils.text import Truncator
from django_celery_beat import admin as beat_admin
from django_celery_beat.models import PeriodicTask
from kombu.exceptions import OperationalError as BrokerOperationalError

from opsintel.audit import record_event
from opsintel.celery import app as celery_app
from opsintel.models import AuditEvent
from opsintel.schedule import PERIODIC_JOBS

logger = logging.getLogger(__name__)

LISTED_JOBS = {job.name for job in PERIODIC_JOBS}


class PeriodicJobAdmin(beat_admin.PeriodicTaskAdmin):
    list_display = ("name", "task", "what_it_does", "schedule", "enabled", "last_run_at", "listed")
    list_filter = ["enabled", "task", "last_run_at"]
    ordering = ("name",)
    list_per_page = 200
    date_hierarchy = None
    actions = ("run_now", "enable_tasks", "disable_tasks", "toggle_tasks")

    @admin.display(description="What it does")
    def what_it_does(self, task):
        return Truncator(task.description).chars(160)

    @admin.display(description="When")
    def schedule(self, task):
        if task.crontab is not None:
            crontab = task.crontab
            return f"{crontab.human_readable} ({crontab.timezone})"
        for schedule in (task.interval, task.solar, task.clocked):
            if schedule is not None:
                return str(schedule)
        return "—"

    @admin.display(description="Listed job", boolean=True)
    def listed(self, task):
        """One of the platform's jobs (opsintel/schedule.py), rather than one added here."""
        return task.name in LISTED_JOBS

    @admin.action(description="Run now", permissions=["change"])
    def run_now(self, request, queryset):
        celery_app.loader.import_default_modules()
        jobs = list(queryset.order_by("name"))
        unknown = sorted({job.task for job in jobs if job.task not in celery_app.tasks})
        if unknown:
            self.message_user(
                request,
                f"Nothing was queued: no worker task is called {', '.join(unknown)}.",
                level=messages.ERROR,
            )
            return
        queued, failed = [], []
        for job in jobs:
            try:
                task_id = self._queue(job)
            except BrokerOperationalError as error:
                logger.warning("Run now: %s could not be queued: %s", job.name, error)
                failed.append(job.name)
            else:
                queued.append((job, task_id))
        if queued:
            record_event(
                AuditEvent.Action.UPDATE,
                request=request,
                model=PeriodicTask,
                object_ids=[job.pk for job, _ in queued],
                description=f"Ran now: {', '.join(job.name for job, _ in queued)}",
            )
            self.message_user(
                request,
                f"Queued {len(queued)} job{'s' if len(queued) != 1 else ''}: "
                + "; ".join(f"{job.name} ({job.task}, id {task_id})" for job, task_id in queued),
                level=messages.SUCCESS,
            )
        if failed:
            self.message_user(
                request,
                f"Could not reach the broker for: {'; '.join(failed)}. Nothing else was lost; "
                "try again when the broker answers.",
                level=messages.ERROR,
            )

    @staticmethod
    def _queue(job):
        task_id = str(uuid.uuid4())
        options = {"task_id": task_id, "headers": {"periodic_task_name": job.name}}
        if job.queue:
            options["queue"] = job.queue
        celery_app.tasks[job.task].apply_async(
            args=json.loads(job.args or "[]"), kwargs=json.loads(job.kwargs or "{}"), **options
        )
        return task_id

    # django-celery-beat's own actions, limited to users who may change the schedule.

    @admin.action(description="Enable selected jobs", permissions=["change"])
    def enable_tasks(self, request, queryset):
        return super().enable_tasks(request, queryset)

    @admin.action(description="Disable selected jobs", permissions=["change"])
    def disable_tasks(self, request, queryset):
        return super().disable_tasks(request, queryset)

    @admin.action(description="Toggle selected jobs", permissions=["change"])
    def toggle_tasks(self, request, queryset):
        return super().toggle_tasks(request, queryset)


if admin.site.is_registered(PeriodicTask):
    admin.site.unregister(PeriodicTask)
admin.site.register(PeriodicTask, PeriodicJobAdmin)
