"""django-import-export resources for the Leader Hub admin (the small tables).

Rows are matched on natural keys (market group and market short names, the provider's source
system id, the leader's username) and name related rows by those keys; every instance is
validated by the model (`full_clean`), so the preview shows bad values row by row. Exports go
through SafeModelResource, which neutralises spreadsheet formulas.

Visits, shifts and breakdowns (millions of rows) load through `manage.py import_leaderhub`
(leaderhub.importers), set-based and much faster than this row-by-row admin import.
"""

from django.contrib.auth import get_user_model
from import_export import fields
from import_export.widgets import ForeignKeyWidget, ManyToManyWidget

from leaderhub.models import LeaderAccess, Market, MarketActiveProvider, MarketGroup, Provider
from opsintel.importexport import SafeModelResource


def _market_field(attribute="market", column_name="market"):
    return fields.Field(
        attribute=attribute,
        column_name=column_name,
        widget=ForeignKeyWidget(Market, field="short_name"),
    )


class MarketGroupResource(SafeModelResource):
    class Meta:
        model = MarketGroup
        fields = ["short_name", "name"]
        import_id_fields = ["short_name"]
        clean_model_instances = True
        skip_unchanged = True


class MarketResource(SafeModelResource):
    market_group = fields.Field(
        attribute="market_group",
        column_name="market_group",
        widget=ForeignKeyWidget(MarketGroup, field="short_name"),
    )

    class Meta:
        model = Market
        fields = ["short_name", "name", "market_group"]
        import_id_fields = ["short_name"]
        clean_model_instances = True
        skip_unchanged = True

    def filter_export(self, queryset, **kwargs):
        return super().filter_export(queryset, **kwargs).select_related("market_group")


class ProviderResource(SafeModelResource):
    """`id` is the provider's id in the source system (as in providers.csv)."""

    user = fields.Field(
        attribute="user",
        column_name="username",
        widget=ForeignKeyWidget(get_user_model(), field="username"),
    )

    class Meta:
        model = Provider
        fields = ["id", "first_name", "last_name", "avatar_url", "job_title", "user"]
        import_id_fields = ["id"]
        clean_model_instances = True
        skip_unchanged = True

    def filter_export(self, queryset, **kwargs):
        return super().filter_export(queryset, **kwargs).select_related("user")


class MarketActiveProviderResource(SafeModelResource):
    market = _market_field()
    provider = fields.Field(
        attribute="provider", column_name="provider_id", widget=ForeignKeyWidget(Provider)
    )

    class Meta:
        model = MarketActiveProvider
        fields = ["market", "provider"]
        import_id_fields = ["market", "provider"]
        clean_model_instances = True
        skip_unchanged = True

    def filter_export(self, queryset, **kwargs):
        return super().filter_export(queryset, **kwargs).select_related("market")


class LeaderAccessResource(SafeModelResource):
    user = fields.Field(
        attribute="user",
        column_name="username",
        widget=ForeignKeyWidget(get_user_model(), field="username"),
    )
    markets = fields.Field(
        attribute="markets",
        column_name="markets",
        widget=ManyToManyWidget(Market, field="short_name", separator=","),
    )

    class Meta:
        model = LeaderAccess
        fields = ["user", "markets"]
        import_id_fields = ["user"]
        clean_model_instances = True
        skip_unchanged = True

    def filter_export(self, queryset, **kwargs):
        queryset = super().filter_export(queryset, **kwargs)
        return queryset.select_related("user").prefetch_related("markets")
