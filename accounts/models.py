"""The custom user, their API tokens (kept as a hash), and what becomes of an owner's records when their account
is deleted."""

import hashlib

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone

TOKEN_PREFIX_LENGTH = 8


class User(AbstractUser):
    """Django's user, as our own model from the first migration, so lab membership could be added later.

    It was ``classifier.User`` until the app split; the table keeps that name, so no row moved."""

    class Meta(AbstractUser.Meta):
        db_table = "classifier_user"

    def __str__(self) -> str:
        """ "Rita Levi (rita)": the name people know, and the login that tells two Ritas apart (the admin's lists,
        choices and audit trail); the login alone where no name is set."""
        name = self.get_full_name()
        return f"{name} ({self.get_username()})" if name else self.get_username()


def token_digest(key: str) -> str:
    """The sha256 of a token's key, which is all the database keeps of it. One fast hash suffices: a key is 160
    random bits (no dictionary to try), unlike a password, which needs a slow, salted hash."""
    return hashlib.sha256(key.encode()).hexdigest()


class ApiToken(models.Model):
    """An API token, stored as the digest of its key and the key's first characters: a copy of the database, or
    an administrator's screen, shows which token is which, never one to log in with. The key itself is shown once,
    in the answer that issues it.

    A user may hold several (one per script or machine); each ends on its own (expiry, ``DELETE
    /api/auth/token/``) and all of them on log-out and password change."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    prefix = models.CharField(
        max_length=TOKEN_PREFIX_LENGTH, help_text="The key's first characters: enough to tell tokens apart."
    )
    digest = models.CharField(max_length=64, unique=True, help_text="sha256 of the key.")
    created = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created", "-id"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"


def cascade_unless_verified(collector, field, sub_objs, using):
    """``on_delete`` for an owner: their records go with the account, except any that the record's model names
    ``IN_A_VERIFIED_SAMPLE``, which the laboratory must keep (deactivate the account instead). The admin lists
    those as protected; code gets ``ProtectedError`` and nothing is deleted."""
    kept = sub_objs.filter(field.model.IN_A_VERIFIED_SAMPLE)
    if kept.exists():
        raise models.ProtectedError("Records of a verified sample stay.", set(kept))  # Django words the error
    models.CASCADE(collector, field, sub_objs, using)
