"""/api/automation/…: the paths are exactly as AR clients call them, without a trailing
slash; the same path with a slash answers too (no redirect, which would lose a POST body).
The slash variants are left out of the schema so each operation is documented once."""

from django.urls import path

from rcm.api import views

app_name = "automation-api"

ENDPOINTS = (
    ("assign-claims", views.AssignClaimsView),
    ("generate-appeal", views.GenerateAppealView),
    ("schedule-followups", views.ScheduleFollowUpsView),
    ("generate-document", views.GenerateDocumentView),
    ("metrics", views.MetricsView),
)

ROOT = tuple(name for name, _view in ENDPOINTS)

urlpatterns = [
    entry
    for name, view in ENDPOINTS
    for entry in (
        path(name, view.as_view(), name=name),
        path(f"{name}/", view.as_view(schema=None)),
    )
]
