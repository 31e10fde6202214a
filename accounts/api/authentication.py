"""Token authentication whose tokens expire (``HEMATOVISION_TOKEN_TTL_HOURS``); an expired token is ended."""

from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from accounts.selectors import token_is_expired
from accounts.services import token_revoke


class ExpiringTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        if token_is_expired(token=token):
            token_revoke(user=user)
            raise exceptions.AuthenticationFailed("The token has expired: ask for a new one at /api/auth/token/.")
        return user, token
