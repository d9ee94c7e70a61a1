"""Query parameters of the advocacy API: parsed and validated here, so a bad one answers 400
naming it; the filtering itself is done by django-filter (case list) or advocacy.selectors."""

import django_filters
from django import forms
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from advocacy import selectors
from advocacy.models import Advocate, Case, CaseType


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(django_filters.NumberFilter):
    """An integer id (documented as one; NumberFilter alone reads as any number)."""


class TrueFalseField(forms.Field):
    """true/false (1/0); anything else is an error, where django-filter's BooleanFilter
    would silently not filter."""

    def to_python(self, value):
        if value in (None, ""):
            return None
        text = str(value).strip().lower()
        if text in ("true", "1"):
            return True
        if text in ("false", "0"):
            return False
        raise forms.ValidationError("Must be true or false.")


class TrueFalseFilter(django_filters.BooleanFilter):
    field_class = TrueFalseField


class CaseFilter(django_filters.FilterSet):
    """`?status=&case_type=&urgency=&team=&advocate=&created_after=&created_before=&active=
    &stale=&sla_breached=` of the case list. Stale and breached are the flags of the case's
    fact row (as of the latest refresh); a case without one matches neither true nor false."""

    status = django_filters.MultipleChoiceFilter(
        choices=Case.Status.choices, help_text="Status; repeat for several"
    )
    case_type = django_filters.MultipleChoiceFilter(
        choices=CaseType.choices, help_text="Case type; repeat for several"
    )
    urgency = django_filters.MultipleChoiceFilter(
        choices=Case.Urgency.choices, help_text="Urgency; repeat for several"
    )
    team = django_filters.CharFilter(field_name="advocate__team", help_text="The advocate's team")
    advocate = IdFilter(field_name="advocate_id", help_text="Advocate id")
    created_after = django_filters.DateFilter(
        field_name="created_at__date", lookup_expr="gte", help_text="Created on or after (date)"
    )
    created_before = django_filters.DateFilter(
        field_name="created_at__date", lookup_expr="lte", help_text="Created on or before (date)"
    )
    active = TrueFalseFilter(
        method="filter_active", help_text="true: open, in progress, pending, escalated, reopened"
    )
    stale = TrueFalseFilter(field_name="fact__stale", help_text="Active with no touch in 48 hours")
    sla_breached = TrueFalseFilter(
        field_name="fact__sla_breached", help_text="Past its SLA deadline"
    )

    class Meta:
        model = Case
        fields = []

    def filter_active(self, queryset, name, value):
        if value:
            return queryset.filter(status__in=Case.ACTIVE_STATUSES)
        return queryset.exclude(status__in=Case.ACTIVE_STATUSES)


class Params(serializers.Serializer):
    @classmethod
    def from_request(cls, request):
        params = cls(data=request.query_params, context={"request": request})
        params.is_valid(raise_exception=True)
        return params


class FactParams(Params):
    """`?start=&end=&case_type=&team=&advocate=`: the dashboards' filter of the fact rows."""

    start = serializers.DateField(required=False, help_text="Cases created on or after (date)")
    end = serializers.DateField(required=False, help_text="Cases created on or before (date)")
    case_type = serializers.ChoiceField(choices=CaseType.choices, required=False)
    team = serializers.CharField(required=False, max_length=100, help_text="Team name")
    advocate = serializers.PrimaryKeyRelatedField(
        queryset=Advocate.objects.none(), required=False, help_text="Advocate id"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        user = getattr(request, "user", None)
        self.fields["advocate"].queryset = Advocate.objects.visible_to(user)

    def validate_team(self, value):
        if value not in selectors.teams():
            raise serializers.ValidationError(f"Unknown team {value!r}.")
        return value

    def validate(self, data):
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            raise serializers.ValidationError({"end": "The end is before the start."})
        return data

    def facts(self, user):
        """The filtered fact rows in the user's scope (selectors.facts_for)."""
        data = self.validated_data
        return selectors.facts_for(
            user,
            start=data.get("start"),
            end=data.get("end"),
            case_type=data.get("case_type"),
            team=data.get("team"),
            advocate=data.get("advocate"),
        )


KPI_GROUPS = ("case_type", "team", "urgency")


class KpiParams(FactParams):
    by = serializers.ChoiceField(
        choices=KPI_GROUPS, required=False, help_text="Also give the figures per value of this"
    )
