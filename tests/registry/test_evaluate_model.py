"""``manage.py evaluate_model``: every evaluation set reported, saved and recorded, for a real two-source model."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from registry.models import ModelVersion

pytestmark = pytest.mark.django_db
REQUIRED_KEYS = {
    "accuracy",
    "macro_f1",
    "per_class",
    "confusion_matrix",
    "class_names",
    "photos_correct",
    "photos_total",
    "accuracy_ci95",
    "n_images",
    "model_sha256",
    "images_per_second",
    "split",
    "per_photo",
    "unlike_training_share",
}


def test_missing_model_is_a_command_error(tmp_path, dataset_dir):
    with pytest.raises(CommandError, match="No trained model"):
        call_command("evaluate_model", "--source", f"kaggle={dataset_dir}", "--model", str(tmp_path / "x.keras"))


def test_a_source_without_an_evaluation_set_is_a_command_error(tmp_path, model_path):
    (tmp_path / "export" / "TRAIN" / "MONOCYTE").mkdir(parents=True)
    with pytest.raises(CommandError, match="None of the sources has an evaluation set"):
        call_command("evaluate_model", "--source", f"lab={tmp_path / 'export'}", "--model", str(model_path))


def test_unmigrated_database_stops_before_evaluating(monkeypatch, dataset_dir, tmp_path):
    monkeypatch.setattr(
        "django.db.migrations.executor.MigrationExecutor.migration_plan",
        lambda self, targets: [("classifier.0001_initial", False)],
    )
    with pytest.raises(CommandError, match="run `python manage.py migrate` first"):
        call_command("evaluate_model", "--source", f"kaggle={dataset_dir}", "--model", str(tmp_path / "x.keras"))


def test_evaluates_kaggle_test_and_the_pbc_held_out_fifth(trained_model_path, dataset_dir, pbc_dir, tmp_path):
    stdout = io.StringIO()
    json_path, plots = tmp_path / "eval.json", tmp_path / "plots"
    call_command(
        "evaluate_model",
        "--source",
        f"kaggle={dataset_dir}",
        "--source",
        f"pbc={pbc_dir}",
        "--model",
        str(trained_model_path),
        "--json",
        str(json_path),
        "--plots",
        str(plots),
        stdout=stdout,
    )
    results = json.loads(json_path.read_text())
    assert list(results) == ["kaggle TEST", "pbc held-out", "pbc other held-out"]
    kaggle, pbc, other = results["kaggle TEST"], results["pbc held-out"], results["pbc other held-out"]
    assert other["n_images"] == 235 and {row[:4] == [0, 0, 0, 0] for row in other["confusion_matrix"]}
    assert sum(other["per_class"][kind]["support"] for kind in ("BASOPHIL", "PLATELET")) == 117
    assert other["answered_other_share"] <= other["other_or_flagged_share"] <= 1
    assert REQUIRED_KEYS <= set(kaggle) and REQUIRED_KEYS <= set(pbc)
    assert kaggle["n_images"] == 2487 and sum(map(sum, kaggle["confusion_matrix"])) == 2487
    assert pbc["n_images"] == 1065 and pbc["photos_total"] == 1065  # every PBC cell is its own group
    for metrics in (kaggle, pbc):
        assert metrics["accuracy"] > 0.45, "a reduced run must still learn: chance is 0.25"
        assert metrics["accuracy_ci95"][0] <= metrics["accuracy"] <= metrics["accuracy_ci95"][1]
    assert (plots / "confusion_kaggle_TEST.png").stat().st_size > 1000
    assert (plots / "confusion_pbc_held-out.png").stat().st_size > 1000
    report = stdout.getvalue()
    assert "on kaggle TEST: 2487 images" in report and "on pbc held-out: 1065 images" in report
    assert "accuracy per source photo" in report and "flagged unlike the training images" in report
    assert "another kind or flagged (never counted unreviewed)" in report
    assert sum(row["images"] for row in kaggle["per_photo"]) == 2487
    version = ModelVersion.objects.get(sha256=kaggle["model_sha256"])
    assert set(version.metrics["evaluation"]) == {"kaggle TEST", "pbc held-out", "pbc other held-out"}
    assert version.metrics["evaluation"]["pbc held-out"]["accuracy"] == pbc["accuracy"]
