"""Patient-advocacy case operations: patients, advocates, cases and their event log."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from opsintel.scoping import ScopedQuerySet

LEADER_ROLE = "Operations leader"


def leads_operations(user):
    return user.is_authenticated and (user.is_platform_admin or user.has_role(LEADER_ROLE))


class CaseType(models.TextChoices):
    BILLING_DISPUTE = "billing_dispute", "Billing dispute"
    PRIOR_AUTHORIZATION = "prior_authorization", "Prior authorization"
    PROVIDER_SEARCH = "provider_search", "Provider search"
    CARE_COORDINATION = "care_coordination", "Care coordination"
    CLAIM_DENIAL = "claim_denial", "Claim denial"


class Level(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"


class PatientQuerySet(ScopedQuerySet):
    def scope_for(self, user):
        if leads_operations(user):
            return self.all()
        return self.filter(cases__advocate__user=user).distinct()


class Patient(models.Model):
    """A patient the team helps (PHI)."""

    external_id = models.CharField(max_length=40, unique=True, null=True, blank=True)
    insurance_type = models.CharField(max_length=40, blank=True)
    preferred_channel = models.CharField(max_length=20, blank=True)
    state = models.CharField(max_length=2, blank=True)
    risk_score = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = PatientQuerySet.as_manager()

    class Meta:
        ordering = ["pk"]

    def __str__(self):
        return f"Patient {self.external_id or self.pk}"


class AdvocateQuerySet(ScopedQuerySet):
    def scope_for(self, user):
        if leads_operations(user):
            return self.all()
        return self.filter(user=user)


class Advocate(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="advocate",
    )
    external_id = models.CharField(max_length=40, unique=True, null=True, blank=True)
    name = models.CharField(max_length=200)
    specialty = models.CharField(max_length=100, blank=True)
    team = models.CharField(max_length=100, blank=True)
    capacity = models.PositiveIntegerField(
        default=25, validators=[MinValueValidator(1)], help_text="Active cases they can carry"
    )
    case_types = models.JSONField(
        default=list, blank=True, help_text="Case types they handle; empty means all"
    )
    hire_date = models.DateField(null=True, blank=True)
    active = models.BooleanField(default=True)

    objects = AdvocateQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def handles(self, case_type):
        return not self.case_types or case_type in self.case_types


class CaseQuerySet(ScopedQuerySet):
    def scope_for(self, user):
        if leads_operations(user):
            return self.all()
        return self.filter(advocate__user=user)

    def active(self):
        return self.filter(status__in=Case.ACTIVE_STATUSES)


class Case(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        IN_PROGRESS = "in_progress", "In progress"
        PENDING_DOCS = "pending_docs", "Pending documents"
        ESCALATED = "escalated", "Escalated"
        RESOLVED = "resolved", "Resolved"
        REOPENED = "reopened", "Reopened"
        CLOSED = "closed", "Closed"

    class Urgency(models.TextChoices):
        LOW = "low", "Low"
        MEDIUM = "medium", "Medium"
        HIGH = "high", "High"
        URGENT = "urgent", "Urgent"

    ACTIVE_STATUSES = (
        Status.OPEN,
        Status.IN_PROGRESS,
        Status.PENDING_DOCS,
        Status.ESCALATED,
        Status.REOPENED,
    )

    external_id = models.CharField(max_length=40, unique=True, null=True, blank=True)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="cases")
    advocate = models.ForeignKey(
        Advocate, null=True, blank=True, on_delete=models.PROTECT, related_name="cases"
    )
    case_type = models.CharField(max_length=30, choices=CaseType.choices, db_index=True)
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    urgency = models.CharField(max_length=10, choices=Urgency.choices, default=Urgency.MEDIUM)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    escalated = models.BooleanField(default=False, help_text="Ever escalated")
    # Validated metadata (advocacy.metadata), kept whole and as typed columns for queries.
    metadata = models.JSONField(default=dict, blank=True)
    intake_source = models.CharField(max_length=50, blank=True)
    barriers = models.JSONField(default=list, blank=True)
    handoff_count = models.PositiveIntegerField(default=0)
    complexity = models.CharField(max_length=10, choices=Level.choices, default=Level.MEDIUM)
    submitted_documents = models.JSONField(default=list, blank=True)
    missing_docs = models.BooleanField(default=False)
    support_flags = models.JSONField(default=list, blank=True)

    objects = CaseQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["advocate", "status"], name="case_advocate_status")]
        constraints = [
            models.CheckConstraint(
                condition=Q(resolved_at__isnull=True) | Q(resolved_at__gte=models.F("created_at")),
                name="case_resolved_after_created",
            )
        ]

    def __str__(self):
        return f"Case {self.external_id or self.pk} ({self.get_case_type_display()})"

    @property
    def is_active(self):
        return self.status in self.ACTIVE_STATUSES


class CaseEvent(models.Model):
    """The case's history: the source of truth for its timings."""

    class Type(models.TextChoices):
        OPENED = "opened", "Opened"
        ASSIGNED = "assigned", "Assigned"
        FIRST_RESPONSE = "first_response", "First response"
        DOCS_REQUESTED = "docs_requested", "Documents requested"
        DOCS_RECEIVED = "docs_received", "Documents received"
        PROVIDER_CONTACTED = "provider_contacted", "Provider contacted"
        INSURER_CONTACTED = "insurer_contacted", "Insurer contacted"
        ESCALATED = "escalated", "Escalated"
        RESOLVED = "resolved", "Resolved"
        REOPENED = "reopened", "Reopened"
        CLOSED = "closed", "Closed"

    external_id = models.CharField(max_length=40, unique=True, null=True, blank=True)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    type = models.CharField(max_length=20, choices=Type.choices)
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    note = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["case", "at", "pk"]
        indexes = [models.Index(fields=["case", "type", "at"], name="event_case_type_at")]

    def __str__(self):
        return f"{self.get_type_display()} at {self.at:%Y-%m-%d %H:%M}"


class Interaction(models.Model):
    class Channel(models.TextChoices):
        PHONE = "phone", "Phone"
        EMAIL = "email", "Email"
        PORTAL = "portal", "Portal"
        SMS = "sms", "SMS"

    class Direction(models.TextChoices):
        INBOUND = "inbound", "Inbound"
        OUTBOUND = "outbound", "Outbound"

    external_id = models.CharField(max_length=40, unique=True, null=True, blank=True)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="interactions")
    advocate = models.ForeignKey(
        Advocate, null=True, blank=True, on_delete=models.SET_NULL, related_name="interactions"
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    direction = models.CharField(
        max_length=10, choices=Direction.choices, default=Direction.OUTBOUND
    )
    started_at = models.DateTimeField(default=timezone.now)
    duration_minutes = models.PositiveIntegerField(default=0)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["case", "started_at", "pk"]

    def __str__(self):
        return f"{self.get_channel_display()} on {self.started_at:%Y-%m-%d}"


class PatientFeedback(models.Model):
    external_id = models.CharField(max_length=40, unique=True, null=True, blank=True)
    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="feedback")
    csat = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(5)])
    comment = models.TextField(blank=True)
    submitted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(csat__gte=1, csat__lte=5), name="csat_1_to_5")
        ]

    def __str__(self):
        return f"CSAT {self.csat} for {self.case}"
