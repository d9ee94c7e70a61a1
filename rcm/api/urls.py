from django.urls import path
from rest_framework import routers
from rest_framework.response import Response
from rest_framework.reverse import reverse

from rcm.api import automation_urls, views

app_name = "rcm-api"


class RcmApiRoot(routers.APIRootView):
    """The rcm API: claims (with their assignment history), follow-up calls, generated
    documents, and the automation endpoints under /api/automation/."""

    permission_classes = views.RCM_ROLE

    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        for name in automation_urls.ROOT:
            response.data[name] = reverse(f"{automation_urls.app_name}:{name}", request=request)
        return Response(response.data)


router = routers.SimpleRouter()
router.register("claims", views.ClaimViewSet, basename="claim")
router.register("follow-ups", views.FollowUpViewSet, basename="follow-up")
router.register("documents", views.DocumentViewSet, basename="document")

ROOT = {"claims": "claim-list", "follow-ups": "follow-up-list", "documents": "document-list"}

urlpatterns = [
    path("", RcmApiRoot.as_view(api_root_dict=ROOT), name="api-root"),
    *router.urls,
]
