from opsintel.platform import visible_apps


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_apps": []}
    return {"nav_apps": visible_apps(user)}
