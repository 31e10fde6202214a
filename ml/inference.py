"""The inference service: load a trained model once per process, warm it up, classify images in batches.

The forward pass runs on the fastest runtime the artifact allows: its OpenVINO export when present, intact and
``openvino`` is installed (``ml.runtime``; its int8 quantisation when asked for, ``ml.quantisation``), else the
Keras model's traced function. The Keras model is kept either way, for Grad-CAM.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from ml.artifact import (
    ArtifactError,
    ArtifactMetadata,
    load_artifact,
    metadata_path,
    read_metadata,
    remove_openvino_files,
    write_metadata,
)
from ml.model import probabilities_and_features
from ml.novelty import TrainingDistribution
from ml.preprocessing import CellLocation, locate_cell, preprocess
from ml.quality import UNLIKE_TRAINING_IMAGES, assess_image
from ml.runtime import RUNTIME_PRECISIONS, RUNTIMES, IRUnavailable, OpenVINOForward, check_export, export_ir, read_ir

logger = logging.getLogger(__name__)

# Test-time augmentation: views of the crop whose class probabilities are averaged. A cell has no
# orientation, so flips cannot change the answer, only the noise around it.
TTA_VIEWS = {
    "identity": lambda images: images,
    "flip_left_right": lambda images: tf.reverse(images, axis=[2]),
    "flip_up_down": lambda images: tf.reverse(images, axis=[1]),
    # Two single-axis reverses, not one over both axes: OpenVINO's TensorFlow front end mislays the channels of a
    # two-axis ReverseV2 before a convolution (2026.4), and the export (``ml.runtime``) converts this graph.
    "rotate_180": lambda images: tf.reverse(tf.reverse(images, axis=[1]), axis=[2]),
}


@dataclass(frozen=True)
class Classification:
    label: str
    confidence: float
    probabilities: dict[str, float]
    nucleus_found: bool
    inference_ms: float
    novelty_distance: float  # distance to the training images' features; above the model's threshold is unlike them
    quality_flags: tuple[str, ...] = ()  # reasons the image may not be a stained white cell
    location: CellLocation | None = None  # the cell located in the image, for the crop that is stored beside it
    runtime: str = ""  # what computed the probabilities, e.g. ``openvino 2026.4.1 (int8, CPU)``


class ViewAveragedForward:
    """Probabilities and pooled features of preprocessed images, averaged over the TTA views.

    A traced ``tf.function``: no ``model.predict`` set-up cost per call; one model call per batch.
    """

    def __init__(self, model, tta: tuple[str, ...], input_size: int, batch_size: int = 32):
        self.tta = tuple(tta)
        self.batch_size = batch_size
        self.input_size = input_size
        self.description = f"keras {keras.__version__} (tensorflow {tf.__version__})"
        self._network = probabilities_and_features(model)
        self.traced = tf.function(
            self._average_over_views, input_signature=[tf.TensorSpec([None, input_size, input_size, 3], tf.uint8)]
        )
        self(np.zeros((1, input_size, input_size, 3), np.uint8))  # trace and warm up now, not on a request

    def _average_over_views(self, images: tf.Tensor):
        """One model call on all TTA views stacked, then the mean per image."""
        images = tf.cast(images, tf.float32)
        views = tf.concat([TTA_VIEWS[name](images) for name in self.tta], axis=0)
        probabilities, features = self._network(views, training=False)
        return self._mean_over_views(probabilities), self._mean_over_views(features)

    def _mean_over_views(self, values: tf.Tensor) -> tf.Tensor:
        return tf.reduce_mean(tf.reshape(values, [len(self.tta), -1, values.shape[-1]]), axis=0)

    def __call__(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(probabilities, features) for uint8 images of the model's input size."""
        batches = [
            self.traced(tf.constant(images[start : start + self.batch_size]))
            for start in range(0, len(images), self.batch_size)
        ]
        if not batches:
            return np.zeros((0, 0), np.float32), np.zeros((0, 0), np.float32)
        return (
            np.concatenate([probabilities.numpy() for probabilities, _ in batches]),
            np.concatenate([features.numpy() for _, features in batches]),
        )


def runtime_forward(
    model,
    metadata: ArtifactMetadata,
    model_path: str | Path,
    runtime: str = "auto",
    batch_size: int = 32,
    precision: str = "fp32",
) -> ViewAveragedForward | OpenVINOForward:
    """The forward pass ``runtime`` asks for: ``openvino`` (its export, or an ``ArtifactError``), ``keras``, or
    ``auto``: the export when it can serve, else Keras with the reason logged.

    ``precision`` picks the OpenVINO export: ``fp32``; ``int8`` (the int8 export, or an ``ArtifactError``: only
    one that passed its agreement check is ever recorded); ``auto``: the int8 export when it can serve, else fp32.
    """
    if runtime not in RUNTIMES:
        raise ArtifactError(f"Unknown runtime {runtime!r}; choose one of {', '.join(RUNTIMES)}.")
    if precision not in RUNTIME_PRECISIONS:
        raise ArtifactError(f"Unknown precision {precision!r}; choose one of {', '.join(RUNTIME_PRECISIONS)}.")
    if runtime == "keras" and precision == "int8":
        raise ArtifactError("The int8 precision runs on OpenVINO only, and the Keras runtime was asked for.")
    if runtime != "keras" and precision != "fp32":
        try:
            ir = read_ir(model_path, metadata.openvino_int8, "int8")
            return OpenVINOForward(*ir, metadata.preprocessing.input_size, "int8")
        except IRUnavailable as problem:
            if precision == "int8":
                raise ArtifactError(f"The int8 precision was asked for, but {problem}.") from problem
            (logger.warning if metadata.openvino_int8 else logger.info)("Serving %s in fp32: %s.", model_path, problem)
    if runtime != "keras":
        try:
            return OpenVINOForward(*read_ir(model_path, metadata.openvino), metadata.preprocessing.input_size)
        except IRUnavailable as problem:
            if runtime == "openvino":
                raise ArtifactError(f"The OpenVINO runtime was asked for, but {problem}.") from problem
            # An export was made for this model, yet it cannot serve: worth a warning. No export at all is a choice.
            (logger.warning if metadata.openvino else logger.info)("Serving %s with Keras: %s.", model_path, problem)
    return ViewAveragedForward(model, metadata.tta, metadata.preprocessing.input_size, batch_size)


class CellClassifier:
    """A trained artifact ready to serve: the forward pass on its runtime, its novelty check and its metadata."""

    def __init__(
        self,
        model,
        distribution: TrainingDistribution,
        metadata: ArtifactMetadata,
        forward: ViewAveragedForward | OpenVINOForward | None = None,
    ):
        self.metadata = metadata
        self.class_names: list[str] = list(metadata.class_names)
        self.spec = metadata.preprocessing
        self.tta = metadata.tta
        self.model = model  # also read by Grad-CAM, which needs gradients the traced function does not give
        self.distribution = distribution
        self.forward = forward or ViewAveragedForward(model, metadata.tta, self.spec.input_size)

    @classmethod
    def from_path(cls, model_path: str | Path, runtime: str = "auto", precision: str = "fp32") -> CellClassifier:
        model, distribution, metadata = load_artifact(model_path)
        forward = runtime_forward(model, metadata, model_path, runtime, precision=precision)
        classifier = cls(model, distribution, metadata, forward)
        logger.info("Model %s (%s) serves on %s.", metadata.name, model_path, classifier.runtime)
        return classifier

    @property
    def runtime(self) -> str:
        """Which runtime computes the predictions, e.g. ``openvino 2026.4.1 (f32, CPU)``."""
        return self.forward.description

    @property
    def sha256(self) -> str:
        return self.metadata.sha256

    def classify_arrays(self, rgb_images: list[np.ndarray]) -> list[Classification]:
        """Classify decoded RGB images of any size; inference time is shared evenly across the batch."""
        started = time.perf_counter()
        locations = [locate_cell(rgb) for rgb in rgb_images]
        inputs = np.stack(
            [preprocess(rgb, self.spec, location) for rgb, location in zip(rgb_images, locations, strict=True)]
        )
        flags = [assess_image(rgb, location) for rgb, location in zip(rgb_images, locations, strict=True)]
        probabilities, features = self.forward(inputs)
        distances = self.distribution.distances(features)
        elapsed_ms = (time.perf_counter() - started) * 1000 / max(1, len(rgb_images))
        return [
            self._result(row, location, float(distance), image_flags, elapsed_ms)
            for row, location, distance, image_flags in zip(probabilities, locations, distances, flags, strict=True)
        ]

    def _result(
        self, row: np.ndarray, location: CellLocation, distance: float, image_flags: tuple[str, ...], elapsed_ms: float
    ) -> Classification:
        best = int(np.argmax(row))
        far = distance > self.distribution.threshold and UNLIKE_TRAINING_IMAGES not in image_flags
        unlike = (UNLIKE_TRAINING_IMAGES,) if far else ()
        return Classification(
            label=self.class_names[best],
            confidence=float(row[best]),
            probabilities={name: float(value) for name, value in zip(self.class_names, row, strict=True)},
            nucleus_found=location.nucleus_found,
            inference_ms=elapsed_ms,
            novelty_distance=distance,
            quality_flags=image_flags + unlike,
            location=location,
            runtime=self.runtime,
        )


def export_artifact(model_path: str | Path, model=None) -> ArtifactMetadata:
    """Export the artifact's forward pass to OpenVINO beside it, check it against Keras, record it in the metadata.

    ``model``: the Keras model when the caller has just saved it (training); else it is loaded (and checked).
    An export that differs from Keras is removed and raises ``ArtifactError``. An int8 export quantised from the
    previous fp32 one is removed with it: it is quantised again from the new one.
    """
    if model is None:
        model, _, metadata = load_artifact(model_path)
    else:
        metadata = read_metadata(model_path)
    keras_forward = ViewAveragedForward(model, metadata.tta, metadata.preprocessing.input_size)
    record = export_ir(keras_forward.traced, model_path)
    try:
        differences = check_export(
            OpenVINOForward(*read_ir(model_path, record), metadata.preprocessing.input_size),
            keras_forward,
            metadata.preprocessing.input_size,
        )
    except ArtifactError:
        remove_openvino_files(model_path)
        raise
    remove_openvino_files(model_path, ["int8"])
    return write_metadata(
        model_path, dataclasses.replace(metadata, openvino={**record, **differences}, openvino_int8={})
    )


class ClassifierCache:
    """The classifiers a process serves (the shared model and the labs' own), at most ``capacity`` at once, the
    least recently used dropped first; each reloaded only when its artifact's metadata changes; thread-safe.

    The metadata alone is watched: it names every other file by checksum, and an installation renames it into place
    last (``ml.artifact.install_artifact``), so a process reloads only once the whole new artifact stands beside
    it, and meanwhile serves the model it holds, which is all in memory (nothing is mapped from the files). Its
    identity is its inode, size and modification time: a rename brings a new inode, a copy over it a new size or
    time, even within the file system's clock tick.

    What each loaded classifier costs in resident memory is measured in docs/benchmark.md ("Memory per served
    model").
    """

    def __init__(self, capacity: int = 1):
        if capacity < 1:
            raise ValueError("A classifier cache holds at least one classifier.")
        self.capacity = capacity
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[str, str, str], tuple[tuple, CellClassifier]] = OrderedDict()
        self.loads = 0  # how many times a model was read from disk, for tests and diagnostics

    def get(self, model_path: str | Path, runtime: str = "auto", precision: str = "fp32") -> CellClassifier:
        path = Path(model_path)
        slot = (str(path.resolve()), runtime, precision)
        try:
            stat = metadata_path(path).stat()
            stamp = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
        except FileNotFoundError:
            stamp = None
        with self._lock:
            entry = self._entries.get(slot)
            if entry is None or entry[0] != stamp:
                self._entries[slot] = (stamp, CellClassifier.from_path(path, runtime, precision))
                self.loads += 1
            self._entries.move_to_end(slot)
            while len(self._entries) > self.capacity:
                self._entries.popitem(last=False)
            return self._entries[slot][1]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
