"""``gunicorn.conf.py`` loads the model when a worker starts, a missing model only logs a warning, and
WEB_CONCURRENCY sets the processes; its timeout is the one sample uploads assume."""

import importlib.util
from pathlib import Path

from classifier.services.sample_uploads import UPLOAD_REQUEST_LIMIT

CONF = Path(__file__).resolve().parents[2] / "gunicorn.conf.py"


class FakeLog:
    def __init__(self):
        self.warnings = []

    def warning(self, message, *args):
        self.warnings.append(message % args)


class FakeWorker:
    def __init__(self):
        self.log = FakeLog()


def load_conf():
    spec = importlib.util.spec_from_file_location("gunicorn_conf", CONF)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_worker_start_loads_the_model_once(model_path, fresh_model_cache):
    loads_before = fresh_model_cache.loads
    load_conf().post_worker_init(FakeWorker())
    assert fresh_model_cache.loads == loads_before + 1


def test_missing_model_is_a_warning_not_a_crash(settings, tmp_path, fresh_model_cache):
    settings.HEMATOVISION_MODEL_PATH = tmp_path / "absent.keras"
    worker, loads_before = FakeWorker(), fresh_model_cache.loads
    load_conf().post_worker_init(worker)
    assert fresh_model_cache.loads == loads_before
    assert "No model loaded at start-up" in worker.log.warnings[0]


def test_one_process_unless_web_concurrency_asks_for_more(monkeypatch):
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    assert load_conf().workers == 1
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    assert load_conf().workers == 3


def test_a_sample_upload_counts_as_killed_after_gunicorns_timeout():
    assert load_conf().timeout == UPLOAD_REQUEST_LIMIT.total_seconds()
