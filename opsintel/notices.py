"""In-app notices, each also sent by email: how any app tells people something happened.

`notify` writes one Notice per active recipient and emails each recipient who has an address.
The notice is the record; the email is a courtesy copy. So the email goes out only once the
notice is committed (a rolled-back notice must not have been announced), and a mail server that
is down is logged, never allowed to undo the notice.

Inside a test's transaction the emails therefore wait for the commit: capture them with
pytest-django's `django_capture_on_commit_callbacks(execute=True)`.
"""

import logging

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.utils import timezone

from opsintel.models import Notice

logger = logging.getLogger(__name__)


def notify(recipients, *, title, body="", link="", app_label=""):
    """Give each active recipient a notice and send them its email; returns the notices."""
    recipients = [user for user in recipients if user.is_active]
    if not recipients:
        return []
    now = timezone.now()
    notices = Notice.objects.bulk_create(
        Notice(
            recipient=user,
            app_label=app_label,
            title=title[:200],
            body=body,
            link=link[:500],
            created_at=now,
        )
        for user in recipients
    )
    addresses = [user.email for user in recipients if user.email]
    if addresses:
        text = "\n\n".join(part for part in (body, _absolute(link)) if part)
        transaction.on_commit(lambda: _send(addresses, title, text))
    return notices


def _absolute(link):
    # Apps store site paths ("/advocacy/…"); a mail client needs the whole address, which only
    # settings know (OPSINTEL_SITE_URL, e.g. "https://ops.example.org"; unset: left as given).
    base = settings.OPSINTEL_SITE_URL
    if link.startswith("/") and not link.startswith("//") and base:
        return base.rstrip("/") + link
    return link


def _send(addresses, subject, text):
    # One message per person: recipients must not see each other's addresses.
    messages = [
        EmailMessage(subject, text, settings.DEFAULT_FROM_EMAIL, [address]) for address in addresses
    ]
    try:
        get_connection().send_messages(messages)
    except Exception:
        # The notices are committed and shown in the app; only the copies by mail are lost.
        logger.exception("Could not email the notice %r to %d people", subject, len(addresses))


def own_notices(user):
    """The user's own notices (private even from platform admins: NoticeQuerySet.visible_to)."""
    return Notice.objects.visible_to(user)


def unread_count(user):
    return own_notices(user).unread().count()


def mark_read(user, ids=None):
    """Mark the user's unread notices read (only those in `ids` when given); returns how many."""
    notices = own_notices(user).unread()
    if ids is not None:
        notices = notices.filter(pk__in=ids)
    return notices.update(read_at=timezone.now())
