"""Atomic saving and checksum verification of the model artifact."""

import json

import keras
import pytest

from ml.artifact import ArtifactError, load_artifact, metadata_path, save_artifact


def _tiny_model(units: int = 4) -> keras.Model:
    inputs = keras.Input((3,))
    return keras.Model(inputs, keras.layers.Dense(units, name="dense")(inputs))


@pytest.fixture
def saved(tmp_path):
    path = tmp_path / "model.keras"
    metadata = save_artifact(_tiny_model(), path, {"name": "first"})
    return path, metadata


def test_save_then_load_round_trips_with_the_checksum(saved):
    path, metadata = saved
    model, loaded = load_artifact(path)
    assert loaded == metadata and len(metadata["sha256"]) == 64
    assert model.get_layer("dense").units == 4


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
        save_artifact(replacement, path, {"name": "second"})
    assert path.read_bytes() == before
    assert load_artifact(path)[1]["name"] == "first"
    assert sorted(p.name for p in path.parent.iterdir()) == ["model.json", "model.keras"]


def test_checksum_mismatch_is_refused(saved):
    path, metadata = saved
    metadata_path(path).write_text(json.dumps({**metadata, "sha256": "0" * 64}))
    with pytest.raises(ArtifactError, match="does not match its metadata"):
        load_artifact(path)


def test_missing_model_and_missing_metadata_are_explained(saved, tmp_path):
    path, _ = saved
    with pytest.raises(ArtifactError, match="No trained model.*train_model"):
        load_artifact(tmp_path / "absent.keras")
    metadata_path(path).unlink()
    with pytest.raises(ArtifactError, match="metadata .* is missing"):
        load_artifact(path)
