"""Query parameters of the Leader Hub API and its pagination: parsed and validated here, so a
bad one answers 400 naming it; the filtering itself is done by leaderhub.selectors."""

from rest_framework import serializers

from leaderhub import metrics as m
from leaderhub import selectors
from leaderhub.models import Provider
from opsintel.api.pagination import StandardPagination


class Params(serializers.Serializer):
    @classmethod
    def from_request(cls, request):
        params = cls(data=request.query_params)
        params.is_valid(raise_exception=True)
        return params.validated_data


class RankingParams(Params):
    """`?metric_type=&position=&search=&ordering=` of a market's care-team ranking."""

    metric_type = serializers.ChoiceField(
        choices=[(key, m.METRICS[key].label) for key in m.RANKED],
        default="on_scene_time",
        help_text="The metric ranked and shown",
    )
    position = serializers.ChoiceField(
        choices=Provider.Position.choices,
        required=False,
        help_text="Only APPs or only DHMTs (default: every position the metric is shown for)",
    )
    search = serializers.CharField(
        required=False, allow_blank=True, max_length=100, help_text="Provider name (contains)"
    )
    ordering = serializers.ChoiceField(
        choices=[
            *selectors.RANK_ORDERINGS,
            *(f"-{key}" for key in selectors.RANK_ORDERINGS),
        ],
        default="rank",
        help_text="rank (1 first), name, value or change; '-' reverses. "
        "Rows without a value come last",
    )

    def validate(self, data):
        position = data.get("position")
        metric = m.METRICS[data["metric_type"]]
        if position and not selectors.shows_metric(metric.key, position):
            shown = " and ".join(p.upper() for p in metric.positions)
            raise serializers.ValidationError(
                {"position": f"{metric.label} is ranked for {shown} only, not for {position}."}
            )
        return data


class VisitParams(Params):
    """`?search=&abx=&escalated=` of a provider's latest visits."""

    search = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=100,
        help_text="Patient athena id or patient name (contains)",
    )
    abx = serializers.BooleanField(
        required=False, allow_null=True, default=None, help_text="Antibiotics prescribed"
    )
    escalated = serializers.BooleanField(
        required=False, allow_null=True, default=None, help_text="Escalated"
    )


class ShiftParams(Params):
    """`?last_days=` of a provider's shifts."""

    last_days = serializers.IntegerField(
        min_value=1,
        max_value=3660,
        default=m.ON_TASK_DAYS,
        help_text="Shifts of the last N days, today included",
    )


class LeaderHubPagination(StandardPagination):
    """Page-number pagination that answers 400 for a page or page_size that is not a positive
    integer (DRF would silently fall back to the default size, or answer 404 for the page).
    A page past the end is still 404."""

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is not None:
            _positive_int_or_400(self.page_size_query_param, raw)
        return super().get_page_size(request)

    def paginate_queryset(self, queryset, request, view=None):
        raw = request.query_params.get(self.page_query_param)
        if raw is not None:
            _positive_int_or_400(self.page_query_param, raw)
        return super().paginate_queryset(queryset, request, view)


class ShiftPagination(LeaderHubPagination):
    page_size = 10


def _positive_int_or_400(name, raw):
    try:
        value = int(raw)
    except (TypeError, ValueError):
        value = 0
    if value < 1:
        raise serializers.ValidationError({name: "Must be a positive integer."})
    return value
