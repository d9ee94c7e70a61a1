from django.urls import path

from opsintel.access import app_urlpatterns
from rcm import document_views, views

app_name = "rcm"

urlpatterns = app_urlpatterns(
    "rcm",
    [
        path("", views.index, name="index"),
        path("queue/", views.work_queue, name="work_queue"),
        path("claims/", views.claim_list, name="claim_list"),
        path("claims/<int:pk>/", views.claim_detail, name="claim_detail"),
        path("follow-ups/<int:pk>/complete/", views.complete_follow_up, name="complete_follow_up"),
        path("dashboard/", views.dashboard, name="dashboard"),
        path("automation/run/", views.run_automation, name="run_automation"),
        path("claims/<int:pk>/appeal/", document_views.generate_appeal, name="generate_appeal"),
        path(
            "claims/<int:pk>/documents/new/",
            document_views.generate_document,
            name="generate_document",
        ),
        path("documents/<int:pk>/", document_views.document_detail, name="document_detail"),
        path(
            "documents/<int:pk>.<str:fmt>",
            document_views.document_download,
            name="document_download",
        ),
    ],
)
