"""The custom user, and what becomes of an owner's records when their account is deleted."""

from django.contrib.auth.models import AbstractUser
from django.db import models


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


def cascade_unless_verified(collector, field, sub_objs, using):
    """``on_delete`` for an owner: their records go with the account, except any that the record's model names
    ``IN_A_VERIFIED_SAMPLE``, which the laboratory must keep (deactivate the account instead). The admin lists
    those as protected; code gets ``ProtectedError`` and nothing is deleted."""
    kept = sub_objs.filter(field.model.IN_A_VERIFIED_SAMPLE)
    if kept.exists():
        raise models.ProtectedError("Records of a verified sample stay.", set(kept))  # Django words the error
    models.CASCADE(collector, field, sub_objs, using)
