"""Saving, loading and installing the trained model, its novelty check and its JSON metadata, atomically, with
checksums.

An artifact is three files side by side: ``<name>.keras`` (the network), ``<name>.novelty.npz`` (the learned
"like the training images?" check, ``ml.novelty``) and ``<name>.json`` (``ArtifactMetadata``, holding the
sha256 of the other two, so a model is never served with another model's metadata or check). The forward pass
exported to OpenVINO (``<name>.openvino.xml`` and ``.bin``, ``ml.runtime``) and its int8 quantisation
(``<name>.openvino-int8.xml`` and ``.bin``, ``ml.quantisation``) may sit beside them, their checksums in the
metadata too.

Every file is read into memory once, and its checksum is taken of those bytes, which are then what is loaded:
nothing a server holds is mapped from a file that may change under it, and a file swapped after its check can
never be what is served.
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
OPTIONAL_FIELDS = {"openvino", "openvino_int8", "evaluation"}
# The OpenVINO exports an artifact may hold: the fp32 one, and the int8 one quantised from it.
PRECISIONS = ("fp32", "int8")


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
    # The int8 export's checksums, calibration and agreement with fp32 (``ml.quantisation``); only one that passed
    # its agreement check is recorded. Empty: none.
    openvino_int8: dict = field(default_factory=dict)
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


def openvino_paths(model_path: str | Path, precision: str = "fp32") -> tuple[Path, Path]:
    """The two files of the OpenVINO IR of ``precision`` (fp32 or int8): the graph (.xml) and its weights (.bin)."""
    stem = ".openvino" if precision == "fp32" else f".openvino-{precision}"
    return Path(model_path).with_suffix(f"{stem}.xml"), Path(model_path).with_suffix(f"{stem}.bin")


def openvino_record(metadata: ArtifactMetadata, precision: str) -> dict:
    """The metadata's entry for the OpenVINO export of ``precision``; empty when there is none."""
    return metadata.openvino if precision == "fp32" else metadata.openvino_int8


def remove_openvino_files(model_path: str | Path, precisions=PRECISIONS) -> None:
    for precision in precisions:
        for path in openvino_paths(model_path, precision):
            path.unlink(missing_ok=True)


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

    The OpenVINO exports of the model saved here before belong to that model: they are removed.
    """
    model_path = Path(model_path)
    _atomic_write(model_path, lambda temporary: model.save(temporary))
    _atomic_write(novelty_path(model_path), lambda temporary: temporary.write_bytes(distribution.to_bytes()))
    remove_openvino_files(model_path)
    return write_metadata(
        model_path,
        dataclasses.replace(
            metadata,
            sha256=sha256_of(model_path),
            novelty_sha256=sha256_of(novelty_path(model_path)),
            openvino={},
            openvino_int8={},
        ),
    )


def _metadata_json(metadata: ArtifactMetadata) -> str:
    return json.dumps(metadata.to_dict(), indent=2, sort_keys=True)


def write_metadata(model_path: str | Path, metadata: ArtifactMetadata) -> ArtifactMetadata:
    """Write the metadata beside ``model_path`` (atomically) and return it."""
    _atomic_write(metadata_path(model_path), lambda temporary: temporary.write_text(_metadata_json(metadata)))
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


def read_checked(path: str | Path, expected: str, what: str) -> bytes:
    """The file's bytes, read once, refused unless their sha256 is ``expected`` (the metadata's record of it)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ArtifactError(
            f"The model's {what} {path} is missing; retrain or restore the artifact's files together."
        ) from None
    except OSError as error:
        raise ArtifactError(f"The model's {what} {path} is unreadable ({error}).") from error
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        raise ArtifactError(
            f"{what.capitalize()} {path} does not match its metadata (sha256 {actual[:12]}… vs "
            f"{expected[:12]}…); retrain or restore the artifact's files together."
        )
    return data


def _keras_model_from(data: bytes) -> keras.Model:
    """The Keras model of a ``.keras`` file's bytes. Keras loads from a path, so from a private copy of the checked
    bytes: never from the served file, which an installation may replace or a copy truncate meanwhile."""
    with tempfile.TemporaryDirectory(prefix="hematovision-model-") as folder:
        copy = Path(folder) / "model.keras"
        copy.write_bytes(data)
        return keras.models.load_model(copy, compile=False)


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
    model_bytes = read_checked(model_path, metadata.sha256, "model")
    novelty_bytes = read_checked(novelty_path(model_path), metadata.novelty_sha256, "novelty check")
    try:
        model = _keras_model_from(model_bytes)
        distribution = TrainingDistribution.from_bytes(novelty_bytes)
    except Exception as error:  # Keras and NumPy raise many types for a damaged archive
        raise ArtifactError(f"Model {model_path} is unreadable ({error}).") from error
    return model, distribution, metadata


def _stage(data: bytes, target: Path) -> Path:
    """``data`` written beside ``target`` under a temporary name and flushed to disk; the temporary file's path."""
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".installing", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return Path(temporary)


def install_artifact(source: str | Path, target: str | Path) -> ArtifactMetadata:
    """Put the artifact at ``source`` in place of the one at ``target`` (the served one) so that no reader ever
    loads new metadata with old files, or the reverse; returns the installed metadata.

    Every file the source's metadata names (the network, the novelty check, the OpenVINO exports it records) is copied beside its target under a temporary name, from bytes checked against the checksum the metadata
    records, and read back and checked again; only then is each renamed into place (``os.replace``, atomic: a
    reader opens the old file or the new, never half of one), the metadata last. The metadata is the file that
    names the others and the one a server watches (``ml.inference.ClassifierCache``): renamed last, no server
    reloads before every file it names is in place, and each goes on serving the model it holds in memory until
    then. A process that loads from nothing in the moment between finds old metadata beside a new file, which the
    checksums refuse (a clean 503), never a mix. Were the metadata first, every server would reload at once onto
    the old files, refuse them and answer 503 until the rest arrived. An old OpenVINO export that the new artifact
    lacks is removed after the swap.

    Anything wrong before the renames (a missing or damaged file, a full disk) leaves the served artifact as it
    was, and no temporary file behind.
    """
    source, target = Path(source), Path(target)
    if source.resolve() == target.resolve():
        raise ArtifactError(f"{source} is already the installed model.")
    if not source.is_file():
        raise ArtifactError(f"No model at {source}: give the .keras file of a trained artifact.")
    metadata = read_metadata(source)
    files = [
        (source, target, metadata.sha256, "model"),
        (novelty_path(source), novelty_path(target), metadata.novelty_sha256, "novelty check"),
    ]
    exported = [precision for precision in PRECISIONS if openvino_record(metadata, precision)]
    for precision in exported:
        record, keys = openvino_record(metadata, precision), ("xml_sha256", "bin_sha256")
        pairs = zip(openvino_paths(source, precision), openvino_paths(target, precision), keys, strict=True)
        for from_path, to_path, key in pairs:
            files.append((from_path, to_path, record[key], f"OpenVINO {precision} file {from_path.suffix}"))
    target.parent.mkdir(parents=True, exist_ok=True)
    staged = []
    try:
        for from_path, to_path, expected, what in files:
            staged.append((_stage(read_checked(from_path, expected, what), to_path), to_path))
            read_checked(staged[-1][0], expected, f"copy of the {what}")
        staged.append((_stage(_metadata_json(metadata).encode(), metadata_path(target)), metadata_path(target)))
    except BaseException as error:
        for temporary, _ in staged:
            temporary.unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise ArtifactError(f"Could not write beside {target} ({error}); the served model is unchanged.") from error
        raise
    for temporary, to_path in staged:  # the metadata was staged last, so it goes last
        os.replace(temporary, to_path)
    folder = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(folder)  # the renames survive a power cut
    finally:
        os.close(folder)
    remove_openvino_files(target, [precision for precision in PRECISIONS if precision not in exported])
    return metadata
