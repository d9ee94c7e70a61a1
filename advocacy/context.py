"""What every advocacy page's navigation needs."""

from django.shortcuts import render

from advocacy.models import Advocate, leads_operations


def own_advocate(user):
    """The advocate record of the signed-in user, or None."""
    if not user.is_authenticated:
        return None
    return Advocate.objects.filter(user=user).first()


def render_page(request, template, context):
    """Render an advocacy page with the navigation flags (is_leader, is_advocate)."""
    context.setdefault("is_leader", leads_operations(request.user))
    context.setdefault("advocate", own_advocate(request.user))
    context.setdefault("is_advocate", context["advocate"] is not None)
    return render(request, template, context)
