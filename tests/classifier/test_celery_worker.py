"""A real Redis and real `celery worker` processes: a worker killed with SIGKILL mid-batch loses no image and its
successor classifies none twice; batches whose messages are gone are sent again when a worker starts."""

import os
import shutil
import signal
import subprocess
import sys
import time

import pytest
from django.db import connection

from benchmarks.load import QUEUE, BenchmarkError, free_port, redis_server_command, wait_until
from classifier.models import Prediction, WaitingImage
from classifier.services.waiting import sample_images_add
from hematovision.celery import app as celery_app
from tests.environment import PROJECT_DIR, skip_or_fail
from tests.factories import image_bytes, sample_make, smear_rgb, upload_file

IMAGES = 24
VISIBILITY_TIMEOUT = 3  # seconds before Redis hands a vanished worker's batch to another one


@pytest.fixture
def redis_url(tmp_path):
    """A private redis-server; without one the test is skipped, except in CI (.ci/run installs it)."""
    binary = shutil.which("redis-server")
    if binary is None:
        reason = "redis-server is not installed (apt-get install redis-server) to run the Celery worker test."
        skip_or_fail(reason)
    port = free_port()
    server = subprocess.Popen(
        redis_server_command(binary, port, tmp_path),
        stdout=subprocess.DEVNULL,
    )
    import redis  # imported here: installed with celery[redis]

    wait_until(lambda: _pings(redis.Redis(port=port)), 10, "redis-server to answer")
    yield f"redis://127.0.0.1:{port}/0"
    server.terminate()
    server.wait(10)


def _pings(client) -> bool:
    try:
        return client.ping()
    except Exception:  # noqa: BLE001 - not up yet
        return False


def _forget_connections():
    """Celery keeps its publishing connections: drop them, so the next task goes where the settings now say."""
    if celery_app._pool is not None:
        celery_app._pool.force_close_all()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def broker(redis_url, settings, monkeypatch):
    """This process sends its tasks to Redis instead of running them itself."""
    settings.HEMATOVISION_CLASSIFY_IN_BACKGROUND = True
    settings.HEMATOVISION_CLASSIFY_BATCH = 2
    monkeypatch.setenv("CELERY_BROKER_URL", redis_url)  # Celery reads it before its settings
    celery_app.conf.update(task_always_eager=False, broker_transport_options={"visibility_timeout": VISIBILITY_TIMEOUT})
    _forget_connections()
    yield redis_url
    _forget_connections()
    celery_app.conf.update(task_always_eager=True, broker_transport_options={})


def _database_url() -> str:
    """The test database, as a URL for the worker processes."""
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _start_worker(broker_url: str, settings, log) -> subprocess.Popen:
    environment = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": broker_url,
        "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
        "HEMATOVISION_MODEL_PATH": str(settings.HEMATOVISION_MODEL_PATH),
        "HEMATOVISION_MEDIA_ROOT": str(settings.MEDIA_ROOT),
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "hematovision",
            "worker",
            "--pool=solo",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=PROJECT_DIR,
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def _wait_for_workers(condition, timeout: float, what: str, log_path):
    """``wait_until``, with the workers' log in the failure, which is all there is to go on in CI."""
    try:
        return wait_until(condition, timeout, what, interval=0.2)
    except BenchmarkError as error:
        pytest.fail(f"{error}\nThe workers' log ends:\n{log_path.read_text()[-4000:]}")


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
        first = _start_worker(broker, settings, log)
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
        second = _start_worker(broker, settings, log)
        try:
            _wait_for_workers(
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
        worker = _start_worker(broker, settings, log)
        try:
            _wait_for_workers(lambda: not WaitingImage.objects.exists(), 120, "the worker to classify them", log_path)
        finally:
            worker.terminate()
            worker.wait(30)
    assert _classified_names() == names
