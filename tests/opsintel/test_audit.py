import csv
import io

import pytest
from django.http import Http404
from django.test import RequestFactory
from django.urls import reverse

from opsintel.audit import Action, record_event, view_record
from opsintel.exports import stream_csv
from opsintel.models import AuditEvent
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def request_as(user, path="/somewhere/?page=2"):
    request = RequestFactory().get(path, REMOTE_ADDR="10.1.2.3", HTTP_USER_AGENT="pytest-browser")
    request.user = user
    return request


def test_record_event_keeps_who_what_which_and_from_where(make_user):
    user = make_user("Care manager", username="maria")
    other = make_user()
    event = record_event(
        Action.UPDATE,
        request=request_as(user),
        objects=[user, other],
        description="bulk reassignment",
    )
    event.refresh_from_db()
    assert event.actor == user
    assert event.actor_username == "maria"
    assert event.action == "update"
    assert event.object_type == "opsintel.user"
    assert event.object_ids == [str(user.pk), str(other.pk)]
    assert event.object_count == 2
    assert event.ip_address == "10.1.2.3"
    assert event.user_agent == "pytest-browser"
    assert event.path == "/somewhere/?page=2"


def test_record_event_accepts_a_queryset_and_keeps_the_name_after_deletion(make_user):
    user = make_user(username="gone")
    make_user()
    from opsintel.models import User

    event = record_event(Action.EXPORT, actor=user, objects=User.objects.order_by("pk"))
    assert event.object_count == 2
    user.delete()
    event.refresh_from_db()
    assert event.actor is None
    assert event.actor_username == "gone"


def test_viewing_a_record_is_scoped_and_audited(make_user):
    alice, bob = make_user("Care manager"), make_user("Care manager")
    alice_event = record_event(Action.EXPORT, actor=alice)
    bob_event = record_event(Action.EXPORT, actor=bob)

    assert view_record(request_as(alice), AuditEvent.objects.all(), pk=alice_event.pk) == (
        alice_event
    )
    view = AuditEvent.objects.get(action=Action.VIEW)
    assert (view.actor, view.object_type, view.object_ids) == (
        alice,
        "opsintel.auditevent",
        [str(alice_event.pk)],
    )

    with pytest.raises(Http404):
        view_record(request_as(alice), AuditEvent.objects.all(), pk=bob_event.pk)
    assert AuditEvent.objects.filter(action=Action.VIEW).count() == 1


def test_csv_export_streams_neutralised_cells_and_is_audited(make_user):
    user = make_user("Care manager")
    rows = iter([(1, '=HYPERLINK("http://x")', None), (2, "plain", -5)])
    response = stream_csv(
        request_as(user),
        filename="members.csv",
        header=["id", "name", "balance"],
        rows=rows,
        model=type(user),
        object_ids=[1, 2],
    )
    assert response.streaming
    assert response["Content-Disposition"] == 'attachment; filename="members.csv"'
    body = b"".join(response.streaming_content).decode()
    assert list(csv.reader(io.StringIO(body))) == [
        ["id", "name", "balance"],
        ["1", '\'=HYPERLINK("http://x")', ""],
        ["2", "plain", "-5"],
    ]
    event = AuditEvent.objects.get(action=Action.EXPORT)
    assert (event.actor, event.object_ids, event.description) == (
        user,
        ["1", "2"],
        "CSV export members.csv",
    )


def test_sign_in_sign_out_and_failed_sign_in_are_audited(client, make_user):
    make_user("Care manager", username="maria")
    login = reverse("login")

    client.post(login, {"username": "maria", "password": "wrong"}, REMOTE_ADDR="10.0.0.9")
    failed = AuditEvent.objects.get(action=Action.LOGIN_FAILED)
    assert failed.actor is None
    assert "maria" in failed.description
    assert "wrong" not in failed.description
    assert failed.ip_address == "10.0.0.9"

    response = client.post(login, {"username": "maria", "password": PASSWORD})
    assert response.status_code == 302
    assert AuditEvent.objects.get(action=Action.LOGIN).actor_username == "maria"

    client.post(reverse("logout"))
    assert AuditEvent.objects.get(action=Action.LOGOUT).actor_username == "maria"


def test_audit_log_admin_is_read_only_and_its_export_is_audited_and_neutralised(client, make_user):
    admin = make_user("Platform admin", is_staff=True)
    nurse = make_user("Care manager")
    record_event(Action.EXPORT, actor=nurse, description="=cmd|' /C calc'!A0")
    client.force_login(admin)

    changelist = reverse("admin:opsintel_auditevent_changelist")
    assert client.get(changelist).status_code == 200
    assert client.get(reverse("admin:opsintel_auditevent_add")).status_code == 403

    response = client.post(
        reverse("admin:opsintel_auditevent_export"),
        {
            "format": "0",
            "resource": "0",
            **{f"auditeventresource_{f}": "on" for f in ("id", "actor", "action", "description")},
        },
    )
    assert response.status_code == 200, response.content[:500]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    exported = [row for row in rows if row["actor"] == nurse.username]
    assert exported[0]["description"] == "'=cmd|' /C calc'!A0"
    export_event = AuditEvent.objects.filter(action=Action.EXPORT, actor=admin).get()
    assert export_event.object_type == "opsintel.auditevent"
    assert export_event.object_count == len(rows)


def test_staff_without_platform_admin_role_see_only_their_own_audit_events(client, make_user):
    staff = make_user("AR manager", is_staff=True)
    from django.contrib.auth.models import Permission

    staff.user_permissions.add(Permission.objects.get(codename="view_auditevent"))
    other = make_user("Care manager")
    mine = record_event(Action.EXPORT, actor=staff)
    record_event(Action.EXPORT, actor=other)
    # The admin is for platform admins only: staff without the role are sent to its login.
    client.force_login(staff)
    response = client.get(reverse("admin:opsintel_auditevent_changelist"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    # Anywhere else the trail is scoped to their own events (their export, and the sign-in).
    visible = set(AuditEvent.objects.visible_to(staff).values_list("actor", flat=True))
    assert visible == {staff.pk}
    assert AuditEvent.objects.visible_to(staff).filter(pk=mine.pk).exists()
