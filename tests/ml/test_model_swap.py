"""Swapping the served model while it serves: ``install_artifact`` renames the checked files into place, the
metadata last; a process watching the metadata reloads only once the new artifact is whole, and what it serves
is in memory, so files replaced or truncated under it change nothing until then."""

import os

import numpy as np
import pytest

from ml.artifact import (
    ArtifactError,
    install_artifact,
    metadata_path,
    novelty_path,
    openvino_paths,
    read_metadata,
)
from ml.inference import CellClassifier, ClassifierCache
from tests.factories import artifact_copy, smear_rgb

SERVED_NAME = "served.keras"


@pytest.fixture
def served(exported_model_path, tmp_path):
    """A served copy of the exported tiny model (OpenVINO and Keras files)."""
    return artifact_copy(exported_model_path, tmp_path / "served", name=SERVED_NAME)


def artifact_files(model_path) -> list:
    return [model_path, novelty_path(model_path), *openvino_paths(model_path), metadata_path(model_path)]


def test_each_file_is_renamed_into_place_after_all_are_checked_the_metadata_last(
    served, basophil_model_path, monkeypatch
):
    renames, staged_at_first_rename, replace = [], [], os.replace

    def recording(source, target):
        if not renames:
            staged_at_first_rename.extend(path.name for path in served.parent.glob(".*.installing"))
        renames.append(os.path.basename(target))
        replace(source, target)

    monkeypatch.setattr("ml.artifact.os.replace", recording)
    install_artifact(basophil_model_path, served)
    assert renames == ["served.keras", "served.novelty.npz", "served.json"]
    assert len(staged_at_first_rename) == 3  # every file copied and checked before the first rename
    assert read_metadata(served).name == "tiny-basophil-model"
    assert not any(path.exists() for path in openvino_paths(served))  # the old export is not the new model's
    assert sorted(path.name for path in served.parent.iterdir()) == [
        "served.json",
        "served.keras",
        "served.novelty.npz",
    ]


def test_a_serving_process_keeps_its_model_until_the_metadata_lands_then_loads_the_new_one(
    served, basophil_model_path, monkeypatch
):
    cache = ClassifierCache()
    old = cache.get(served)
    seen_while_installing, replace = [], os.replace

    def asking_between(source, target):
        replace(source, target)
        seen_while_installing.append(cache.get(served))

    monkeypatch.setattr("ml.artifact.os.replace", asking_between)
    install_artifact(basophil_model_path, served)
    assert seen_while_installing[:-1] == [old, old]  # .keras and .novelty.npz in place: nothing reloaded
    new = seen_while_installing[-1]
    assert new is not old and new.sha256 == read_metadata(basophil_model_path).sha256 and cache.loads == 2


def test_a_process_loading_from_nothing_mid_swap_is_refused_never_given_a_mix(served, basophil_model_path):
    new = artifact_copy(basophil_model_path, served.parent / "new")
    os.replace(new, served)  # the network swapped, nothing else yet
    with pytest.raises(ArtifactError, match="does not match its metadata"):
        CellClassifier.from_path(served)


def test_served_files_truncated_or_replaced_under_a_loaded_model_do_not_touch_it(served):
    classifier = CellClassifier.from_path(served)
    assert classifier.runtime.startswith("openvino ")
    before = classifier.classify_arrays([smear_rgb()])[0].probabilities
    for path in artifact_files(served):
        with open(path, "r+b") as handle:  # what `cp new old` does first; a mapped file would now SIGBUS
            handle.truncate(0)
    after = classifier.classify_arrays([smear_rgb(), smear_rgb(seed=1)])
    np.testing.assert_allclose(list(after[0].probabilities.values()), list(before.values()), atol=1e-6)


def test_a_damaged_source_installs_nothing_and_leaves_no_temporary_file(served, tiny_model_path, tmp_path):
    source = artifact_copy(tiny_model_path, tmp_path / "source")
    data = bytearray(novelty_path(source).read_bytes())
    data[len(data) // 2] ^= 0xFF
    novelty_path(source).write_bytes(bytes(data))
    before = {path.name: path.read_bytes() for path in served.parent.iterdir()}
    with pytest.raises(ArtifactError, match="Novelty check .* does not match its metadata"):
        install_artifact(source, served)
    assert {path.name: path.read_bytes() for path in served.parent.iterdir()} == before


def test_a_full_disk_while_copying_installs_nothing(served, basophil_model_path, monkeypatch):
    before = {path.name: path.read_bytes() for path in served.parent.iterdir()}
    real_fsync, calls = os.fsync, []

    def full_on_second_file(descriptor):
        calls.append(descriptor)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        real_fsync(descriptor)

    monkeypatch.setattr("ml.artifact.os.fsync", full_on_second_file)
    with pytest.raises(ArtifactError, match="No space left on device.*the served model is unchanged"):
        install_artifact(basophil_model_path, served)
    assert {path.name: path.read_bytes() for path in served.parent.iterdir()} == before


def test_the_served_artifact_itself_cannot_be_installed_over_itself(served):
    with pytest.raises(ArtifactError, match="already the installed model"):
        install_artifact(served, served)
