"""Query parameters of the campaigns API: parsed and validated here, so a bad one answers 400
naming it; the filtering itself is done by the selectors."""

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from campaigns.models import Campaign, CampaignAssignment, Coordinator, Intervention, Measure


class StatusListField(serializers.ListField):
    """Intervention statuses, given as a repeated parameter, a comma list or both."""

    child = serializers.ChoiceField(choices=Intervention.Status.choices)

    def to_internal_value(self, data):
        if isinstance(data, str):
            data = [data]
        if isinstance(data, list | tuple):
            data = [part.strip() for value in data for part in str(value).split(",")]
            data = [part for part in data if part]
        return super().to_internal_value(data)


class SelectionParams(serializers.Serializer):
    """`?measure=&status=&days_ahead=&search=` of the available-work lists."""

    measure = serializers.PrimaryKeyRelatedField(
        queryset=Measure.objects.all(), required=False, help_text="Measure id"
    )
    status = StatusListField(
        required=False,
        help_text="Intervention statuses, repeated or comma-separated; "
        "default pending, scheduled, in_progress",
    )
    days_ahead = serializers.IntegerField(
        min_value=0,
        required=False,
        help_text="Only interventions dated up to this many days from today (overdue included)",
    )
    search = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=100,
        help_text="Member ID, name, phone or e-mail (contains), or a measure code (exact)",
    )

    @classmethod
    def from_request(cls, request):
        params = cls(data=request.query_params)
        params.is_valid(raise_exception=True)
        return params

    def selector_kwargs(self):
        """Keyword arguments of selectors.available_interventions."""
        data = self.validated_data
        measure = data.get("measure")
        return {
            "measure_id": measure.pk if measure else None,
            "statuses": data.get("status") or None,
            "days_ahead": data.get("days_ahead"),
            "search": data.get("search", ""),
        }


class CallListParams(serializers.Serializer):
    """`?coordinator=` of the call-list export: one coordinator in the user's scope."""

    coordinator = serializers.PrimaryKeyRelatedField(
        queryset=Coordinator.objects.none(),
        required=False,
        help_text="Coordinator id: only their rows",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        user = getattr(request, "user", None)
        self.fields["coordinator"].queryset = Coordinator.objects.visible_to(user)


class CampaignFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=Campaign.Status.choices)

    class Meta:
        model = Campaign
        fields = ["status", "strategy"]


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(django_filters.NumberFilter):
    """An integer id (documented as one; NumberFilter alone reads as any number)."""


class CampaignAssignmentFilter(django_filters.FilterSet):
    """`?coordinator=&status=` of one campaign's assignments."""

    status = django_filters.MultipleChoiceFilter(choices=Intervention.Status.choices)
    coordinator = IdFilter(field_name="coordinator_id", help_text="Coordinator id")

    class Meta:
        model = CampaignAssignment
        fields = ["coordinator", "status"]


class AssignmentFilter(CampaignAssignmentFilter):
    """`?campaign=&coordinator=&status=` of the assignments in scope."""

    campaign = IdFilter(field_name="campaign_id", help_text="Campaign id")

    class Meta(CampaignAssignmentFilter.Meta):
        fields = ["campaign", "coordinator", "status"]
