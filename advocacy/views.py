"""Advocacy work pages (placeholder: being written)."""

from django.http import HttpResponse


def _todo(request, *args, **kwargs):
    return HttpResponse("Not built yet", status=501)


index = my_cases = case_list = case_detail = log_interaction = change_status = _todo
assign_case = risk_queue = _todo
