"""Leader Hub data: source tables (loaded daily) and the rollup tables computed from them."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from opsintel.scoping import ScopedQuerySet

# Roles that lead markets (Groups named in opsintel.roles): they read the markets they oversee.
LEADER_ROLES = ("RDO", "RMD", "Area manager", "Market manager", "Lead APP", "Lead DHMT")


def leader_markets(user):
    """Market ids a user oversees (empty for people without a leader role)."""
    if not (user.is_authenticated and any(user.has_role(role) for role in LEADER_ROLES)):
        return Market.objects.none().values("pk")
    return Market.objects.filter(leaders__user=user).values("pk")


def own_provider(user):
    return Provider.objects.filter(user=user).values("pk")


class MarketGroup(models.Model):
    name = models.CharField(max_length=100, unique=True)
    short_name = models.CharField(max_length=20, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class MarketQuerySet(ScopedQuerySet):
    def scope_for(self, user):
        return self.filter(pk__in=leader_markets(user))


class Market(models.Model):
    name = models.CharField(max_length=100, unique=True)
    short_name = models.CharField(max_length=20, unique=True)
    market_group = models.ForeignKey(MarketGroup, on_delete=models.PROTECT, related_name="markets")

    objects = MarketQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class LeaderAccess(models.Model):
    """The markets a leader oversees (their role is their leaderhub Group). Stands in for the
    markets claim of the original access tokens; edited in the admin."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="leader_access"
    )
    markets = models.ManyToManyField(Market, related_name="leaders", blank=True)

    class Meta:
        verbose_name = "leader's markets"
        verbose_name_plural = "leaders' markets"

    def __str__(self):
        return f"{self.user} markets"


class ProviderQuerySet(ScopedQuerySet):
    def scope_for(self, user):
        # A provider is readable when they share a market with the user; a provider reads
        # their own record.
        return self.filter(
            Q(active_markets__market__in=leader_markets(user)) | Q(user=user)
        ).distinct()


class Provider(models.Model):
    class Position(models.TextChoices):
        APP = "app", "APP"
        DHMT = "dhmt", "DHMT"

    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    avatar_url = models.URLField(blank=True)
    job_title = models.CharField(max_length=10, choices=Position.choices, db_index=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="provider",
    )

    objects = ProviderQuerySet.as_manager()

    class Meta:
        ordering = ["last_name", "first_name", "pk"]

    def __str__(self):
        return self.name

    @property
    def name(self):
        return f"{self.first_name} {self.last_name}".strip()


class MarketActiveProvider(models.Model):
    market = models.ForeignKey(Market, on_delete=models.CASCADE, related_name="active_providers")
    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="active_markets")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["market", "provider"], name="market_provider_once")
        ]

    def __str__(self):
        return f"{self.provider} in {self.market}"


class VisitQuerySet(ScopedQuerySet):
    def scope_for(self, user):
        return self.filter(Q(market__in=leader_markets(user)) | Q(provider__in=own_provider(user)))


class Visit(models.Model):
    """One care request seen by one provider (PHI)."""

    care_request_id = models.BigIntegerField()
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="visits")
    market = models.ForeignKey(Market, on_delete=models.PROTECT, related_name="visits")
    service_date = models.DateField()
    patient_first_name = models.CharField(max_length=100, blank=True)
    patient_last_name = models.CharField(max_length=100, blank=True)
    patient_athena_id = models.CharField(max_length=40, blank=True, db_index=True)
    chief_complaint = models.CharField(max_length=255, blank=True)
    diagnosis = models.CharField(max_length=255, blank=True)
    on_scene_minutes = models.DecimalField(
        max_digits=7, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    chart_closed_24h = models.BooleanField(null=True)
    survey_captured = models.BooleanField(default=False)
    nps_score = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(10)]
    )
    escalated = models.BooleanField(default=False)
    escalation_reason = models.CharField(max_length=255, blank=True)
    abx_prescribed = models.BooleanField(default=False)
    abx_details = models.CharField(max_length=255, blank=True)

    objects = VisitQuerySet.as_manager()

    class Meta:
        ordering = ["-service_date", "-care_request_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["care_request_id", "provider"], name="visit_once_per_provider"
            ),
            models.CheckConstraint(
                condition=Q(nps_score__isnull=True) | Q(nps_score__lte=10), name="nps_0_to_10"
            ),
        ]
        indexes = [
            # The rollups read each provider's (and provider-in-market's) latest visits.
            models.Index(
                fields=["provider", "-service_date", "-care_request_id"],
                name="visit_provider_recent",
            ),
            models.Index(
                fields=["market", "provider", "-service_date"], name="visit_market_provider"
            ),
        ]

    def __str__(self):
        return f"Care request {self.care_request_id}"

    @property
    def patient_name(self):
        return f"{self.patient_first_name} {self.patient_last_name}".strip()


class ShiftQuerySet(ScopedQuerySet):
    def scope_for(self, user):
        return self.filter(Q(market__in=leader_markets(user)) | Q(provider__in=own_provider(user)))


class ProviderShift(models.Model):
    shift_team_id = models.BigIntegerField(unique=True)
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="shifts")
    market = models.ForeignKey(Market, on_delete=models.PROTECT, related_name="shifts")
    service_date = models.DateField()
    start = models.DateTimeField()
    end = models.DateTimeField()
    patients_seen = models.PositiveIntegerField(default=0)
    # Durations in seconds.
    out_the_door = models.PositiveIntegerField(default=0)
    en_route = models.PositiveIntegerField(default=0)
    on_scene = models.PositiveIntegerField(default=0)
    on_break = models.PositiveIntegerField(default=0)
    idle = models.PositiveIntegerField(default=0)

    objects = ShiftQuerySet.as_manager()

    class Meta:
        ordering = ["-service_date", "-start"]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="shift_ends_after_start")
        ]
        indexes = [models.Index(fields=["provider", "-service_date"], name="shift_provider_recent")]

    def __str__(self):
        return f"Shift {self.shift_team_id}"

    @property
    def break_skipped(self):
        return self.on_break == 0


class ShiftBreakdown(models.Model):
    class Stage(models.TextChoices):
        ON_SCENE = "on_scene", "On scene"
        EN_ROUTE = "en_route", "En route"
        BREAK = "break", "Break"
        IDLE = "idle", "Idle"

    shift = models.ForeignKey(ProviderShift, on_delete=models.CASCADE, related_name="breakdowns")
    start = models.DateTimeField()
    end = models.DateTimeField()
    stage = models.CharField(max_length=10, choices=Stage.choices)
    latitude_e6 = models.IntegerField(null=True, blank=True)
    longitude_e6 = models.IntegerField(null=True, blank=True)

    class Meta:
        ordering = ["shift", "start"]
        constraints = [
            models.UniqueConstraint(fields=["shift", "start"], name="breakdown_once_per_start"),
            models.CheckConstraint(
                condition=Q(end__gt=F("start")), name="breakdown_ends_after_start"
            ),
        ]

    def __str__(self):
        return f"{self.get_stage_display()} {self.start:%H:%M}–{self.end:%H:%M}"


# Rollups ---------------------------------------------------------------------------------------


class MetricFields(models.Model):
    """The figures every rollup row carries, now and as of 7 days earlier (`_prev`)."""

    as_of = models.DateField()
    visits = models.PositiveIntegerField(default=0)  # visits in the window (≤ 80)
    first_visit_date = models.DateField(null=True)
    last_visit_date = models.DateField(null=True)
    on_scene_median = models.FloatField(null=True)
    on_scene_count = models.PositiveIntegerField(default=0)  # visits with on-scene minutes
    chart_closure_rate = models.FloatField(null=True)
    chart_closure_count = models.PositiveIntegerField(default=0)
    survey_capture_rate = models.FloatField(null=True)
    escalation_rate = models.FloatField(null=True)
    abx_rate = models.FloatField(null=True)
    nps = models.FloatField(null=True)
    nps_average = models.FloatField(null=True)
    nps_count = models.PositiveIntegerField(default=0)  # visits with a score
    on_task_percent = models.FloatField(null=True)  # last 30 days of shifts
    on_scene_median_prev = models.FloatField(null=True)
    chart_closure_rate_prev = models.FloatField(null=True)
    survey_capture_rate_prev = models.FloatField(null=True)
    escalation_rate_prev = models.FloatField(null=True)
    abx_rate_prev = models.FloatField(null=True)
    nps_prev = models.FloatField(null=True)
    on_task_percent_prev = models.FloatField(null=True)

    class Meta:
        abstract = True


class ProviderMetrics(MetricFields):
    provider = models.OneToOneField(Provider, on_delete=models.CASCADE, related_name="metrics")

    class Meta:
        db_table = "provider_metrics"
        verbose_name_plural = "provider metrics"

    def __str__(self):
        return f"{self.provider} as of {self.as_of}"


class MarketProviderMetrics(MetricFields):
    market = models.ForeignKey(Market, on_delete=models.CASCADE, related_name="provider_metrics")
    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="market_metrics")

    class Meta:
        db_table = "market_provider_metrics"
        verbose_name_plural = "market provider metrics"
        constraints = [
            models.UniqueConstraint(
                fields=["market", "provider"], name="market_provider_metrics_once"
            )
        ]

    def __str__(self):
        return f"{self.provider} in {self.market} as of {self.as_of}"


class MarketMetrics(MetricFields):
    market = models.OneToOneField(Market, on_delete=models.CASCADE, related_name="metrics")

    class Meta:
        db_table = "market_metrics"
        verbose_name_plural = "market metrics"

    def __str__(self):
        return f"{self.market} as of {self.as_of}"
