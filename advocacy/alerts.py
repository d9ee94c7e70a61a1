"""Alerts for operations leaders: too many stale cases, an advocate over capacity.

`check_alerts` reads the rollup tables (run the rollup first) and tells the leaders, by an
in-app notice and email, when a condition starts. An open AlertCondition row stands for "the
leaders have been told"; it is closed when the condition no longer holds, so the next time it
holds they are told again, and in between nothing repeats however often the check runs.

Two checks racing each other both try to open the same row; the partial unique constraint lets
one in, and the other skips that condition without notifying anyone.
"""

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from advocacy.models import LEADER_ROLE, AdvocateCaseload, AlertCondition, CaseFact
from opsintel.models import User
from opsintel.notices import notify

STALE_KEY = "stale_cases"
OVERLOAD_PREFIX = "overload:"


def operations_leaders():
    """Everyone holding the Operations leader role who can still sign in."""
    return User.objects.filter(is_active=True, groups__name=LEADER_ROLE).distinct()


def _plural(count, word):
    return f"{count} {word}{'s' * (count != 1)}"


def conditions():
    """The alert conditions that hold now, from the rollup tables: {key: message}."""
    holding = {}
    threshold = settings.ADVOCACY_ALERT_STALE_CASES
    stale = CaseFact.objects.filter(is_active=True, stale=True).count()
    if stale > threshold:
        holding[STALE_KEY] = f"{_plural(stale, 'stale case')} (threshold {threshold})"
    limit = settings.ADVOCACY_ALERT_UTILIZATION
    overloaded = (
        AdvocateCaseload.objects.filter(utilization__gt=limit, advocate__active=True)
        .select_related("advocate")
        .order_by("advocate__name", "advocate_id")
    )
    for row in overloaded:
        holding[f"{OVERLOAD_PREFIX}{row.advocate_id}"] = (
            f"{row.advocate.name} is at {row.utilization:.2f}× capacity: "
            f"{_plural(row.active_cases, 'active case')} of {row.capacity}"
        )
    return holding


def check_alerts(now=None):
    """Open (and tell the leaders about) conditions that started; close those that ended.

    Returns the AlertCondition rows raised by this run; a second run in a row raises none."""
    now = now or timezone.now()
    holding = conditions()
    open_keys = _open_keys()
    ended = open_keys - set(holding)
    if ended:
        AlertCondition.objects.filter(key__in=ended, cleared_at__isnull=True).update(cleared_at=now)

    raised = []
    leaders = None
    link = reverse("advocacy:operations")
    for key, message in holding.items():
        if key in open_keys:
            continue
        try:
            with transaction.atomic():
                alert = AlertCondition.objects.create(key=key, message=message, raised_at=now)
                if leaders is None:
                    leaders = list(operations_leaders())
                notify(
                    leaders,
                    title=f"Advocacy alert: {message}",
                    body=_body(key, message),
                    link=link,
                    app_label="advocacy",
                )
        except IntegrityError:
            continue  # another run opened it a moment ago and told the leaders
        raised.append(alert)
    return raised


def _open_keys():
    return set(AlertCondition.objects.filter(cleared_at__isnull=True).values_list("key", flat=True))


def _body(key, message):
    if key == STALE_KEY:
        return (
            f"{message}: active cases without an event or interaction in 48 hours. "
            "The operations dashboard lists them."
        )
    return f"{message}. The operations dashboard shows every advocate's caseload."
