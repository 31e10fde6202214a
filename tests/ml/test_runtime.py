"""The OpenVINO export of the forward pass: written beside the artifact, equal to Keras, served only when intact."""

import logging
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from ml.artifact import (
    ArtifactError,
    load_artifact,
    openvino_paths,
    read_metadata,
    save_artifact,
    sha256_of,
)
from ml.inference import CellClassifier, ClassifierCache, ViewAveragedForward, export_artifact
from ml.preprocessing import preprocess
from tests.factories import artifact_copy, noise_rgb, smear_rgb


def generated_inputs(spec, count: int) -> np.ndarray:
    """Crops of smear look-alikes (nuclei in varied places) and of noise, as the model sees them."""
    looks = [
        smear_rgb(nucleus=(60 + 7 * seed, 120), seed=seed) if seed % 3 else noise_rgb(seed=seed)
        for seed in range(count)
    ]
    return np.stack([preprocess(rgb, spec) for rgb in looks])


def test_the_export_writes_the_ir_and_records_its_checksums(exported_model_path):
    metadata = read_metadata(exported_model_path)
    xml_path, bin_path = openvino_paths(exported_model_path)
    assert metadata.openvino["xml_sha256"] == sha256_of(xml_path)
    assert metadata.openvino["bin_sha256"] == sha256_of(bin_path)
    assert metadata.openvino["precision"] == "f32"
    assert 0 <= metadata.openvino["max_probability_difference"] <= 1e-4
    assert load_artifact(exported_model_path)[2] == metadata  # the Keras files still match the metadata


@pytest.mark.parametrize("count", [1, 5, 40])  # 40 crosses the chunked, parallel path and its reassembly
def test_openvino_and_keras_agree_on_generated_images(exported_model_path, count):
    model, _, metadata = load_artifact(exported_model_path)
    served = CellClassifier.from_path(exported_model_path)
    assert served.runtime.startswith("openvino ")
    keras_forward = ViewAveragedForward(model, metadata.tta, metadata.preprocessing.input_size)
    inputs = generated_inputs(metadata.preprocessing, count)
    probabilities, features = served.forward(inputs)
    expected_probabilities, expected_features = keras_forward(inputs)
    assert probabilities.shape == (count, 4) and features.shape == expected_features.shape
    np.testing.assert_allclose(probabilities, expected_probabilities, atol=1e-5)
    np.testing.assert_allclose(features, expected_features, atol=1e-4, rtol=1e-4)


def test_classifications_are_the_same_on_both_runtimes(exported_model_path):
    images = [smear_rgb(seed=seed) for seed in range(6)]
    served = CellClassifier.from_path(exported_model_path, "openvino").classify_arrays(images)
    keras = CellClassifier.from_path(exported_model_path, "keras").classify_arrays(images)
    assert [result.label for result in served] == [result.label for result in keras]
    for ours, theirs in zip(served, keras, strict=True):
        assert ours.probabilities == pytest.approx(theirs.probabilities, abs=1e-5)
        assert ours.novelty_distance == pytest.approx(theirs.novelty_distance, rel=1e-4)


def test_keras_serves_when_forced(exported_model_path):
    assert CellClassifier.from_path(exported_model_path, "keras").runtime.startswith("keras ")


def test_keras_serves_an_artifact_without_export_and_openvino_cannot(tiny_model_path, caplog):
    with caplog.at_level(logging.INFO, logger="ml.inference"):
        assert CellClassifier.from_path(tiny_model_path).runtime.startswith("keras ")
    assert "no OpenVINO export" in caplog.text
    with pytest.raises(ArtifactError, match="OpenVINO runtime was asked for, but the model has no OpenVINO export"):
        CellClassifier.from_path(tiny_model_path, "openvino")


def test_keras_serves_when_openvino_is_not_installed(exported_model_path, monkeypatch):
    monkeypatch.setattr("ml.runtime.openvino_installed", lambda: False)
    assert CellClassifier.from_path(exported_model_path).runtime.startswith("keras ")
    with pytest.raises(ArtifactError, match="openvino is not installed"):
        CellClassifier.from_path(exported_model_path, "openvino")


@pytest.mark.parametrize("damage", ["missing", "tampered"])
def test_a_damaged_export_falls_back_to_keras_with_a_warning_and_is_refused_when_forced(
    exported_model_path, tmp_path, caplog, damage
):
    path = artifact_copy(exported_model_path, tmp_path / "copy")
    _, bin_path = openvino_paths(path)
    if damage == "missing":
        bin_path.unlink()
    else:
        data = bytearray(bin_path.read_bytes())
        data[len(data) // 2] ^= 0xFF  # one weight changed: the network would compute something else
        bin_path.write_bytes(bytes(data))
    expected = "is missing" if damage == "missing" else "does not match the model's metadata"
    with caplog.at_level(logging.WARNING, logger="ml.inference"):
        assert CellClassifier.from_path(path).runtime.startswith("keras ")
    warnings = [record.getMessage() for record in caplog.records if record.name == "ml.inference"]
    assert len(warnings) == 1 and expected in warnings[0]
    with pytest.raises(ArtifactError, match=expected):
        CellClassifier.from_path(path, "openvino")


def test_an_unknown_runtime_is_refused(exported_model_path):
    with pytest.raises(ArtifactError, match="Unknown runtime 'tflite'"):
        CellClassifier.from_path(exported_model_path, "tflite")


def test_an_export_that_differs_from_keras_is_removed_and_not_recorded(tiny_model_path, tmp_path, monkeypatch):
    path = artifact_copy(tiny_model_path, tmp_path / "copy", with_export=False)
    monkeypatch.setattr("ml.runtime.EXPORT_TOLERANCE", -1.0)  # every export now "differs"
    with pytest.raises(ArtifactError, match="differs from the Keras model .* not recorded"):
        export_artifact(path)
    assert not any(p.exists() for p in openvino_paths(path))
    assert read_metadata(path).openvino == {}


def test_saving_a_new_model_over_an_exported_one_removes_the_old_export(exported_model_path, tmp_path):
    path = artifact_copy(exported_model_path, tmp_path / "copy")
    model, distribution, metadata = load_artifact(path)
    saved = save_artifact(model, distribution, path, metadata)
    assert saved.openvino == {} == read_metadata(path).openvino
    assert not any(p.exists() for p in openvino_paths(path))
    assert CellClassifier.from_path(path).runtime.startswith("keras ")


def test_the_cache_reloads_once_an_artifact_is_exported(tiny_model_path, tmp_path):
    path = artifact_copy(tiny_model_path, tmp_path / "copy", with_export=False)
    cache = ClassifierCache()
    assert cache.get(path).runtime.startswith("keras ") and cache.get(path) is cache.get(path)
    export_artifact(path)
    assert cache.get(path).runtime.startswith("openvino ") and cache.loads == 2
    assert cache.get(path, "keras").runtime.startswith("keras ") and cache.loads == 3


def test_threads_calling_the_openvino_forward_at_once_each_get_their_own_answers(exported_model_path):
    served = CellClassifier.from_path(exported_model_path, "openvino")
    batches = [generated_inputs(served.spec, count)[:: -1 if count % 2 else 1] for count in (1, 3, 20, 33)]
    expected = [served.forward(batch)[0] for batch in batches]
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(lambda batch: served.forward(batch)[0], batches * 3))
    for answer, wanted in zip(answers, expected * 3, strict=True):
        np.testing.assert_allclose(answer, wanted, atol=1e-6)
