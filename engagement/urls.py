from django.urls import path

from engagement import analytics_views, reminder_views, views
from opsintel.access import app_urlpatterns

app_name = "engagement"

urlpatterns = app_urlpatterns(
    "engagement",
    [
        path("", views.index, name="index"),
        path("schedule/", views.schedule, name="schedule"),
        path("book/", views.book, name="book"),
        path("appointments/<int:pk>/", views.appointment_detail, name="appointment_detail"),
        path(
            "appointments/<int:pk>/<str:action>/",
            views.appointment_action,
            name="appointment_action",
        ),
        path("patients/", views.patient_list, name="patient_list"),
        path("patients/new/", views.patient_create, name="patient_create"),
        path("patients/<int:pk>/", views.patient_detail, name="patient_detail"),
        path("tasks/", views.task_list, name="task_list"),
        path("tasks/<int:pk>/complete/", views.task_complete, name="task_complete"),
        path("time-off/", views.time_off, name="time_off"),
        path("time-off/<int:pk>/<str:decision>/", views.time_off_decide, name="time_off_decide"),
        path("reminders/", reminder_views.undelivered, name="reminders"),
        path("dashboard/", analytics_views.dashboard, name="dashboard"),
        path("reports/", analytics_views.report_list, name="report_list"),
        path("reports/<int:pk>/", analytics_views.report_detail, name="report_detail"),
        path("reports/<int:pk>.csv", analytics_views.report_csv, name="report_csv"),
    ],
)
