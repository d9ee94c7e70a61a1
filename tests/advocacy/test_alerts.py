from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse

from advocacy import alerts
from advocacy.models import AlertCondition
from advocacy.rollups import refresh
from opsintel.models import Notice
from tests.advocacy.factories import T0, AdvocateFactory, CaseFactory

pytestmark = pytest.mark.django_db

# CaseFactory rows have no events: a case's last touch is its creation, so one created more
# than 48 hours before the rollup is stale while it is active.
NOW = T0 + timedelta(days=5)
OLD = T0
FRESH = NOW - timedelta(hours=1)


@pytest.fixture(autouse=True)
def thresholds(settings):
    settings.ADVOCACY_ALERT_STALE_CASES = 2
    settings.ADVOCACY_ALERT_UTILIZATION = 1.0


@pytest.fixture
def leaders(make_user):
    return [
        make_user("Operations leader", username="lee", email="lee@example.org"),
        make_user("Operations leader", username="lou", email="lou@example.org"),
        make_user("Operations leader", username="left", is_active=False),
    ]


@pytest.fixture
def dana():
    return AdvocateFactory(name="Dana Reyes", capacity=2)


def cases(count, *, advocate=None, created_at=OLD, status="open"):
    return [
        CaseFactory(advocate=advocate, created_at=created_at, status=status) for _ in range(count)
    ]


def check(capture, now=NOW):
    refresh(as_of=now)
    with capture(execute=True):
        return alerts.check_alerts(now=now)


def test_leaders_are_told_once_of_each_condition_that_starts(
    leaders, dana, make_user, django_capture_on_commit_callbacks
):
    make_user("Advocate", email="adv@example.org")  # not a leader: told nothing
    cases(3, advocate=dana)  # 3 stale of threshold 2, and Dana at 3 of 2 = 1.50
    cases(2, created_at=FRESH)  # active but touched within 48 hours: not stale
    cases(4, status="resolved")  # stale-looking but not active

    raised = check(django_capture_on_commit_callbacks)

    assert sorted(a.key for a in raised) == [f"overload:{dana.pk}", "stale_cases"]
    messages = {a.key: a.message for a in AlertCondition.objects.all()}
    assert messages == {
        "stale_cases": "3 stale cases (threshold 2)",
        f"overload:{dana.pk}": "Dana Reyes is at 1.50× capacity: 3 active cases of 2",
    }
    notices = Notice.objects.order_by("recipient__username", "title")
    assert [(n.recipient.username, n.title) for n in notices] == [
        ("lee", "Advocacy alert: 3 stale cases (threshold 2)"),
        ("lee", "Advocacy alert: Dana Reyes is at 1.50× capacity: 3 active cases of 2"),
        ("lou", "Advocacy alert: 3 stale cases (threshold 2)"),
        ("lou", "Advocacy alert: Dana Reyes is at 1.50× capacity: 3 active cases of 2"),
    ]
    assert {n.link for n in notices} == {reverse("advocacy:operations")}
    assert {n.app_label for n in notices} == {"advocacy"}
    assert sorted(m.to[0] for m in mail.outbox) == [
        "lee@example.org",
        "lee@example.org",
        "lou@example.org",
        "lou@example.org",
    ]


def test_a_second_run_sends_nothing(leaders, dana, django_capture_on_commit_callbacks):
    cases(3, advocate=dana)
    assert len(check(django_capture_on_commit_callbacks)) == 2
    mail.outbox.clear()

    assert check(django_capture_on_commit_callbacks, now=NOW + timedelta(hours=1)) == []
    assert Notice.objects.count() == 4  # 2 conditions × 2 active leaders, from the first run
    assert mail.outbox == []
    assert AlertCondition.objects.filter(cleared_at__isnull=True).count() == 2


def test_a_condition_that_clears_is_closed_and_alerts_again_when_it_recurs(
    leaders, dana, django_capture_on_commit_callbacks
):
    stale = cases(3)
    check(django_capture_on_commit_callbacks)

    # One case resolved: 2 stale, not more than the threshold.
    later = NOW + timedelta(hours=1)
    stale[0].status = "resolved"
    stale[0].resolved_at = later
    stale[0].save()
    assert check(django_capture_on_commit_callbacks, now=later) == []
    first = AlertCondition.objects.get(key="stale_cases")
    assert first.cleared_at == later

    # A new case goes stale: 3 again, told again.
    cases(1, created_at=NOW)
    again = check(django_capture_on_commit_callbacks, now=NOW + timedelta(days=3))
    assert [a.key for a in again] == ["stale_cases"]
    assert AlertCondition.objects.filter(key="stale_cases").count() == 2
    assert Notice.objects.filter(title__contains="stale").count() == 4  # 2 leaders × 2 times


def test_figures_at_the_threshold_do_not_alert(leaders, dana, django_capture_on_commit_callbacks):
    cases(2, advocate=dana)  # 2 stale of threshold 2; Dana at exactly 1.00
    assert check(django_capture_on_commit_callbacks) == []
    assert Notice.objects.count() == 0
    assert mail.outbox == []


def test_a_racing_run_that_lost_the_insert_tells_nobody(
    leaders, dana, monkeypatch, django_capture_on_commit_callbacks
):
    cases(3)
    assert len(check(django_capture_on_commit_callbacks)) == 1
    mail.outbox.clear()
    # The second run read the open conditions before the first one committed its row.
    monkeypatch.setattr(alerts, "_open_keys", set)

    assert check(django_capture_on_commit_callbacks) == []
    assert AlertCondition.objects.count() == 1
    assert Notice.objects.count() == 2
    assert mail.outbox == []
