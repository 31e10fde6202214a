"""Shared fixtures: users and their web and API clients, a tiny but real Keras model artifact, private media
folders."""

import dataclasses
import os
import shutil
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
from django.core.cache import cache

from classifier import model_gateway
from classifier.services.predictions import prediction_create_many
from labs.services.samples import sample_create
from ml import CLASS_NAMES, MODEL_CLASSES
from ml.artifact import metadata_path, novelty_path, read_metadata, write_metadata
from ml.inference import export_artifact
from ml.model import build_model
from ml.quantisation import CalibrationSet, export_int8
from tests.environment import PROJECT_DIR, skip_or_fail
from tests.factories import (
    LOOSE_GATE,
    TINY_INPUT,
    artifact_copy,
    generated_crops,
    reviewer_grant,
    save_tiny_artifact,
    token_client,
    upload_file,
)
from tests.workers import broker, redis_url  # noqa: F401 - fixtures, for every test that starts Celery workers


def _configured_path(variable: str, what: str) -> Path:
    """A path from the environment; without it the test is skipped, except in CI where it fails."""
    value = os.environ.get(variable, "")
    if value and Path(value).exists():
        return Path(value).resolve()  # absolute: the browser tests hand files to Chromium, which needs that
    skip_or_fail(f"{what} not configured: set {variable} (now {value or 'unset'!r}) to run this test.")


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, tmp_path_factory):
    """SQLite tests get a database file, as a deployment has: Django would share one in-memory connection
    between the test and the live server's threads, so concurrent writers would never really contend."""
    from django.conf import settings  # imported here: read once pytest-django has configured Django

    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        database.setdefault("TEST", {})["NAME"] = str(tmp_path_factory.mktemp("database") / "test.sqlite3")


@pytest.fixture(scope="session")
def dataset_dir() -> Path:
    return _configured_path("HEMATOVISION_DATASET_DIR", "The Blood Cells dataset")


@pytest.fixture(scope="session")
def base_weights() -> Path:
    return _configured_path("HEMATOVISION_BASE_WEIGHTS", "The ImageNet MobileNetV2 no-top weights file")


@pytest.fixture(scope="session")
def pbc_dir() -> Path:
    """The PBC class folders (``PBC_dataset_normal_DIB``)."""
    return _configured_path("HEMATOVISION_PBC_DIR", "The PBC dataset")


@pytest.fixture(scope="session")
def trained_model_path(tmp_path_factory, dataset_dir, pbc_dir, base_weights) -> Path:
    """A model really trained (briefly) on a small real subset of both sources, by the real `train_model`."""
    work = tmp_path_factory.mktemp("trained-model")
    model_path = work / "model.keras"
    command = [
        sys.executable,
        "manage.py",
        "train_model",
        "--source",
        f"kaggle:150={dataset_dir}",
        "--source",
        f"pbc:150={pbc_dir}",
        "--base-weights",
        str(base_weights),
        "--output",
        str(model_path),
        "--image-size",
        "128",
        "--epochs",
        "3",
        "--fine-tune-epochs",
        "1",
        "--batch-size",
        "32",
    ]
    environment = {**os.environ, "DATABASE_URL": f"sqlite:///{work / 'train.sqlite3'}"}
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=PROJECT_DIR, env=environment, check=True)
    subprocess.run(command, cwd=PROJECT_DIR, env=environment, check=True)
    return model_path


@pytest.fixture(scope="session")
def tiny_model_path(tmp_path_factory):
    """A randomly initialised MobileNetV2 (alpha 0.35, 32 px): real inference code, no training needed."""
    path = tmp_path_factory.mktemp("tiny-model") / "tiny.keras"
    keras.utils.set_random_seed(0)  # the same weights, and so the same novelty distances, in every run
    model = build_model(num_classes=len(CLASS_NAMES), input_size=TINY_INPUT, base_weights=None, alpha=0.35)
    save_tiny_artifact(model, path)
    return path


@pytest.fixture(scope="session")
def basophil_model_path(tmp_path_factory):
    """A tiny model of eight outputs, as models are trained now, whose BASOPHIL output is biased far above the
    others: real inference code with a known answer."""
    path = tmp_path_factory.mktemp("basophil-model") / "basophil.keras"
    keras.utils.set_random_seed(0)
    model = build_model(num_classes=len(MODEL_CLASSES), input_size=TINY_INPUT, base_weights=None, alpha=0.35)
    output = model.get_layer("probabilities")
    kernel, bias = output.get_weights()
    bias[MODEL_CLASSES.index("BASOPHIL")] = 20.0
    output.set_weights([kernel, bias])
    save_tiny_artifact(model, path, name="tiny-basophil-model", class_names=MODEL_CLASSES)
    return path


@pytest.fixture(scope="session")
def adaptable_model_path(tmp_path_factory, base_weights):
    """A tiny model of eight outputs on real ImageNet weights (MobileNetV2 alpha 0.35, 32 px), untrained for cells:
    fine-tuning it on ``factories.coloured_cell_bytes`` cells makes it measurably better within seconds."""
    path = tmp_path_factory.mktemp("adaptable-model") / "shared.keras"
    keras.utils.set_random_seed(0)
    weights = base_weights.parent / "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_224_no_top.h5"
    model = build_model(num_classes=len(MODEL_CLASSES), input_size=TINY_INPUT, base_weights=str(weights), alpha=0.35)
    save_tiny_artifact(model, path, name="tiny-shared-model", class_names=MODEL_CLASSES)
    return path


@pytest.fixture(scope="session")
def int8_model_path(tmp_path_factory, adaptable_model_path):
    """A copy of the tiny ImageNet-weights model, exported to OpenVINO and quantised to int8 on generated smears
    under a loose gate (``LOOSE_GATE``: its random head's classes are near ties, which int8 flips)."""
    path = artifact_copy(adaptable_model_path, tmp_path_factory.mktemp("int8-model"))
    export_artifact(path)
    spec = read_metadata(path).preprocessing
    calibration = generated_crops(spec, range(100, 160))
    check = generated_crops(spec, range(200, 260))
    export_int8(path, CalibrationSet(calibration, check, np.arange(len(check)) % 4, {"generated": True}), LOOSE_GATE)
    return path


@pytest.fixture
def basophil_model(settings, basophil_model_path):
    """The active model answers BASOPHIL for every image."""
    settings.HEMATOVISION_MODEL_PATH = basophil_model_path
    return basophil_model_path


@pytest.fixture(scope="session")
def exported_model_path(tmp_path_factory, tiny_model_path):
    """A copy of the tiny artifact with two test-time views (a rotation among them), exported to OpenVINO."""
    path = tmp_path_factory.mktemp("exported-model") / "tiny.keras"
    for source in (tiny_model_path, metadata_path(tiny_model_path), novelty_path(tiny_model_path)):
        shutil.copy(source, path.parent / source.name)
    write_metadata(path, dataclasses.replace(read_metadata(path), tta=("identity", "rotate_180")))
    export_artifact(path)
    return path


@pytest.fixture(autouse=True)
def isolated_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def model_path(settings, tiny_model_path):
    settings.HEMATOVISION_MODEL_PATH = tiny_model_path
    return tiny_model_path


@pytest.fixture(autouse=True)
def empty_cache():
    """The cache holds the API's throttle counts: each test starts with none."""
    cache.clear()


@pytest.fixture(autouse=True)
def unregistered_model_version():
    """Each test's database starts empty, so the gateway must not stamp with a version from an earlier one."""
    model_gateway.forget_version()


@pytest.fixture
def fresh_model_cache():
    model_gateway.cache.clear()
    yield model_gateway.cache
    model_gateway.cache.clear()


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user(username="alice", password="s3cret-pass-alice")


@pytest.fixture
def other_user(django_user_model):
    return django_user_model.objects.create_user(username="bob", password="s3cret-pass-bob")


@pytest.fixture
def alice_client(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def alice_prediction(user, model_path):
    """One stored prediction of alice's, made through the real service."""
    predictions, _ = prediction_create_many(owner=user, uploads=[upload_file("alice-cell.jpeg")])
    return predictions[0]


@pytest.fixture
def alice_api(user):
    return token_client(user)


@pytest.fixture
def bob_api(other_user):
    return token_client(other_user)


@pytest.fixture
def alice_reviewer_api(user):
    return token_client(reviewer_grant(user))


@pytest.fixture
def bob_reviewer_api(other_user):
    """Bob may review: a 404 for him proves isolation, not a missing permission."""
    return token_client(reviewer_grant(other_user))


@pytest.fixture
def alice_sample(user):
    return sample_create(owner=user, identifier="S-001", notes="Routine smear")
