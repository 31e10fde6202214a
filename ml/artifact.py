"""Saving and loading the trained model with its JSON metadata, atomically and with a checksum."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

import keras


class ArtifactError(Exception):
    """The model artifact is missing, unreadable, or its metadata does not match."""


def metadata_path(model_path: str | Path) -> Path:
    return Path(model_path).with_suffix(".json")


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


def save_artifact(model: keras.Model, model_path: str | Path, metadata: dict) -> dict:
    """Save model then metadata (with the model's sha256); returns the metadata written."""
    model_path = Path(model_path)
    _atomic_write(model_path, lambda temporary: model.save(temporary))
    full_metadata = {**metadata, "sha256": sha256_of(model_path)}
    _atomic_write(metadata_path(model_path),
                  lambda temporary: temporary.write_text(json.dumps(full_metadata, indent=2, sort_keys=True)))
    return full_metadata


def read_metadata(model_path: str | Path) -> dict:
    path = metadata_path(model_path)
    if not path.is_file():
        raise ArtifactError(f"Model metadata {path} is missing; retrain with `python manage.py train_model`.")
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise ArtifactError(f"Model metadata {path} is unreadable ({error}).") from error


def load_artifact(model_path: str | Path) -> tuple[keras.Model, dict]:
    """Load the model and its metadata, checking that the metadata describes this very file."""
    model_path = Path(model_path)
    if not model_path.is_file():
        raise ArtifactError(f"No trained model at {model_path}. Train one with `python manage.py train_model` "
                            "(needs HEMATOVISION_DATASET_DIR and HEMATOVISION_BASE_WEIGHTS), or set "
                            "HEMATOVISION_MODEL_PATH to an existing model.")
    metadata = read_metadata(model_path)
    actual = sha256_of(model_path)
    if metadata.get("sha256") != actual:
        raise ArtifactError(f"Model {model_path} does not match its metadata (sha256 {actual[:12]}… vs "
                            f"{str(metadata.get('sha256'))[:12]}…); retrain or restore both files together.")
    try:
        model = keras.models.load_model(model_path, compile=False)
    except Exception as error:  # Keras raises many types for a damaged archive
        raise ArtifactError(f"Model {model_path} is unreadable ({error}).") from error
    return model, metadata
