"""Advocacy dashboards (placeholder: being written)."""

from django.http import HttpResponse


def _todo(request, *args, **kwargs):
    return HttpResponse("Not built yet", status=501)


executive = operations = root_cause = refresh_rollups = _todo
