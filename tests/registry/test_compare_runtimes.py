"""``manage.py compare_runtimes``: Keras against the OpenVINO export on every evaluation set, with every speed."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from ml.evaluation import evaluate
from ml.sources import parse_sources
from tests.ml.conftest import write_tiny_split

SPEEDS = {
    "keras_batch1_ms",
    "openvino_batch1_ms",
    "service_batch1_ms",
    "naive_predict_ms",
    "keras_batched_images_per_second",
    "openvino_batched_images_per_second",
    "end_to_end_images_per_second",
    "raw_images_per_second",
    "batch1_speedup",
    "batched_speedup",
    "service_over_naive",
    "end_to_end_share",
}


@pytest.fixture
def two_sources(tmp_path) -> list[str]:
    """Two tiny Kaggle-layout sources whose TEST splits are the evaluation sets (16 and 8 images)."""
    write_tiny_split(tmp_path / "kaggle", "TEST", photos_per_class=2, copies=2)
    write_tiny_split(tmp_path / "lab", "TEST", photos_per_class=1, copies=2)
    return ["--source", f"kaggle={tmp_path / 'kaggle'}", "--source", f"lab={tmp_path / 'lab'}"]


def comparison(model_path, sources: list[str], folder) -> tuple[dict, str]:
    """``compare_runtimes`` on ``model_path`` with 2 rounds of 3 calls: its JSON figures and its report."""
    stdout, json_path = io.StringIO(), folder / "runtimes.json"
    call_command(
        "compare_runtimes",
        *sources,
        "--model",
        str(model_path),
        "--calls",
        "3",
        "--rounds",
        "2",
        "--json",
        str(json_path),
        stdout=stdout,
    )
    return json.loads(json_path.read_text()), stdout.getvalue()


def test_both_runtimes_agree_on_every_evaluation_set_and_every_speed_is_reported(
    exported_model_path, two_sources, tmp_path
):
    result, report = comparison(exported_model_path, two_sources, tmp_path)
    assert list(result["sets"]) == ["kaggle TEST", "lab TEST"]
    assert [figures["n_images"] for figures in result["sets"].values()] == [16, 8]
    served = evaluate(exported_model_path, parse_sources(f"kaggle={tmp_path / 'kaggle'}"), 0.76)["kaggle TEST"]
    kaggle = result["sets"]["kaggle TEST"]
    assert kaggle["openvino_accuracy"] == served["accuracy"]  # what evaluate_model reports for the served model
    for figures in result["sets"].values():
        assert figures["same_class_share"] == 1.0 and figures["same_novelty_flag_share"] == 1.0
        assert figures["accuracy_difference_points"] == 0.0 and figures["max_probability_difference"] < 1e-4
    speed = result["speed"]
    assert SPEEDS <= set(speed) and all(speed[name] > 0 for name in SPEEDS)
    assert (speed["rounds"], speed["calls"], speed["images"]) == (2, 3, 16)
    assert result["openvino"].startswith("openvino ") and result["keras"].startswith("keras ")
    assert "kaggle TEST: 16 images" in report and "lab TEST: 8 images" in report
    assert "batch 1 (2 views)" in report and "target >= 2.0x" in report and "target <= 1/6" in report
    assert "end to end from JPEG bytes" in report and "same class 100.00%" in report


def test_a_model_without_an_export_is_a_command_error_that_says_how_to_export(tiny_model_path, two_sources):
    with pytest.raises(CommandError, match=r"no OpenVINO export \(`python manage.py export_runtime`\)"):
        call_command("compare_runtimes", *two_sources, "--model", str(tiny_model_path))


def test_sources_without_an_evaluation_set_are_a_command_error(exported_model_path, tmp_path):
    write_tiny_split(tmp_path / "lab", "TRAIN", photos_per_class=1, copies=1)
    with pytest.raises(CommandError, match="None of the sources has an evaluation set"):
        call_command("compare_runtimes", "--source", f"lab={tmp_path / 'lab'}", "--model", str(exported_model_path))


def test_zero_calls_are_a_command_error(exported_model_path, two_sources):
    with pytest.raises(CommandError, match="--calls and --rounds must be at least 1"):
        call_command("compare_runtimes", *two_sources, "--model", str(exported_model_path), "--calls", "0")


INT8_SPEEDS = {
    "int8_batch1_ms",
    "int8_batched_images_per_second",
    "int8_service_batch1_ms",
    "int8_end_to_end_images_per_second",
    "int8_raw_images_per_second",
    "int8_batch1_speedup",
    "int8_batched_speedup",
    "int8_end_to_end_share",
}


def test_a_model_with_an_int8_export_is_compared_with_fp32_on_every_set_and_in_the_same_rounds(
    int8_model_path, two_sources, tmp_path
):
    result, report = comparison(int8_model_path, two_sources, tmp_path)
    assert "(int8, CPU)" in result["int8"]
    for figures in result["sets"].values():
        int8 = figures["int8"]
        assert int8["n_images"] == figures["n_images"] and int8["fp32_accuracy"] == figures["openvino_accuracy"]
        assert int8["max_feature_difference"] > 0  # computed by another network
    speed = result["speed"]
    assert INT8_SPEEDS <= set(speed) and all(speed[name] > 0 for name in INT8_SPEEDS)
    assert "int8: accuracy" in report and "int8 batch 1:" in report and "target >= 1.6x" in report


def test_a_model_without_an_int8_export_says_so(exported_model_path, two_sources):
    stdout = io.StringIO()
    call_command(
        "compare_runtimes",
        *two_sources,
        "--model",
        str(exported_model_path),
        "--calls",
        "1",
        "--rounds",
        "1",
        stdout=stdout,
    )
    assert "(no int8 export)" in stdout.getvalue() and "int8 batch 1" not in stdout.getvalue()
