"""Atomic saving and checksum verification of the model artifact, and its typed metadata."""

import dataclasses
import json

import keras
import numpy as np
import pytest

from ml import CLASS_NAMES
from ml.artifact import (
    ArtifactError,
    ArtifactMetadata,
    load_artifact,
    metadata_path,
    novelty_path,
    read_metadata,
    save_artifact,
)
from ml.novelty import TrainingDistribution
from ml.preprocessing import PreprocessingSpec

METADATA = ArtifactMetadata(
    name="first",
    class_names=CLASS_NAMES,
    preprocessing=PreprocessingSpec(input_size=32),
    tta=("identity",),
    base_network="test",
    trained_at="2026-01-01T00:00:00+00:00",
    dataset_fingerprint="none",
    training={"train_images": 1},
    validation=None,
    novelty={"threshold": 1.0},
)


def _tiny_model(units: int = 4) -> keras.Model:
    inputs = keras.Input((3,))
    return keras.Model(inputs, keras.layers.Dense(units, name="dense")(inputs))


def _distribution(threshold: float = 2.5) -> TrainingDistribution:
    return TrainingDistribution(class_means=np.zeros((4, 3)), precision=np.eye(3), threshold=threshold)


@pytest.fixture
def saved(tmp_path):
    path = tmp_path / "model.keras"
    return path, save_artifact(_tiny_model(), _distribution(), path, METADATA)


def test_save_then_load_round_trips_with_both_checksums(saved):
    path, metadata = saved
    model, distribution, loaded = load_artifact(path)
    assert loaded == metadata == read_metadata(path)
    assert len(metadata.sha256) == 64 and len(metadata.novelty_sha256) == 64
    assert model.get_layer("dense").units == 4
    assert distribution.threshold == 2.5 and distribution.distances(np.array([[0.0, 3.0, 4.0]]))[0] == 5.0


def test_metadata_round_trips_through_json_as_typed_values(saved):
    path, metadata = saved
    data = json.loads(metadata_path(path).read_text())
    assert data["preprocessing"] == {
        "method": "cell_crop",
        "input_size": 32,
        "crop_scale": 2.8,
        "normalisation": "none",
    }
    assert ArtifactMetadata.from_dict(data).preprocessing == PreprocessingSpec(input_size=32)


def test_metadata_of_an_older_model_is_refused_with_the_fix(saved):
    path, metadata = saved
    data = metadata.to_dict()
    del data["novelty"]
    metadata_path(path).write_text(json.dumps(data))
    with pytest.raises(ArtifactError, match="lacks novelty.*retrain"):
        read_metadata(path)


def test_metadata_saved_before_the_openvino_export_existed_loads_without_one(saved):
    path, metadata = saved
    data = metadata.to_dict()
    del data["openvino"]
    metadata_path(path).write_text(json.dumps(data))
    assert read_metadata(path) == metadata and read_metadata(path).openvino == {}


def test_a_crash_mid_write_leaves_the_previous_artifact_intact(saved, monkeypatch):
    path, metadata = saved
    before = path.read_bytes()
    replacement = _tiny_model(units=2)

    def crash_after_partial_write(target, *args, **kwargs):
        with open(target, "wb") as handle:
            handle.write(b"PK\x03\x04 half a zip")
        raise OSError("disk full")

    monkeypatch.setattr(replacement, "save", crash_after_partial_write)
    with pytest.raises(OSError, match="disk full"):
        save_artifact(replacement, _distribution(), path, dataclasses.replace(METADATA, name="second"))
    assert path.read_bytes() == before
    assert load_artifact(path)[2].name == "first"
    assert sorted(p.name for p in path.parent.iterdir()) == ["model.json", "model.keras", "model.novelty.npz"]


def test_checksum_mismatch_is_refused(saved):
    path, metadata = saved
    metadata_path(path).write_text(json.dumps({**metadata.to_dict(), "sha256": "0" * 64}))
    with pytest.raises(ArtifactError, match="does not match its metadata"):
        load_artifact(path)


def test_another_models_novelty_check_is_refused(saved):
    path, _ = saved
    novelty_path(path).write_bytes(_distribution(threshold=9.0).to_bytes())
    with pytest.raises(ArtifactError, match="Novelty check .* does not match its metadata"):
        load_artifact(path)


def test_missing_files_are_explained(saved, tmp_path):
    path, _ = saved
    with pytest.raises(ArtifactError, match="No trained model.*train_model"):
        load_artifact(tmp_path / "absent.keras")
    novelty_path(path).unlink()
    with pytest.raises(ArtifactError, match="novelty check .* is missing"):
        load_artifact(path)
    metadata_path(path).unlink()
    with pytest.raises(ArtifactError, match="metadata .* is missing"):
        load_artifact(path)
