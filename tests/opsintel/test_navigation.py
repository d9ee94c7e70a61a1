import pytest
from django.urls import reverse

from opsintel.roles import APP_LABELS, PLATFORM, ROLES

pytestmark = pytest.mark.django_db

APP_ROLES = [role for role in ROLES if role.app != PLATFORM]


def index_url(app_label):
    return reverse(f"{app_label}:index")


def nav_links(response):
    return [app.label for app in response.context["nav_apps"]]


@pytest.mark.parametrize("role", APP_ROLES, ids=lambda role: role.slug)
def test_a_role_sees_and_enters_only_its_own_app(client_for, role):
    client = client_for(role.name)

    home = client.get(reverse("home"))
    assert home.status_code == 200
    assert nav_links(home) == [role.app]
    assert [card["app"].label for card in home.context["cards"]] == [role.app]
    assert index_url(role.app) in home.content.decode()

    own = client.get(index_url(role.app), follow=True)
    assert own.status_code == 200
    assert own.resolver_match.app_name == role.app

    for other in set(APP_LABELS) - {role.app}:
        response = client.get(index_url(other))
        assert response.status_code == 403, other
        assert "You do not have access" in response.content.decode()


def test_roles_in_several_apps_show_each_app(client_for):
    client = client_for("Care manager", "AR manager")
    home = client.get(reverse("home"))
    assert nav_links(home) == ["campaigns", "rcm"]
    assert client.get(index_url("campaigns"), follow=True).status_code == 200
    assert client.get(index_url("rcm"), follow=True).status_code == 200
    assert client.get(index_url("advocacy")).status_code == 403


def test_platform_admin_sees_every_app(client_for):
    client = client_for("Platform admin")
    assert nav_links(client.get(reverse("home"))) == list(APP_LABELS)
    for label in APP_LABELS:
        assert client.get(index_url(label), follow=True).status_code == 200


def test_user_without_roles_is_told_what_to_do(client_for):
    client = client_for()
    home = client.get(reverse("home"))
    assert nav_links(home) == []
    assert "You have no role in any app yet" in home.content.decode()
    assert client.get(index_url("campaigns")).status_code == 403


@pytest.mark.parametrize("url", ["/", *[f"/{p}/" for p in ("campaigns", "leader-hub", "rcm")]])
def test_anonymous_visitors_are_sent_to_sign_in(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


def test_deactivated_user_loses_access(client_for):
    client = client_for("Care manager")
    client.user.is_active = False
    client.user.save()
    # The session no longer authenticates an inactive user.
    assert client.get(index_url("campaigns")).status_code == 302


def test_unknown_page_answers_404_with_the_site_template(client_for):
    response = client_for("Care manager").get("/campaigns/no-such-page/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_pages_load_assets_only_from_our_own_static_files(client_for):
    import re

    page = client_for("Care manager").get(reverse("home")).content.decode()
    assets = re.findall(r'<(?:link|script)[^>]+(?:href|src)="([^"]+)"', page)
    assert assets
    assert all(asset.startswith("/static/") for asset in assets), assets
