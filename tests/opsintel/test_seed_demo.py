import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.urls import reverse

from opsintel.models import User
from opsintel.roles import ROLES

pytestmark = pytest.mark.django_db


def snapshot():
    return {
        "users": sorted(
            User.objects.values_list("username", "first_name", "password", "is_superuser")
        ),
        "memberships": sorted(
            User.groups.through.objects.values_list("user__username", "group__name")
        ),
        "groups": Group.objects.count(),
    }


def test_seed_demo_is_idempotent(capsys):
    # The platform's own part; each app's demo test checks its part (tests/<app>/test_demo.py).
    call_command("seed_demo", "--force", "--only", "users")
    first = snapshot()
    call_command("seed_demo", "--force", "--only", "users")
    assert snapshot() == first
    # One per role, plus the multi-role director; apps' generators may add logins of their own
    # (the campaigns demo adds its care coordinators).
    usernames = [username for username, *_ in first["users"]]
    assert {role.slug for role in ROLES} | {"ops-director"} <= set(usernames)


def test_every_demo_login_works_and_reaches_its_app(client, capsys):
    call_command("seed_demo", "--force", "--only", "users")
    output = capsys.readouterr().out
    assert f"password for all: {settings.OPSINTEL_DEMO_PASSWORD}" in output
    for role in ROLES:
        assert role.slug in output
        response = client.post(
            reverse("login"),
            {"username": role.slug, "password": settings.OPSINTEL_DEMO_PASSWORD},
        )
        assert response.status_code == 302, role.name
        assert response["Location"] == reverse("home")
        home = client.get(reverse("home"))
        assert home.status_code == 200
        assert home.context["user"].has_role(role.name)
        if role.app != "opsintel":
            assert client.get(reverse(f"{role.app}:index"), follow=True).status_code == 200
        client.post(reverse("logout"))


def test_seed_demo_refuses_to_run_on_a_server_with_debug_off():
    with pytest.raises(CommandError, match="DEBUG=1"):
        call_command("seed_demo")
    assert not User.objects.exists()


def test_only_names_known_demo_sets():
    with pytest.raises(CommandError, match="unknown demo data nonsense"):
        call_command("seed_demo", "--force", "--only", "nonsense")
