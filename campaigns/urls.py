from django.urls import path

from opsintel.access import app_urlpatterns
from opsintel.views import app_index

app_name = "campaigns"

urlpatterns = app_urlpatterns(
    "campaigns",
    [
        path("", app_index, {"app_label": "campaigns"}, name="index"),
    ],
)
