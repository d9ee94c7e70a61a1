"""Placeholder: being written."""

from django.http import HttpResponse


def _todo(request, *args, **kwargs):
    return HttpResponse("Not built yet", status=501)


def index(request):
    from opsintel.views import app_index

    return app_index(request, "engagement")


schedule = book = appointment_detail = appointment_action = patient_list = _todo
patient_create = patient_detail = task_list = task_complete = time_off = time_off_decide = _todo
