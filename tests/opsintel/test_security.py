import pytest
from django.urls import reverse

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_repeated_failed_sign_ins_lock_the_account(client, make_user, settings):
    make_user("Care manager", username="maria")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = client.post(reverse("login"), {"username": "maria", "password": "guess"})
        assert response.status_code == 200  # the form again, with an error
    locked = client.post(reverse("login"), {"username": "maria", "password": "guess"})
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.content.decode()

    # Even the right password is refused while the lockout lasts.
    again = client.post(reverse("login"), {"username": "maria", "password": PASSWORD})
    assert again.status_code == 429


def test_sessions_expire_after_the_idle_timeout(settings):
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST is True


def test_pages_send_the_security_headers(client, make_user):
    client.force_login(make_user())
    response = client.get(reverse("home"))
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
