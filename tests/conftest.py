"""Shared fixtures: users, a tiny but real Keras model artifact, private media folders."""

import pytest

from classifier import model_service, services
from ml import CLASS_NAMES
from ml.artifact import save_artifact
from ml.model import build_model
from ml.preprocessing import PreprocessingSpec
from tests.factories import upload_file

TINY_INPUT = 32


@pytest.fixture(scope="session")
def tiny_model_path(tmp_path_factory):
    """A randomly initialised MobileNetV2 (alpha 0.35, 32 px): real inference code, no training needed."""
    path = tmp_path_factory.mktemp("tiny-model") / "tiny.keras"
    model = build_model(num_classes=len(CLASS_NAMES), input_size=TINY_INPUT, base_weights=None, alpha=0.35)
    save_artifact(model, path, {
        "name": "tiny-test-model",
        "class_names": list(CLASS_NAMES),
        "preprocessing": PreprocessingSpec(input_size=TINY_INPUT).to_dict(),
        "base_network": "MobileNetV2 alpha=0.35 (random weights)",
        "input_size": TINY_INPUT,
        "trained_at": "2026-01-01T00:00:00+00:00",
    })
    return path


@pytest.fixture(autouse=True)
def isolated_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def model_path(settings, tiny_model_path):
    settings.HEMATOVISION_MODEL_PATH = tiny_model_path
    return tiny_model_path


@pytest.fixture
def fresh_model_cache():
    model_service.cache.clear()
    yield model_service.cache
    model_service.cache.clear()


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
    predictions, _ = services.prediction_create_many(owner=user, uploads=[upload_file("alice-cell.jpeg")])
    return predictions[0]
