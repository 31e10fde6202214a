"""Celery tasks: workers classify queued sample images in batches; each worker process loads the model once."""

from datetime import timedelta

from celery import shared_task
from celery.signals import worker_ready
from django.conf import settings

from classifier import services


@shared_task(acks_late=True, reject_on_worker_lost=True)
def classify_pending(pending_ids: list[int]) -> int:
    """Idempotent, so a batch that comes back after its worker died is safe to run again."""
    return services.pending_classify(pending_ids=pending_ids)


@shared_task
def send_stale_pending_again() -> int:
    """Celery beat runs it (``CELERY_BEAT_SCHEDULE``): images left waiting by a lost message are sent again."""
    return services.pending_send_again(waited_longer_than=timedelta(seconds=settings.HEMATOVISION_RESEND_AFTER))


@worker_ready.connect
def _send_stale_pending_again_at_start(**_):
    """A worker that starts, often the one restarted after a crash, recovers lost batches without waiting for beat."""
    send_stale_pending_again()


def pending_enqueue(pending_ids: list[int]) -> None:
    """One task per ``HEMATOVISION_CLASSIFY_BATCH`` images: batched model calls, and batches spread over workers."""
    size = settings.HEMATOVISION_CLASSIFY_BATCH
    for start in range(0, len(pending_ids), size):
        classify_pending.delay(pending_ids[start:start + size])
