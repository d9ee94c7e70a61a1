from django.urls import path

from opsintel.access import app_urlpatterns
from opsintel.views import app_index

app_name = "advocacy"

urlpatterns = app_urlpatterns(
    "advocacy",
    [
        path("", app_index, {"app_label": "advocacy"}, name="index"),
    ],
)
