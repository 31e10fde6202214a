"""``manage.py export_runtime``: an existing artifact exported to OpenVINO beside it (fp32, or int8 quantised from it
only when it agrees), then served from it."""

import io
import shutil

import pytest
from django.core.management import CommandError, call_command

from ml.artifact import metadata_path, novelty_path, openvino_paths, read_metadata, sha256_of
from ml.inference import CellClassifier
from tests.factories import LOOSE_GATE, artifact_copy
from tests.ml.conftest import write_tiny_split


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


@pytest.fixture
def tiny_source(tmp_path) -> list[str]:
    """A tiny Kaggle-layout training source: 8 photos per class, 3 cells each."""
    write_tiny_split(tmp_path / "tiny", "TRAIN", photos_per_class=8, copies=3)
    return ["--source", f"tiny={tmp_path / 'tiny'}"]


def test_an_int8_export_that_agrees_is_recorded_with_its_calibration(
    adaptable_model_path, tiny_source, tmp_path, monkeypatch
):
    monkeypatch.setattr("ml.quantisation.AGREEMENT_GATE", LOOSE_GATE)
    path = artifact_copy(adaptable_model_path, tmp_path / "model")
    call_command("export_runtime", "--model", str(path), stdout=io.StringIO())
    stdout = io.StringIO()
    call_command("export_runtime", "--model", str(path), "--precision", "int8", *tiny_source, stdout=stdout)
    record = read_metadata(path).openvino_int8
    assert record["calibration"]["sources"] == ["tiny"]
    assert record["calibration"]["calibration_images"] + record["calibration"]["check_images"] == 96
    assert record["agreement"]["n_images"] == record["calibration"]["check_images"]
    assert "it agrees with fp32 and is recorded" in stdout.getvalue()
    assert "int8 against fp32 on" in stdout.getvalue()
    assert "(int8, CPU)" in CellClassifier.from_path(path, precision="int8").runtime


def test_an_int8_export_that_disagrees_is_a_command_error_with_its_figures(adaptable_model_path, tiny_source, tmp_path):
    path = artifact_copy(adaptable_model_path, tmp_path / "model")
    call_command("export_runtime", "--model", str(path), stdout=io.StringIO())
    stdout = io.StringIO()
    with pytest.raises(CommandError, match="disagrees with fp32 .* It was not recorded, and is not served"):
        call_command("export_runtime", "--model", str(path), "--precision", "int8", *tiny_source, stdout=stdout)
    assert "same class" in stdout.getvalue()
    assert read_metadata(path).openvino_int8 == {}


def test_int8_needs_the_fp32_export_first(adaptable_model_path, tiny_source, tmp_path):
    path = artifact_copy(adaptable_model_path, tmp_path / "model", with_export=False)
    with pytest.raises(CommandError, match="Nothing to quantise: the model has no OpenVINO export"):
        call_command("export_runtime", "--model", str(path), "--precision", "int8", *tiny_source)


def test_without_nncf_installed_int8_says_how_to_install_it(tiny_model_path, monkeypatch):
    monkeypatch.setattr("registry.management.commands.export_runtime.nncf_installed", lambda: False)
    with pytest.raises(CommandError, match="nncf is not installed"):
        call_command("export_runtime", "--model", str(tiny_model_path), "--precision", "int8")
