"""``manage.py export_runtime``: an existing artifact exported to OpenVINO beside it, then served from it."""

import io
import shutil

import pytest
from django.core.management import CommandError, call_command

from ml.artifact import metadata_path, novelty_path, openvino_paths, read_metadata, sha256_of
from ml.inference import CellClassifier


def test_an_existing_artifact_is_exported_recorded_and_served(tiny_model_path, tmp_path):
    path = tmp_path / tiny_model_path.name
    for source in (tiny_model_path, metadata_path(tiny_model_path), novelty_path(tiny_model_path)):
        shutil.copy(source, tmp_path / source.name)
    stdout = io.StringIO()
    call_command("export_runtime", "--model", str(path), stdout=stdout)
    xml_path, bin_path = openvino_paths(path)
    recorded = read_metadata(path).openvino
    assert (recorded["xml_sha256"], recorded["bin_sha256"]) == (sha256_of(xml_path), sha256_of(bin_path))
    assert "Exported tiny-test-model to OpenVINO" in stdout.getvalue()
    assert CellClassifier.from_path(path).runtime.startswith("openvino ")


def test_a_missing_model_is_a_command_error(tmp_path):
    with pytest.raises(CommandError, match="No trained model"):
        call_command("export_runtime", "--model", str(tmp_path / "absent.keras"))


def test_without_openvino_installed_it_says_how_to_install_it(tiny_model_path, monkeypatch):
    monkeypatch.setattr("registry.management.commands.export_runtime.openvino_installed", lambda: False)
    with pytest.raises(CommandError, match="openvino is not installed"):
        call_command("export_runtime", "--model", str(tiny_model_path))
