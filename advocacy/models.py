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

    # One interaction is at most a day; longer is a typo that would skew handle times.
    MAX_DURATION_MINUTES = 24 * 60

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


# --- Rollup tables (advocacy.rollups): refreshed together as of one moment. -----------------


class CaseFactQuerySet(ScopedQuerySet):
    def scope_for(self, user):
        if leads_operations(user):
            return self.all()
        return self.filter(advocate__user=user)


class CaseFact(models.Model):
    """One row per case: its lifecycle timings and flags as of `as_of` (advocacy.rollups).

    Pages, the API and the KPI tables aggregate these rows; nothing recomputes a flag."""

    # No database-level foreign keys: the table is rebuilt from advocacy_case on every rollup
    # (checking 100,000 keys per run cost more than the whole SELECT; bench_advocacy.py), and
    # Django still deletes a case's fact with the case.
    case = models.OneToOneField(
        Case, primary_key=True, on_delete=models.CASCADE, related_name="fact", db_constraint=False
    )
    as_of = models.DateTimeField()
    # Copies of the case's attributes, so dashboards filter and group without joins.
    case_type = models.CharField(max_length=30, choices=CaseType.choices)
    status = models.CharField(max_length=20, choices=Case.Status.choices)
    urgency = models.CharField(max_length=10, choices=Case.Urgency.choices)
    complexity = models.CharField(max_length=10, choices=Level.choices)
    advocate = models.ForeignKey(
        Advocate,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="facts",
        db_constraint=False,
        db_index=False,  # fact_advocate_active covers it
    )
    team = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField()
    missing_docs = models.BooleanField()
    handoff_count = models.PositiveIntegerField()
    # Timings from the event log.
    first_response_at = models.DateTimeField(null=True)
    resolved_at = models.DateTimeField(null=True)
    hours_to_first_response = models.FloatField(null=True)
    days_to_resolution = models.FloatField(null=True)
    age_days = models.FloatField(help_text="Days from creation to the as-of moment")
    interaction_count = models.PositiveIntegerField()
    interaction_minutes = models.PositiveIntegerField()
    last_touch = models.DateTimeField(help_text="Latest event or interaction")
    # Flags.
    is_active = models.BooleanField()
    escalated = models.BooleanField()
    ever_resolved = models.BooleanField()
    reopened = models.BooleanField(help_text="Resolved, then reopened")
    sla_paused_hours = models.FloatField(default=0)
    sla_deadline = models.DateTimeField()
    sla_breached = models.BooleanField()
    stale = models.BooleanField()
    csat = models.PositiveSmallIntegerField(null=True)

    objects = CaseFactQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-case_id"]
        # Dashboards aggregate large shares of the table, which a scan serves as well as an
        # index would; the one index serves an advocate's own cases.
        indexes = [models.Index(fields=["advocate", "is_active"], name="fact_advocate_active")]

    def __str__(self):
        return f"Case {self.case_id} as of {self.as_of:%Y-%m-%d %H:%M}"


class KpiFigures(models.Model):
    """The KPI columns (advocacy.selectors.kpis), shared by the KPI tables."""

    total_cases = models.PositiveIntegerField()
    active_cases = models.PositiveIntegerField()
    avg_hours_to_first_response = models.FloatField(null=True)
    avg_days_to_resolution = models.FloatField(null=True)
    escalation_rate = models.FloatField(null=True)
    reopen_rate = models.FloatField(null=True)
    sla_breach_rate = models.FloatField(null=True)
    avg_interactions_per_case = models.FloatField(null=True)
    avg_csat = models.FloatField(null=True)
    stale_cases = models.PositiveIntegerField()

    class Meta:
        abstract = True


class CaseTypeKpi(KpiFigures):
    """KPIs by case type ("" = all types) as of a moment; one set per rollup, kept for trends."""

    as_of = models.DateTimeField(db_index=True)
    case_type = models.CharField(max_length=30, blank=True)

    class Meta:
        ordering = ["-as_of", "case_type"]
        constraints = [
            models.UniqueConstraint(fields=["as_of", "case_type"], name="kpi_as_of_case_type")
        ]

    def __str__(self):
        return f"{self.case_type or 'All case types'} as of {self.as_of:%Y-%m-%d %H:%M}"


class AdvocateCaseload(models.Model):
    """Each active advocate's caseload against capacity as of the latest rollup."""

    advocate = models.OneToOneField(
        Advocate, primary_key=True, on_delete=models.CASCADE, related_name="caseload"
    )
    as_of = models.DateTimeField()
    team = models.CharField(max_length=100, blank=True)
    capacity = models.PositiveIntegerField()
    active_cases = models.PositiveIntegerField()
    weighted_caseload = models.FloatField()
    utilization = models.FloatField(help_text="Active cases ÷ capacity")
    weighted_utilization = models.FloatField(help_text="Complexity-weighted caseload ÷ capacity")
    stale_cases = models.PositiveIntegerField()
    breached_cases = models.PositiveIntegerField(help_text="Active cases past their SLA")

    objects = AdvocateQuerySet.as_manager()

    class Meta:
        ordering = ["-utilization", "advocate__name"]

    def __str__(self):
        return f"{self.advocate}: {self.active_cases}/{self.capacity}"

    @property
    def overloaded(self):
        return self.utilization > 1


class BottleneckSegment(models.Model):
    """Outcome figures for one segment of one bottleneck dimension (missing docs, handoffs,
    case type, escalation, advocate load) as of the latest rollup."""

    as_of = models.DateTimeField()
    dimension = models.CharField(max_length=30)
    segment = models.CharField(max_length=50)
    position = models.PositiveSmallIntegerField(default=0)
    cases = models.PositiveIntegerField()
    avg_days_to_resolution = models.FloatField(null=True)
    sla_breach_rate = models.FloatField(null=True)
    avg_csat = models.FloatField(null=True)
    escalation_rate = models.FloatField(null=True)
    avg_hours_to_first_response = models.FloatField(null=True)

    class Meta:
        ordering = ["dimension", "position"]
        constraints = [
            models.UniqueConstraint(fields=["dimension", "segment"], name="segment_unique")
        ]

    def __str__(self):
        return f"{self.dimension}: {self.segment}"


# --- SLA-risk model (advocacy.risk) and alerts (advocacy.alerts). ---------------------------


class SlaRiskModel(models.Model):
    """A trained breach-probability model. Its parameters are kept as plain JSON (feature
    names, scaling, coefficients), never pickled, so loading one runs no code."""

    trained_at = models.DateTimeField(default=timezone.now)
    algorithm = models.CharField(max_length=50, default="logistic_regression")
    parameters = models.JSONField(help_text="Feature names, scaling and coefficients")
    auc = models.FloatField(null=True, help_text="ROC AUC on the held-out split")
    train_cases = models.PositiveIntegerField()
    test_cases = models.PositiveIntegerField()
    breach_share = models.FloatField(help_text="Share of breached cases in the training data")

    class Meta:
        ordering = ["-trained_at", "-pk"]
        get_latest_by = "trained_at"

    def __str__(self):
        auc = "n/a" if self.auc is None else f"{self.auc:.3f}"
        return f"SLA-risk model of {self.trained_at:%Y-%m-%d %H:%M} (AUC {auc})"


class CaseRiskQuerySet(ScopedQuerySet):
    def scope_for(self, user):
        if leads_operations(user):
            return self.all()
        return self.filter(case__advocate__user=user)


class CaseRisk(models.Model):
    """An active case's breach probability under the latest model, with its top reasons."""

    case = models.OneToOneField(
        Case, primary_key=True, on_delete=models.CASCADE, related_name="risk"
    )
    model = models.ForeignKey(SlaRiskModel, on_delete=models.CASCADE, related_name="scores")
    probability = models.FloatField()
    reasons = models.JSONField(default=list, help_text="Top reasons, strongest first")
    scored_at = models.DateTimeField(default=timezone.now)

    objects = CaseRiskQuerySet.as_manager()

    class Meta:
        ordering = ["-probability", "case_id"]
        indexes = [models.Index(fields=["-probability"], name="risk_probability")]

    def __str__(self):
        return f"{self.case}: {self.probability:.0%}"


class AlertCondition(models.Model):
    """An alert condition (stale cases over the threshold, one advocate over capacity) while it
    holds. Leaders are told when it starts; the row is closed when it clears, so the same
    condition alerts again only after it has cleared."""

    key = models.CharField(max_length=100)
    message = models.TextField()
    raised_at = models.DateTimeField(default=timezone.now)
    cleared_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-raised_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["key"], condition=Q(cleared_at__isnull=True), name="one_open_alert_per_key"
            )
        ]

    def __str__(self):
        return self.message
