"""``manage.py calibrate_review_threshold``: chosen on held-out training images only, validation or out-of-fold."""

import dataclasses
import json
import re
from dataclasses import asdict
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

import ml.sources
from ml.artifact import load_artifact, save_artifact
from ml.training import TrainingConfig

TRAINED_ON = {"seed": 3, "val_fraction": 0.5, "max_per_class": 12}


def with_training_record(tiny_model_path, path, training: dict):
    """The tiny model saved again with the training settings that ``train_model`` records."""
    model, distribution, metadata = load_artifact(tiny_model_path)
    save_artifact(model, distribution, path, dataclasses.replace(metadata, training=training))
    return path


@pytest.fixture
def model_with_training_record(tiny_model_path, tmp_path, dataset_dir):
    return with_training_record(
        tiny_model_path, tmp_path / "recorded.keras", {**TRAINED_ON, "sources": [f"kaggle={dataset_dir}"]}
    )


@pytest.fixture
def splits_read(monkeypatch):
    splits = []
    real = ml.sources.list_split

    def recording(directory, split):
        splits.append(split)
        return real(directory, split)

    monkeypatch.setattr(ml.sources, "list_split", recording)
    return splits


def run(*args) -> str:
    out = StringIO()
    call_command("calibrate_review_threshold", *args, stdout=out)
    return out.getvalue()


def test_prints_the_threshold_and_what_it_flags_reading_only_training_images(model_with_training_record, splits_read):
    output = run("--model", str(model_with_training_record), "--target-accuracy", "0.9")
    assert splits_read == ["TRAIN"]
    images = int(re.search(r"Images \(grouped validation split of the training images\): (\d+)", output).group(1))
    assert 0 < images < 4 * TRAINED_ON["max_per_class"]
    threshold = float(re.search(r"Review threshold for 90.0% accuracy: ([\d.]+)", output).group(1))
    assert 0 < threshold <= 1.0001
    # a tiny random model may reach 90% on no trusted image; then it says so instead of suggesting a setting
    if "Accuracy at or above the threshold: n/a (no images)" in output:
        assert "No threshold reaches 90.0%" in output and "Set HEMATOVISION_CONFIDENCE_THRESHOLD" not in output
    else:
        assert f"Set HEMATOVISION_CONFIDENCE_THRESHOLD={threshold:.4f}" in output
    assert "Flagged for review:" in output and "Accuracy at or above the threshold:" in output


def test_max_per_class_limits_the_validation_images(model_with_training_record):
    output = run("--model", str(model_with_training_record), "--max-per-class", "1")
    assert "Images (grouped validation split of the training images): 4" in output


def test_model_refit_on_every_image_is_refused(tiny_model_path):
    with pytest.raises(CommandError, match="trained on every training image"):
        run("--model", str(tiny_model_path))


def test_missing_model_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="No trained model at"):
        run("--model", str(tmp_path / "absent.keras"))


def test_target_accuracy_must_be_a_fraction(model_with_training_record):
    with pytest.raises(CommandError, match="--target-accuracy"):
        run("--model", str(model_with_training_record), "--target-accuracy", "99")


REFIT = {**asdict(TrainingConfig(val_fraction=0.0)), "tta": list(TrainingConfig.tta)}
# Out-of-fold top probabilities, each for a true class: only the 0.8 one is wrong.
OUT_OF_FOLD = [
    (0.99, "EOSINOPHIL", 0),
    (0.95, "LYMPHOCYTE", 1),
    (0.9, "MONOCYTE", 2),
    (0.8, "EOSINOPHIL", 3),
    (0.7, "EOSINOPHIL", 0),
    (0.6, "LYMPHOCYTE", 1),
]


def cross_validation_file(path, config: dict, records=None):
    if records is None:
        records = [
            {
                "path": f"TRAIN/{label}/{i}.jpeg",
                "label": label,
                "photo": f"{label}/{i}",
                "probabilities": [confidence if c == predicted else (1 - confidence) / 3 for c in range(4)],
            }
            for i, (confidence, label, predicted) in enumerate(OUT_OF_FOLD)
        ]
    path.write_text(json.dumps({"config": {**config, "folds": 5}, "out_of_fold": records}))
    return str(path)


@pytest.fixture
def refit_model(tiny_model_path, tmp_path):
    return str(with_training_record(tiny_model_path, tmp_path / "refit.keras", REFIT))


def test_out_of_fold_predictions_calibrate_a_refit_model(refit_model, tmp_path, settings):
    settings.HEMATOVISION_CONFIDENCE_THRESHOLD = 0.76
    output = run("--model", refit_model, "--cross-validation", cross_validation_file(tmp_path / "cv.json", REFIT))
    assert "Images (out-of-fold predictions, 5-fold cross-validation of the training images): 6" in output
    assert "HEMATOVISION_CONFIDENCE_THRESHOLD=0.9000" in output and "Flagged for review: 50.00%" in output
    table = output.split("Trade-off (the current setting is 0.76):")[1].splitlines()
    assert [line.split()[:3] for line in table[2:9]] == [
        ["0.50", "0.0%", "83.33%"],
        ["0.60", "0.0%", "83.33%"],
        ["0.70", "16.7%", "80.00%"],
        ["0.76", "33.3%", "75.00%"],
        ["0.80", "33.3%", "75.00%"],
        ["0.90", "50.0%", "100.00%"],
        ["0.95", "66.7%", "100.00%"],
    ]


def test_an_unreachable_target_says_to_choose_from_the_table(refit_model, tmp_path):
    most_confident_is_wrong = [
        {
            "path": f"TRAIN/EOSINOPHIL/{i}.jpeg",
            "label": "EOSINOPHIL",
            "photo": f"EOSINOPHIL/{i}",
            "probabilities": [confidence if c == predicted else (1 - confidence) / 3 for c in range(4)],
        }
        for i, (confidence, predicted) in enumerate([(0.99, 3), (0.9, 0), (0.8, 0)])
    ]
    output = run(
        "--model",
        refit_model,
        "--target-accuracy",
        "0.99",
        "--cross-validation",
        cross_validation_file(tmp_path / "cv.json", REFIT, most_confident_is_wrong),
    )
    assert "Flagged for review: 100.00%" in output
    assert "No threshold reaches 99.0% while trusting any image" in output
    assert "Set HEMATOVISION_CONFIDENCE_THRESHOLD" not in output


def test_cross_validation_of_another_recipe_is_refused(refit_model, tmp_path):
    path = cross_validation_file(tmp_path / "cv.json", {**REFIT, "image_size": 160})
    with pytest.raises(CommandError, match="another recipe .* image_size: cross-validated 160, model 128"):
        run("--model", refit_model, "--cross-validation", path)


def test_cross_validation_without_out_of_fold_predictions_is_refused(refit_model, tmp_path):
    path = cross_validation_file(tmp_path / "cv.json", REFIT, records=[])
    with pytest.raises(CommandError, match="no out-of-fold predictions"):
        run("--model", refit_model, "--cross-validation", path)


def test_unreadable_cross_validation_file_is_a_clear_error(refit_model, tmp_path):
    (tmp_path / "cv.json").write_text("{not json")
    with pytest.raises(CommandError, match="Cannot read the cross-validation results"):
        run("--model", refit_model, "--cross-validation", str(tmp_path / "cv.json"))


def test_cross_validation_needs_the_model_it_calibrates(tmp_path):
    path = cross_validation_file(tmp_path / "cv.json", REFIT)
    with pytest.raises(CommandError, match="metadata .* is missing"):
        run("--model", str(tmp_path / "absent.keras"), "--cross-validation", path)


def _two_source_records():
    """Kaggle's out-of-fold images are right only when confident (0.99); PBC's are all right, also at 0.6."""
    cells = [("kaggle", 0.99, 0), ("kaggle", 0.8, 3), ("kaggle", 0.7, 2), ("pbc", 0.95, 0), ("pbc", 0.6, 0)]
    return [
        {
            "path": f"{source}/{i}.jpeg",
            "source": source,
            "label": "EOSINOPHIL",
            "photo": f"{source}:{i}",
            "probabilities": [confidence if c == predicted else (1 - confidence) / 3 for c in range(4)],
        }
        for i, (source, confidence, predicted) in enumerate(cells)
    ]


def test_source_calibrates_on_one_sources_out_of_fold_images(refit_model, tmp_path):
    path = cross_validation_file(tmp_path / "cv.json", REFIT, _two_source_records())
    kaggle = run("--model", refit_model, "--cross-validation", path, "--source", "kaggle")
    pbc = run("--model", refit_model, "--cross-validation", path, "--source", "pbc")
    assert "training images of source kaggle): 3" in kaggle and "Flagged for review: 66.67%" in kaggle
    assert "training images of source pbc): 2" in pbc and "Flagged for review: 0.00%" in pbc


def test_unknown_source_names_the_sources_there_are(refit_model, tmp_path):
    path = cross_validation_file(tmp_path / "cv.json", REFIT, _two_source_records())
    with pytest.raises(CommandError, match="no images of source 'lab3' .*kaggle, pbc"):
        run("--model", refit_model, "--cross-validation", path, "--source", "lab3")


def test_source_needs_cross_validation(refit_model):
    with pytest.raises(CommandError, match="pass --cross-validation too"):
        run("--model", refit_model, "--source", "pbc")
