from django.apps import AppConfig
from django.db.models.signals import post_migrate

REVIEWERS_GROUP = "Reviewers"


def ensure_reviewers_group(sender, **kwargs):
    """A 'Reviewers' group holding the review permission: staff add technologists to it in the admin."""
    from django.contrib.auth.models import Group, Permission  # noqa: PLC0415 - apps are ready only here

    group, _ = Group.objects.get_or_create(name=REVIEWERS_GROUP)
    permission = Permission.objects.filter(codename="review_prediction", content_type__app_label="classifier").first()
    if permission:
        group.permissions.add(permission)


class ClassifierConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "classifier"
    verbose_name = "Blood-cell classifier"

    def ready(self):
        from classifier import checks, signals  # noqa: F401, PLC0415 - register the checks and signal receivers

        post_migrate.connect(ensure_reviewers_group, sender=self)
