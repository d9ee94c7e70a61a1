from rest_framework import routers

from campaigns.api import views

app_name = "campaigns-api"


class CampaignsApiRoot(routers.APIRootView):
    """The campaigns API: measures, available work, members, campaigns, assignments."""

    permission_classes = views.CAMPAIGNS_ROLE


class Router(routers.DefaultRouter):
    APIRootView = CampaignsApiRoot
    include_format_suffixes = False


router = Router()
router.register("measures", views.MeasureViewSet, basename="measure")
router.register("interventions", views.InterventionViewSet, basename="intervention")
router.register("members", views.MemberViewSet, basename="member")
router.register("campaigns", views.CampaignViewSet, basename="campaign")
router.register("assignments", views.AssignmentViewSet, basename="assignment")
router.register(
    "coordinators/workload", views.CoordinatorWorkloadViewSet, basename="coordinator-workload"
)

urlpatterns = router.urls
