"""Account reads: API tokens by key, and whether one has expired."""

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from accounts.models import ApiToken, token_digest


def token_get(*, key: str) -> ApiToken | None:
    """The token whose key this is (looked up by its digest: the key is never stored), or None. Read with
    ``get``: the digest is unique, so the tokens' default ordering would only be compiled and sorted for nothing
    on every API request."""
    try:
        return ApiToken.objects.select_related("user").get(digest=token_digest(key))
    except ApiToken.DoesNotExist:
        return None


def token_expires_before() -> datetime | None:
    """Tokens created before this moment have expired (``HEMATOVISION_TOKEN_TTL_HOURS``); None: tokens do not."""
    hours = settings.HEMATOVISION_TOKEN_TTL_HOURS
    return timezone.now() - timedelta(hours=hours) if hours else None


def token_is_expired(*, token: ApiToken) -> bool:
    """Whether an API token is older than ``HEMATOVISION_TOKEN_TTL_HOURS`` (0: tokens do not expire)."""
    expires_before = token_expires_before()
    return expires_before is not None and token.created < expires_before
