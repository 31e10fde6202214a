from django.apps import AppConfig
from django.db.models.signals import post_migrate

REVIEWERS_GROUP = "Reviewers"


def ensure_reviewers_group(sender, **kwargs):
    """A 'Reviewers' group holding the review permission: staff add technologists to it in the admin.

    ``classifier`` comes before ``labs`` in INSTALLED_APPS, so its permissions exist by the time this runs."""
    from django.contrib.auth.models import Group, Permission  # imported here: apps are ready only here

    from classifier.models import REVIEW_PERMISSION  # imported here: apps are ready only here

    app_label, codename = REVIEW_PERMISSION.split(".")
    group, _ = Group.objects.get_or_create(name=REVIEWERS_GROUP)
    permission = Permission.objects.filter(codename=codename, content_type__app_label=app_label).first()
    if permission:
        group.permissions.add(permission)


class LabsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "labs"
    verbose_name = "Laboratories and samples"

    def ready(self):
        post_migrate.connect(ensure_reviewers_group, sender=self)
