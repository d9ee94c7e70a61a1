"""What every AR follow-up page's navigation needs."""

from django.shortcuts import render

from rcm.models import Agent, manages_ar


def own_agent(user):
    """The AR agent record of the signed-in user, or None."""
    if not user.is_authenticated:
        return None
    return Agent.objects.filter(user=user).first()


def render_page(request, template, context):
    """Render an AR page with the navigation flags (is_manager, is_agent)."""
    context.setdefault("is_manager", manages_ar(request.user))
    context.setdefault("agent", own_agent(request.user))
    context.setdefault("is_agent", context["agent"] is not None)
    return render(request, template, context)
