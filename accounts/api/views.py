"""The API token endpoint: POST credentials for a token, DELETE to end it."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import parsers, renderers, serializers, status
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.exceptions import NotAuthenticated
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle

from accounts.models import ApiToken
from accounts.services import token_end, token_issue, token_revoke
from accounts.views import locked_out
from classifier.api.serializers import ErrorSerializer

INVALID = OpenApiResponse(ErrorSerializer, description="The request was refused; the message says why.")


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(
        help_text="Send it as `Authorization: Token <token>`. Shown only now: the server keeps only its hash."
    )


class TokenApi(GenericAPIView):
    """POST credentials for a new token (throttled; django-axes locks a username out after repeated failures);
    DELETE ends the token the request authenticates with (a session: all of the user's tokens)."""

    permission_classes = ()
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "token"
    parser_classes = [parsers.FormParser, parsers.MultiPartParser, parsers.JSONParser]
    renderer_classes = [renderers.JSONRenderer]
    serializer_class = AuthTokenSerializer

    @extend_schema(
        summary="Get an API token",
        responses={200: TokenSerializer, 400: INVALID, 429: OpenApiResponse(ErrorSerializer)},
    )
    def post(self, request, *args, **kwargs):
        credentials = self.get_serializer(data=request.data)
        if not credentials.is_valid() and getattr(request, "axes_locked_out", False):
            return locked_out(request)
        credentials.is_valid(raise_exception=True)
        return Response({"token": token_issue(user=credentials.validated_data["user"])})

    @extend_schema(summary="End your API token", request=None, responses={204: None, 401: ErrorSerializer})
    def delete(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            raise NotAuthenticated()
        if isinstance(request.auth, ApiToken):
            token_end(token=request.auth)
        else:
            token_revoke(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
