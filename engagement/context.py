"""What every pharmacy page's navigation needs."""

from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from engagement import access


def require(request, capability):
    """403 unless the user's role allows `capability` (engagement.access.MATRIX)."""
    if not access.can(request.user, capability):
        raise PermissionDenied("Your role in the pharmacy does not include this.")


def render_page(request, template, context):
    """Render a pharmacy page with the navigation flags (`may.book`, `may.performance` …)."""
    context.setdefault("staff_member", access.staff_of(request.user))
    context.setdefault(
        "may",
        {
            name: access.can(request.user, value)
            for name, value in (
                ("book", access.BOOK),
                ("care", access.CARE),
                ("communicate", access.COMMUNICATE),
                ("schedule_team", access.SCHEDULE_TEAM),
                ("performance", access.PERFORMANCE),
                ("basic_reports", access.BASIC_REPORTS),
            )
        },
    )
    return render(request, template, context)
