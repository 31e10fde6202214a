"""``manage.py train_model``: clear errors without a traceback, and a real short run end to end."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from classifier.models import ModelVersion

pytestmark = pytest.mark.django_db
REQUIRED_METADATA = {"class_names", "preprocessing", "base_network", "input_size", "training", "validation",
                     "dataset_fingerprint", "trained_at", "name", "sha256"}


def test_no_dataset_configured_is_a_command_error(tmp_path):
    with pytest.raises(CommandError, match="No dataset"):
        call_command("train_model", "--dataset-dir", "", "--output", str(tmp_path / "m.keras"))


def test_missing_dataset_folder_is_a_command_error(tmp_path):
    with pytest.raises(CommandError, match="does not exist"):
        call_command("train_model", "--dataset-dir", str(tmp_path / "absent"), "--base-weights", "none",
                     "--output", str(tmp_path / "m.keras"))


def test_missing_base_weights_is_a_command_error(tmp_path):
    with pytest.raises(CommandError, match="Base weights file .* does not exist"):
        call_command("train_model", "--dataset-dir", str(tmp_path), "--base-weights", str(tmp_path / "no.h5"),
                     "--output", str(tmp_path / "m.keras"))


def test_short_real_run_saves_the_artifact_and_registers_it(dataset_dir, base_weights, tmp_path):
    output = tmp_path / "model.keras"
    stdout = io.StringIO()
    call_command("train_model", "--dataset-dir", str(dataset_dir), "--base-weights", str(base_weights),
                 "--output", str(output), "--max-per-class", "40", "--image-size", "96", "--epochs", "1",
                 "--fine-tune-epochs", "1", stdout=stdout)
    metadata = json.loads(output.with_suffix(".json").read_text())
    assert REQUIRED_METADATA <= set(metadata)
    assert metadata["training"]["max_per_class"] == 40 and metadata["input_size"] == 96
    assert metadata["training"]["train_images"] + metadata["training"]["val_images"] == 160
    version = ModelVersion.objects.get(sha256=metadata["sha256"])
    assert version.file_path == str(output) and version.input_size == 96
    assert version.metrics["validation"]["n_images"] == metadata["training"]["val_images"]
    assert "grouped validation accuracy" in stdout.getvalue()


def test_val_fraction_zero_refits_on_every_image_for_the_fixed_epochs(dataset_dir, base_weights, tmp_path):
    output = tmp_path / "refit.keras"
    stdout = io.StringIO()
    call_command("train_model", "--dataset-dir", str(dataset_dir), "--base-weights", str(base_weights),
                 "--output", str(output), "--max-per-class", "20", "--image-size", "96", "--epochs", "1",
                 "--fine-tune-epochs", "2", "--val-fraction", "0", stdout=stdout)
    metadata = json.loads(output.with_suffix(".json").read_text())
    assert metadata["validation"] is None
    assert (metadata["training"]["train_images"], metadata["training"]["val_images"]) == (80, 0)
    # no early stopping without validation, in either member
    assert [member["fine_tune"]["epochs_run"] for member in metadata["training"]["member_phases"]] == [2, 2]
    recorded = ModelVersion.objects.get(sha256=metadata["sha256"]).metrics
    assert "validation" not in recorded and recorded["training"] == {"train_images": 80, "val_images": 0}
    assert "no validation split (refit on all 80 TRAIN images)" in stdout.getvalue()


def test_unmigrated_database_stops_before_training(monkeypatch, dataset_dir, tmp_path):
    monkeypatch.setattr("django.db.migrations.executor.MigrationExecutor.migration_plan",
                        lambda self, targets: [("classifier.0001_initial", False)])
    monkeypatch.setattr("classifier.management.commands.train_model.run_training",
                        lambda *args: pytest.fail("trained although the model could not be registered"))
    with pytest.raises(CommandError, match="run `python manage.py migrate` first"):
        call_command("train_model", "--dataset-dir", str(dataset_dir), "--output", str(tmp_path / "m.keras"))
