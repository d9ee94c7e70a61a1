from django.contrib.sessions.models import Session
from django.utils import timezone

from opsintel.jobs import idempotent_task


@idempotent_task(name="opsintel.ping")
def ping(token):
    """Echo for /healthz-style checks that a worker is consuming the queue."""
    return {"pong": token}


@idempotent_task(name="opsintel.clear_expired_sessions")
def clear_expired_sessions():
    """Delete sessions past their expiry (what `manage.py clearsessions` does)."""
    deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return deleted
