"""Responses and request bodies of the rcm API. Input is checked for shape here (each error
names its field); the engine and the documents check meaning, and their errors name the field
too (opsintel.api.errors)."""

from decimal import Decimal

from django.db import transaction
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.validators import UniqueValidator

from opsintel.api.fields import named_choice_field
from opsintel.audit import Action, record_event
from rcm import rules, services
from rcm.models import (
    Agent,
    Assignment,
    Claim,
    ClaimStatus,
    DenialReason,
    DocumentType,
    FollowUp,
    GeneratedDocument,
    Patient,
    Payer,
    PayerType,
    Priority,
    QueueKind,
    WorkQueue,
)
from rcm.selectors import AGING_BUCKET_LABELS

ClaimStatusField = named_choice_field(ClaimStatus.choices, "ClaimStatusEnum")
DenialReasonField = named_choice_field(DenialReason.choices, "DenialReasonEnum", blank=True)
ClaimPriorityField = named_choice_field(Priority.choices, "ClaimPriorityEnum", blank=True)
ClaimFollowUpPriorityField = named_choice_field(Priority.choices, "ClaimFollowUpPriorityEnum")
ClaimFollowUpStatusField = named_choice_field(FollowUp.Status.choices, "ClaimFollowUpStatusEnum")
DocumentTypeField = named_choice_field(DocumentType.choices, "DocumentTypeEnum")
QueueKindField = named_choice_field(QueueKind.choices, "QueueKindEnum")
PayerTypeField = named_choice_field(PayerType.choices, "PayerTypeEnum")
AgingBucketField = named_choice_field(
    [(label, label) for label in AGING_BUCKET_LABELS], "AgingBucketEnum"
)


# Claims ---------------------------------------------------------------------------------------


class PayerBriefSerializer(serializers.ModelSerializer):
    payer_type = PayerTypeField(read_only=True)

    class Meta:
        model = Payer
        fields = ["id", "name", "payer_type"]
        read_only_fields = fields


class QueueBriefSerializer(serializers.ModelSerializer):
    kind = QueueKindField(read_only=True)

    class Meta:
        model = WorkQueue
        fields = ["id", "name", "kind"]
        read_only_fields = fields


class AgentBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Agent
        fields = ["id", "name"]
        read_only_fields = fields


class ClaimPatientBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Patient
        fields = ["id", "member_id"]
        read_only_fields = fields


class ClaimPatientSerializer(serializers.ModelSerializer):
    class Meta:
        model = Patient
        fields = ["id", "member_id", "name", "date_of_birth"]
        read_only_fields = fields


class ClaimSerializer(serializers.ModelSerializer):
    """A claim row with its aging as of today (selectors.claims_for annotates `aging_days`)."""

    patient = ClaimPatientBriefSerializer(read_only=True)
    payer = PayerBriefSerializer(read_only=True)
    queue = QueueBriefSerializer(read_only=True, allow_null=True)
    agent = AgentBriefSerializer(read_only=True, allow_null=True)
    status = ClaimStatusField(read_only=True)
    denial_reason = DenialReasonField(read_only=True)
    priority = ClaimPriorityField(read_only=True, help_text="Empty until follow-ups are scheduled")
    aging_days = serializers.IntegerField(read_only=True, help_text="Days since submission")
    aging_bucket = serializers.SerializerMethodField()
    timely_filing_risk = serializers.SerializerMethodField()

    class Meta:
        model = Claim
        fields = [
            "id",
            "claim_number",
            "patient",
            "provider",
            "payer",
            "amount",
            "balance",
            "service_date",
            "submission_date",
            "procedure_code",
            "diagnosis_code",
            "status",
            "denial_reason",
            "queue",
            "agent",
            "priority",
            "aging_days",
            "aging_bucket",
            "timely_filing_risk",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(AgingBucketField(read_only=True))
    def get_aging_bucket(self, claim):
        return rules.aging_bucket(claim.aging_days)

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_timely_filing_risk(self, claim):
        """Past the share of the payer's filing window that puts the claim at risk."""
        return claim.aging_days > services.timely_filing_limit(claim.payer.filing_window)


class ClaimDetailSerializer(ClaimSerializer):
    patient = ClaimPatientSerializer(read_only=True)

    class Meta(ClaimSerializer.Meta):
        fields = [*ClaimSerializer.Meta.fields, "notes", "created_at"]
        read_only_fields = fields


@extend_schema_field(
    {"oneOf": [{"type": "integer"}, {"type": "string"}], "description": "Payer id or name"}
)
class PayerField(serializers.RelatedField):
    default_error_messages = {"unknown": "Unknown payer {value!r}."}

    def __init__(self, **kwargs):
        super().__init__(queryset=Payer.objects.all(), **kwargs)

    def to_internal_value(self, data):
        value = str(data).strip()
        queryset = self.get_queryset()
        found = (
            queryset.filter(pk=int(value)) if value.isdigit() else queryset.filter(name=value)
        ).first()
        if found is None:
            self.fail("unknown", value=value)
        return found

    def to_representation(self, value):
        return value.pk


class ClaimWriteSerializer(serializers.ModelSerializer):
    """A new claim, or changes to one (AR managers). The queue, agent and priority are the
    engine's: assign-claims and schedule-followups set them."""

    claim_number = serializers.CharField(
        max_length=40,
        validators=[
            UniqueValidator(
                queryset=Claim.objects.all(), message="A claim with this number already exists."
            )
        ],
    )
    patient = serializers.PrimaryKeyRelatedField(
        queryset=Patient.objects.all(), help_text="Patient id"
    )
    payer = PayerField()
    amount = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0.01"),
        error_messages={"min_value": "The amount must be more than 0."},
    )
    balance = serializers.DecimalField(
        max_digits=12, decimal_places=2, required=False, help_text="Default: the amount"
    )
    status = ClaimStatusField(required=False)
    denial_reason = DenialReasonField(required=False)

    class Meta:
        model = Claim
        fields = [
            "claim_number",
            "patient",
            "provider",
            "payer",
            "amount",
            "balance",
            "service_date",
            "submission_date",
            "procedure_code",
            "diagnosis_code",
            "status",
            "denial_reason",
            "notes",
        ]

    def validate(self, data):
        def value(name):
            if name in data:
                return data[name]
            return getattr(self.instance, name, None)

        service, submitted = value("service_date"), value("submission_date")
        if service and submitted and service > submitted:
            raise serializers.ValidationError(
                {"service_date": "The service date is after the submission date."}
            )
        if self.instance is None and "balance" not in data:
            data["balance"] = data["amount"]
        return data

    def create(self, validated_data):
        request = self.context["request"]
        with transaction.atomic():
            claim = Claim.objects.create(**validated_data)
            record_event(
                Action.CREATE, request=request, objects=claim, description="Claim created (API)"
            )
        return claim

    def update(self, claim, validated_data):
        request = self.context["request"]
        with transaction.atomic():
            for name, value in validated_data.items():
                setattr(claim, name, value)
            claim.save(update_fields=[*validated_data, "updated_at"])
            changed = ", ".join(sorted(validated_data)) or "nothing"
            record_event(
                Action.UPDATE,
                request=request,
                objects=claim,
                description=f"Claim changed (API): {changed}",
            )
        return claim


class ClaimNotesSerializer(serializers.Serializer):
    """What an agent may change on their own claim."""

    notes = serializers.CharField(allow_blank=True)


class ClaimAssignmentSerializer(serializers.ModelSerializer):
    queue = QueueBriefSerializer(read_only=True)
    agent = AgentBriefSerializer(read_only=True, allow_null=True)
    rule = serializers.CharField(source="rule.name", read_only=True, allow_null=True)

    class Meta:
        model = Assignment
        fields = ["id", "queue", "agent", "rule", "reason", "at"]
        read_only_fields = fields


# Follow-ups -----------------------------------------------------------------------------------


class ClaimFollowUpSerializer(serializers.ModelSerializer):
    claim_number = serializers.CharField(source="claim.claim_number", read_only=True)
    agent = AgentBriefSerializer(read_only=True)
    status = ClaimFollowUpStatusField(read_only=True)
    priority = ClaimFollowUpPriorityField(read_only=True)

    class Meta:
        model = FollowUp
        fields = [
            "id",
            "claim",
            "claim_number",
            "agent",
            "scheduled_at",
            "priority",
            "status",
            "outcome",
            "next_follow_up",
            "created_at",
        ]
        read_only_fields = fields


class ClaimFollowUpCompleteSerializer(serializers.Serializer):
    outcome = serializers.CharField(help_text="What came of the call")
    claim_status = ClaimStatusField(required=False, help_text="The claim's status after the call")


# Documents ------------------------------------------------------------------------------------


class DocumentDownloadsSerializer(serializers.Serializer):
    txt = serializers.CharField()
    pdf = serializers.CharField()


def downloads(document):
    return {
        fmt: reverse("rcm:document_download", args=[document.pk, fmt]) for fmt in ("txt", "pdf")
    }


class ClaimDocumentSerializer(serializers.ModelSerializer):
    claim_number = serializers.CharField(
        source="claim.claim_number", read_only=True, allow_null=True
    )
    template_type = DocumentTypeField(source="template.doc_type", read_only=True)
    template = serializers.CharField(source="template.name", read_only=True)
    created_by = serializers.CharField(
        source="created_by.username", read_only=True, allow_null=True
    )
    downloads = serializers.SerializerMethodField()

    class Meta:
        model = GeneratedDocument
        fields = [
            "id",
            "claim",
            "claim_number",
            "title",
            "template_type",
            "template",
            "needs_review",
            "created_by",
            "created_at",
            "downloads",
        ]
        read_only_fields = fields

    @extend_schema_field(DocumentDownloadsSerializer)
    def get_downloads(self, document):
        return downloads(document)


class ClaimDocumentDetailSerializer(ClaimDocumentSerializer):
    class Meta(ClaimDocumentSerializer.Meta):
        fields = [*ClaimDocumentSerializer.Meta.fields, "text"]
        read_only_fields = fields


# Automation -----------------------------------------------------------------------------------


class AssignClaimsRequestSerializer(serializers.Serializer):
    reassign = serializers.BooleanField(
        default=False, help_text="Also move open claims that already have an agent"
    )


class AutomationProblemSerializer(serializers.Serializer):
    claim_number = serializers.CharField()
    reason = serializers.CharField()


class AutomationRunResultSerializer(serializers.Serializer):
    success = serializers.BooleanField(help_text="Every claim was handled")
    message = serializers.CharField()
    items = serializers.IntegerField()
    succeeded = serializers.IntegerField()
    failed = serializers.IntegerField()
    success_rate = serializers.FloatField(allow_null=True, help_text="%; null without claims")
    problems = AutomationProblemSerializer(
        many=True, help_text="The first 100 claims not handled, and why"
    )


class AssignClaimsResultSerializer(AutomationRunResultSerializer):
    assignments = serializers.DictField(
        child=serializers.IntegerField(), help_text="Claims assigned per work queue"
    )


class ScheduleFollowUpsResultSerializer(AutomationRunResultSerializer):
    follow_ups = serializers.DictField(
        child=serializers.IntegerField(), help_text="Follow-ups booked per priority"
    )


def run_result(report, message, counts_key):
    return {
        "success": report.failed == 0,
        "message": message,
        "items": report.items,
        "succeeded": report.succeeded,
        "failed": report.failed,
        "success_rate": report.success_rate,
        "problems": [
            {"claim_number": number, "reason": reason} for number, reason in report.problems[:100]
        ],
        counts_key: dict(report.counts),
    }


class GenerateAppealRequestSerializer(serializers.Serializer):
    claim_number = serializers.CharField(max_length=40)
    denial_reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=100,
        help_text="Default: the claim's; an unknown reason gives a generic appeal to review",
    )
    service_date = serializers.DateField(help_text="Must be the claim's (a guard)")
    amount = serializers.DecimalField(
        max_digits=12, decimal_places=2, help_text="Must be the claim's (a guard)"
    )
    notes = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Clinical justification"
    )

    def check_claim(self, claim):
        """The service date and amount guard against appealing the wrong claim."""
        data = self.validated_data
        errors = {}
        if data["service_date"] != claim.service_date:
            errors["service_date"] = [
                f"Claim {claim.claim_number} was for service on {claim.service_date}, "
                f"not {data['service_date']}."
            ]
        if data["amount"] != claim.amount:
            errors["amount"] = [
                f"Claim {claim.claim_number} is for {rules.money(claim.amount)}, "
                f"not {rules.money(data['amount'])}."
            ]
        if errors:
            raise serializers.ValidationError(errors)


class GenerateDocumentRequestSerializer(serializers.Serializer):
    template_type = DocumentTypeField()
    data = serializers.DictField(help_text="The template's variables by name")
    claim_number = serializers.CharField(
        required=False, max_length=40, help_text="File the document with this claim"
    )
