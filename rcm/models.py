"""AR follow-up: payers and their follow-up rules, claims, work queues and agents, the rules
that route claims, assignments, follow-ups, document templates and what the automation did.

Scope: an AR manager (or platform admin) sees every claim; an agent sees the claims assigned to
them (`Claim.agent`), and what hangs off those claims.
"""

from datetime import time
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from opsintel.scoping import ScopedQuerySet

MANAGER_ROLE = "AR manager"


def manages_ar(user):
    return user.is_authenticated and (user.is_platform_admin or user.has_role(MANAGER_ROLE))


class PayerType(models.TextChoices):
    COMMERCIAL = "commercial", "Commercial"
    MEDICARE = "medicare", "Medicare"
    MEDICAID = "medicaid", "Medicaid"
    OTHER_GOVERNMENT = "other_government", "Other government"


class Payer(models.Model):
    name = models.CharField(max_length=100, unique=True)
    payer_type = models.CharField(max_length=20, choices=PayerType.choices)
    filing_window_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="Days from submission to file or appeal; empty: settings.RCM_FILING_WINDOW_DAYS",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def filing_window(self):
        return self.filing_window_days or settings.RCM_FILING_WINDOW_DAYS


def _check_times(value):
    if not isinstance(value, list) or not value:
        raise ValidationError('Give at least one call time, as a list like ["09:00", "14:00"].')
    for item in value:
        try:
            time.fromisoformat(item)
        except (TypeError, ValueError):
            raise ValidationError(f"{item!r} is not a time like 09:00.") from None


def _check_weekdays(value):
    if not isinstance(value, list) or not value:
        raise ValidationError("Give at least one weekday (0 = Monday … 4 = Friday).")
    for item in value:
        if not isinstance(item, int) or isinstance(item, bool) or not 0 <= item <= 4:
            raise ValidationError(f"{item!r} is not a working weekday (0 = Monday … 4 = Friday).")


class FollowUpRule(models.Model):
    """When to call a payer about a claim. The rule without a payer is the default, used for
    payers without their own."""

    payer = models.OneToOneField(
        Payer, null=True, blank=True, on_delete=models.CASCADE, related_name="follow_up_rule"
    )
    initial_days = models.PositiveIntegerField(help_text="Days after submission to first call")
    subsequent_days = models.PositiveIntegerField(
        validators=[MinValueValidator(1)], help_text="Days between later calls"
    )
    best_call_times = models.JSONField(
        validators=[_check_times], help_text='Local times the payer answers best, e.g. ["09:00"]'
    )
    preferred_weekdays = models.JSONField(
        validators=[_check_weekdays], help_text="0 = Monday … 4 = Friday, e.g. [1, 2, 3]"
    )

    class Meta:
        ordering = ["payer__name"]
        constraints = [
            # One rule per payer, and one default (payer empty): NULLs never clash in a plain
            # unique index, so the index is on COALESCE(payer, 0).
            models.UniqueConstraint(Coalesce("payer", Value(0)), name="one_rule_per_payer")
        ]

    def __str__(self):
        return f"Follow-up rule for {self.payer or 'payers without their own'}"

    @property
    def call_times(self):
        return sorted(time.fromisoformat(value) for value in self.best_call_times)


class PatientQuerySet(ScopedQuerySet):
    def scope_for(self, user):
        if manages_ar(user):
            return self.all()
        return self.filter(claims__agent__user=user).distinct()


class Patient(models.Model):
    """The patient a claim is for (PHI)."""

    member_id = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    date_of_birth = models.DateField(null=True, blank=True)

    objects = PatientQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} ({self.member_id})"


class QueueKind(models.TextChoices):
    SENIOR_AGENT = "senior_agent", "Senior agent"
    GOVERNMENT_SPECIALIST = "government_specialist", "Government specialist"
    ESCALATION_TEAM = "escalation_team", "Escalation team"
    SPECIALIST = "specialist", "Specialist"
    GENERAL_AGENT = "general_agent", "General agent"


class WorkQueue(models.Model):
    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=30, choices=QueueKind.choices, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class AgentQuerySet(ScopedQuerySet):
    def scope_for(self, user):
        if manages_ar(user):
            return self.all()
        return self.filter(user=user)


class Agent(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="ar_agent",
    )
    name = models.CharField(max_length=200)
    queue = models.ForeignKey(WorkQueue, on_delete=models.PROTECT, related_name="agents")
    daily_capacity = models.PositiveIntegerField(
        default=40, validators=[MinValueValidator(1)], help_text="Follow-ups a day"
    )
    active = models.BooleanField(default=True)

    objects = AgentQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class ClaimStatus(models.TextChoices):
    SUBMITTED = "submitted", "Submitted"
    PENDING = "pending", "Pending"
    DENIED = "denied", "Denied"
    APPEALED = "appealed", "Appealed"
    PAID = "paid", "Paid"
    PARTIALLY_PAID = "partially_paid", "Partially paid"
    WRITTEN_OFF = "written_off", "Written off"
    CLOSED = "closed", "Closed"


# Claims someone still works on (the rest are settled).
OPEN_STATUSES = (
    ClaimStatus.SUBMITTED,
    ClaimStatus.PENDING,
    ClaimStatus.DENIED,
    ClaimStatus.APPEALED,
)
SETTLED_STATUSES = (
    ClaimStatus.PAID,
    ClaimStatus.PARTIALLY_PAID,
    ClaimStatus.WRITTEN_OFF,
    ClaimStatus.CLOSED,
)
PAID_STATUSES = (ClaimStatus.PAID, ClaimStatus.PARTIALLY_PAID)


class DenialReason(models.TextChoices):
    AUTHORIZATION_REQUIRED = "authorization_required", "Authorization required"
    MEDICAL_NECESSITY = "medical_necessity", "Medical necessity"
    NOT_COVERED = "not_covered", "Not covered"
    INCORRECT_CODING = "incorrect_coding", "Incorrect coding"
    TIMELY_FILING = "timely_filing", "Timely filing"
    DUPLICATE = "duplicate", "Duplicate"
    OTHER = "other", "Other"


class Priority(models.TextChoices):
    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"
    LOW = "low", "Low"


class ClaimQuerySet(ScopedQuerySet):
    def scope_for(self, user):
        if manages_ar(user):
            return self.all()
        return self.filter(agent__user=user)

    def open(self):
        return self.filter(status__in=OPEN_STATUSES)


class Claim(models.Model):
    claim_number = models.CharField(max_length=40, unique=True)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="claims")
    provider = models.CharField(max_length=200, help_text="Billing provider")
    payer = models.ForeignKey(Payer, on_delete=models.PROTECT, related_name="claims")
    amount = models.DecimalField(
        max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    balance = models.DecimalField(max_digits=12, decimal_places=2)
    service_date = models.DateField()
    submission_date = models.DateField(db_index=True)
    procedure_code = models.CharField(max_length=10, help_text="CPT code")
    diagnosis_code = models.CharField(max_length=10, help_text="ICD-10 code")
    status = models.CharField(
        max_length=20, choices=ClaimStatus.choices, default=ClaimStatus.SUBMITTED, db_index=True
    )
    denial_reason = models.CharField(max_length=30, choices=DenialReason.choices, blank=True)
    notes = models.TextField(blank=True)
    # The current assignment (the history is in Assignment).
    queue = models.ForeignKey(
        WorkQueue, null=True, blank=True, on_delete=models.SET_NULL, related_name="claims"
    )
    agent = models.ForeignKey(
        Agent, null=True, blank=True, on_delete=models.SET_NULL, related_name="claims"
    )
    priority = models.CharField(max_length=10, choices=Priority.choices, blank=True)
    # Outcomes, for appeal success and turnaround (rcm.metrics).
    appealed_on = models.DateField(null=True, blank=True, help_text="Day the appeal went out")
    settled_on = models.DateField(
        null=True, blank=True, help_text="Day it was paid, written off or closed"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ClaimQuerySet.as_manager()

    class Meta:
        ordering = ["submission_date", "claim_number"]
        indexes = [
            models.Index(fields=["agent", "status"], name="claim_agent_status"),
            models.Index(fields=["queue", "status"], name="claim_queue_status"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="claim_amount_positive"),
            models.CheckConstraint(
                condition=Q(submission_date__gte=models.F("service_date")),
                name="claim_submitted_after_service",
            ),
        ]

    def __str__(self):
        return self.claim_number

    def save(self, *args, **kwargs):
        # The outcome dates follow the status, whichever page, API call or job changed it.
        today = timezone.localdate()
        if self.status == ClaimStatus.APPEALED and self.appealed_on is None:
            self.appealed_on = today
        if self.status in SETTLED_STATUSES:
            self.settled_on = self.settled_on or today
        else:
            self.settled_on = None
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "status" in update_fields:
            kwargs["update_fields"] = {*update_fields, "appealed_on", "settled_on"}
        super().save(*args, **kwargs)

    @property
    def is_open(self):
        return self.status in OPEN_STATUSES


class AssignmentRule(models.Model):
    """Routes claims to a work queue. Rules are tried in priority order (1 first); the first
    whose every set condition holds wins. Conditions are data (rcm.rules evaluates them)."""

    name = models.CharField(max_length=100, unique=True)
    priority = models.PositiveIntegerField(unique=True, help_text="1 is tried first")
    active = models.BooleanField(default=True)
    amount_greater_than = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True
    )
    payer_types = models.JSONField(default=list, blank=True, help_text="Any of these types")
    payer_names = models.JSONField(default=list, blank=True, help_text="Any of these payers")
    aging_greater_than = models.PositiveIntegerField(
        null=True, blank=True, help_text="Days since submission"
    )
    procedure_codes = models.JSONField(
        default=list,
        blank=True,
        help_text='CPT codes or ranges, e.g. ["27447", "33200-33249"]',
    )
    denial_reasons = models.JSONField(default=list, blank=True, help_text="Any of these reasons")
    queue = models.ForeignKey(WorkQueue, on_delete=models.PROTECT, related_name="rules")

    class Meta:
        ordering = ["priority"]

    def __str__(self):
        return self.name

    def clean(self):
        from rcm.rules import check_conditions

        check_conditions(self)


class Assignment(models.Model):
    """A claim given to a queue and agent, by which rule and why (the history of Claim.agent)."""

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="assignments")
    queue = models.ForeignKey(WorkQueue, on_delete=models.PROTECT, related_name="+")
    agent = models.ForeignKey(
        Agent, null=True, blank=True, on_delete=models.SET_NULL, related_name="assignments"
    )
    rule = models.ForeignKey(
        AssignmentRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="uses"
    )
    reason = models.CharField(max_length=255)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self):
        return f"{self.claim} → {self.agent or self.queue}"


class FollowUpQuerySet(ScopedQuerySet):
    def scope_for(self, user):
        if manages_ar(user):
            return self.all()
        return self.filter(claim__agent__user=user)


class FollowUp(models.Model):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        DONE = "done", "Done"
        MISSED = "missed", "Missed"
        CANCELLED = "cancelled", "Cancelled"

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="follow_ups")
    agent = models.ForeignKey(Agent, on_delete=models.PROTECT, related_name="follow_ups")
    scheduled_at = models.DateTimeField(db_index=True)
    priority = models.CharField(max_length=10, choices=Priority.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    outcome = models.TextField(blank=True)
    next_follow_up = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="previous"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = FollowUpQuerySet.as_manager()

    class Meta:
        ordering = ["scheduled_at", "pk"]
        indexes = [models.Index(fields=["agent", "scheduled_at"], name="followup_agent_when")]
        constraints = [
            # Scheduling is idempotent: a claim has at most one call waiting.
            models.UniqueConstraint(
                fields=["claim"],
                condition=Q(status="scheduled"),
                name="one_scheduled_follow_up_per_claim",
            )
        ]

    def __str__(self):
        return f"{self.claim} at {self.scheduled_at:%Y-%m-%d %H:%M}"


class Holiday(models.Model):
    """A day nobody is booked for follow-ups (weekends are skipped anyway)."""

    date = models.DateField(unique=True)
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["date"]

    def __str__(self):
        return f"{self.name} ({self.date})"


class DocumentType(models.TextChoices):
    APPEAL_AUTHORIZATION = "appeal_authorization", "Authorization appeal"
    APPEAL_MEDICAL_NECESSITY = "appeal_medical_necessity", "Medical necessity appeal"
    APPEAL_COVERAGE = "appeal_coverage", "Coverage determination appeal"
    APPEAL_CODING = "appeal_coding", "Coding correction appeal"
    APPEAL_TIMELY_FILING = "appeal_timely_filing", "Timely filing appeal"
    APPEAL_GENERIC = "appeal_generic", "Appeal (general)"
    PRIOR_AUTHORIZATION = "prior_authorization", "Prior authorization request"
    PAYMENT_INQUIRY = "payment_inquiry", "Payment inquiry"
    MEDICAL_RECORDS_REQUEST = "medical_records_request", "Medical records request"
    CORRECTED_CLAIM = "corrected_claim", "Corrected claim"


class DocumentTemplate(models.Model):
    """A letter with named placeholders ({{ claim_number }}); rcm.documents fills them."""

    doc_type = models.CharField(max_length=30, choices=DocumentType.choices)
    name = models.CharField(max_length=200)
    body = models.TextField(help_text="Text with placeholders like {{ claim_number }}")
    success_rate = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Historical % of appeals with this template that were paid",
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["doc_type", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["doc_type"], condition=Q(active=True), name="one_active_template_per_type"
            )
        ]

    def __str__(self):
        return self.name


class GeneratedDocumentQuerySet(ScopedQuerySet):
    def scope_for(self, user):
        if manages_ar(user):
            return self.all()
        return self.filter(Q(claim__agent__user=user) | Q(claim__isnull=True, created_by=user))


class GeneratedDocument(models.Model):
    claim = models.ForeignKey(
        Claim, null=True, blank=True, on_delete=models.CASCADE, related_name="documents"
    )
    template = models.ForeignKey(DocumentTemplate, on_delete=models.PROTECT, related_name="+")
    title = models.CharField(max_length=200)
    text = models.TextField()
    needs_review = models.BooleanField(
        default=False, help_text="Generic appeal for an unknown denial reason"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = GeneratedDocumentQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return self.title


class AutomationRun(models.Model):
    class Kind(models.TextChoices):
        ASSIGN_CLAIMS = "assign_claims", "Claim assignment"
        SCHEDULE_FOLLOW_UPS = "schedule_follow_ups", "Follow-up scheduling"
        MARK_MISSED = "mark_missed", "Missed follow-ups"
        GENERATE_APPEAL = "generate_appeal", "Appeal letter"
        GENERATE_DOCUMENT = "generate_document", "Document"

    kind = models.CharField(max_length=30, choices=Kind.choices, db_index=True)
    started_at = models.DateTimeField(default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    items = models.PositiveIntegerField(default=0)
    succeeded = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]

    def __str__(self):
        return f"{self.get_kind_display()} at {self.started_at:%Y-%m-%d %H:%M}"
