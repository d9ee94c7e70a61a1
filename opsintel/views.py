from django.apps import apps
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from opsintel.health import run_checks
from opsintel.platform import visible_apps
from opsintel.roles import roles_for_app


@login_required
def home(request):
    cards = [
        {"app": app, "headline": app.headline(request.user)} for app in visible_apps(request.user)
    ]
    return render(request, "opsintel/home.html", {"cards": cards})


@never_cache
@require_GET
@transaction.non_atomic_requests  # a broken database must be reported, not raised
def healthz(request):
    checks, healthy = run_checks()
    return JsonResponse(
        {"status": "ok" if healthy else "error", "checks": checks},
        status=200 if healthy else 503,
    )


def app_index(request, app_label):
    """An app's landing page: what it is for, and the user's roles in it.

    Reached only through the app's guarded urlpatterns (opsintel.access.app_urlpatterns).
    """
    app_config = apps.get_app_config(app_label)
    role_names = {role.name for role in roles_for_app(app_label)}
    context = {
        "app": app_config,
        "headline": app_config.headline(request.user),
        "my_roles": sorted(request.user.role_names & role_names),
    }
    return render(request, f"{app_label}/index.html", context)
