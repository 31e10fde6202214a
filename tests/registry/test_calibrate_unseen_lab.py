"""``calibrate_review_threshold --leave-one-lab-out``: the threshold that leaves few wrong answers unflagged on
every laboratory a model never saw."""

import io
import json

import pytest
from django.core.management import CommandError, call_command


def _record(label: str, top: str, confidence: float, novelty_ratio: float = 0.5) -> dict:
    names = ["EOSINOPHIL", "LYMPHOCYTE", "MONOCYTE", "NEUTROPHIL"]
    rest = (1 - confidence) / 3
    return {
        "path": "x.jpg",
        "label": label,
        "novelty_ratio": novelty_ratio,
        "probabilities": [confidence if name == top else rest for name in names],
    }


def _results(tmp_path, labs: dict) -> str:
    path = tmp_path / "lolo.json"
    path.write_text(
        json.dumps({"left_out": {lab: {"selection": {"records": records}} for lab, records in labs.items()}})
    )
    return str(path)


def test_the_threshold_flags_enough_wrong_answers_on_every_left_out_lab(tmp_path):
    right = [_record("EOSINOPHIL", "EOSINOPHIL", 0.95)] * 18
    # lab a: its two wrong answers are at 0.62 and 0.8; one far from the training images (flagged anyway)
    lab_a = right + [_record("MONOCYTE", "NEUTROPHIL", 0.62), _record("MONOCYTE", "NEUTROPHIL", 0.8, 1.5)]
    lab_b = right + [_record("LYMPHOCYTE", "MONOCYTE", 0.71), _record("LYMPHOCYTE", "LYMPHOCYTE", 0.5)]
    stdout = io.StringIO()
    call_command(
        "calibrate_review_threshold",
        "--leave-one-lab-out",
        _results(tmp_path, {"a": lab_a, "b": lab_b}),
        "--max-wrong-unflagged",
        "0.0",
        stdout=stdout,
    )
    # no wrong answer unflagged: above 0.62 on lab a (0.8 is unlike) and above 0.71 on lab b
    assert "every left-out lab: 0.72" in stdout.getvalue()


def test_a_file_without_leave_one_lab_out_readings_is_a_command_error(tmp_path):
    path = tmp_path / "other.json"
    path.write_text(json.dumps({"folds": []}))
    with pytest.raises(CommandError, match="Cannot read the leave-one-lab-out results"):
        call_command("calibrate_review_threshold", "--leave-one-lab-out", str(path))
