"""/api/model/: the loaded model's identity and metrics, or a clear 404 while there is no model."""

import pytest
from django.urls import reverse

from classifier import model_gateway
from ml import CLASS_NAMES
from ml.artifact import read_metadata
from registry.models import ModelVersion
from registry.services import model_version_record_evaluation

pytestmark = pytest.mark.django_db
URL = reverse("api:model")


def test_active_model_is_described_with_its_metrics(alice_api, model_path):
    model_version_record_evaluation(model_path=model_path, metrics={"split": "TEST", "accuracy": 0.91, "macro_f1": 0.9})
    response = alice_api.get(URL)
    assert response.status_code == 200
    body = response.json()
    assert body["sha256"] == read_metadata(model_path).sha256
    assert (body["name"], body["input_size"]) == ("tiny-test-model", 32)
    assert body["base_network"].startswith("MobileNetV2")
    assert body["class_names"] == list(CLASS_NAMES)
    assert body["metrics"]["evaluation"]["TEST"]["accuracy"] == 0.91
    assert body["runtime"] == model_gateway.get_classifier().runtime
    assert body["runtime"].startswith("keras ")  # the tiny artifact has no OpenVINO export


def test_loaded_model_is_registered_on_the_first_request(alice_api, model_path):
    response = alice_api.get(URL)
    assert response.status_code == 200
    assert response.json()["sha256"] == ModelVersion.objects.get().sha256
    assert set(response.json()["metrics"]) == {"training", "novelty"}  # not evaluated yet


def test_missing_model_file_is_a_json_404_saying_what_to_do(alice_api, settings, tmp_path):
    settings.HEMATOVISION_MODEL_PATH = tmp_path / "absent.keras"
    response = alice_api.get(URL)
    assert response.status_code == 404
    assert "No trained model is registered yet" in response.json()["detail"]
    assert "train_model" in response.json()["detail"]
