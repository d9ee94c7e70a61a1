"""Who may enter an app: a role in it (its "use" permission).

Anonymous visitors are sent to the login page; signed-in users without a role in the app get
403. Which rows they then see inside the app is decided by scoping (opsintel.scoping).
"""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.urls import URLPattern, URLResolver
from rest_framework.permissions import BasePermission


def app_access_required(app_label):
    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not request.user.can_use_app(app_label):
                raise PermissionDenied(f"You have no role in {app_label}.")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def app_urlpatterns(app_label, patterns):
    """Guard every page of an app at once, so no URL can be added without the check."""
    guard = app_access_required(app_label)
    for entry in patterns:
        if isinstance(entry, URLPattern):
            entry.callback = guard(entry.callback)
        elif isinstance(entry, URLResolver):
            app_urlpatterns(app_label, entry.url_patterns)
    return patterns


def app_api_permission(app_label):
    """A DRF permission class for an app's API: 403 without a role in the app."""

    class HasAppRole(BasePermission):
        message = f"You have no role in {app_label}."

        def has_permission(self, request, view):
            user = request.user
            return bool(user and user.is_authenticated and user.can_use_app(app_label))

    HasAppRole.__name__ = f"HasAppRole_{app_label}"
    return HasAppRole
