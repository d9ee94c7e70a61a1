from datetime import timedelta
from smtplib import SMTPException

import pytest
from django.core import mail
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from opsintel import notices
from opsintel.models import Notice

pytestmark = pytest.mark.django_db


def notice(user, title="Something happened", *, minutes_ago=0, read=False, **fields):
    at = timezone.now() - timedelta(minutes=minutes_ago)
    return Notice.objects.create(
        recipient=user, title=title, created_at=at, read_at=at if read else None, **fields
    )


def notice_queries(queries):
    return [q["sql"] for q in queries if "opsintel_notice" in q["sql"]]


# notify ------------------------------------------------------------------------------------------


def test_notify_writes_one_notice_per_active_recipient_and_emails_each(
    make_user, django_capture_on_commit_callbacks
):
    ana = make_user(username="ana", email="ana@example.org")
    ben = make_user(username="ben", email="")  # no address: the notice, but no email
    gone = make_user(username="gone", is_active=False)

    with django_capture_on_commit_callbacks(execute=True):
        created = notices.notify(
            [ana, ben, gone],
            title="31 stale cases",
            body="Look at the list.",
            link="/advocacy/dashboards/operations/",
            app_label="advocacy",
        )

    assert {n.recipient.username for n in created} == {"ana", "ben"}
    rows = Notice.objects.order_by("recipient__username")
    assert [(n.recipient.username, n.title, n.app_label, n.read_at) for n in rows] == [
        ("ana", "31 stale cases", "advocacy", None),
        ("ben", "31 stale cases", "advocacy", None),
    ]
    assert [m.to for m in mail.outbox] == [["ana@example.org"]]
    assert mail.outbox[0].subject == "31 stale cases"
    assert mail.outbox[0].body == "Look at the list.\n\n/advocacy/dashboards/operations/"


def test_the_email_gives_the_whole_address_when_the_site_url_is_set(
    make_user, settings, django_capture_on_commit_callbacks
):
    settings.OPSINTEL_SITE_URL = "https://ops.example.org/"
    ana = make_user(email="ana@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        notices.notify([ana], title="Alert", link="/advocacy/dashboards/operations/")
    assert mail.outbox[0].body == "https://ops.example.org/advocacy/dashboards/operations/"
    assert Notice.objects.get().link == "/advocacy/dashboards/operations/"


def test_notify_sends_nothing_when_the_notice_is_rolled_back(
    make_user, django_capture_on_commit_callbacks
):
    ana = make_user(email="ana@example.org")
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        notices.notify([ana], title="Never mind")
        transaction.set_rollback(True)
    assert Notice.objects.count() == 0
    assert mail.outbox == []


def test_a_mail_failure_keeps_the_notice_and_is_logged(
    make_user, django_capture_on_commit_callbacks, monkeypatch, caplog
):
    class Broken:
        def send_messages(self, messages):
            raise SMTPException("connection refused")

    monkeypatch.setattr(notices, "get_connection", Broken)
    ana = make_user(email="ana@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        notices.notify([ana], title="Export ready")

    assert Notice.objects.filter(recipient=ana, title="Export ready").count() == 1
    assert "Could not email the notice 'Export ready' to 1 people" in caplog.text


def test_mark_read_touches_only_the_users_own_unread_notices(make_user):
    ana, ben = make_user(), make_user()
    first, second = notice(ana), notice(ana)
    earlier = notice(ana, read=True, minutes_ago=60)
    others = notice(ben)

    assert notices.mark_read(ana, ids=[first.pk, others.pk]) == 1
    assert notices.mark_read(ana) == 1  # only `second` was still unread
    for row in (first, second, earlier, others):
        row.refresh_from_db()
    assert first.read_at
    assert second.read_at
    assert earlier.read_at < first.read_at  # already read: left as it was
    assert others.read_at is None


# The notices page --------------------------------------------------------------------------------


def test_the_page_needs_a_login(client):
    response = client.get(reverse("notices"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    assert client.post(reverse("notices_mark_all_read")).status_code == 302


def test_the_page_lists_own_notices_newest_first_with_unread_marked(client_for, make_user):
    client = client_for("Operations leader")
    notice(client.user, "Oldest", minutes_ago=30, read=True)
    notice(client.user, "Newest", minutes_ago=1, link="/advocacy/")
    notice(client.user, "Middle", minutes_ago=10)
    notice(make_user(), "Someone else's")

    response = client.get(reverse("notices"))

    assert response.status_code == 200
    titles = [n.title for n in response.context["page"].object_list]
    assert titles == ["Newest", "Middle", "Oldest"]
    html = response.content.decode()
    assert "Someone else&#x27;s" not in html
    assert '<a href="/advocacy/">Newest</a>' in html
    assert html.count('<span class="badge">Unread</span>') == 2
    assert "2 unread" in html


def test_links_off_the_site_are_not_rendered(client_for):
    client = client_for()
    notice(client.user, "Sneaky", link="javascript:alert(1)")
    notice(client.user, "Elsewhere", link="https://evil.example.com/")
    html = client.get(reverse("notices")).content.decode()
    assert "javascript:" not in html
    assert "evil.example.com" not in html
    assert "Sneaky" in html
    assert "Elsewhere" in html


def test_mark_all_read(client_for):
    client = client_for()
    notice(client.user)
    notice(client.user)
    assert client.get(reverse("notices_mark_all_read")).status_code == 405

    response = client.post(reverse("notices_mark_all_read"), follow=True)

    assert response.redirect_chain == [(reverse("notices"), 302)]
    assert "Marked 2 notices read." in response.content.decode()
    assert not Notice.objects.filter(recipient=client.user, read_at__isnull=True).exists()


def test_mark_one_read_and_others_notices_are_not_found(client_for, make_user):
    client = client_for()
    mine, also_mine = notice(client.user), notice(client.user)
    theirs = notice(make_user())

    assert client.post(reverse("notice_mark_read", args=[mine.pk])).status_code == 302
    assert client.post(reverse("notice_mark_read", args=[theirs.pk])).status_code == 404

    for row in (mine, also_mine, theirs):
        row.refresh_from_db()
    assert mine.read_at is not None
    assert also_mine.read_at is None
    assert theirs.read_at is None


def test_a_platform_admin_sees_only_their_own_notices_too(client_for, make_user):
    client = client_for("Platform admin")
    notice(client.user, "For the admin")
    theirs = notice(make_user(), "For someone else")

    response = client.get(reverse("notices"))

    assert [n.title for n in response.context["page"].object_list] == ["For the admin"]
    assert client.post(reverse("notice_mark_read", args=[theirs.pk])).status_code == 404


# The header badge --------------------------------------------------------------------------------


def test_the_header_shows_the_unread_count_with_one_query(client_for):
    client = client_for("Operations leader")
    notice(client.user)
    notice(client.user)
    notice(client.user, read=True)

    with CaptureQueriesContext(connection) as queries:
        html = client.get(reverse("home")).content.decode()

    assert 'Notices (2<span class="visually-hidden"> unread</span>)' in html
    counted = notice_queries(queries.captured_queries)
    assert len(counted) == 1
    assert "COUNT(" in counted[0].upper()

    notices.mark_read(client.user)
    html = client.get(reverse("home")).content.decode()
    assert ">Notices</a>" in html


def test_anonymous_pages_do_not_count_notices(client, make_user):
    notice(make_user())
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("login"))
    assert response.status_code == 200
    assert "Notices" not in response.content.decode()
    assert notice_queries(queries.captured_queries) == []
