from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from campaigns.models import (
    Campaign,
    CampaignAssignment,
    Coordinator,
    Intervention,
    Measure,
    Member,
)
from opsintel.api.fields import RowIdField
from opsintel.assignment import BALANCED

# Rows -----------------------------------------------------------------------------------------


class MeasureSerializer(serializers.ModelSerializer):
    class Meta:
        model = Measure
        fields = ["id", "code", "name", "revenue_per_closure", "weight", "active"]
        read_only_fields = fields


class MemberBriefSerializer(serializers.ModelSerializer):
    name = serializers.CharField(read_only=True)

    class Meta:
        model = Member
        fields = ["id", "member_id", "name", "phone", "email"]
        read_only_fields = fields


class MemberSerializer(serializers.ModelSerializer):
    name = serializers.CharField(read_only=True)

    class Meta:
        model = Member
        fields = ["id", "member_id", "name", "phone", "email", "date_of_birth", "plan"]
        read_only_fields = fields


class InterventionSerializer(serializers.ModelSerializer):
    member = MemberBriefSerializer(read_only=True)
    measure = serializers.CharField(source="measure.code", read_only=True)

    class Meta:
        model = Intervention
        fields = ["id", "member", "measure", "status", "intervention_date", "cost", "priority"]
        read_only_fields = fields


class AssignmentSerializer(serializers.ModelSerializer):
    campaign = serializers.IntegerField(source="campaign_id", read_only=True)
    intervention = serializers.IntegerField(source="intervention_id", read_only=True)
    member_id = serializers.CharField(source="intervention.member.member_id", read_only=True)
    member_name = serializers.CharField(source="intervention.member.name", read_only=True)
    phone = serializers.CharField(source="intervention.member.phone", read_only=True)
    measure = serializers.CharField(source="intervention.measure.code", read_only=True)
    intervention_date = serializers.DateField(
        source="intervention.intervention_date", read_only=True
    )
    coordinator_id = serializers.IntegerField(read_only=True)
    coordinator = serializers.CharField(read_only=True)

    class Meta:
        model = CampaignAssignment
        fields = [
            "id",
            "campaign",
            "intervention",
            "member_id",
            "member_name",
            "phone",
            "measure",
            "intervention_date",
            "coordinator_id",
            "coordinator",
            "status",
            "outcome",
            "reason",
        ]
        read_only_fields = fields


class OutcomeSerializer(serializers.Serializer):
    """PATCH of an assignment: where the intervention stands now."""

    status = serializers.ChoiceField(choices=Intervention.Status.choices, required=False)
    outcome = serializers.CharField(required=False, allow_blank=True)


class CoordinatorWorkloadSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)
    name = serializers.CharField(source="__str__", read_only=True)
    open_load = serializers.IntegerField(
        read_only=True, help_text="Unfinished assignments in live campaigns"
    )

    class Meta:
        model = Coordinator
        fields = ["id", "username", "name", "active", "monthly_capacity", "open_load"]
        read_only_fields = fields


# Metrics --------------------------------------------------------------------------------------
# The metrics snapshot is JSON with Decimals written as exact strings
# (selectors.CampaignMetrics.as_snapshot); these serializers describe it.


class MeasureRateSerializer(serializers.Serializer):
    code = serializers.CharField()
    interventions = serializers.IntegerField()
    rate = serializers.CharField(help_text="Expected closure rate, 0–1 (decimal string)")
    basis = serializers.CharField(help_text='"measure", "portfolio" or "no history"')
    finished = serializers.IntegerField(help_text="Finished interventions of this measure")
    predicted_closures = serializers.CharField()
    revenue_per_closure = serializers.CharField()
    value = serializers.CharField()
    cost = serializers.CharField()


class EngineSummarySerializer(serializers.Serializer):
    """How the assignment engine split the work."""

    max_load = serializers.IntegerField()
    min_load = serializers.IntegerField()
    spread = serializers.IntegerField()
    ideal_load = serializers.FloatField()
    assigned = serializers.IntegerField()
    unassigned = serializers.IntegerField()


class MetricsSnapshotSerializer(serializers.Serializer):
    total_members = serializers.IntegerField()
    total_interventions = serializers.IntegerField()
    predicted_success_rate = serializers.CharField()
    predicted_closures = serializers.CharField()
    total_value = serializers.CharField()
    total_cost = serializers.CharField()
    net_benefit = serializers.CharField()
    roi = serializers.CharField(
        allow_null=True, help_text="Net benefit ÷ cost, percent; null when nothing costs"
    )
    months = serializers.CharField()
    capacity_per_fte = serializers.IntegerField()
    required_fte = serializers.CharField()
    suggested_coordinators = serializers.IntegerField()
    portfolio_rate = serializers.CharField()
    by_measure = MeasureRateSerializer(many=True)
    imbalance = EngineSummarySerializer(
        required=False, help_text="Campaigns only: the split made at creation"
    )


@extend_schema_field(MetricsSnapshotSerializer)
class MetricsSnapshotField(serializers.JSONField):
    """The stored snapshot, passed through as it is (documented as MetricsSnapshot)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)


class WhatIfSerializer(serializers.Serializer):
    coordinator_count = serializers.IntegerField()
    coordinators = serializers.ListField(child=serializers.CharField())
    strategy = serializers.CharField()
    largest_load = serializers.IntegerField()
    imbalance = EngineSummarySerializer()
    months_available = serializers.DecimalField(max_digits=10, decimal_places=2)
    months_needed = serializers.DecimalField(max_digits=10, decimal_places=2)
    predicted_closures = serializers.DecimalField(max_digits=14, decimal_places=2)
    predicted_closures_by_target = serializers.DecimalField(max_digits=14, decimal_places=2)
    warnings = serializers.ListField(child=serializers.CharField())


class PreviewResultSerializer(serializers.Serializer):
    metrics = MetricsSnapshotSerializer()
    what_if = WhatIfSerializer(
        allow_null=True, help_text="With coordinator_count and target_completion_date only"
    )


# Campaigns ------------------------------------------------------------------------------------


class ProgressSerializer(serializers.Serializer):
    """Counts over the campaign's assignments in the user's scope."""

    total = serializers.IntegerField()
    finished = serializers.IntegerField(help_text="Completed, closed, failed or cancelled")
    closures = serializers.IntegerField(help_text="Gaps closed")
    members = serializers.IntegerField()


class CoordinatorBreakdownSerializer(serializers.Serializer):
    coordinator_id = serializers.IntegerField()
    name = serializers.CharField()
    assigned = serializers.IntegerField()
    members = serializers.IntegerField()
    done = serializers.IntegerField()
    closed = serializers.IntegerField()
    remaining = serializers.IntegerField()


class ImbalanceSerializer(serializers.Serializer):
    max = serializers.IntegerField()
    min = serializers.IntegerField()
    spread = serializers.IntegerField()
    ideal = serializers.DecimalField(max_digits=12, decimal_places=2)


class CampaignSerializer(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by.username", read_only=True)
    metrics = MetricsSnapshotField()
    progress = ProgressSerializer(source="*", read_only=True)

    class Meta:
        model = Campaign
        fields = [
            "id",
            "name",
            "strategy",
            "status",
            "coordinator_count",
            "target_completion_date",
            "created_by",
            "created_at",
            "completed_at",
            "metrics",
            "progress",
        ]
        read_only_fields = fields


class CampaignDetailSerializer(CampaignSerializer):
    """A campaign with its per-coordinator breakdown; the view passes `breakdown` (rows in the
    user's scope) and `imbalance` in the context."""

    coordinators = serializers.SerializerMethodField()
    imbalance = serializers.SerializerMethodField()

    class Meta(CampaignSerializer.Meta):
        fields = [*CampaignSerializer.Meta.fields, "coordinators", "imbalance"]
        read_only_fields = fields

    @extend_schema_field(CoordinatorBreakdownSerializer(many=True))
    def get_coordinators(self, campaign):
        return CoordinatorBreakdownSerializer(self.context["breakdown"], many=True).data

    @extend_schema_field(ImbalanceSerializer)
    def get_imbalance(self, campaign):
        return ImbalanceSerializer(self.context["imbalance"]).data


# Input ----------------------------------------------------------------------------------------


class SelectionFiltersSerializer(serializers.Serializer):
    """The filter of selectors.available_interventions."""

    measure_id = RowIdField(required=False, allow_null=True)
    statuses = serializers.ListField(
        child=serializers.ChoiceField(choices=Intervention.Status.choices), required=False
    )
    days_ahead = serializers.IntegerField(min_value=0, required=False, allow_null=True)
    search = serializers.CharField(required=False, allow_blank=True, max_length=100)

    def validate_measure_id(self, value):
        if value is not None and not Measure.objects.filter(pk=value).exists():
            raise serializers.ValidationError(f"Unknown measure {value}.")
        return value


class SelectionSerializer(serializers.Serializer):
    """Which interventions: exactly `intervention_ids`, or the available interventions of
    `member_ids` (external member IDs), or everything available matching `filters`."""

    intervention_ids = serializers.ListField(child=RowIdField(), required=False)
    member_ids = serializers.ListField(child=serializers.CharField(max_length=40), required=False)
    filters = SelectionFiltersSerializer(required=False)

    def validate(self, data):
        if "intervention_ids" in data and "member_ids" in data:
            raise serializers.ValidationError(
                {"member_ids": "Give intervention_ids or member_ids, not both."}
            )
        if not {"intervention_ids", "member_ids", "filters"} & data.keys():
            raise serializers.ValidationError(
                {"intervention_ids": "Give intervention_ids, member_ids or filters."}
            )
        return data

    @property
    def selection(self):
        """Keyword arguments of services.resolve_selection."""
        data = self.validated_data
        return {
            "intervention_ids": data.get("intervention_ids"),
            "member_ids": data.get("member_ids"),
            "filters": data.get("filters"),
        }

    @property
    def selection_field(self):
        """The input field that chose the work, for naming it in an error."""
        for name in ("intervention_ids", "member_ids"):
            if name in self.validated_data:
                return name
        return "filters"


class CampaignCreateSerializer(SelectionSerializer):
    # Ranges and dates are checked by services.create_campaign, which names the field.
    name = serializers.CharField(allow_blank=True)
    coordinator_count = serializers.IntegerField()
    strategy = serializers.ChoiceField(choices=Campaign.Strategy.choices, default=BALANCED)
    target_completion_date = serializers.DateField()


class CampaignPreviewSerializer(SelectionSerializer):
    coordinator_count = serializers.IntegerField(
        min_value=1, max_value=Campaign.MAX_COORDINATORS, required=False, allow_null=True
    )
    strategy = serializers.ChoiceField(choices=Campaign.Strategy.choices, default=BALANCED)
    target_completion_date = serializers.DateField(required=False, allow_null=True)


class RebalanceSerializer(serializers.Serializer):
    coordinator_ids = serializers.ListField(
        child=RowIdField(),
        required=False,
        allow_empty=False,
        help_text="Coordinators to spread the unfinished work over; default the campaign's own",
    )


class MovedSerializer(serializers.Serializer):
    moved = serializers.IntegerField()
