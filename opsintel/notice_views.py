"""The notices page: a person's own notices, newest first, and marking them read."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from opsintel.notices import mark_read, own_notices

PAGE_SIZE = 50


@login_required
def notice_list(request):
    page = Paginator(own_notices(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    for notice in page.object_list:
        # A link is followed only within this site, whatever an app stored in it.
        notice.safe_link = (
            notice.link
            if notice.link
            and url_has_allowed_host_and_scheme(
                notice.link, allowed_hosts={request.get_host()}, require_https=request.is_secure()
            )
            else ""
        )
    # The unread count comes from the header badge's context (opsintel.context_processors).
    return render(request, "opsintel/notices.html", {"page": page})


@login_required
@require_POST
def mark_all_read(request):
    count = mark_read(request.user)
    messages.success(request, f"Marked {count} notice{'s' * (count != 1)} read.")
    return redirect("notices")


@login_required
@require_POST
def mark_one_read(request, pk):
    get_object_or_404(own_notices(request.user), pk=pk)
    mark_read(request.user, [pk])
    return redirect("notices")
