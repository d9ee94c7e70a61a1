"""The Celery app of the crash test's worker (tests/opsintel/test_worker_crash.py).

`celery -A tests.opsintel.crash_tasks worker` runs the platform's own app and settings, with:
- the broker keys under a prefix of the test's own (OPSINTEL_CRASH_KEYPREFIX), so this worker's
  short visibility timeout never re-delivers another test's or another run's messages;
- unacknowledged messages swept every second instead of every 100 s, so a message left by a
  killed worker comes back as soon as its visibility timeout (CELERY_VISIBILITY_TIMEOUT, set
  short by the test) has passed;
- one test-only task: the real AR assignment service, run over a list of claims in batches of
  its own (each batch commits), with a pause between batches so the test can kill the worker
  between two of them.
"""

import os
import time
from datetime import date

from opsintel.celery import app
from opsintel.jobs import idempotent_task

if os.environ.get("OPSINTEL_CRASH_KEYPREFIX"):  # in the test's worker, not in pytest itself
    app.conf.broker_transport_options = {
        **app.conf.broker_transport_options,
        "global_keyprefix": os.environ["OPSINTEL_CRASH_KEYPREFIX"],
        "unacked_restore_interval": 1,
        "unacked_restore_throttle": 1,
    }
    # The settings' soft limit (hard limit − 60 s) is negative for the short hard limit the
    # test sets; the hard limit stays.
    app.conf.task_soft_time_limit = None


def assign_in_batches(claim_ids, today, batch_size, pause):
    from rcm import services
    from rcm.models import Claim

    for start in range(0, len(claim_ids), batch_size):
        batch = Claim.objects.filter(pk__in=claim_ids[start : start + batch_size])
        services.assign_claims(batch, today=date.fromisoformat(today))
        time.sleep(pause)
    return len(claim_ids)


@idempotent_task(name="tests.crash.assign_claims_in_batches")
def assign_claims_in_batches(claim_ids, today, batch_size, pause):
    return assign_in_batches(claim_ids, today, batch_size, pause)
