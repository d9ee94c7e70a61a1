from django.urls import path
from rest_framework import routers

from engagement.api import views

app_name = "engagement-api"


class EngagementApiRoot(routers.APIRootView):
    """The pharmacy engagement API: appointment types, slot search, appointments (book,
    cancel, reschedule, status, survey, reminders), follow-up tasks, patients and KPIs."""

    permission_classes = views.ENGAGEMENT_ROLE


router = routers.SimpleRouter()
router.register("appointment-types", views.AppointmentTypeViewSet, basename="appointment-type")
router.register("appointments", views.AppointmentViewSet, basename="appointment")
router.register("tasks", views.TaskViewSet, basename="task")
router.register("patients", views.PatientViewSet, basename="patient")

ROOT = {
    "appointment-types": "appointment-type-list",
    "slots": "slots",
    "appointments": "appointment-list",
    "tasks": "task-list",
    "patients": "patient-list",
    "kpis": "kpis",
}

urlpatterns = [
    path("", EngagementApiRoot.as_view(api_root_dict=ROOT), name="api-root"),
    path("slots/", views.SlotView.as_view(), name="slots"),
    path("kpis/", views.KpiView.as_view(), name="kpis"),
    *router.urls,
]
