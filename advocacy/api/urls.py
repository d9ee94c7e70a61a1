from django.urls import path
from rest_framework import routers

from advocacy.api import views

app_name = "advocacy-api"


class AdvocacyApiRoot(routers.APIRootView):
    """The advocacy API: cases (with their interactions, events and feedback), KPIs, caseload,
    bottlenecks and the SLA-risk queue."""

    permission_classes = views.ADVOCACY_ROLE


router = routers.SimpleRouter()
router.register("cases", views.CaseViewSet, basename="case")
router.register("caseload", views.CaseloadViewSet, basename="caseload")
router.register("risk", views.RiskViewSet, basename="risk")

ROOT = {
    "cases": "case-list",
    "kpis": "kpis",
    "caseload": "caseload-list",
    "bottlenecks": "bottlenecks",
    "risk": "risk-list",
}

urlpatterns = [
    path("", AdvocacyApiRoot.as_view(api_root_dict=ROOT), name="api-root"),
    path("kpis/", views.KpiView.as_view(), name="kpis"),
    path("bottlenecks/", views.BottleneckView.as_view(), name="bottlenecks"),
    *router.urls,
]
