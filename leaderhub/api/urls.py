"""/v1/leader-hub-metrics/ — the paths of the Leader Hub issue, exactly (no trailing slash)."""

from django.urls import path

from leaderhub.api import views

app_name = "leaderhub-api"

urlpatterns = [
    path("", views.ApiRootView.as_view(), name="api-root"),
    path("markets/<int:market_id>", views.MarketView.as_view(), name="market"),
    path(
        "markets/<int:market_id>/providers",
        views.MarketProvidersView.as_view(),
        name="market-providers",
    ),
    path("providers/<int:provider_id>", views.ProviderView.as_view(), name="provider"),
    path(
        "providers/<int:provider_id>/provider-visits",
        views.ProviderVisitsView.as_view(),
        name="provider-visits",
    ),
    path(
        "providers/<int:provider_id>/provider-shifts",
        views.ProviderShiftsView.as_view(),
        name="provider-shifts",
    ),
    path(
        "provider-shifts/<int:provider_shift_id>/provider-shift-breakdowns",
        views.ShiftBreakdownsView.as_view(),
        name="provider-shift-breakdowns",
    ),
]
