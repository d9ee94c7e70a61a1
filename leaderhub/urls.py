from django.urls import path

from opsintel.access import app_urlpatterns
from opsintel.views import app_index

app_name = "leaderhub"

urlpatterns = app_urlpatterns(
    "leaderhub",
    [
        path("", app_index, {"app_label": "leaderhub"}, name="index"),
    ],
)
