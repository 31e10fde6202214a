"""Account writes: API tokens, issued and ended; and who may delete a record a user owns."""

import secrets

from django.core.exceptions import PermissionDenied
from django.db import transaction

from accounts.models import TOKEN_PREFIX_LENGTH, ApiToken, token_digest
from accounts.selectors import token_expires_before

TOKEN_KEY_BYTES = 20  # 40 hexadecimal characters, as Django REST framework's tokens were
MAX_TOKENS_PER_USER = 20  # one per script or machine; asking for more ends the oldest


@transaction.atomic
def token_issue(*, user) -> str:
    """A new API token for the user; its key, which is shown only now (the database keeps its digest).

    The user's expired tokens are removed, and past ``MAX_TOKENS_PER_USER`` the oldest ones end."""
    key = secrets.token_hex(TOKEN_KEY_BYTES)
    ApiToken.objects.create(user=user, prefix=key[:TOKEN_PREFIX_LENGTH], digest=token_digest(key))
    tokens = ApiToken.objects.filter(user=user)
    expires_before = token_expires_before()
    if expires_before is not None:
        tokens.filter(created__lt=expires_before).delete()
    kept = tokens.order_by("-created", "-id").values_list("pk", flat=True)[:MAX_TOKENS_PER_USER]
    tokens.exclude(pk__in=list(kept)).delete()
    return key


def token_end(*, token: ApiToken) -> None:
    """End one API token (the client's own request, or its expiry)."""
    ApiToken.objects.filter(pk=token.pk).delete()


def token_revoke(*, user) -> int:
    """End every API token of the user (on log-out and on a password change); how many."""
    deleted, _ = ApiToken.objects.filter(user=user).delete()
    return deleted


def owner_or_staff_check(*, actor, record, what: str) -> None:
    """Only a record's owner or staff (``actor`` None: the system) delete it: lab members see each other's records
    but do not delete them."""
    if actor is not None and not actor.is_staff and record.owner_id != actor.pk:
        raise PermissionDenied(f"Only the person who uploaded {what} (or staff) can delete it.")
