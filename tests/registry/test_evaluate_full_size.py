"""``manage.py evaluate_full_size``: the 71 TEST_SIMPLE photos against their full-size originals."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from registry.models import ModelVersion
from tests.ml.conftest import write_tiny_split

pytestmark = pytest.mark.django_db


def test_no_dataset_configured_is_a_command_error(tmp_path):
    with pytest.raises(CommandError, match="No dataset"):
        call_command("evaluate_full_size", "--dataset-dir", "", "--model", str(tmp_path / "x.keras"))


def test_dataset_without_the_pairs_table_is_a_command_error(tmp_path, tiny_model_path):
    write_tiny_split(tmp_path / "dataset2-master" / "images", "TEST")
    with pytest.raises(CommandError, match="test_simple_to_original.csv does not exist"):
        call_command(
            "evaluate_full_size", "--dataset-dir", str(tmp_path / "dataset2-master"), "--model", str(tiny_model_path)
        )


def test_missing_model_is_a_command_error(tmp_path, dataset_dir):
    with pytest.raises(CommandError, match="No trained model"):
        call_command("evaluate_full_size", "--dataset-dir", str(dataset_dir), "--model", str(tmp_path / "x.keras"))


def test_full_size_originals_are_classified_like_their_small_copies(trained_model_path, dataset_dir, tmp_path):
    stdout, json_path = io.StringIO(), tmp_path / "full_size.json"
    call_command(
        "evaluate_full_size",
        "--dataset-dir",
        str(dataset_dir),
        "--model",
        str(trained_model_path),
        "--json",
        str(json_path),
        stdout=stdout,
    )
    result = json.loads(json_path.read_text())
    assert result["n_pairs"] == 71 and {pair["original"] for pair in result["pairs"]} >= {"BloodImage_00093.jpg"}
    # The crop scales with the photo, so a 640x480 original moves no class probability far; a crop of fixed
    # pixel size would show the model a quarter of the area it was trained on.
    assert result["max_largest_probability_shift"] < 0.25
    assert f"same class on both sizes {result['agreement']:.1%}" in stdout.getvalue()
    stored = ModelVersion.objects.get(sha256=result["model_sha256"]).metrics["full_size"]
    assert stored["agreement"] == result["agreement"] and len(stored["pairs"]) == 71


def test_unmigrated_database_stops_before_classifying(monkeypatch, dataset_dir, tmp_path):
    monkeypatch.setattr(
        "django.db.migrations.executor.MigrationExecutor.migration_plan",
        lambda self, targets: [("classifier.0001_initial", False)],
    )
    with pytest.raises(CommandError, match="run `python manage.py migrate` first"):
        call_command("evaluate_full_size", "--dataset-dir", str(dataset_dir), "--model", str(tmp_path / "x.keras"))
