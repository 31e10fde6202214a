"""``manage.py train_model``: clear errors without a traceback, and real short runs on both sources end to end."""

import io
import json
import zipfile

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from ml import MODEL_CLASSES
from ml.artifact import ArtifactMetadata, openvino_paths, read_metadata, sha256_of
from registry.models import ModelVersion
from tests.factories import prediction_make, reviewer_make, sample_make

pytestmark = pytest.mark.django_db


def test_a_missing_source_folder_is_a_command_error(tmp_path):
    with pytest.raises(CommandError, match="Source lab: folder .*absent does not exist"):
        call_command(
            "train_model",
            "--source",
            f"lab={tmp_path / 'absent'}",
            "--base-weights",
            "none",
            "--output",
            str(tmp_path / "m.keras"),
        )


def test_a_source_without_images_is_a_command_error(tmp_path):
    (tmp_path / "lab" / "monocyte").mkdir(parents=True)
    with pytest.raises(CommandError, match="Source lab: .* holds no images"):
        call_command(
            "train_model",
            "--source",
            f"lab={tmp_path / 'lab'}",
            "--base-weights",
            "none",
            "--output",
            str(tmp_path / "m.keras"),
        )


def test_missing_base_weights_is_a_command_error(tmp_path, dataset_dir):
    with pytest.raises(CommandError, match="Base weights file .* does not exist"):
        call_command(
            "train_model",
            "--source",
            f"kaggle={dataset_dir}",
            "--base-weights",
            str(tmp_path / "no.h5"),
            "--output",
            str(tmp_path / "m.keras"),
        )


def test_the_default_sources_are_the_setting(settings, tmp_path):
    settings.HEMATOVISION_TRAINING_SOURCES = f"lab={tmp_path / 'configured-but-absent'}"
    with pytest.raises(CommandError, match="configured-but-absent does not exist"):
        call_command("train_model", "--output", str(tmp_path / "m.keras"))


def test_short_real_run_on_both_sources_with_validation(dataset_dir, pbc_dir, base_weights, tmp_path):
    output = tmp_path / "model.keras"
    stdout = io.StringIO()
    call_command(
        "train_model",
        "--source",
        f"kaggle:40={dataset_dir}",
        "--source",
        f"pbc:40={pbc_dir}",
        "--base-weights",
        str(base_weights),
        "--output",
        str(output),
        "--image-size",
        "96",
        "--epochs",
        "1",
        "--fine-tune-epochs",
        "1",
        "--val-fraction",
        "0.2",
        "--no-evaluation",
        stdout=stdout,
    )
    metadata = read_metadata(output)
    assert ArtifactMetadata.from_dict(json.loads(output.with_suffix(".json").read_text())) == metadata
    assert metadata.preprocessing.input_size == 96
    # 40 of each of Kaggle's four classes, 40 of each of PBC's four and of its four other kinds
    assert metadata.training["train_images"] + metadata.training["val_images"] == 480
    assert list(metadata.class_names) == list(MODEL_CLASSES)
    assert set(metadata.validation["per_source"]) == {"kaggle", "pbc"}
    assert metadata.novelty["fit_images"] + metadata.novelty["calibration_images"] == metadata.training["train_images"]
    version = ModelVersion.objects.get(sha256=metadata.sha256)
    assert version.file_path == str(output) and version.input_size == 96
    assert version.metrics["validation"]["n_images"] == metadata.training["val_images"]
    assert "grouped validation accuracy" in stdout.getvalue() and "kaggle" in stdout.getvalue()
    xml_path, bin_path = openvino_paths(output)  # exported at training time, checked against Keras
    assert metadata.openvino["xml_sha256"] == sha256_of(xml_path)
    assert metadata.openvino["bin_sha256"] == sha256_of(bin_path)
    assert metadata.openvino["max_probability_difference"] <= 1e-4


def test_the_default_refit_trains_on_every_image_for_the_fixed_epochs(dataset_dir, pbc_dir, base_weights, tmp_path):
    output = tmp_path / "refit.keras"
    stdout = io.StringIO()
    call_command(
        "train_model",
        "--source",
        f"kaggle:20={dataset_dir}",
        "--source",
        f"pbc:10={pbc_dir}",
        "--base-weights",
        str(base_weights),
        "--output",
        str(output),
        "--image-size",
        "96",
        "--epochs",
        "1",
        "--fine-tune-epochs",
        "2",
        stdout=stdout,
    )
    metadata = read_metadata(output)
    assert metadata.validation is None
    assert metadata.training["train_images_per_source"] == {"kaggle": 80, "pbc": 80}  # PBC: 10 of each of 8 kinds
    # no early stopping without validation
    assert [member["fine_tune"]["epochs_run"] for member in metadata.training["member_phases"]] == [2]
    recorded = ModelVersion.objects.get(sha256=metadata.sha256).metrics
    assert "validation" not in recorded and recorded["training"]["train_images"] == 160
    assert "no validation split (refit on all 160 training images)" in stdout.getvalue()
    # evaluated once trained, so a fresh deployment's Model page has figures: kept with the model and registered
    assert set(metadata.evaluation) == {"kaggle TEST", "pbc held-out", "pbc other held-out"}
    assert recorded["evaluation"]["kaggle TEST"]["n_images"] == metadata.evaluation["kaggle TEST"]["n_images"] > 2000
    assert recorded["evaluation"]["kaggle TEST"]["model_sha256"] == metadata.sha256
    assert "on kaggle TEST: " in stdout.getvalue()


def test_unmigrated_database_stops_before_training(monkeypatch, dataset_dir, tmp_path):
    monkeypatch.setattr(
        "django.db.migrations.executor.MigrationExecutor.migration_plan",
        lambda self, targets: [("classifier.0001_initial", False)],
    )
    monkeypatch.setattr(
        "registry.management.commands.train_model.run_training",
        lambda *args: pytest.fail("trained although the model could not be registered"),
    )
    with pytest.raises(CommandError, match="run `python manage.py migrate` first"):
        call_command("train_model", "--source", f"kaggle={dataset_dir}", "--output", str(tmp_path / "m.keras"))


def test_a_labs_reviewed_cells_are_a_further_training_source(
    client, django_user_model, dataset_dir, base_weights, tmp_path
):
    """The adaptation loop end to end: reviewed cells exported from the app, then trained on with another source."""
    reviewer = reviewer_make(django_user_model)
    sample = sample_make(reviewer, "S-LAB")
    for index, (predicted, reviewed) in enumerate(
        [
            ("NEUTROPHIL", "NEUTROPHIL"),
            ("NEUTROPHIL", "EOSINOPHIL"),
            ("MONOCYTE", "MONOCYTE"),
            ("LYMPHOCYTE", "LYMPHOCYTE"),
        ]
    ):
        prediction_make(sample, predicted, reviewed_label=reviewed, reviewer=reviewer, filename=f"cell-{index}.jpeg")
    prediction_make(sample, "EOSINOPHIL", filename="never-reviewed.jpeg")
    client.force_login(reviewer)
    export = client.get(reverse("labs:sample_dataset", args=[sample.pk]))
    zipfile.ZipFile(io.BytesIO(b"".join(export.streaming_content))).extractall(tmp_path / "lab")
    output = tmp_path / "adapted.keras"
    call_command(
        "train_model",
        "--source",
        f"kaggle:10={dataset_dir}",
        "--source",
        f"lab={tmp_path / 'lab'}",
        "--base-weights",
        str(base_weights),
        "--output",
        str(output),
        "--image-size",
        "96",
        "--epochs",
        "1",
        "--fine-tune-epochs",
        "1",
        "--no-evaluation",
        stdout=io.StringIO(),
    )
    training = read_metadata(output).training
    assert training["train_images_per_source"] == {"kaggle": 40, "lab": 4}
    assert f"lab={tmp_path / 'lab'}" in training["sources"]
