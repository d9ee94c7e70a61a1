import pytest

from opsintel.celery import app as celery_app
from tests.factories import UserFactory


@pytest.fixture
def make_user(db):
    """make_user("Care manager", "AR manager") → a saved user holding those roles."""

    def make(*roles, **fields):
        return UserFactory(roles=list(roles), **fields)

    return make


@pytest.fixture
def client_for(client, make_user):
    """client_for("Care manager") → a test client signed in as a user with those roles."""

    def make(*roles, **fields):
        user = make_user(*roles, **fields)
        client.force_login(user)
        client.user = user
        return client

    return make


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # PBKDF2's deliberate slowness only slows the suite; hashing itself is Django's, not ours.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def celery_conf():
    """Celery's configuration, put back as it was after the test."""
    keys = ("task_always_eager", "broker_url", "result_backend")
    saved = {key: celery_app.conf[key] for key in keys}
    yield celery_app.conf
    celery_app.conf.update(saved)


@pytest.fixture
def admin_open_to_staff(monkeypatch):
    """Let staff without the platform-admin role into the admin, for tests of the model
    permissions the admin checks inside (the site itself admits platform admins only)."""
    from django.contrib.admin import AdminSite

    from opsintel.security import OpsIntelAdminSite

    monkeypatch.setattr(OpsIntelAdminSite, "has_permission", AdminSite.has_permission)
