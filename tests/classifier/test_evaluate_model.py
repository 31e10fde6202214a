"""``manage.py evaluate_model``: report, JSON, confusion PNG and ModelVersion metrics for a real model."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from classifier.models import ModelVersion

pytestmark = pytest.mark.django_db
REQUIRED_KEYS = {"accuracy", "macro_f1", "per_class", "confusion_matrix", "class_names", "photos_correct",
                 "photos_total", "accuracy_ci95", "n_images", "model_sha256", "images_per_second", "split", "per_photo"}


def test_no_dataset_configured_is_a_command_error(tmp_path):
    with pytest.raises(CommandError, match="No dataset"):
        call_command("evaluate_model", "--dataset-dir", "", "--model", str(tmp_path / "x.keras"))


def test_missing_model_is_a_command_error(tmp_path, dataset_dir):
    with pytest.raises(CommandError, match="No trained model"):
        call_command("evaluate_model", "--dataset-dir", str(dataset_dir), "--model", str(tmp_path / "x.keras"))


def test_unmigrated_database_stops_before_evaluating(monkeypatch, dataset_dir, tmp_path):
    monkeypatch.setattr("django.db.migrations.executor.MigrationExecutor.migration_plan",
                        lambda self, targets: [("classifier.0001_initial", False)])
    with pytest.raises(CommandError, match="run `python manage.py migrate` first"):
        call_command("evaluate_model", "--dataset-dir", str(dataset_dir), "--model", str(tmp_path / "x.keras"))


def test_evaluates_test_split_and_records_the_metrics(trained_model_path, dataset_dir, tmp_path):
    stdout = io.StringIO()
    json_path, plots = tmp_path / "eval.json", tmp_path / "plots"
    call_command("evaluate_model", "--dataset-dir", str(dataset_dir), "--model", str(trained_model_path),
                 "--json", str(json_path), "--plots", str(plots), stdout=stdout)
    metrics = json.loads(json_path.read_text())
    assert REQUIRED_KEYS <= set(metrics)
    assert metrics["split"] == "TEST" and metrics["n_images"] == 2487
    assert sum(map(sum, metrics["confusion_matrix"])) == 2487
    assert metrics["accuracy"] > 0.45, "a reduced run must still learn: chance is 0.25"
    assert metrics["accuracy_ci95"][0] <= metrics["accuracy"] <= metrics["accuracy_ci95"][1]
    assert (plots / "confusion_TEST.png").stat().st_size > 1000
    assert "accuracy" in stdout.getvalue() and "cells right by majority" in stdout.getvalue()
    assert len(metrics["per_photo"]) == metrics["photos_total"]
    assert sum(cell["images"] for cell in metrics["per_photo"]) == 2487
    assert "accuracy per source photo" in stdout.getvalue()
    version = ModelVersion.objects.get(sha256=metrics["model_sha256"])
    assert version.metrics["evaluation"]["TEST"]["accuracy"] == metrics["accuracy"]
