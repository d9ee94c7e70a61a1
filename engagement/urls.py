from django.urls import path

from opsintel.access import app_urlpatterns
from opsintel.views import app_index

app_name = "engagement"

urlpatterns = app_urlpatterns(
    "engagement",
    [
        path("", app_index, {"app_label": "engagement"}, name="index"),
    ],
)
