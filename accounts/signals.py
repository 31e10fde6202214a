"""Account events: failed log-ins are logged, and a log-out or a password change ends the user's API token."""

import logging

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_out, user_login_failed
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver

from accounts.services import token_revoke

logger = logging.getLogger("hematovision.security")


@receiver(user_login_failed)
def log_failed_login(sender, credentials, request=None, **kwargs):
    """Every failed authenticate() (web log-in, admin, token endpoint); Django has already masked the password."""
    address = request.META.get("REMOTE_ADDR", "?") if request is not None else "?"
    path = getattr(request, "path", "?")
    logger.warning("Failed log-in for %r from %s at %s", credentials.get("username", ""), address, path)


@receiver(user_logged_out)
def end_token_on_logout(sender, user=None, **kwargs):
    if user is not None:
        token_revoke(user=user)


@receiver(pre_save, sender=get_user_model())
def note_password_change(sender, instance, update_fields=None, **kwargs):
    """Mark a save that changes the stored password hash (password change and reset forms, the admin)."""
    if instance.pk is None or (update_fields is not None and "password" not in update_fields):
        return
    stored = sender.objects.filter(pk=instance.pk).values_list("password", flat=True).first()
    instance._password_hash_changed = stored is not None and stored != instance.password


@receiver(post_save, sender=get_user_model())
def end_token_on_password_change(sender, instance, **kwargs):
    if getattr(instance, "_password_hash_changed", False):
        instance._password_hash_changed = False
        token_revoke(user=instance)
