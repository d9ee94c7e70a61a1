"""Service errors in API responses.

Services raise django.core.exceptions.ValidationError naming the fields; an API view wraps the
call in `with service_errors():` and the client gets a 400 with the same field errors.
"""

from contextlib import contextmanager

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers
from rest_framework.settings import api_settings


def drf_errors(exc):
    """A Django ValidationError from services as a DRF error body, the fields kept."""
    if hasattr(exc, "error_dict"):
        return {
            (api_settings.NON_FIELD_ERRORS_KEY if field == NON_FIELD_ERRORS else field): messages
            for field, messages in exc.message_dict.items()
        }
    return {api_settings.NON_FIELD_ERRORS_KEY: exc.messages}


@contextmanager
def service_errors():
    """Turn a service's ValidationError into a 400; DRF then rolls the request back."""
    try:
        yield
    except DjangoValidationError as exc:
        raise serializers.ValidationError(drf_errors(exc)) from exc
