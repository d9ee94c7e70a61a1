"""AR follow-up pages (placeholder: being written)."""

from django.http import HttpResponse

from opsintel.views import app_index


def index(request):
    return app_index(request, "rcm")


def _todo(request, *args, **kwargs):
    return HttpResponse("Not built yet", status=501)


work_queue = claim_list = claim_detail = complete_follow_up = dashboard = run_automation = _todo
