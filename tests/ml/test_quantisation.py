"""The int8 export: quantised from the fp32 one, recorded and served only once it agrees with fp32."""

import logging

import numpy as np
import pytest

from ml.artifact import (
    ArtifactError,
    install_artifact,
    load_artifact,
    openvino_paths,
    read_metadata,
    save_artifact,
    sha256_of,
)
from ml.inference import CellClassifier, ClassifierCache, export_artifact
from ml.quantisation import AGREEMENT_GATE, CalibrationSet, Int8Refused, export_int8, gate_failures
from tests.factories import artifact_copy, generated_crops

AGREEING = {"same_class_share": 0.996, "same_novelty_flag_share": 0.991, "accuracy_difference_points": -0.25}


def test_the_gate_passes_figures_at_its_thresholds_and_names_every_miss():
    assert gate_failures(AGREEING, AGREEMENT_GATE) == []
    failures = gate_failures(
        {"same_class_share": 0.994, "same_novelty_flag_share": 0.98, "accuracy_difference_points": 0.31},
        AGREEMENT_GATE,
    )
    assert failures == [
        "same class share 99.40% < 99.5%",
        "same novelty flag share 98.00% < 99.0%",
        "accuracy +0.31 points from fp32 (more than 0.3)",
    ]


def test_a_recorded_int8_export_names_its_files_calibration_and_agreement(int8_model_path):
    metadata = read_metadata(int8_model_path)
    record = metadata.openvino_int8
    xml_path, bin_path = openvino_paths(int8_model_path, "int8")
    assert (record["xml_sha256"], record["bin_sha256"]) == (sha256_of(xml_path), sha256_of(bin_path))
    assert record["quantised_from_xml_sha256"] == metadata.openvino["xml_sha256"]
    assert record["agreement"]["n_images"] == 60 and record["calibration"] == {"generated": True}
    assert load_artifact(int8_model_path)[2] == metadata  # the Keras files still match the metadata


def test_int8_is_a_quantised_network_near_fp32_and_serves_when_asked_for_or_by_auto(int8_model_path):
    fp32 = CellClassifier.from_path(int8_model_path)
    int8 = CellClassifier.from_path(int8_model_path, precision="int8")
    assert "(f32, CPU)" in fp32.runtime and "(int8, CPU)" in int8.runtime
    assert "(int8, CPU)" in CellClassifier.from_path(int8_model_path, precision="auto").runtime
    crops = generated_crops(fp32.spec, range(300, 316))
    (probabilities, features), (int8_probabilities, int8_features) = fp32.forward(crops), int8.forward(crops)
    assert not np.array_equal(features, int8_features)  # another network: its weights are int8
    assert np.abs(probabilities - int8_probabilities).max() < 0.1
    assert np.corrcoef(features.ravel(), int8_features.ravel())[0, 1] > 0.95


def test_an_int8_export_that_disagrees_with_fp32_is_refused_and_nothing_is_written_or_served(
    adaptable_model_path, tmp_path
):
    path = artifact_copy(adaptable_model_path, tmp_path / "model")
    export_artifact(path)
    before = read_metadata(path)
    spec = before.preprocessing
    check = generated_crops(spec, range(200, 260))
    flat_grey = np.full_like(check, 128)  # calibrated on one colour: every activation range collapses
    with pytest.raises(Int8Refused, match="disagrees with fp32 on 60 training images") as refusal:
        export_int8(path, CalibrationSet(flat_grey, check, np.arange(60) % 4, {}))
    assert refusal.value.figures["same_class_share"] < AGREEMENT_GATE["same_class_share"]
    assert read_metadata(path) == before
    assert not any(file.exists() for file in openvino_paths(path, "int8"))
    with pytest.raises(ArtifactError, match="int8 precision was asked for, but the model has no int8 export"):
        CellClassifier.from_path(path, precision="int8")
    assert "(f32, CPU)" in CellClassifier.from_path(path, precision="auto").runtime


def test_a_model_without_an_fp32_export_has_nothing_to_quantise(adaptable_model_path, tmp_path):
    path = artifact_copy(adaptable_model_path, tmp_path / "model", with_export=False)
    crops = generated_crops(read_metadata(path).preprocessing, range(4))
    with pytest.raises(ArtifactError, match="Nothing to quantise: the model has no OpenVINO export"):
        export_int8(path, CalibrationSet(crops, crops, np.zeros(4), {}))


def test_a_damaged_int8_file_is_refused_when_forced_and_auto_serves_fp32_with_a_warning(
    int8_model_path, tmp_path, caplog
):
    path = artifact_copy(int8_model_path, tmp_path / "model")
    xml_path, _ = openvino_paths(path, "int8")
    xml_path.write_bytes(xml_path.read_bytes() + b" ")
    with pytest.raises(ArtifactError, match=r"openvino-int8.xml does not match the model's metadata"):
        CellClassifier.from_path(path, precision="int8")
    with caplog.at_level(logging.WARNING, logger="ml.inference"):
        assert "(f32, CPU)" in CellClassifier.from_path(path, precision="auto").runtime
    assert "Serving" in caplog.text and "in fp32" in caplog.text


@pytest.mark.parametrize(
    ("runtime", "precision", "message"),
    [("keras", "int8", "int8 precision runs on OpenVINO only"), ("auto", "int4", "Unknown precision 'int4'")],
)
def test_impossible_precisions_are_refused(int8_model_path, runtime, precision, message):
    with pytest.raises(ArtifactError, match=message):
        CellClassifier.from_path(int8_model_path, runtime, precision)


def test_keras_with_auto_precision_serves_keras(int8_model_path):
    assert CellClassifier.from_path(int8_model_path, "keras", "auto").runtime.startswith("keras ")


def test_the_cache_holds_each_precision_apart(int8_model_path):
    cache = ClassifierCache(capacity=2)
    assert "(int8, CPU)" in cache.get(int8_model_path, precision="int8").runtime
    assert "(f32, CPU)" in cache.get(int8_model_path, precision="fp32").runtime
    assert cache.loads == 2


def test_a_new_fp32_export_drops_the_int8_one_quantised_from_the_old(int8_model_path, tmp_path):
    path = artifact_copy(int8_model_path, tmp_path / "model")
    assert export_artifact(path).openvino_int8 == {}
    assert not any(file.exists() for file in openvino_paths(path, "int8"))


def test_saving_a_new_model_over_a_quantised_one_removes_both_exports(int8_model_path, tmp_path):
    path = artifact_copy(int8_model_path, tmp_path / "model")
    model, distribution, metadata = load_artifact(path)
    saved = save_artifact(model, distribution, path, metadata)
    assert (saved.openvino, saved.openvino_int8) == ({}, {})
    assert not any(file.exists() for precision in ("fp32", "int8") for file in openvino_paths(path, precision))


def test_installing_carries_the_int8_export_and_a_model_without_one_removes_the_old(
    int8_model_path, adaptable_model_path, tmp_path
):
    target = tmp_path / "served" / "model.keras"
    install_artifact(int8_model_path, target)
    assert "(int8, CPU)" in CellClassifier.from_path(target, precision="int8").runtime
    without_int8 = artifact_copy(adaptable_model_path, tmp_path / "plain")
    export_artifact(without_int8)
    install_artifact(without_int8, target)
    assert read_metadata(target).openvino_int8 == {}
    assert not any(file.exists() for file in openvino_paths(target, "int8"))
    assert all(file.exists() for file in openvino_paths(target, "fp32"))
