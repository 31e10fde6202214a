"""The API token endpoint: POST credentials for a token, DELETE to end it."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import NotAuthenticated
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle

from accounts.services import token_issue, token_revoke
from accounts.views import locked_out
from classifier.api.serializers import ErrorSerializer

INVALID = OpenApiResponse(ErrorSerializer, description="The request was refused; the message says why.")


class TokenApi(ObtainAuthToken):
    """POST credentials for a token (throttled; django-axes locks a username out after repeated failures);
    DELETE ends the token the request authenticates with."""

    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "token"

    @extend_schema(
        summary="Get your API token",
        responses={200: OpenApiTypes.OBJECT, 400: INVALID, 429: OpenApiResponse(ErrorSerializer)},
    )
    def post(self, request, *args, **kwargs):
        credentials = self.get_serializer(data=request.data)
        if not credentials.is_valid() and getattr(request, "axes_locked_out", False):
            return locked_out(request)
        credentials.is_valid(raise_exception=True)
        return Response({"token": token_issue(user=credentials.validated_data["user"]).key})

    @extend_schema(summary="End your API token", request=None, responses={204: None, 401: ErrorSerializer})
    def delete(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            raise NotAuthenticated()
        token_revoke(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
