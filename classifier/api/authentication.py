"""Token authentication whose tokens expire (``HEMATOVISION_TOKEN_TTL_HOURS``); an expired token is ended."""

from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from classifier import selectors, services


class ExpiringTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        if selectors.token_is_expired(token=token):
            services.token_revoke(user=user)
            raise exceptions.AuthenticationFailed("The token has expired: ask for a new one at /api/auth/token/.")
        return user, token
