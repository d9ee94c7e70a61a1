"""How background jobs are declared and queued.

Tasks take ids and ISO dates, never objects: `enqueue_on_commit` refuses anything that would not
survive JSON serialisation (in the in-process demo mode nothing is serialised, so a model
instance would work there and break in production). Jobs are queued when the surrounding
transaction commits, so a worker never looks for a row that is not saved yet or was rolled back.
"""

from functools import partial

from celery import shared_task
from django.db import InterfaceError, OperationalError, transaction
from kombu.exceptions import OperationalError as BrokerOperationalError

# Worth retrying: the database or broker was briefly unreachable. Anything else is a bug or bad
# data, and retrying would only repeat it.
TRANSIENT_ERRORS = (
    OperationalError,
    InterfaceError,
    BrokerOperationalError,
    ConnectionError,
    TimeoutError,
)


def idempotent_task(*args, **options):
    """`shared_task` for the platform's jobs: retried with backoff on transient errors, and
    acknowledged only after it ran (re-queued if the worker died), which is safe because every
    job is written so that running it twice changes nothing."""
    options = {
        "autoretry_for": TRANSIENT_ERRORS,
        "retry_backoff": True,
        "retry_backoff_max": 600,
        "retry_jitter": True,
        "max_retries": 5,
        "acks_late": True,
        "reject_on_worker_lost": True,
        **options,
    }
    return shared_task(*args, **options)


_JSON_SCALARS = (str, int, float, bool, type(None))


def _check_json_argument(value, where):
    if isinstance(value, _JSON_SCALARS):
        return
    if isinstance(value, list | tuple):
        for item in value:
            _check_json_argument(item, where)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{where}: dictionary keys must be strings, got {key!r}")
            _check_json_argument(item, where)
        return
    raise TypeError(
        f"{where}: tasks take ids, ISO dates and plain values, not {type(value).__name__}"
    )


def enqueue_on_commit(task, *args, **kwargs):
    """Queue `task` with these arguments once the current transaction commits."""
    for position, value in enumerate(args):
        _check_json_argument(value, f"{task.name} argument {position}")
    for name, value in kwargs.items():
        _check_json_argument(value, f"{task.name} argument {name!r}")
    transaction.on_commit(partial(task.delay, *args, **kwargs))
