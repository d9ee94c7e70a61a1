"""Responses of the Leader Hub API. Figures come from leaderhub.selectors (Figure, window);
these serializers only describe and render them."""

from rest_framework import serializers

from leaderhub import metrics as m
from leaderhub import selectors
from leaderhub.models import Market, Provider, ProviderShift, ShiftBreakdown, Visit


class FigureSerializer(serializers.Serializer):
    """One metric: its value, the week change and the visits behind it."""

    key = serializers.CharField()
    label = serializers.CharField()
    unit = serializers.CharField(help_text='"%", " min" or "" (NPS)')
    higher_is_better = serializers.BooleanField()
    value = serializers.FloatField(allow_null=True)
    previous = serializers.FloatField(allow_null=True, help_text="As of 7 days earlier")
    week_change = serializers.FloatField(allow_null=True, help_text="value − previous")
    goal = serializers.FloatField(allow_null=True, help_text="The goal of the market card")
    meets_goal = serializers.BooleanField(allow_null=True)
    used = serializers.IntegerField(
        allow_null=True, help_text="Visits that counted (null for on-task %, which is shift-based)"
    )
    without_value = serializers.IntegerField(
        allow_null=True, help_text="Visits in the window without a value for this metric"
    )
    small_sample = serializers.BooleanField(help_text=f"Fewer than {m.SMALL_SAMPLE} visits count")


def _figure(key, **kwargs):
    return FigureSerializer(allow_null=True, help_text=m.METRICS[key].label, **kwargs)


class HeaderMetricsSerializer(serializers.Serializer):
    """Every metric of a market card or an individual's header. For an individual, chart
    closure rate is null for DHMTs and survey capture rate null for APPs."""

    on_scene_time = _figure("on_scene_time")
    survey_capture_rate = _figure("survey_capture_rate")
    chart_closure_rate = _figure("chart_closure_rate")
    net_promoter_score = _figure("net_promoter_score")
    on_task_percent = _figure("on_task_percent")
    escalation_rate = _figure("escalation_rate")
    abx_rate = _figure("abx_rate")


class MarketSummaryMetricsSerializer(serializers.Serializer):
    """An individual's figures in one market (position-gated like the header)."""

    on_scene_time = _figure("on_scene_time")
    chart_closure_rate = _figure("chart_closure_rate")
    survey_capture_rate = _figure("survey_capture_rate")
    on_task_percent = _figure("on_task_percent")
    net_promoter_score = _figure("net_promoter_score")


class WindowSerializer(serializers.Serializer):
    """The visit window of a row of figures (null dates and 0 visits before the first rollup)."""

    as_of = serializers.DateField(allow_null=True)
    first_visit_date = serializers.DateField(allow_null=True)
    last_visit_date = serializers.DateField(allow_null=True)
    visits = serializers.IntegerField(help_text=f"Visits in the window (≤ {m.WINDOW_VISITS})")
    small_sample = serializers.BooleanField(help_text=f"Fewer than {m.SMALL_SAMPLE} visits")


class MarketSerializer(serializers.ModelSerializer):
    market_group = serializers.CharField(source="market_group.name", read_only=True)

    class Meta:
        model = Market
        fields = ["id", "name", "short_name", "market_group"]
        read_only_fields = fields


class MarketBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Market
        fields = ["id", "name", "short_name"]
        read_only_fields = fields


class MarketOverviewSerializer(serializers.Serializer):
    market = MarketSerializer()
    window = WindowSerializer()
    metrics = HeaderMetricsSerializer()


class ProviderSerializer(serializers.ModelSerializer):
    name = serializers.CharField(read_only=True)
    position = serializers.ChoiceField(
        source="job_title", choices=Provider.Position.choices, read_only=True
    )

    class Meta:
        model = Provider
        fields = ["id", "name", "first_name", "last_name", "avatar_url", "position"]
        read_only_fields = fields


class ProviderMarketSerializer(serializers.Serializer):
    market = MarketBriefSerializer()
    window = WindowSerializer()
    metrics = MarketSummaryMetricsSerializer()


class ProviderOverviewSerializer(serializers.Serializer):
    provider = ProviderSerializer()
    window = WindowSerializer()
    metrics = HeaderMetricsSerializer()
    markets = ProviderMarketSerializer(
        many=True, help_text="The provider's markets in your scope, alphabetical"
    )


class RankingRowSerializer(serializers.Serializer):
    """One care-team member in a market's ranking."""

    provider_id = serializers.IntegerField(source="provider.pk")
    name = serializers.CharField(source="provider.name")
    avatar_url = serializers.CharField(source="provider.avatar_url")
    position = serializers.ChoiceField(
        source="provider.job_title", choices=Provider.Position.choices
    )
    value = serializers.FloatField(allow_null=True)
    week_change = serializers.FloatField(source="change", allow_null=True)
    rank = serializers.IntegerField(
        allow_null=True,
        help_text="Dense rank among the market's providers of the same position on the value "
        "rounded to 2 decimals, 1 = best; null without a value",
    )
    visits = serializers.IntegerField(help_text="Visits in the provider's window in the market")
    small_sample = serializers.SerializerMethodField()

    def get_small_sample(self, row) -> bool:
        return selectors.figure(row, self.context["metric_type"]).small_sample


class VisitSerializer(serializers.ModelSerializer):
    patient_name = serializers.CharField(read_only=True)
    market = serializers.IntegerField(source="market_id", read_only=True)
    abx = serializers.BooleanField(source="abx_prescribed", read_only=True)

    class Meta:
        model = Visit
        fields = [
            "id",
            "care_request_id",
            "market",
            "patient_name",
            "patient_athena_id",
            "service_date",
            "chief_complaint",
            "diagnosis",
            "abx",
            "abx_details",
            "escalated",
            "escalation_reason",
            "on_scene_minutes",
            "nps_score",
        ]
        read_only_fields = fields


class ShiftSerializer(serializers.ModelSerializer):
    market = serializers.IntegerField(source="market_id", read_only=True)
    break_skipped = serializers.BooleanField(read_only=True, help_text="No break taken")

    class Meta:
        model = ProviderShift
        fields = [
            "id",
            "shift_team_id",
            "market",
            "service_date",
            "start",
            "end",
            "patients_seen",
            "out_the_door",
            "en_route",
            "on_scene",
            "on_break",
            "idle",
            "break_skipped",
        ]
        read_only_fields = fields
        extra_kwargs = {
            name: {"help_text": "Seconds"}
            for name in ("out_the_door", "en_route", "on_scene", "on_break", "idle")
        }


class BreakdownSerializer(serializers.ModelSerializer):
    class Meta:
        model = ShiftBreakdown
        fields = ["id", "stage", "start", "end", "latitude_e6", "longitude_e6"]
        read_only_fields = fields


class LeaderHubRootSerializer(serializers.Serializer):
    """What the caller can open: their markets and their own provider record."""

    endpoints = serializers.DictField(
        child=serializers.CharField(), help_text="Endpoint templates by name"
    )
    my_markets = MarketBriefSerializer(many=True, help_text="Markets you oversee")
    my_provider_id = serializers.IntegerField(allow_null=True)
