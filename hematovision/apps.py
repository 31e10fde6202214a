from django.apps import AppConfig


class HematovisionConfig(AppConfig):
    """The site itself: its system checks and its template filters (``{% load hematovision %}``)."""

    name = "hematovision"
    verbose_name = "HematoVision"

    def ready(self):
        from hematovision import checks  # noqa: F401, PLC0415 - registers the system checks
