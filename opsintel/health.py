"""/healthz: can this process reach its database, cache and broker?"""

import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import connection

from opsintel.celery import app as celery_app


def check_database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


def check_cache():
    key = f"healthz:{uuid.uuid4().hex}"
    cache.set(key, "1", timeout=10)
    found = cache.get(key)
    cache.delete(key)
    if found != "1":
        raise RuntimeError("value written to the cache could not be read back")
    return "ok"


def check_broker():
    if celery_app.conf.task_always_eager:
        return "eager"  # no broker configured: tasks run in-process
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, timeout=2)
    return "ok"


CHECKS = {"database": check_database, "cache": check_cache, "broker": check_broker}


def run_checks():
    """({name: {"status": ..., "error": ...}}, healthy)"""
    results, healthy = {}, True
    for name, check in CHECKS.items():
        try:
            results[name] = {"status": check()}
        except Exception as exc:  # any failure is a failed check, reported not raised
            healthy = False
            result = {"status": "error", "error": type(exc).__name__}
            if settings.DEBUG:
                result["detail"] = str(exc)[:200]
            results[name] = result
    return results, healthy
