"""A real Celery worker process consuming from Redis.

Runs wherever Redis answers; CI sets OPSINTEL_REQUIRE_REDIS=1 so a missing Redis fails the run
instead of skipping.
"""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import redis
from celery import Celery

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("OPSINTEL_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def redis_reachable():
    try:
        return redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        return False


@pytest.fixture(scope="module")
def worker():
    if not redis_reachable():
        if os.environ.get("OPSINTEL_REQUIRE_REDIS"):
            pytest.fail(f"OPSINTEL_REQUIRE_REDIS is set but Redis at {REDIS_URL} does not answer")
        pytest.skip(f"no Redis at {REDIS_URL}: the worker test needs one")
    queue = f"test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DEBUG": "1",
        "CELERY_BROKER_URL": REDIS_URL,
        "CELERY_RESULT_BACKEND": REDIS_URL,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "opsintel", "worker",
         "--pool=solo", "--without-gossip", "--without-mingle", "--without-heartbeat",
         "-Q", queue, "--loglevel=WARNING"],
        cwd=ROOT,
        env=env,
    )  # fmt: skip
    # Not the current app: the tests' own tasks must keep running in-process.
    client = Celery(broker=REDIS_URL, backend=REDIS_URL, set_as_current=False)
    client.conf.task_serializer = "json"
    yield client, queue
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.mark.redis
def test_a_real_worker_runs_a_task_sent_through_redis(worker):
    client, queue = worker
    token = uuid.uuid4().hex
    result = client.send_task("opsintel.ping", args=[token], queue=queue)
    assert result.get(timeout=60) == {"pong": token}


@pytest.mark.redis
@pytest.mark.django_db
def test_healthz_reports_a_reachable_broker(client, celery_conf, worker):
    celery_conf.update(task_always_eager=False, broker_url=REDIS_URL)
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["checks"]["broker"] == {"status": "ok"}
