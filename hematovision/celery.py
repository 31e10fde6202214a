"""The Celery app that classifies sample uploads in the background; its settings are Django's CELERY_* names."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hematovision.settings")

app = Celery("hematovision")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
