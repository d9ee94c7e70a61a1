"""Serializer fields shared by the apps' APIs."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers


def named_choice_field(choices, component_name, *, blank=False):
    """A ChoiceField whose enum is its own schema component. Apps reuse field names ("status",
    "priority", "channel") for different choice sets, and one choice set (low/medium/high) under
    different names; naming each component keeps the schema's enums distinct and stable."""
    values = [value for value, _label in choices]

    @extend_schema_field(
        {"type": "string", "enum": [*values, ""] if blank else values},
        component_name=component_name,
    )
    class Field(serializers.ChoiceField):
        def __init__(self, **kwargs):
            if blank:
                kwargs.setdefault("allow_blank", True)
            super().__init__(choices=choices, **kwargs)

    Field.__name__ = Field.__qualname__ = component_name.removesuffix("Enum") + "Field"
    return Field


class RowIdField(serializers.IntegerField):
    """A row id given by number: positive and within PostgreSQL's bigint, so an out-of-range
    guess is a field error rather than an overflow in the database driver."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", 2**63 - 1)
        super().__init__(**kwargs)
