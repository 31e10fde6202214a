"""Account reads."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone


def token_is_expired(*, token) -> bool:
    """Whether an API token is older than ``HEMATOVISION_TOKEN_TTL_HOURS`` (0: tokens do not expire)."""
    hours = settings.HEMATOVISION_TOKEN_TTL_HOURS
    return bool(hours) and token.created < timezone.now() - timedelta(hours=hours)
