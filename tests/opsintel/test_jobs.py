from datetime import timedelta

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from opsintel import tasks
from opsintel.jobs import TRANSIENT_ERRORS, enqueue_on_commit
from opsintel.schedule import PERIODIC_JOBS, PeriodicJob, sync_periodic_tasks

pytestmark = pytest.mark.django_db


def test_jobs_are_queued_only_when_the_transaction_commits(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        enqueue_on_commit(tasks.ping, "abc")
    assert len(callbacks) == 1
    result = callbacks[0]()
    assert result.get() == {"pong": "abc"}


def test_jobs_refuse_objects_as_arguments(make_user):
    user = make_user()
    with pytest.raises(TypeError, match=r"opsintel\.ping argument 0: tasks take ids"):
        enqueue_on_commit(tasks.ping, user)
    with pytest.raises(TypeError, match="argument 'token'"):
        enqueue_on_commit(tasks.ping, token=timezone.now())


def test_platform_tasks_are_retried_on_transient_errors_and_acked_late():
    for task in (tasks.ping, tasks.clear_expired_sessions):
        assert task.acks_late is True
        assert task.reject_on_worker_lost is True
        assert tuple(task.autoretry_for) == TRANSIENT_ERRORS
        assert task.retry_backoff is True


def test_clear_expired_sessions_deletes_only_expired_ones_and_can_rerun():
    live, stale = SessionStore(), SessionStore()
    live.create()
    stale.create()
    Session.objects.filter(pk=stale.session_key).update(
        expire_date=timezone.now() - timedelta(minutes=1)
    )
    assert tasks.clear_expired_sessions.delay().get() == 1
    assert tasks.clear_expired_sessions.delay().get() == 0
    assert list(Session.objects.values_list("pk", flat=True)) == [live.session_key]


def test_migrate_creates_every_listed_periodic_job():
    for job in PERIODIC_JOBS:
        task = PeriodicTask.objects.get(name=job.name)
        assert task.task == job.task
        assert (task.crontab.minute, task.crontab.hour) == (job.minute, job.hour)


def test_schedule_sync_keeps_operator_edits_unless_reset():
    job = PeriodicJob(name="test: nightly", task="opsintel.ping", minute="5", hour="2")
    assert sync_periodic_tasks(jobs=[job]) == (1, 0)

    task = PeriodicTask.objects.get(name=job.name)
    task.enabled = False
    task.save()
    assert sync_periodic_tasks(jobs=[job]) == (0, 0)
    assert PeriodicTask.objects.get(name=job.name).enabled is False

    assert sync_periodic_tasks(jobs=[job], reset=True) == (0, 1)
    assert PeriodicTask.objects.get(name=job.name).enabled is True
    assert PeriodicTask.objects.filter(name=job.name).count() == 1
