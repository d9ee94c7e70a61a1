"""Security settings, asserted on real responses: headers and CSP, sign-in lockout, password
rules, session expiry, admin access, and the production defaults of the settings module."""

import json
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.conf import settings as django_settings
from django.contrib.auth.password_validation import validate_password
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.test import RequestFactory
from django.urls import reverse

from opsintel.models import AuditEvent
from opsintel.security import SESSION_STARTED_KEY, client_ip
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

BASE_DIR = Path(django_settings.BASE_DIR)
Action = AuditEvent.Action


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()  # the token endpoint is throttled per address in the cache
    yield
    cache.clear()


def csp_directives(response):
    header = response["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


# Headers ---------------------------------------------------------------------------------------


def assert_security_headers(response):
    csp = csp_directives(response)
    assert csp["script-src"] == ["'self'"], "scripts only from our own files, never inline"
    assert csp["default-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["form-action"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_a_page_sends_the_security_headers(client_for):
    response = client_for("Care manager").get(reverse("home"))
    assert response.status_code == 200
    assert_security_headers(response)


def test_the_login_page_sends_the_security_headers(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert_security_headers(response)


def test_an_api_response_sends_the_security_headers(client_for):
    response = client_for("Care manager").get(reverse("api:me"), HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert_security_headers(response)


def test_https_responses_send_hsts_in_production(client, settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = True
    response = client.get(reverse("login"), secure=True)
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"


def test_production_defaults_of_the_settings_module():
    """The settings module loaded as a server loads it (DEBUG off, only the required variables
    set): HTTPS only, HSTS, secure cookies, and no debug-only shortcuts."""
    env = {
        "PATH": "/usr/bin:/bin",
        "DEBUG": "0",
        "SECRET_KEY": "a-production-like-secret-key-" + "y" * 40,
        "ALLOWED_HOSTS": "opsintel.example.org",
    }
    names = [
        "DEBUG",
        "SECURE_SSL_REDIRECT",
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SESSION_COOKIE_HTTPONLY",
        "SESSION_EXPIRE_AT_BROWSER_CLOSE",
        "X_FRAME_OPTIONS",
        "TRUSTED_PROXY_COUNT",
    ]
    code = (
        "import json, opsintel.settings as s; "
        f"print(json.dumps({{n: getattr(s, n) for n in {names!r}}}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values["DEBUG"] is False
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SECURE_HSTS_SECONDS"] >= 31536000
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["CSRF_COOKIE_SECURE"] is True
    assert values["SESSION_COOKIE_HTTPONLY"] is True
    assert values["SESSION_EXPIRE_AT_BROWSER_CLOSE"] is True
    assert values["X_FRAME_OPTIONS"] == "DENY"
    assert values["TRUSTED_PROXY_COUNT"] == 0


# No inline script anywhere the CSP would block it ---------------------------------------------

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
EVENT_HANDLER = re.compile(r"\son[a-z]+\s*=", re.I)
# Behaviour lives in static/opsintel/js/behaviour.js (data-autosubmit, data-print).
KNOWN_INLINE_SCRIPT = set()


def project_templates():
    roots = [BASE_DIR / "templates"] + [
        BASE_DIR / app / "templates" for app in ("opsintel", *django_settings.OPSINTEL_APPS)
    ]
    for root in roots:
        yield from sorted(root.rglob("*.html")) if root.is_dir() else ()


def test_templates_have_no_inline_script_or_event_handlers():
    offenders = set()
    for path in project_templates():
        text = path.read_text(encoding="utf-8")
        if INLINE_SCRIPT.search(text) or EVENT_HANDLER.search(text):
            offenders.add(str(path.relative_to(BASE_DIR)))
    assert offenders - KNOWN_INLINE_SCRIPT == set(), "inline script is blocked by the CSP"
    assert KNOWN_INLINE_SCRIPT - offenders == set(), "fixed: remove it from KNOWN_INLINE_SCRIPT"


# Sign-in lockout -------------------------------------------------------------------------------


WRONG = "wrong-password"


def sign_in(client, username, password=WRONG, address="10.0.0.1"):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address
    )


def test_failed_sign_ins_for_one_username_lock_it_from_every_address(client, make_user, settings):
    make_user("Care manager", username="maria")
    for n in range(settings.AXES_FAILURE_LIMIT - 1):
        response = sign_in(client, "maria", address=f"10.0.0.{n + 1}")
        assert response.status_code == 200  # the form again, with its error
    locked = sign_in(client, "maria", address="10.0.0.99")
    assert locked.status_code == 429
    page = locked.content.decode()
    assert "Too many failed sign-ins" in page
    assert f"paused for {settings.AXES_COOLOFF_TIME.seconds // 60} minutes" in page

    # The right password, from a fresh address, is refused too while the lockout lasts.
    assert sign_in(client, "maria", PASSWORD, address="10.0.0.200").status_code == 429
    assert "_auth_user_id" not in client.session
    # Every failure is in the audit trail.
    assert AuditEvent.objects.filter(action=Action.LOGIN_FAILED).count() >= 5


def test_failed_sign_ins_from_one_address_lock_it_for_every_username(client, make_user, settings):
    make_user("Care manager", username="maria")
    for n in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, f"guess{n}", address="10.9.9.9")
    # maria never failed, but this address is paused.
    assert sign_in(client, "maria", PASSWORD, address="10.9.9.9").status_code == 429
    # From another address she signs in.
    assert sign_in(client, "maria", PASSWORD, address="10.1.1.1").status_code == 302


def test_the_lockout_does_not_tell_whether_the_username_exists(client, make_user, settings):
    make_user("Care manager", username="maria")
    pages = {}
    for username in ("maria", "nobody-by-this-name"):
        for n in range(settings.AXES_FAILURE_LIMIT):
            sign_in(client, username, address=f"10.2.{len(pages)}.{n}")
        locked = sign_in(client, username, address=f"10.3.{len(pages)}.1")
        assert locked.status_code == 429
        pages[username] = locked.content.decode().replace(username, "USERNAME")
    assert pages["maria"] == pages["nobody-by-this-name"]


def test_the_lockout_ends_after_the_cool_off(client, make_user, settings):
    make_user("Care manager", username="maria")
    for n in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "maria", address=f"10.0.1.{n}")
    assert sign_in(client, "maria", PASSWORD).status_code == 429
    # Move every recorded failure back past the cool-off.
    past = settings.AXES_COOLOFF_TIME + timedelta(minutes=1)
    for attempt in AccessAttempt.objects.all():
        attempt.attempt_time -= past
        attempt.save(update_fields=["attempt_time"])
    assert sign_in(client, "maria", PASSWORD).status_code == 302


def test_fewer_failures_than_the_limit_do_not_lock(client, make_user, settings):
    make_user("Care manager", username="maria")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(client, "maria")
    assert sign_in(client, "maria", PASSWORD).status_code == 302


# Real transactions: the token view's request transaction must behave as in production.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_token_endpoint_is_locked_too(client, make_user, settings):
    make_user("Care manager", username="maria")
    url = reverse("api:token_obtain")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = client.post(url, {"username": "maria", "password": "wrong-password"})
        assert response.status_code == 401
    assert AuditEvent.objects.filter(action=Action.LOGIN_FAILED).count() == 5
    refused = client.post(url, {"username": "maria", "password": PASSWORD})
    assert refused.status_code in (401, 403, 429)
    assert "access" not in refused.json()


def test_the_client_address_behind_trusted_proxies(settings):
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7"
    )
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(request) == "10.0.0.5"  # no proxy: the header is the client's word
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(request) == "203.0.113.7"  # what our proxy saw, not what was claimed
    settings.TRUSTED_PROXY_COUNT = 3
    assert client_ip(request) == "10.0.0.5"  # fewer entries than proxies: not trusted


# Passwords -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "password",
    [
        "Sh0rt-pass!",  # 11 characters
        "password1234",  # common
        "839201746352",  # only digits
        "maria.gonzalez1",  # like the username and name
    ],
)
def test_weak_passwords_are_refused(password, make_user):
    user = make_user(username="maria.gonzalez", first_name="Maria", last_name="Gonzalez")
    with pytest.raises(ValidationError):
        validate_password(password, user)


def test_a_long_unusual_password_is_accepted(make_user):
    validate_password("tidal-pumpkin-ledger-42", make_user())


def test_the_password_change_page_applies_the_rules(client_for):
    client = client_for("Care manager")
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": "Short-1!", "new_password2": "Short-1!"},
    )
    assert response.status_code == 200
    assert "at least 12 characters" in response.content.decode()


# Sessions --------------------------------------------------------------------------------------


def test_sessions_end_when_idle_and_when_the_browser_closes(client, make_user, settings):
    assert settings.SESSION_SAVE_EVERY_REQUEST is True
    make_user("Care manager", username="maria")
    response = sign_in(client, "maria", PASSWORD)
    assert response.status_code == 302
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["max-age"] == ""  # a browser-session cookie: no lifetime of its own
    assert cookie["expires"] == ""
    assert cookie["httponly"] is True
    assert client.session.get_expiry_age() == settings.SESSION_COOKIE_AGE == 30 * 60


def test_a_session_ends_at_its_absolute_lifetime_however_active(client_for, settings):
    client = client_for("Care manager")
    assert client.get(reverse("home")).status_code == 200
    session = client.session
    started = session[SESSION_STARTED_KEY]
    session[SESSION_STARTED_KEY] = started - settings.SESSION_MAX_AGE + 60
    session.save()
    assert client.get(reverse("home")).status_code == 200  # a minute left

    session = client.session
    session[SESSION_STARTED_KEY] = started - settings.SESSION_MAX_AGE - 1
    session.save()
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert "_auth_user_id" not in client.session


# Admin -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("roles", "fields", "allowed"),
    [
        (("Platform admin",), {"is_staff": True}, True),
        ((), {"is_staff": True, "is_superuser": True}, True),
        (("Care manager",), {"is_staff": True}, False),  # staff, but not a platform admin
        (("AR manager", "Pharmacy manager"), {"is_staff": True}, False),
        (("Platform admin",), {"is_staff": False}, False),  # Django's staff flag still needed
        (("Platform admin",), {"is_staff": True, "is_active": False}, False),
    ],
)
def test_only_platform_admins_reach_the_admin(client, make_user, roles, fields, allowed):
    client.force_login(make_user(*roles, **fields))
    for name in ("admin:index", "admin:opsintel_auditevent_changelist"):
        response = client.get(reverse(name))
        if allowed:
            assert response.status_code == 200, name
        else:
            assert response.status_code == 302, name
            assert response["Location"].startswith(reverse("admin:login"))


def test_anonymous_visitors_are_sent_to_the_admin_login(client):
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
