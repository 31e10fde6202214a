"""``manage.py calibrate_review_threshold``: the threshold is chosen on the model's validation split only."""

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

import ml.training
from ml.artifact import load_artifact, save_artifact

TRAINED_ON = {"seed": 3, "val_fraction": 0.5, "max_per_class": 12}


def with_training_record(tiny_model_path, path, training: dict):
    """The tiny model saved again with the training settings that ``train_model`` records."""
    model, metadata = load_artifact(tiny_model_path)
    save_artifact(model, path, {**{k: v for k, v in metadata.items() if k != "sha256"}, "training": training})
    return path


@pytest.fixture
def model_with_training_record(tiny_model_path, tmp_path):
    return with_training_record(tiny_model_path, tmp_path / "recorded.keras", TRAINED_ON)


@pytest.fixture
def splits_read(monkeypatch):
    splits = []
    real = ml.training.list_split

    def recording(directory, split):
        splits.append(split)
        return real(directory, split)

    monkeypatch.setattr(ml.training, "list_split", recording)
    return splits


def run(*args) -> str:
    out = StringIO()
    call_command("calibrate_review_threshold", *args, stdout=out)
    return out.getvalue()


def test_prints_the_threshold_and_what_it_flags_reading_only_train(model_with_training_record, dataset_dir,
                                                                   splits_read):
    output = run("--model", str(model_with_training_record), "--dataset-dir", str(dataset_dir),
                 "--target-accuracy", "0.9")
    assert splits_read == ["TRAIN"]
    images = int(re.search(r"Validation images \(grouped split of TRAIN\): (\d+)", output).group(1))
    assert 0 < images < 4 * TRAINED_ON["max_per_class"]
    threshold = float(re.search(r"HEMATOVISION_CONFIDENCE_THRESHOLD=([\d.]+)", output).group(1))
    assert 0 < threshold <= 1.0001
    assert "Flagged for review:" in output and "Accuracy at or above the threshold:" in output


def test_max_per_class_limits_the_validation_images(model_with_training_record, dataset_dir):
    output = run("--model", str(model_with_training_record), "--dataset-dir", str(dataset_dir),
                 "--max-per-class", "1")
    assert "Validation images (grouped split of TRAIN): 4" in output


def test_model_without_a_training_record_is_refused(tiny_model_path, dataset_dir):
    with pytest.raises(CommandError, match="does not record its training seed"):
        run("--model", str(tiny_model_path), "--dataset-dir", str(dataset_dir))


def test_model_refit_on_every_photo_is_refused(tiny_model_path, dataset_dir, tmp_path):
    path = with_training_record(tiny_model_path, tmp_path / "refit.keras", {**TRAINED_ON, "val_fraction": 0.0})
    with pytest.raises(CommandError, match="trained on every TRAIN photo"):
        run("--model", str(path), "--dataset-dir", str(dataset_dir))


def test_missing_model_is_a_clear_error(tmp_path, dataset_dir):
    with pytest.raises(CommandError, match="No trained model at"):
        run("--model", str(tmp_path / "absent.keras"), "--dataset-dir", str(dataset_dir))


def test_missing_dataset_is_a_clear_error(model_with_training_record, settings):
    settings.HEMATOVISION_DATASET_DIR = ""
    with pytest.raises(CommandError, match="No dataset"):
        call_command("calibrate_review_threshold", "--model", str(model_with_training_record), "--dataset-dir", "")


def test_target_accuracy_must_be_a_fraction(model_with_training_record, dataset_dir):
    with pytest.raises(CommandError, match="--target-accuracy"):
        run("--model", str(model_with_training_record), "--dataset-dir", str(dataset_dir), "--target-accuracy", "99")
