"""Saving and loading the trained model, its novelty check and its JSON metadata, atomically, with checksums.

An artifact is three files side by side: ``<name>.keras`` (the network), ``<name>.novelty.npz`` (the learned
"like the training images?" check, ``ml.novelty``) and ``<name>.json`` (``ArtifactMetadata``, holding the
sha256 of the other two, so a model is never served with another model's metadata or check). The forward pass
exported to OpenVINO (``<name>.openvino.xml`` and ``.bin``, ``ml.runtime``) may sit beside them, its checksums
in the metadata too.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import keras

from ml.novelty import TrainingDistribution
from ml.preprocessing import PreprocessingSpec

# Metadata fields that artifacts saved before them lack, and that load with their default.
OPTIONAL_FIELDS = {"openvino", "evaluation"}


class ArtifactError(Exception):
    """The model artifact is missing, unreadable, or its metadata does not match."""


@dataclass(frozen=True)
class ArtifactMetadata:
    """What training records about a model, and what serving and the web app read from it."""

    name: str
    class_names: tuple[str, ...]
    preprocessing: PreprocessingSpec
    tta: tuple[str, ...]
    base_network: str
    trained_at: str  # ISO 8601, UTC
    dataset_fingerprint: str
    training: dict  # the TrainingConfig, the phases' histories, sources and timings
    validation: dict | None  # grouped validation figures; None for a refit on every training image
    novelty: dict  # how the novelty check was calibrated (``fit_training_distribution``'s summary)
    sha256: str = ""  # of the .keras file, set by ``save_artifact``
    novelty_sha256: str = ""  # of the .novelty.npz file, set by ``save_artifact``
    # The OpenVINO export's checksums and how far it was from Keras (``ml.runtime.export_ir``); empty: none.
    openvino: dict = field(default_factory=dict)
    # Every evaluation set's figures, keyed by set name, as ``train_model`` measured them after training (so a fresh
    # deployment's Model page has them); ``evaluate_model`` refreshes the copy in the database.
    evaluation: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            **dataclasses.asdict(self),
            "class_names": list(self.class_names),
            "tta": list(self.tta),
            "preprocessing": self.preprocessing.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict) -> ArtifactMetadata:
        names = {field.name for field in dataclasses.fields(cls)}
        missing = names - set(data) - OPTIONAL_FIELDS
        if missing:
            raise ArtifactError(
                f"Model metadata lacks {', '.join(sorted(missing))}: the model was trained by an "
                "older version; retrain it with `python manage.py train_model`."
            )
        try:
            preprocessing = PreprocessingSpec.from_dict(data["preprocessing"])
        except (KeyError, TypeError, ValueError) as error:
            raise ArtifactError(f"Model metadata has unreadable preprocessing ({error}).") from error
        return cls(
            **{
                **{name: data[name] for name in names & set(data)},
                "class_names": tuple(data["class_names"]),
                "tta": tuple(data["tta"]),
                "preprocessing": preprocessing,
            }
        )


def metadata_path(model_path: str | Path) -> Path:
    return Path(model_path).with_suffix(".json")


def novelty_path(model_path: str | Path) -> Path:
    return Path(model_path).with_suffix(".novelty.npz")


def openvino_paths(model_path: str | Path) -> tuple[Path, Path]:
    """The OpenVINO IR's two files: the graph (.xml) and its weights (.bin)."""
    return Path(model_path).with_suffix(".openvino.xml"), Path(model_path).with_suffix(".openvino.bin")


def sha256_of(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _atomic_write(target: Path, write) -> None:
    """Write to a temporary file beside ``target`` and rename it into place: never a half-written file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.stem}-", suffix=target.suffix, dir=target.parent)
    os.close(handle)
    try:
        write(Path(temporary))
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def save_artifact(
    model: keras.Model, distribution: TrainingDistribution, model_path: str | Path, metadata: ArtifactMetadata
) -> ArtifactMetadata:
    """Save model, novelty check, then metadata (with both checksums); returns the metadata written.

    An OpenVINO export of the model saved here before belongs to that model: it is removed.
    """
    model_path = Path(model_path)
    _atomic_write(model_path, lambda temporary: model.save(temporary))
    _atomic_write(novelty_path(model_path), lambda temporary: temporary.write_bytes(distribution.to_bytes()))
    for path in openvino_paths(model_path):
        path.unlink(missing_ok=True)
    return write_metadata(
        model_path,
        dataclasses.replace(
            metadata, sha256=sha256_of(model_path), novelty_sha256=sha256_of(novelty_path(model_path)), openvino={}
        ),
    )


def write_metadata(model_path: str | Path, metadata: ArtifactMetadata) -> ArtifactMetadata:
    """Write the metadata beside ``model_path`` (atomically) and return it."""
    _atomic_write(
        metadata_path(model_path),
        lambda temporary: temporary.write_text(json.dumps(metadata.to_dict(), indent=2, sort_keys=True)),
    )
    return metadata


def read_metadata(model_path: str | Path) -> ArtifactMetadata:
    path = metadata_path(model_path)
    if not path.is_file():
        raise ArtifactError(f"Model metadata {path} is missing; retrain with `python manage.py train_model`.")
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise ArtifactError(f"Model metadata {path} is unreadable ({error}).") from error
    return ArtifactMetadata.from_dict(data)


def _check_checksum(path: Path, expected: str, what: str) -> None:
    if not path.is_file():
        raise ArtifactError(f"The model's {what} {path} is missing; retrain or restore the artifact's files together.")
    actual = sha256_of(path)
    if actual != expected:
        raise ArtifactError(
            f"{what.capitalize()} {path} does not match its metadata (sha256 {actual[:12]}… vs "
            f"{expected[:12]}…); retrain or restore the artifact's files together."
        )


def load_artifact(model_path: str | Path) -> tuple[keras.Model, TrainingDistribution, ArtifactMetadata]:
    """Load the model, its novelty check and its metadata, checking that the metadata describes these files."""
    model_path = Path(model_path)
    if not model_path.is_file():
        raise ArtifactError(
            f"No trained model at {model_path}. Train one with `python manage.py train_model` "
            "(needs HEMATOVISION_TRAINING_SOURCES and HEMATOVISION_BASE_WEIGHTS), or set "
            "HEMATOVISION_MODEL_PATH to an existing model."
        )
    metadata = read_metadata(model_path)
    _check_checksum(model_path, metadata.sha256, "model")
    _check_checksum(novelty_path(model_path), metadata.novelty_sha256, "novelty check")
    try:
        model = keras.models.load_model(model_path, compile=False)
        distribution = TrainingDistribution.from_bytes(novelty_path(model_path).read_bytes())
    except Exception as error:  # Keras and NumPy raise many types for a damaged archive
        raise ArtifactError(f"Model {model_path} is unreadable ({error}).") from error
    return model, distribution, metadata
