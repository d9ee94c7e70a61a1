from django.urls import path

from leaderhub import views
from opsintel.access import app_urlpatterns

app_name = "leaderhub"

urlpatterns = app_urlpatterns(
    "leaderhub",
    [
        path("", views.index, name="index"),
        path("markets/", views.markets, name="markets"),
        path("me/", views.me, name="me"),
        path("providers/<int:pk>/", views.provider, name="provider"),
        path("shifts/<int:pk>/", views.shift, name="shift"),
    ],
)
