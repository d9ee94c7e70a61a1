"""Scope first: every queryset that reaches a page, an export or the API goes through here.

Each app's models use a QuerySet that subclasses `ScopedQuerySet` and writes its one rule in
`scope_for(user)` (their markets, their assigned work, their location). Pages, exports, API
viewsets and tasks call `.visible_to(user)`; detail pages use `get_visible_or_404`, so an object
outside the user's scope answers 404 and its existence is not revealed.
"""

from django.db import models
from django.shortcuts import get_object_or_404


class ScopedQuerySet(models.QuerySet):
    def visible_to(self, user):
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_platform_admin:
            return self.all()
        return self.scope_for(user)

    def scope_for(self, user):
        """Rows this (authenticated, active, non-admin) user may see. Apps override this."""
        raise NotImplementedError(f"{self.model.__name__} querysets must define scope_for(user)")


def get_visible_or_404(queryset, user, **lookups):
    """The object matching `lookups` within the user's scope, else Http404."""
    if isinstance(queryset, type):
        queryset = queryset._default_manager.all()
    return get_object_or_404(queryset.visible_to(user), **lookups)
