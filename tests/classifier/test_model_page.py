"""The Model page: the active model's figures on every evaluation set, per class and per source photo, and PNGs."""

import dataclasses
import shutil

import pytest
from django.urls import reverse

from classifier import model_gateway
from ml import artifact
from registry import services as registry_services
from registry.models import ModelVersion

pytestmark = pytest.mark.django_db
EVALUATION = {
    "split": "kaggle TEST",
    "accuracy": 0.875,
    "unlike_training_share": 0.0625,
    "macro_f1": 0.87,
    "accuracy_ci95": [0.8, 0.95],
    "n_images": 8,
    "photos_total": 2,
    "photos_correct": 1,
    "images_per_second": 63.0,
    "class_names": ["EOSINOPHIL", "LYMPHOCYTE", "MONOCYTE", "NEUTROPHIL"],
    "per_class": {"EOSINOPHIL": {"precision": 1.0, "recall": 0.75, "f1": 0.857, "support": 4}},
    "confusion_matrix": [[3, 0, 0, 1], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 4]],
    "per_photo": [
        {"photo": "EOSINOPHIL/source-7", "true": "EOSINOPHIL", "voted": "NEUTROPHIL", "images": 4, "accuracy": 0.25},
        {"photo": "NEUTROPHIL/source-3", "true": "NEUTROPHIL", "voted": "NEUTROPHIL", "images": 4, "accuracy": 1.0},
    ],
}
HELD_OUT = {
    **EVALUATION,
    "split": "pbc held-out",
    "accuracy": 0.98,
    "n_images": 4,
    "photos_total": 4,
    "photos_correct": 4,
    "per_photo": [
        {"photo": f"pbc:MONOCYTE/MO_{i}", "true": "MONOCYTE", "voted": "MONOCYTE", "images": 1, "accuracy": 1.0}
        for i in range(4)
    ],
}


@pytest.fixture
def evaluated_version(model_path):
    return ModelVersion.objects.create(
        name="evaluated",
        file_path=str(model_path),
        sha256=artifact.read_metadata(model_path).sha256,
        base_network="MobileNetV2",
        input_size=32,
        metrics={"evaluation": {"kaggle TEST": EVALUATION, "pbc held-out": HELD_OUT}},
    )


def test_page_shows_every_evaluation_set_and_every_source_photo(alice_client, evaluated_version):
    page = alice_client.get(reverse("classifier:model")).content.decode()
    kaggle, pbc = page.split('data-set="kaggle TEST"')[1].split('data-set="pbc held-out"')
    assert 'class="number accuracy">87.5%' in kaggle and 'class="number accuracy">98.0%' in pbc
    assert "1 / 2" in kaggle and "6.2%" in kaggle  # photos right, and flagged as unlike the training images
    assert "EOSINOPHIL/source-7" in kaggle and "NEUTROPHIL/source-3" in kaggle
    assert page.count('class="wrong-cell"') == 1
    assert "the fixed held-out fifth" in pbc and "MO_0" not in pbc  # single cells: no per-photo table
    assert f'<dd class="runtime">{model_gateway.get_classifier().runtime}</dd>' in page


def test_refit_model_says_it_was_trained_on_every_photo(alice_client, evaluated_version):
    evaluated_version.metrics = {
        **evaluated_version.metrics,
        "training": {"train_images": 14225, "val_images": 0, "train_images_per_source": {"kaggle": 9957, "pbc": 4268}},
    }
    evaluated_version.save()
    page = alice_client.get(reverse("classifier:model")).content.decode()
    assert "Trained on all 14225 training images" in page and "Validation (held-out" not in page
    assert "kaggle: 9957 training images" in page and "pbc: 4268 training images" in page


def test_validated_model_shows_its_validation_instead(alice_client, evaluated_version):
    evaluated_version.metrics = {
        **evaluated_version.metrics,
        "validation": {"accuracy": 0.947, "macro_f1": 0.947},
        "training": {"train_images": 7900, "val_images": 2057, "train_images_per_source": {"kaggle": 7900}},
    }
    evaluated_version.save()
    page = alice_client.get(reverse("classifier:model")).content.decode()
    assert "Validation (held-out" in page and "94.7%" in page and 'id="refit"' not in page


def test_full_size_check_is_shown_once_run(alice_client, evaluated_version):
    assert 'id="full-size"' not in alice_client.get(reverse("classifier:model")).content.decode()
    evaluated_version.metrics = {
        **evaluated_version.metrics,
        "full_size": {
            "n_pairs": 71,
            "agreement": 0.9859,
            "accuracy_small": 0.9296,
            "accuracy_original": 0.9155,
            "max_largest_probability_shift": 0.188,
        },
    }
    evaluated_version.save()
    page = alice_client.get(reverse("classifier:model")).content.decode()
    assert "The 71 TEST_SIMPLE photos" in page and "both sizes for 98.6%" in page
    assert "93.0% at 320×240 and 91.5% at full size" in page and "0.188" in page


def test_each_evaluation_set_has_its_confusion_matrix_png(alice_client, evaluated_version):
    for name in ("kaggle TEST", "pbc held-out"):
        response = alice_client.get(reverse("classifier:confusion"), {"set": name})
        assert response.status_code == 200 and response["Content-Type"] == "image/png"
        assert response.content.startswith(b"\x89PNG")
    assert alice_client.get(reverse("classifier:confusion"), {"set": "nowhere"}).status_code == 404


def test_missing_model_says_how_to_train(alice_client, settings, tmp_path):
    settings.HEMATOVISION_MODEL_PATH = tmp_path / "absent.keras"
    page = alice_client.get(reverse("classifier:model")).content.decode()
    assert "No trained model is registered yet" in page
    assert alice_client.get(reverse("classifier:confusion")).status_code == 404


def test_page_reads_the_loaded_model_not_its_metadata_file(alice_client, evaluated_version, monkeypatch):
    alice_client.get(reverse("classifier:model"))

    def unreadable(model_path):
        raise AssertionError("the Model page read the metadata file")

    monkeypatch.setattr(artifact, "read_metadata", unreadable)
    monkeypatch.setattr(registry_services, "read_metadata", unreadable)
    page = alice_client.get(reverse("classifier:model")).content.decode()
    assert 'class="number accuracy">87.5%' in page


def test_unevaluated_loaded_model_is_registered_and_says_how_to_evaluate(alice_client, model_path):
    page = alice_client.get(reverse("classifier:model")).content.decode()
    assert ModelVersion.objects.get().name == "tiny-test-model"
    assert "has not been evaluated yet" in page


def test_a_fresh_deployment_shows_the_figures_train_model_stored_with_the_model(
    alice_client, settings, tiny_model_path, tmp_path
):
    """No evaluate_model run and an empty database: the figures come from the artifact's metadata."""
    for source in (tiny_model_path, artifact.metadata_path(tiny_model_path), artifact.novelty_path(tiny_model_path)):
        shutil.copy(source, tmp_path / source.name)
    copied = tmp_path / tiny_model_path.name
    artifact.write_metadata(
        copied, dataclasses.replace(artifact.read_metadata(copied), evaluation={"kaggle TEST": EVALUATION})
    )
    settings.HEMATOVISION_MODEL_PATH = copied

    page = alice_client.get(reverse("classifier:model")).content.decode()

    assert 'class="number accuracy">87.5%' in page and "has not been evaluated yet" not in page
    assert "EOSINOPHIL/source-7" in page


def test_unevaluated_model_says_how_to_evaluate(alice_client, evaluated_version):
    evaluated_version.metrics = {}
    evaluated_version.save()
    assert "has not been evaluated yet" in alice_client.get(reverse("classifier:model")).content.decode()


def test_anonymous_users_are_sent_to_log_in(client, evaluated_version):
    response = client.get(reverse("classifier:model"))
    assert response.status_code == 302 and "login" in response["Location"]
