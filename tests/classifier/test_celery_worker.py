"""A real Redis and real `celery worker` processes: a worker killed with SIGKILL mid-batch loses no image and its
successor classifies none twice; batches whose messages are gone are sent again when a worker starts."""

import signal
import time

import pytest

from benchmarks.load import QUEUE, wait_until
from classifier.models import Prediction, WaitingImage
from classifier.services.waiting import sample_images_add
from tests.factories import image_bytes, sample_make, smear_rgb, upload_file
from tests.workers import VISIBILITY_TIMEOUT, start_worker, wait_for_workers

IMAGES = 24


def _upload_to_the_queue(user) -> list[str]:
    """IMAGES images of a new sample, stored and queued; their names."""
    sample = sample_make(user, "S-KILL")
    uploads = [upload_file(f"cell-{index:02}.jpeg", image_bytes(rgb=smear_rgb(seed=index))) for index in range(IMAGES)]
    added = sample_images_add(owner=user, sample=sample, uploads=uploads)
    assert (added.waiting, added.failures) == (IMAGES, [])
    return [upload.name for upload in uploads]


def _classified_names() -> list[str]:
    return sorted(Prediction.objects.values_list("original_filename", flat=True))


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_batch_loses_no_image_and_none_is_classified_twice(
    broker, settings, model_path, user, tmp_path
):
    names = _upload_to_the_queue(user)
    log_path = tmp_path / "worker.log"
    with open(log_path, "w") as log:
        first = start_worker(broker, settings, log)
        try:
            wait_until(lambda: Prediction.objects.exists(), 60, "the first worker's first prediction", interval=0.01)
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait(10)
        classified_by_first = Prediction.objects.count()
        assert 0 < classified_by_first < IMAGES, "the kill must land while images still wait"
        assert WaitingImage.objects.count() == IMAGES - classified_by_first  # nothing lost with the worker
        # A kill between taking a batch from Redis and recording it as unacknowledged loses the message itself;
        # once it is older than the timeout, the starting worker sends its images again.
        time.sleep(VISIBILITY_TIMEOUT)
        second = start_worker(broker, settings, log)
        try:
            wait_for_workers(
                lambda: not WaitingImage.objects.exists(), 180, "the second worker to classify the rest", log_path
            )
            time.sleep(VISIBILITY_TIMEOUT + 1)  # any batch delivered once more has had its chance to run again
        finally:
            second.terminate()
            second.wait(30)
    assert _classified_names() == names  # every image once: none lost, none twice


@pytest.mark.django_db(transaction=True)
def test_batches_whose_messages_are_gone_are_sent_again_when_a_worker_starts(
    broker, settings, model_path, user, tmp_path
):
    import redis  # imported here: installed with celery[redis]

    names = _upload_to_the_queue(user)
    broker_client = redis.Redis.from_url(broker)
    assert broker_client.llen(QUEUE) == IMAGES // settings.HEMATOVISION_CLASSIFY_BATCH
    broker_client.delete(QUEUE)  # as a broker that was down at upload, or a worker killed holding them, leaves it
    time.sleep(VISIBILITY_TIMEOUT)
    log_path = tmp_path / "worker.log"
    with open(log_path, "w") as log:
        worker = start_worker(broker, settings, log)
        try:
            wait_for_workers(lambda: not WaitingImage.objects.exists(), 120, "the worker to classify them", log_path)
        finally:
            worker.terminate()
            worker.wait(30)
    assert _classified_names() == names
