import re

import pytest
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

from opsintel.models import AuditEvent
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    return APIClient()


def obtain_tokens(api, username, password=PASSWORD):
    return api.post(reverse("api:token_obtain"), {"username": username, "password": password})


def test_schema_generates_without_warnings(tmp_path):
    # --fail-on-warn turns every drf-spectacular warning (an untyped field, say) into an error.
    out = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    assert "/api/me/" in out.read_text()


def test_api_requires_authentication(api):
    for name in ("api:root", "api:me", "api:schema"):
        assert api.get(reverse(name)).status_code == 401, name


def test_bearer_token_flow(api, make_user):
    make_user("Care manager", "AR manager", username="maria")
    response = obtain_tokens(api, "maria")
    assert response.status_code == 200
    tokens = response.json()
    assert AuditEvent.objects.get(action="login").description == "API token issued"

    api.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    me = api.get(reverse("api:me")).json()
    assert me["username"] == "maria"
    assert me["roles"] == ["AR manager", "Care manager"]
    assert me["apps"] == ["campaigns", "rcm"]

    refreshed = api.post(reverse("api:token_refresh"), {"refresh": tokens["refresh"]})
    assert refreshed.status_code == 200
    assert "access" in refreshed.json()


def test_wrong_password_tampered_token_and_deactivated_user_are_refused(api, make_user):
    user = make_user("Care manager", username="maria")
    assert obtain_tokens(api, "maria", "nope").status_code == 401

    access = obtain_tokens(api, "maria").json()["access"]
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {access[:-2]}xx")
    assert api.get(reverse("api:me")).status_code == 401

    api.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    assert api.get(reverse("api:me")).status_code == 200
    user.is_active = False
    user.save()
    assert api.get(reverse("api:me")).status_code == 401


def test_api_root_lists_the_platform_endpoints(api, make_user):
    api.force_authenticate(make_user())
    endpoints = api.get(reverse("api:root")).json()["endpoints"]
    assert set(endpoints) == {"me", "token_obtain", "token_refresh", "schema", "docs"}
    assert endpoints["me"].endswith("/api/me/")


def test_docs_page_renders_from_our_own_static_files(client, make_user):
    client.force_login(make_user())
    page = client.get(reverse("api:docs")).content.decode()
    assert "swagger-ui" in page
    external = re.findall(r'(?:src|href)="(https?://[^"]+)"', page)
    assert external == []
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page


def test_api_pagination_caps_page_size(settings):
    from opsintel.api.pagination import StandardPagination

    assert settings.REST_FRAMEWORK["PAGE_SIZE"] == 50
    assert StandardPagination.max_page_size == 500


# The schema's error answers -------------------------------------------------------------------

ERROR_DETAIL = "#/components/schemas/ErrorDetail"
VALIDATION_ERROR = "#/components/schemas/ValidationError"


def documented_errors(schema, path, method):
    """{status: the body's $ref} of the operation's error answers."""
    responses = schema["paths"][path][method]["responses"]
    return {
        int(code): answer["content"]["application/json"]["schema"]["$ref"]
        for code, answer in responses.items()
        if code >= "400"
    }


@pytest.fixture
def schema(api, make_user):
    api.force_authenticate(make_user())
    return api.get(reverse("api:schema"), {"format": "json"}).json()


def test_schema_documents_the_errors_each_operation_answers(schema):
    # A row by id: not signed in, no rcm role, or not in scope; nothing to validate.
    assert documented_errors(schema, "/api/rcm/claims/{id}/", "get") == {
        401: ERROR_DETAIL,
        403: ERROR_DETAIL,
        404: ERROR_DETAIL,
    }
    # A write validates its body; a create looks no row up.
    assert documented_errors(schema, "/api/rcm/claims/", "post") == {
        400: VALIDATION_ERROR,
        401: ERROR_DETAIL,
        403: ERROR_DETAIL,
    }
    # Signed in is the only check.
    assert documented_errors(schema, "/api/me/", "get") == {401: ERROR_DETAIL}
    # The token endpoints: a wrong password or refresh token, and the throttle.
    for path in ("/api/token/", "/api/token/refresh/"):
        assert documented_errors(schema, path, "post") == {
            400: VALIDATION_ERROR,
            401: ERROR_DETAIL,
            429: ERROR_DETAIL,
        }
    assert "Retry-After" in schema["paths"]["/api/token/"]["post"]["responses"]["429"]["headers"]


def test_an_error_the_view_documents_itself_is_kept(schema):
    not_found = schema["paths"]["/api/automation/generate-appeal"]["post"]["responses"]["404"]
    assert not_found["description"] == "No claim with this number in your scope."
    assert not_found["content"]["application/json"]["schema"]["$ref"] == ERROR_DETAIL


def test_the_error_bodies_are_shared_components(schema):
    components = schema["components"]["schemas"]
    assert components["ErrorDetail"]["required"] == ["detail"]
    validation = components["ValidationError"]
    assert set(validation["properties"]) == {"non_field_errors", "detail"}
    assert {"type": "array", "items": {"type": "string"}} in validation["additionalProperties"][
        "anyOf"
    ]


def test_the_token_throttle_answers_what_the_schema_documents(api, make_user, monkeypatch):
    from django.core.cache import cache
    from rest_framework.throttling import ScopedRateThrottle

    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"token": "1/min"})
    cache.clear()  # the token endpoints are throttled per address
    make_user(username="maria")
    assert obtain_tokens(api, "maria").status_code == 200
    throttled = obtain_tokens(api, "maria")
    cache.clear()
    assert throttled.status_code == 429
    assert set(throttled.json()) == {"detail"}
    assert int(throttled["Retry-After"]) > 0
