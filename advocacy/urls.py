from django.urls import path

from advocacy import dashboards, views
from opsintel.access import app_urlpatterns

app_name = "advocacy"

urlpatterns = app_urlpatterns(
    "advocacy",
    [
        path("", views.index, name="index"),
        path("my-cases/", views.my_cases, name="my_cases"),
        path("cases/", views.case_list, name="case_list"),
        path("cases/<int:pk>/", views.case_detail, name="case_detail"),
        path("cases/<int:pk>/interactions/", views.log_interaction, name="log_interaction"),
        path("cases/<int:pk>/status/", views.change_status, name="change_status"),
        path("cases/<int:pk>/assign/", views.assign_case, name="assign_case"),
        path("risk/", views.risk_queue, name="risk_queue"),
        path("dashboards/executive/", dashboards.executive, name="executive"),
        path("dashboards/operations/", dashboards.operations, name="operations"),
        path("dashboards/root-cause/", dashboards.root_cause, name="root_cause"),
        path("rollups/refresh/", dashboards.refresh_rollups, name="refresh_rollups"),
    ],
)
