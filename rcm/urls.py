from django.urls import path

from opsintel.access import app_urlpatterns
from opsintel.views import app_index

app_name = "rcm"

urlpatterns = app_urlpatterns(
    "rcm",
    [
        path("", app_index, {"app_label": "rcm"}, name="index"),
    ],
)
