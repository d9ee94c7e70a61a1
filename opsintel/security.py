"""Security plumbing the settings point at: who may use the admin, the sign-in lockout page,
the client address behind a proxy, and the absolute session lifetime.

See docs/security.md for what is protected, how, and how it is tested.
"""

import time

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.contrib.auth import logout
from django.shortcuts import render


class OpsIntelAdminSite(admin.AdminSite):
    """The Django admin, open to platform admins (the role, or superusers) only.

    Django's own rule is "active staff": staff who hold an app role only (a care manager given
    `is_staff` by mistake) are refused here, whatever model permissions their role carries.
    """

    def has_permission(self, request):
        user = request.user
        return bool(super().has_permission(request) and getattr(user, "is_platform_admin", False))


class OpsIntelAdminConfig(AdminConfig):
    """Installed instead of "django.contrib.admin" so `admin.site` is an OpsIntelAdminSite."""

    default_site = "opsintel.security.OpsIntelAdminSite"


def client_ip(request):
    """The client's address for the sign-in lockout (django-axes' AXES_CLIENT_IP_CALLABLE).

    REMOTE_ADDR unless TRUSTED_PROXY_COUNT proxies stand in front of the app: then the address
    that the outermost trusted proxy saw, counted from the right of X-Forwarded-For (entries
    further left are whatever the client chose to send, so they are never trusted).
    """
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies > 0:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR") or None


def lockout_response(request, original_response=None, credentials=None):
    """The page shown while sign-in is paused (django-axes' AXES_LOCKOUT_CALLABLE).

    The same words for a username that exists and one that does not, and for a lockout by
    username or by address, so the page tells an attacker nothing.
    """
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(
        request,
        "registration/locked_out.html",
        {"lockout_minutes": minutes},
        status=settings.AXES_HTTP_RESPONSE_CODE,
    )


SESSION_STARTED_KEY = "_opsintel_session_started"


class SessionLifetimeMiddleware:
    """Signs a user out SESSION_MAX_AGE seconds after sign-in, however active they are.

    SESSION_COOKIE_AGE with SESSION_SAVE_EVERY_REQUEST is the idle timeout; this is the
    absolute one, so a session (or a stolen cookie) kept alive by activity still ends.
    Goes after AuthenticationMiddleware.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = int(time.time())
            started = request.session.get(SESSION_STARTED_KEY)
            if started is None:
                request.session[SESSION_STARTED_KEY] = now
            elif now - started > settings.SESSION_MAX_AGE:
                logout(request)  # flushes the session; the view sees an anonymous user
        return self.get_response(request)
