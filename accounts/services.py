"""Account writes: API tokens, issued and ended; and who may delete a record a user owns."""

from django.core.exceptions import PermissionDenied
from rest_framework.authtoken.models import Token

from accounts.selectors import token_is_expired


def token_issue(*, user) -> Token:
    """The user's API token: the existing one while it lasts, a new one once it has expired."""
    token, created = Token.objects.get_or_create(user=user)
    if not created and token_is_expired(token=token):
        token.delete()
        token = Token.objects.create(user=user)
    return token


def token_revoke(*, user) -> int:
    """End the user's API token (on log-out, a password change, expiry or the client's own request)."""
    deleted, _ = Token.objects.filter(user=user).delete()
    return deleted


def owner_or_staff_check(*, actor, record, what: str) -> None:
    """Only a record's owner or staff (``actor`` None: the system) delete it: lab members see each other's records
    but do not delete them."""
    if actor is not None and not actor.is_staff and record.owner_id != actor.pk:
        raise PermissionDenied(f"Only the person who uploaded {what} (or staff) can delete it.")
