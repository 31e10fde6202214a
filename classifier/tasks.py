"""Celery tasks: workers classify a sample's waiting images in batches; each worker process loads the model once.

The services send these tasks, so each task imports the services inside its body (HackSoft's pattern): the one
import circle the contracts in pyproject.toml allow.
"""

import logging
from datetime import timedelta

from celery import shared_task
from celery.signals import worker_ready
from django.conf import settings

logger = logging.getLogger("hematovision.storage")


@shared_task(acks_late=True, reject_on_worker_lost=True)
def classify_waiting(ids: list[int]) -> int:
    """Idempotent, so a batch that comes back after its worker died is safe to run again."""
    from classifier.services.waiting import waiting_classify  # imported here: the services send this task

    return waiting_classify(ids=ids)


@shared_task
def send_waiting_again() -> int:
    """Celery beat runs it (``CELERY_BEAT_SCHEDULE``): images left waiting by a lost message are sent again."""
    from classifier.services.waiting import waiting_send_again  # imported here: the services send tasks

    return waiting_send_again(waited_longer_than=timedelta(seconds=settings.HEMATOVISION_RESEND_AFTER))


@shared_task
def sweep_media() -> int:
    """Celery beat runs it daily (``CELERY_BEAT_SCHEDULE``): ``media_sweep``'s dry run, its findings logged for an
    administrator to act on (``manage.py media_sweep --delete``); nothing is deleted. How many findings."""
    from classifier.services.files import media_sweep, media_sweep_report  # imported here, as the others

    orphans, missing = media_sweep(delete=False)
    level = logging.WARNING if orphans or missing else logging.INFO
    for line in media_sweep_report(orphans, missing, deleted=False):
        logger.log(level, "Media sweep (dry run): %s", line)
    return len(orphans) + len(missing)


@worker_ready.connect
def _send_waiting_again_at_start(**_):
    """A worker that starts, often the one restarted after a crash, recovers lost batches without waiting for beat."""
    send_waiting_again()


def waiting_enqueue(ids: list[int]) -> None:
    """One task per ``HEMATOVISION_CLASSIFY_BATCH`` images: batched model calls, and batches spread over workers."""
    size = settings.HEMATOVISION_CLASSIFY_BATCH
    for start in range(0, len(ids), size):
        classify_waiting.delay(ids[start : start + size])
