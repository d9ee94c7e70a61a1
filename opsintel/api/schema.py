"""The OpenAPI schema's error answers (REST_FRAMEWORK's DEFAULT_SCHEMA_CLASS).

drf-spectacular documents what an operation answers when it succeeds. This schema class adds,
from what the view itself declares, the errors DRF answers for it, so a client knows them
before meeting them:

- 400 (ValidationError) when the operation takes a body or query parameters it validates;
- 401 (ErrorDetail) when it needs a signed-in user, and on the token endpoints for a wrong
  password or a bad refresh token;
- 403 (ErrorDetail) when a permission beyond being signed in is checked, or a session-signed
  write can lack its CSRF token;
- 404 (ErrorDetail) when it addresses a row by a path id (missing, or outside the caller's
  scope) or pages a list (a page past the end);
- 429 (ErrorDetail) when a throttle applies.

A status an operation documents itself (with @extend_schema) is left as it is.
"""

from drf_spectacular import openapi
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework_simplejwt.views import TokenViewBase


class ErrorDetailSerializer(serializers.Serializer):
    """The body of every refusal that is not about the input: {"detail": "..."}."""

    detail = serializers.CharField()
    code = serializers.CharField(
        required=False, help_text="Why a bearer token was refused (e.g. token_not_valid)."
    )
    messages = serializers.ListField(
        child=serializers.DictField(),
        required=False,
        help_text="For a refused bearer token: the token checks that failed.",
    )


class ValidationErrorSerializer(serializers.Serializer):
    """Invalid input: each field's messages under its name, errors of the input as a whole
    under non_field_errors, and a body that could not be read under detail."""

    non_field_errors = serializers.ListField(child=serializers.CharField(), required=False)
    detail = serializers.CharField(required=False)


class ValidationErrorExtension(OpenApiSerializerExtension):
    """The field names are the operation's own, so any other key is a field's messages: a list
    of strings (or one string, as a view's own check may give it), a nested object's errors
    (an object), or a list's errors item by item."""

    target_class = ValidationErrorSerializer

    def map_serializer(self, auto_schema, direction):
        schema = super().map_serializer(auto_schema, direction)
        schema["additionalProperties"] = {
            "anyOf": [
                {"type": "array", "items": {"type": "string"}},
                {"type": "string"},
                {"type": "array", "items": {"type": "object", "additionalProperties": {}}},
                {"type": "object", "additionalProperties": {}},
            ]
        }
        return schema


def not_found(description):
    """A 404 for an operation that looks a row up by something other than a path id."""
    return OpenApiResponse(ErrorDetailSerializer, description=description)


# Query parameters that never answer 400: an unknown page is a 404, an unknown page size or
# ordering falls back to the default, a search matches nothing, an unknown format is a 404.
UNVALIDATED_QUERY = {"page", "page_size", "search", "ordering", "format"}
RETRY_AFTER = {
    "Retry-After": {
        "schema": {"type": "integer"},
        "description": "Seconds until the next request is accepted.",
    }
}


class AutoSchema(openapi.AutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code, (serializer, description) in self._error_answers().items():
            if str(code) not in responses:
                answer = self._get_response_for_code(
                    OpenApiResponse(serializer, description=description), str(code)
                )
                if code == 429:
                    answer["headers"] = RETRY_AFTER
                responses[str(code)] = answer
        return responses

    def _error_answers(self):
        view = self.view
        permissions = view.get_permissions()
        answers = {}
        if self._validates_input():
            answers[400] = (ValidationErrorSerializer, "Invalid input.")
        if any(not isinstance(permission, AllowAny) for permission in permissions):
            if view.get_authenticators():
                answers[401] = (
                    ErrorDetailSerializer,
                    "Not signed in: no, an expired or an invalid bearer token or session.",
                )
        elif isinstance(view, TokenViewBase):
            answers[401] = (
                ErrorDetailSerializer,
                "Wrong username or password, an inactive or locked-out account, or a bad "
                "refresh token.",
            )
        if self._checks_permission(permissions):
            answers[403] = (ErrorDetailSerializer, "Not allowed for this user.")
        if self._looks_up_rows():
            answers[404] = (ErrorDetailSerializer, "Not found, or not in your scope.")
        if view.get_throttles():
            answers[429] = (ErrorDetailSerializer, "Too many requests: try again later.")
        return answers

    def _validates_input(self):
        if self.method in ("POST", "PUT", "PATCH") and self._get_request_body():
            return True
        return any(
            parameter["in"] == "query" and parameter["name"] not in UNVALIDATED_QUERY
            for parameter in self._get_parameters()
        )

    def _checks_permission(self, permissions):
        if any(type(permission) not in (AllowAny, IsAuthenticated) for permission in permissions):
            return True
        # A session-signed write without its CSRF token is refused with a 403.
        return self.method not in ("GET", "HEAD", "OPTIONS") and any(
            isinstance(authenticator, SessionAuthentication)
            for authenticator in self.view.get_authenticators()
        )

    def _looks_up_rows(self):
        if "{" in self.path:
            return True
        return self.method == "GET" and self._is_list_view() and bool(self._get_paginator())
