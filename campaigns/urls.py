from django.urls import path

from campaigns import views
from opsintel.access import app_urlpatterns

app_name = "campaigns"

urlpatterns = app_urlpatterns(
    "campaigns",
    [
        path("", views.index, name="index"),
        path("dashboard/", views.dashboard, name="dashboard"),
        path("build/", views.build, name="build"),
        path("build/select/", views.select, name="select"),
        path("list/", views.campaign_list, name="list"),
        path("mobile/", views.mobile, name="mobile"),
        path("my-list/", views.my_list, name="my_list"),
        path("assignments/<int:pk>/outcome/", views.record_outcome, name="record_outcome"),
        path("<int:pk>/", views.detail, name="detail"),
        path("<int:pk>/rebalance/", views.rebalance, name="rebalance"),
        path("<int:pk>/move/", views.move, name="move"),
        path("<int:pk>/archive/", views.archive, name="archive"),
        path("<int:pk>/export/crm.csv", views.export_crm, name="export_crm"),
        path("<int:pk>/export/call-list.csv", views.export_call_list, name="export_call_list"),
        path("<int:pk>/call-list/", views.call_list, name="call_list"),
    ],
)
