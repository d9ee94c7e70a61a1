from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from opsintel import notice_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("notices/", notice_views.notice_list, name="notices"),
    path("notices/read/", notice_views.mark_all_read, name="notices_mark_all_read"),
    path("notices/<int:pk>/read/", notice_views.mark_one_read, name="notice_mark_read"),
    path("admin/", admin.site.urls),
    path("api/campaigns/", include("campaigns.api.urls")),
    path("api/advocacy/", include("advocacy.api.urls")),
    path("api/rcm/", include("rcm.api.urls")),
    path("api/automation/", include("rcm.api.automation_urls")),
    path("api/engagement/", include("engagement.api.urls")),
    path("api/", include("opsintel.api.urls")),
    path("v1/leader-hub-metrics/", include("leaderhub.api.urls")),
    path("campaigns/", include("campaigns.urls")),
    path("leader-hub/", include("leaderhub.urls")),
    path("advocacy/", include("advocacy.urls")),
    path("rcm/", include("rcm.urls")),
    path("engagement/", include("engagement.urls")),
]
