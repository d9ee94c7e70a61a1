from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from opsintel.api.serializers import MeSerializer
from opsintel.audit import Action, record_event
from opsintel.platform import visible_apps


class ApiRootView(APIView):
    """Entry point: the platform's endpoints, and the API root of each app the user may use."""

    @extend_schema(
        responses=inline_serializer(
            "ApiRoot", fields={"endpoints": serializers.DictField(child=serializers.URLField())}
        )
    )
    def get(self, request, format=None):
        names = ["me", "token_obtain", "token_refresh", "schema", "docs"]
        endpoints = {name: reverse(f"api:{name}", request=request) for name in names}
        for app in visible_apps(request.user):
            if app.api_root_url_name:
                endpoints[app.label] = reverse(app.api_root_url_name, request=request)
        return Response({"endpoints": endpoints})


class MeView(APIView):
    """The signed-in user, their roles and the apps they may use."""

    @extend_schema(responses=MeSerializer)
    def get(self, request, format=None):
        return Response(MeSerializer(request.user).data)


class TokenObtainView(TokenObtainPairView):
    """Exchange a username and password for a bearer (access) and a refresh token."""

    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "token"

    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        try:
            serializer.is_valid(raise_exception=True)
        except TokenError as exc:
            raise InvalidToken(exc.args[0]) from exc
        except AuthenticationFailed as exc:
            # Answered, not raised: DRF rolls back the request's transaction on an exception,
            # and with it the lockout count and the failed-login audit event just written.
            return Response({"detail": exc.detail}, status=exc.status_code)
        record_event(
            Action.LOGIN, request=request, actor=serializer.user, description="API token issued"
        )
        return Response(serializer.validated_data)


class TokenRefreshThrottledView(TokenRefreshView):
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "token"
