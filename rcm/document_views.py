"""Generated documents (placeholder: being written)."""

from django.http import HttpResponse


def _todo(request, *args, **kwargs):
    return HttpResponse("Not built yet", status=501)


generate_appeal = generate_document = document_detail = document_download = _todo
