"""A private redis-server and real ``celery worker`` processes for the tests that need them (the fixtures are
registered in tests/conftest.py)."""

import os
import shutil
import subprocess
import sys

import pytest
from django.db import connection

from benchmarks.load import BenchmarkError, free_port, redis_server_command, wait_until
from hematovision.celery import app as celery_app
from tests.environment import PROJECT_DIR, skip_or_fail

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

    wait_until(lambda: pings(redis.Redis(port=port)), 10, "redis-server to answer")
    yield f"redis://127.0.0.1:{port}/0"
    server.terminate()
    server.wait(10)


def pings(client) -> bool:
    try:
        return client.ping()
    except Exception:  # noqa: BLE001 - not up yet
        return False


def forget_connections():
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
    forget_connections()
    yield redis_url
    forget_connections()
    celery_app.conf.update(task_always_eager=True, broker_transport_options={})


def database_url() -> str:
    """The test database, as a URL for the worker processes."""
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def start_worker(broker_url: str, settings, log, **extra_environment: str) -> subprocess.Popen:
    """A ``celery worker`` process (solo pool) on the test database and media, ``extra_environment`` added."""
    environment = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": broker_url,
        "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
        "HEMATOVISION_MODEL_PATH": str(settings.HEMATOVISION_MODEL_PATH),
        "HEMATOVISION_MEDIA_ROOT": str(settings.MEDIA_ROOT),
        **extra_environment,
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


def wait_for_workers(condition, timeout: float, what: str, log_path):
    """``wait_until``, with the workers' log in the failure, which is all there is to go on in CI."""
    try:
        return wait_until(condition, timeout, what, interval=0.2)
    except BenchmarkError as error:
        pytest.fail(f"{error}\nThe workers' log ends:\n{log_path.read_text()[-4000:]}")
