"""``manage.py install_model SOURCE.keras``: a trained artifact put in place of the served one, checked, renamed
into place, registered; a damaged one installs nothing."""

import io

import pytest
from django.core.management import CommandError, call_command

from ml.artifact import metadata_path, novelty_path, openvino_paths, read_metadata
from ml.inference import CellClassifier
from registry.models import ModelVersion
from tests.factories import artifact_copy

pytestmark = pytest.mark.django_db


def install(source, target) -> str:
    stdout = io.StringIO()
    call_command("install_model", str(source), "--model", str(target), stdout=stdout)
    return stdout.getvalue()


def files_of(folder) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in folder.iterdir()}


def test_an_exported_artifact_is_installed_whole_registered_and_served(exported_model_path, tmp_path):
    target = tmp_path / "var" / "model" / "hematovision.keras"
    output = install(exported_model_path, target)
    metadata = read_metadata(exported_model_path)
    assert f"Installed tiny-test-model (sha256 {metadata.sha256[:12]}…, OpenVINO" in output
    for source, installed in zip(
        [exported_model_path, novelty_path(exported_model_path), *openvino_paths(exported_model_path)],
        [target, novelty_path(target), *openvino_paths(target)],
        strict=True,
    ):
        assert installed.read_bytes() == source.read_bytes()
    assert read_metadata(target) == metadata
    assert sorted(files_of(target.parent)) == sorted(
        path.name for path in [target, metadata_path(target), novelty_path(target), *openvino_paths(target)]
    )  # no temporary file left
    assert ModelVersion.objects.get().sha256 == metadata.sha256
    assert CellClassifier.from_path(target).runtime.startswith("openvino ")


def test_a_keras_only_artifact_replaces_an_exported_one_and_its_export_goes(
    exported_model_path, basophil_model_path, tmp_path
):
    target = artifact_copy(exported_model_path, tmp_path / "served")
    install(basophil_model_path, target)
    assert read_metadata(target).name == "tiny-basophil-model"
    assert not any(path.exists() for path in openvino_paths(target))
    assert CellClassifier.from_path(target).runtime.startswith("keras ")


def test_a_damaged_artifact_installs_nothing(exported_model_path, tiny_model_path, tmp_path):
    target = artifact_copy(exported_model_path, tmp_path / "served")
    source = artifact_copy(tiny_model_path, tmp_path / "new")
    data = bytearray(source.read_bytes())
    data[len(data) // 2] ^= 0xFF
    source.write_bytes(bytes(data))
    before = files_of(target.parent)
    with pytest.raises(CommandError, match="Nothing was installed: Model .* does not match its metadata"):
        install(source, target)
    assert files_of(target.parent) == before and not ModelVersion.objects.exists()


def test_a_missing_artifact_is_a_command_error(tmp_path):
    with pytest.raises(CommandError, match="Nothing was installed: No model at"):
        install(tmp_path / "absent.keras", tmp_path / "served.keras")
