"""A worker killed in the middle of an assignment run: the job comes back and ends as if
nothing had happened (at-least-once delivery + idempotent jobs).

A real worker process (Redis broker, the test's PostgreSQL database) runs the AR assignment
service over 60 claims in batches that each commit, with a pause between batches. When some
but not all claims are assigned, the worker is SIGKILLed: its message was never acknowledged
(acks_late), so Redis holds it as unacknowledged. A second worker starts; once the message's
visibility timeout (set to a few seconds here) has passed it is delivered again, the job runs
from the start, the batches already done find nothing to do, and the rest are assigned.

The end state is compared with an uninterrupted run of the same job on the same claims,
computed in-process inside a transaction that is then rolled back: every claim assigned, to the
same agent by the same rule for the same reason, one assignment per claim (nothing doubled).

Needs Redis (OPSINTEL_TEST_REDIS_URL; CI sets OPSINTEL_REQUIRE_REDIS=1 so a missing Redis fails
instead of skipping) and PostgreSQL (the worker is another process and must see the test
database; SQLite's in-memory test database cannot be shared).
"""

import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from datetime import timedelta

import pytest
import redis
from celery import Celery
from django.db import connection, transaction

from rcm.models import Assignment, Claim, WorkQueue
from tests.opsintel.crash_tasks import assign_in_batches
from tests.opsintel.test_worker import REDIS_URL, ROOT, redis_reachable
from tests.rcm.factories import TODAY, AgentFactory, ClaimFactory

TASK = "tests.crash.assign_claims_in_batches"
CLAIMS, BATCH, PAUSE = 60, 5, 0.3
VISIBILITY_TIMEOUT = 8  # seconds; the whole job takes about 4
DEADLINE = 45  # seconds for the second worker to finish the job


class RolledBack(Exception):
    pass


def needs_redis_and_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("the crash test's worker needs the PostgreSQL test database")
    if not redis_reachable():
        if os.environ.get("OPSINTEL_REQUIRE_REDIS"):
            pytest.fail(f"OPSINTEL_REQUIRE_REDIS is set but Redis at {REDIS_URL} does not answer")
        pytest.skip(f"no Redis at {REDIS_URL}: the crash test needs one")


def database_url():
    db = connection.settings_dict
    return (
        f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}"
    )


class Workers:
    """Starts workers of tests.opsintel.crash_tasks on one queue, under one key prefix."""

    def __init__(self):
        self.queue = f"crash-{uuid.uuid4().hex[:8]}"
        self.prefix = f"opsintel-crash-test-{uuid.uuid4().hex[:8]}:"
        self.processes = []
        self.env = {
            **os.environ,
            "DEBUG": "1",
            "DATABASE_URL": database_url(),
            "DATABASE_CONN_MAX_AGE": "0",
            "CELERY_BROKER_URL": REDIS_URL,
            "CELERY_RESULT_BACKEND": REDIS_URL,
            "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
            "CELERY_TASK_TIME_LIMIT": str(VISIBILITY_TIMEOUT - 1),
            "OPSINTEL_CRASH_KEYPREFIX": self.prefix,
        }

    def start(self):
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "tests.opsintel.crash_tasks", "worker",
             "--pool=prefork", "--concurrency=1", "--without-gossip", "--without-mingle",
             "--without-heartbeat", "-Q", self.queue, "--loglevel=WARNING"],
            cwd=ROOT,
            env=self.env,
            start_new_session=True,  # its own process group: the crash kills it whole
        )  # fmt: skip
        self.processes.append(process)
        return process

    def client(self):
        client = Celery(broker=REDIS_URL, backend=REDIS_URL, set_as_current=False)
        client.conf.task_serializer = "json"
        client.conf.broker_transport_options = {"global_keyprefix": self.prefix}
        return client

    def unacked(self):
        return redis.Redis.from_url(REDIS_URL).hlen(f"{self.prefix}unacked")

    def stop(self):
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
        keys = redis.Redis.from_url(REDIS_URL)
        for key in keys.scan_iter(f"{self.prefix}*"):
            keys.delete(key)


@pytest.fixture
def workers():
    needs_redis_and_postgresql()
    started = Workers()
    yield started
    started.stop()


def world():
    """Two agents in every work queue and 60 open claims of several ages and amounts."""
    for work_queue in WorkQueue.objects.all():
        for _ in range(2):
            AgentFactory(queue=work_queue, daily_capacity=6)
    ids = []
    for n in range(CLAIMS):
        submitted = TODAY - timedelta(days=10 + (n * 7) % 160)
        claim = ClaimFactory(
            submission_date=submitted,
            service_date=submitted - timedelta(days=3),
            amount=100 + 37 * n,
            balance=100 + 37 * n,
        )
        ids.append(claim.pk)
    return ids


def outcome(claim_ids):
    """What the run decided, without surrogate ids and times."""
    claims = Claim.objects.filter(pk__in=claim_ids)
    return {
        "claims": sorted(claims.values_list("claim_number", "queue__kind", "agent__name")),
        "assignments": sorted(
            Counter(
                Assignment.objects.filter(claim_id__in=claim_ids).values_list(
                    "claim__claim_number", "queue__kind", "agent__name", "rule__name", "reason"
                )
            ).items()
        ),
    }


def uninterrupted(claim_ids, kwargs):
    """The job run start to end in this process, then rolled back."""
    try:
        with transaction.atomic():
            assign_in_batches(**{**kwargs, "pause": 0})
            result = outcome(claim_ids)
            raise RolledBack
    except RolledBack:
        pass
    return result


def wait_for(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"timed out after {timeout} s waiting for {what}")


def assigned(claim_ids):
    return Claim.objects.filter(pk__in=claim_ids, agent__isnull=False).count()


@pytest.mark.redis
@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # needs the seeded rows
def test_a_worker_killed_mid_job_leaves_the_same_result_as_an_uninterrupted_run(workers):
    claim_ids = world()
    kwargs = {"claim_ids": claim_ids, "today": TODAY.isoformat(), "batch_size": BATCH}
    expected = uninterrupted(claim_ids, kwargs)
    assert assigned(claim_ids) == 0
    assert len(expected["claims"]) == CLAIMS
    assert all(agent for *_, agent in expected["claims"]), expected

    first = workers.start()
    result = workers.client().send_task(
        TASK, kwargs={**kwargs, "pause": PAUSE}, queue=workers.queue
    )
    # Kill the worker once two batches have committed: in the middle of the job.
    done_at_kill = wait_for(lambda: assigned(claim_ids) >= 2 * BATCH, 30, "two batches")
    os.killpg(first.pid, signal.SIGKILL)  # the worker and its pool process, as in a crash
    first.wait(timeout=10)
    done_at_kill = assigned(claim_ids)
    assert 0 < done_at_kill < CLAIMS, "the worker was not killed in the middle of the job"
    # Redis holds the message as delivered but not acknowledged (acks_late).
    assert workers.unacked() == 1

    workers.start()
    assert result.get(timeout=DEADLINE) == CLAIMS  # delivered again and run to the end
    assert outcome(claim_ids) == expected
    counts = Counter(Assignment.objects.filter(claim_id__in=claim_ids).values_list("claim_id"))
    assert set(counts.values()) == {1}, "a claim was assigned twice"
