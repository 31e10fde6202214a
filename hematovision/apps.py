from django.apps import AppConfig


class HematovisionConfig(AppConfig):
    """The site itself: its system checks (settings and URLs are not an app's)."""

    name = "hematovision"
    verbose_name = "HematoVision"

    def ready(self):
        from hematovision import checks  # noqa: F401 - registers the system checks
