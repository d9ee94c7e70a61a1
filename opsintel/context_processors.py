from django.utils.functional import SimpleLazyObject

from opsintel.notices import unread_count
from opsintel.platform import visible_apps


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_apps": []}
    return {
        "nav_apps": visible_apps(user),
        # Counted when the header shows it, so responses that never render it pay nothing.
        "unread_notices": SimpleLazyObject(lambda: unread_count(user)),
    }
