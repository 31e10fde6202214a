"""Token authentication against the hashed tokens (``accounts.models.ApiToken``), which expire after
``HEMATOVISION_TOKEN_TTL_HOURS``; an expired token is ended. The header stays ``Authorization: Token <key>``."""

from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from accounts.selectors import token_get, token_is_expired
from accounts.services import token_end


class ExpiringTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key):
        token = token_get(key=key)
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        if token_is_expired(token=token):
            token_end(token=token)
            raise exceptions.AuthenticationFailed("The token has expired: ask for a new one at /api/auth/token/.")
        return token.user, token
