"""Responses and request bodies of the advocacy API. Figures come from advocacy.selectors and
the fact table; these serializers only describe and render them. Input is checked for shape
here and for meaning by advocacy.services, whose errors name the field (opsintel.api.errors)."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from advocacy.models import (
    Advocate,
    AdvocateCaseload,
    Case,
    CaseEvent,
    CaseFact,
    CaseRisk,
    CaseType,
    Interaction,
    Level,
    Patient,
    PatientFeedback,
)
from opsintel.api.fields import named_choice_field

# Complexity has the same low/medium/high choices as campaigns' intervention priority; its own
# component keeps the priority enum's name (and API clients) as they were.
ComplexityField = named_choice_field(Level.choices, "CaseComplexityEnum")


# Cases ----------------------------------------------------------------------------------------


class PatientBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Patient
        fields = ["id", "external_id"]
        read_only_fields = fields


class AdvocateBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Advocate
        fields = ["id", "name", "team"]
        read_only_fields = fields


class CaseSerializer(serializers.ModelSerializer):
    """A case row with the flags of its fact row (null before the case has one)."""

    patient = PatientBriefSerializer(read_only=True)
    advocate = AdvocateBriefSerializer(read_only=True, allow_null=True)
    stale = serializers.BooleanField(
        source="fact.stale", read_only=True, allow_null=True, help_text="No touch in 48 hours"
    )
    sla_breached = serializers.BooleanField(
        source="fact.sla_breached", read_only=True, allow_null=True
    )
    sla_deadline = serializers.DateTimeField(
        source="fact.sla_deadline", read_only=True, allow_null=True
    )
    status = serializers.ChoiceField(choices=Case.Status.choices, read_only=True)
    complexity = ComplexityField(read_only=True)

    class Meta:
        model = Case
        fields = [
            "id",
            "external_id",
            "patient",
            "advocate",
            "case_type",
            "status",
            "urgency",
            "complexity",
            "created_at",
            "resolved_at",
            "escalated",
            "missing_docs",
            "stale",
            "sla_breached",
            "sla_deadline",
        ]
        read_only_fields = fields


class CaseFactSerializer(serializers.ModelSerializer):
    """The case's timings and flags as of the fact row's moment (advocacy.rollups)."""

    class Meta:
        model = CaseFact
        fields = [
            "as_of",
            "first_response_at",
            "hours_to_first_response",
            "days_to_resolution",
            "age_days",
            "interaction_count",
            "interaction_minutes",
            "last_touch",
            "is_active",
            "ever_resolved",
            "reopened",
            "sla_paused_hours",
            "sla_deadline",
            "sla_breached",
            "stale",
            "csat",
        ]
        read_only_fields = fields


class CaseEventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.username", read_only=True, allow_null=True)

    class Meta:
        model = CaseEvent
        fields = ["id", "type", "at", "actor", "note"]
        read_only_fields = fields


class InteractionSerializer(serializers.ModelSerializer):
    advocate = serializers.IntegerField(source="advocate_id", read_only=True, allow_null=True)
    advocate_name = serializers.CharField(source="advocate.name", read_only=True, allow_null=True)

    class Meta:
        model = Interaction
        fields = [
            "id",
            "advocate",
            "advocate_name",
            "channel",
            "direction",
            "started_at",
            "duration_minutes",
            "note",
        ]
        read_only_fields = fields


class FeedbackSerializer(serializers.ModelSerializer):
    class Meta:
        model = PatientFeedback
        fields = ["csat", "comment", "submitted_at"]
        read_only_fields = fields


class InteractionSummarySerializer(serializers.Serializer):
    count = serializers.IntegerField()
    minutes = serializers.IntegerField()
    last_at = serializers.DateTimeField(allow_null=True, help_text="The latest interaction")
    by_channel = serializers.DictField(
        child=serializers.IntegerField(), help_text="Interactions per channel"
    )


class CaseDetailSerializer(CaseSerializer):
    """A case with its metadata, fact figures, event log, interaction summary and feedback;
    the view passes `interactions` (the summary) in the context."""

    fact = CaseFactSerializer(read_only=True, allow_null=True)
    events = CaseEventSerializer(many=True, read_only=True)
    interactions = serializers.SerializerMethodField()
    feedback = FeedbackSerializer(read_only=True, allow_null=True)

    class Meta(CaseSerializer.Meta):
        fields = [
            *CaseSerializer.Meta.fields,
            "metadata",
            "intake_source",
            "barriers",
            "handoff_count",
            "submitted_documents",
            "support_flags",
            "fact",
            "events",
            "interactions",
            "feedback",
        ]
        read_only_fields = fields

    @extend_schema_field(InteractionSummarySerializer)
    def get_interactions(self, case):
        return InteractionSummarySerializer(self.context["interactions"]).data


# Case input -----------------------------------------------------------------------------------


class CaseCreateSerializer(serializers.Serializer):
    # Case type, urgency and metadata are checked by services.open_case, which names the field
    # (metadata errors as "metadata.<field>").
    patient = serializers.PrimaryKeyRelatedField(
        queryset=Patient.objects.all(), help_text="Patient id"
    )
    case_type = serializers.ChoiceField(choices=CaseType.choices)
    urgency = serializers.ChoiceField(choices=Case.Urgency.choices, default=Case.Urgency.MEDIUM)
    metadata = serializers.JSONField(
        required=False,
        help_text="intake_source, barriers, handoff_count, complexity, submitted_documents, "
        "missing_docs, support_flags",
    )


class TransitionSerializer(serializers.Serializer):
    # Any status: whether the move is allowed is the lifecycle's rule (services.TRANSITIONS).
    status = serializers.ChoiceField(choices=Case.Status.choices)
    note = serializers.CharField(required=False, allow_blank=True, max_length=255, default="")


class AssignSerializer(serializers.Serializer):
    advocate = serializers.PrimaryKeyRelatedField(
        queryset=Advocate.objects.all(), help_text="Advocate id"
    )
    reason = serializers.CharField(required=False, allow_blank=True, max_length=255, default="")


class InteractionCreateSerializer(serializers.Serializer):
    advocate = serializers.PrimaryKeyRelatedField(
        queryset=Advocate.objects.all(),
        required=False,
        help_text="Leaders only: who had the interaction (default: you)",
    )
    channel = serializers.ChoiceField(choices=Interaction.Channel.choices)
    direction = serializers.ChoiceField(
        choices=Interaction.Direction.choices, default=Interaction.Direction.OUTBOUND
    )
    started_at = serializers.DateTimeField(required=False, help_text="Default: now")
    duration_minutes = serializers.IntegerField(
        min_value=0, max_value=Interaction.MAX_DURATION_MINUTES, default=0
    )
    note = serializers.CharField(required=False, allow_blank=True, default="")


class FeedbackCreateSerializer(serializers.Serializer):
    # The 1–5 range is services.submit_feedback's rule.
    csat = serializers.IntegerField(help_text="1 (very unhappy) to 5 (very happy)")
    comment = serializers.CharField(required=False, allow_blank=True, default="")


# Figures --------------------------------------------------------------------------------------


class KpiFiguresSerializer(serializers.Serializer):
    """The KPI set (advocacy.selectors.kpis); rates are percent, null without cases."""

    total_cases = serializers.IntegerField()
    active_cases = serializers.IntegerField()
    avg_hours_to_first_response = serializers.FloatField(allow_null=True)
    avg_days_to_resolution = serializers.FloatField(allow_null=True)
    escalation_rate = serializers.FloatField(allow_null=True, help_text="% of cases")
    reopen_rate = serializers.FloatField(allow_null=True, help_text="% of cases ever resolved")
    sla_breach_rate = serializers.FloatField(allow_null=True, help_text="% of cases")
    avg_interactions_per_case = serializers.FloatField(allow_null=True)
    avg_csat = serializers.FloatField(allow_null=True)
    stale_cases = serializers.IntegerField()


class KpiGroupSerializer(KpiFiguresSerializer):
    group = serializers.CharField(help_text="The value of `by` (a case type, team or urgency)")


class KpiResultSerializer(serializers.Serializer):
    as_of = serializers.DateTimeField(allow_null=True, help_text="The latest fact refresh")
    kpis = KpiFiguresSerializer()
    by = serializers.CharField(allow_null=True)
    groups = KpiGroupSerializer(many=True, allow_null=True, help_text="With `by` only")


class SegmentSerializer(serializers.Serializer):
    segment = serializers.CharField()
    position = serializers.IntegerField()
    cases = serializers.IntegerField()
    avg_days_to_resolution = serializers.FloatField(allow_null=True)
    sla_breach_rate = serializers.FloatField(allow_null=True, help_text="% of cases")
    avg_csat = serializers.FloatField(allow_null=True)
    escalation_rate = serializers.FloatField(allow_null=True, help_text="% of cases")
    avg_hours_to_first_response = serializers.FloatField(allow_null=True)


class DimensionSerializer(serializers.Serializer):
    dimension = serializers.CharField()
    title = serializers.CharField()
    segments = SegmentSerializer(many=True, help_text="Segments without cases are left out")


class BottlenecksSerializer(serializers.Serializer):
    as_of = serializers.DateTimeField(allow_null=True, help_text="The latest fact refresh")
    dimensions = DimensionSerializer(many=True)


class CaseloadSerializer(serializers.ModelSerializer):
    advocate = serializers.IntegerField(source="advocate_id", read_only=True)
    name = serializers.CharField(source="advocate.name", read_only=True)
    overloaded = serializers.BooleanField(read_only=True, help_text="Utilization above 1")

    class Meta:
        model = AdvocateCaseload
        fields = [
            "advocate",
            "name",
            "team",
            "capacity",
            "active_cases",
            "utilization",
            "weighted_caseload",
            "weighted_utilization",
            "stale_cases",
            "breached_cases",
            "overloaded",
            "as_of",
        ]
        read_only_fields = fields


class RiskSerializer(serializers.ModelSerializer):
    case = serializers.IntegerField(source="case_id", read_only=True)
    case_type = serializers.ChoiceField(
        source="case.case_type", choices=CaseType.choices, read_only=True
    )
    status = serializers.ChoiceField(
        choices=Case.Status.choices, source="case.status", read_only=True
    )
    urgency = serializers.ChoiceField(
        source="case.urgency", choices=Case.Urgency.choices, read_only=True
    )
    advocate = serializers.IntegerField(source="case.advocate_id", read_only=True, allow_null=True)
    reasons = serializers.ListField(
        child=serializers.CharField(), read_only=True, help_text="Top reasons, strongest first"
    )
    model_auc = serializers.FloatField(
        source="model.auc", read_only=True, allow_null=True, help_text="ROC AUC on held-out cases"
    )

    class Meta:
        model = CaseRisk
        fields = [
            "case",
            "case_type",
            "status",
            "urgency",
            "advocate",
            "probability",
            "reasons",
            "scored_at",
            "model_auc",
        ]
        read_only_fields = fields
