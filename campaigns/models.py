from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from opsintel.assignment import BALANCED, GROUP_BY_SKILL, ROUND_ROBIN
from opsintel.scoping import ScopedQuerySet

MANAGE_PERMISSION = "campaigns.add_campaign"


def default_monthly_capacity():
    return settings.CAMPAIGN_CAPACITY_PER_FTE_MONTH


def manages_campaigns(user):
    """Care managers (and platform admins) see and change every campaign."""
    return user.is_authenticated and (user.is_platform_admin or user.has_perm(MANAGE_PERMISSION))


class Measure(models.Model):
    code = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=200)
    revenue_per_closure = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        default=Decimal("100.00"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    # HEDIS star weight: triple-weighted measures matter more, and raise the priority.
    weight = models.DecimalField(
        max_digits=4, decimal_places=1, default=Decimal("1.0"), validators=[MinValueValidator(0)]
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} — {self.name}"


class MemberQuerySet(ScopedQuerySet):
    def scope_for(self, user):
        if manages_campaigns(user):
            return self.all()
        return self.filter(
            interventions__assignments__coordinator__user=user,
            interventions__assignments__active=True,
        ).distinct()


class Member(models.Model):
    """A health-plan member (PHI)."""

    member_id = models.CharField("member ID", max_length=40, unique=True)
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    email = models.EmailField(blank=True)
    date_of_birth = models.DateField(null=True, blank=True)
    plan = models.CharField(max_length=100, blank=True)

    objects = MemberQuerySet.as_manager()

    class Meta:
        ordering = ["last_name", "first_name", "member_id"]

    def __str__(self):
        return self.name or self.member_id

    @property
    def name(self):
        return f"{self.first_name} {self.last_name}".strip()


class InterventionQuerySet(ScopedQuerySet):
    def scope_for(self, user):
        if manages_campaigns(user):
            return self.all()
        return self.filter(assignments__coordinator__user=user, assignments__active=True)

    def open(self):
        return self.filter(status__in=Intervention.OPEN_STATUSES)

    def finished(self):
        return self.filter(status__in=Intervention.FINISHED_STATUSES)


class Intervention(models.Model):
    """One open care gap to act on for one member and measure."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SCHEDULED = "scheduled", "Scheduled"
        IN_PROGRESS = "in_progress", "In progress"
        COMPLETED = "completed", "Completed"
        CLOSED = "closed", "Closed (gap closed)"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    class Priority(models.TextChoices):
        HIGH = "high", "High"
        MEDIUM = "medium", "Medium"
        LOW = "low", "Low"

    OPEN_STATUSES = (Status.PENDING, Status.SCHEDULED, Status.IN_PROGRESS)
    # Worked to an end: the basis of the historical closure rate. Cancelled work was never
    # attempted, so it does not count for or against a measure.
    FINISHED_STATUSES = (Status.COMPLETED, Status.CLOSED, Status.FAILED)

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="interventions")
    measure = models.ForeignKey(Measure, on_delete=models.PROTECT, related_name="interventions")
    external_id = models.CharField(max_length=40, unique=True, null=True, blank=True)
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    intervention_date = models.DateField(null=True, blank=True, db_index=True)
    cost = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        default=Decimal("0.00"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    # Computed from the data by campaigns.services.refresh_priorities, never typed in.
    priority = models.CharField(
        max_length=10, choices=Priority.choices, default=Priority.MEDIUM, editable=False
    )
    notes = models.TextField(blank=True)
    outcome = models.CharField(max_length=200, blank=True)
    outcome_date = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = InterventionQuerySet.as_manager()

    class Meta:
        ordering = ["intervention_date", "id"]
        indexes = [models.Index(fields=["measure", "status"], name="intervention_measure_status")]
        constraints = [
            models.CheckConstraint(condition=Q(cost__gte=0), name="intervention_cost_not_negative")
        ]

    def __str__(self):
        return f"{self.measure.code} for {self.member.member_id}"


class CoordinatorQuerySet(ScopedQuerySet):
    def scope_for(self, user):
        if manages_campaigns(user):
            return self.all()
        return self.filter(user=user)


class Coordinator(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="care_coordinator"
    )
    monthly_capacity = models.PositiveIntegerField(
        default=default_monthly_capacity,
        validators=[MinValueValidator(1)],
        help_text="Interventions one coordinator can work in a month",
    )
    measures = models.ManyToManyField(
        Measure, blank=True, help_text="Measures they specialise in; none means any measure"
    )
    active = models.BooleanField(default=True)

    objects = CoordinatorQuerySet.as_manager()

    class Meta:
        ordering = ["user__last_name", "user__first_name", "user__username"]

    def __str__(self):
        return self.user.get_full_name() or self.user.get_username()


class CampaignQuerySet(ScopedQuerySet):
    def scope_for(self, user):
        if manages_campaigns(user):
            return self.all()
        return self.filter(assignments__coordinator__user=user).distinct()


class Campaign(models.Model):
    class Strategy(models.TextChoices):
        BALANCED = BALANCED, "Balanced workload (recommended)"
        ROUND_ROBIN = ROUND_ROBIN, "Round robin"
        GROUP_BY_MEASURE = GROUP_BY_SKILL, "Group by measure"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        ACTIVE = "active", "Active"
        COMPLETED = "completed", "Completed"
        ARCHIVED = "archived", "Archived"

    LIVE_STATUSES = (Status.DRAFT, Status.ACTIVE)
    # Far above any real outreach team; bounds what a form or API call can ask the engine for.
    MAX_COORDINATORS = 1000

    name = models.CharField(max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="campaigns_created"
    )
    strategy = models.CharField(max_length=20, choices=Strategy.choices, default=BALANCED)
    coordinator_count = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    target_completion_date = models.DateField()
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.ACTIVE, db_index=True
    )
    # The metrics as they were when the campaign was created (campaigns.metrics.as_snapshot).
    metrics = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    objects = CampaignQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.name


class AssignmentQuerySet(ScopedQuerySet):
    def scope_for(self, user):
        if manages_campaigns(user):
            return self.all()
        return self.filter(coordinator__user=user)


class CampaignAssignment(models.Model):
    """One intervention handed to one coordinator within a campaign."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="assignments")
    intervention = models.ForeignKey(
        Intervention, on_delete=models.PROTECT, related_name="assignments"
    )
    coordinator = models.ForeignKey(
        Coordinator, on_delete=models.PROTECT, related_name="assignments"
    )
    status = models.CharField(
        max_length=20, choices=Intervention.Status.choices, default=Intervention.Status.PENDING
    )
    outcome = models.CharField(max_length=200, blank=True)
    reason = models.CharField(max_length=255, help_text="Which rule or strategy placed it here")
    # True while the campaign is draft or active: an intervention is in one live campaign only.
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AssignmentQuerySet.as_manager()

    class Meta:
        ordering = ["campaign", "coordinator", "intervention__intervention_date", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["intervention"],
                condition=Q(active=True),
                name="intervention_in_one_active_campaign",
            ),
            models.UniqueConstraint(
                fields=["campaign", "intervention"], name="assignment_once_per_campaign"
            ),
        ]
        indexes = [models.Index(fields=["coordinator", "active"], name="assignment_coord_active")]

    def __str__(self):
        return f"{self.intervention} → {self.coordinator}"

    @property
    def is_finished(self):
        return self.status in Intervention.FINISHED_STATUSES or (
            self.status == Intervention.Status.CANCELLED
        )


class CampaignProgress(models.Model):
    """One day's progress of one campaign, for the trend line (written by the nightly task)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="progress")
    day = models.DateField()
    total = models.PositiveIntegerField()
    finished = models.PositiveIntegerField()
    closures = models.PositiveIntegerField()

    class Meta:
        ordering = ["campaign", "day"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "day"], name="progress_once_per_day")
        ]

    def __str__(self):
        return f"{self.campaign} on {self.day}: {self.finished}/{self.total}"
