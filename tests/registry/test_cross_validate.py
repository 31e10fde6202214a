"""``manage.py cross_validate``: clear errors, and a real short run on small real subsets of both sources."""

import io
import json

import pytest
from django.core.management import CommandError, call_command


def test_a_missing_source_is_a_command_error(tmp_path):
    with pytest.raises(CommandError, match="Source lab: folder .* does not exist"):
        call_command("cross_validate", "--source", f"lab={tmp_path / 'absent'}")


def test_missing_base_weights_is_a_command_error(tmp_path, dataset_dir):
    with pytest.raises(CommandError, match="Base weights file .* does not exist"):
        call_command("cross_validate", "--source", f"kaggle={dataset_dir}", "--base-weights", str(tmp_path / "no.h5"))


def test_short_real_run_holds_out_every_image_once(dataset_dir, pbc_dir, base_weights, tmp_path):
    output = tmp_path / "cv.json"
    stdout = io.StringIO()
    call_command(
        "cross_validate",
        "--source",
        f"kaggle:10={dataset_dir}",
        "--source",
        f"pbc:10={pbc_dir}",
        "--base-weights",
        str(base_weights),
        "--image-size",
        "96",
        "--epochs",
        "1",
        "--fine-tune-epochs",
        "1",
        "--folds",
        "2",
        "--json",
        str(output),
        stdout=stdout,
    )
    result = json.loads(output.read_text())
    assert [fold["fold"] for fold in result["folds"]] == [1, 2]
    assert (
        sum(fold["n_images"] for fold in result["folds"]) == result["pooled"]["n_images"] == 120
    )  # 10 of each of Kaggle's 4 classes, 10 of each of PBC's 8 kinds
    assert result["config"]["folds"] == 2 and result["config"]["image_size"] == 96
    confusion = result["pooled"]["confusion_matrix"]
    assert sum(map(sum, confusion)) == 120
    assert result["pooled"]["accuracy"] == pytest.approx(sum(confusion[i][i] for i in range(len(confusion))) / 120)
    assert "pooled out-of-fold: accuracy" in stdout.getvalue()
    records = result["out_of_fold"]
    assert len({record["path"] for record in records}) == len(records) == 120
    assert {record["fold"] for record in records} == {1, 2}
    assert {record["source"] for record in records} == {"kaggle", "pbc"}
    assert all(sum(record["probabilities"]) == pytest.approx(1, abs=1e-4) for record in records)
