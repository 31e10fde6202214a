"""``manage.py leave_one_lab_out``: clear errors, and a real short run on small real subsets of both laboratories."""

import io
import json

import pytest
from django.core.management import CommandError, call_command


def test_one_source_is_not_enough_to_leave_one_out(dataset_dir, base_weights):
    with pytest.raises(CommandError, match="at least two sources"):
        call_command("leave_one_lab_out", "--source", f"kaggle:4={dataset_dir}", "--base-weights", str(base_weights))


def test_each_lab_is_read_by_a_model_that_never_saw_it(dataset_dir, pbc_dir, base_weights, tmp_path):
    output, stdout = tmp_path / "lolo.json", io.StringIO()
    call_command(
        "leave_one_lab_out",
        "--source",
        f"kaggle:8={dataset_dir}",
        "--source",
        f"pbc:8={pbc_dir}",
        "--base-weights",
        str(base_weights),
        "--image-size",
        "96",
        "--epochs",
        "1",
        "--fine-tune-epochs",
        "1",
        "--colour-augmentation",
        "stain",
        "--selection-per-class",
        "5",
        "--json",
        str(output),
        stdout=stdout,
    )
    result = json.loads(output.read_text())
    assert {lab: figures["trained_on"] for lab, figures in result["left_out"].items()} == {
        "kaggle": ["pbc"],
        "pbc": ["kaggle"],
    }
    assert result["config"]["colour_augmentation"] == "stain"
    roots = {"kaggle": f"{dataset_dir}/images/TRAIN/", "pbc": f"{pbc_dir}/"}
    for lab, figures in result["left_out"].items():
        selection = figures["selection"]
        assert all(record["path"].startswith(roots[lab]) for record in selection["records"])
        assert selection["n_images"] == 20  # 5 training images of each of the four classes of the left-out lab
        assert {record["label"] for record in selection["records"]} == {
            "EOSINOPHIL",
            "LYMPHOCYTE",
            "MONOCYTE",
            "NEUTROPHIL",
        }
        assert sum(map(sum, selection["confusion_matrix"])) == 20
        assert 0 <= selection["wrong_unflagged_share"] <= 1 - selection["accuracy"] + 1e-9
    assert result["left_out"]["kaggle"]["evaluation"]["n_images"] == 2487  # Kaggle TEST, read for the table
    assert "Leave-one-lab-out done for kaggle, pbc" in stdout.getvalue()
