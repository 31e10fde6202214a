"""The inference service: load a trained model once per process, warm it up, classify images in batches."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tensorflow as tf

from ml.artifact import ArtifactMetadata, load_artifact
from ml.model import probabilities_and_features
from ml.novelty import TrainingDistribution
from ml.preprocessing import locate_cell, preprocess
from ml.quality import UNLIKE_TRAINING_IMAGES, assess_image


# Test-time augmentation: views of the crop whose class probabilities are averaged. A cell has no
# orientation, so flips cannot change the answer, only the noise around it.
TTA_VIEWS = {
    "identity": lambda images: images,
    "flip_left_right": lambda images: tf.reverse(images, axis=[2]),
    "flip_up_down": lambda images: tf.reverse(images, axis=[1]),
    "rotate_180": lambda images: tf.reverse(images, axis=[1, 2]),
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


class ViewAveragedForward:
    """Probabilities and pooled features of preprocessed images, averaged over the TTA views.

    A traced ``tf.function``: no ``model.predict`` set-up cost per call; one model call per batch.
    """

    def __init__(self, model, tta: tuple[str, ...], input_size: int, batch_size: int = 32):
        self.tta = tuple(tta)
        self.batch_size = batch_size
        self.input_size = input_size
        self._network = probabilities_and_features(model)
        self._traced = tf.function(self._average_over_views,
                                   input_signature=[tf.TensorSpec([None, input_size, input_size, 3], tf.uint8)])
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
        batches = [self._traced(tf.constant(images[start:start + self.batch_size]))
                   for start in range(0, len(images), self.batch_size)]
        if not batches:
            return np.zeros((0, 0), np.float32), np.zeros((0, 0), np.float32)
        return (np.concatenate([probabilities.numpy() for probabilities, _ in batches]),
                np.concatenate([features.numpy() for _, features in batches]))


class CellClassifier:
    """A trained artifact ready to serve: the traced network, its novelty check and its metadata."""

    def __init__(self, model, distribution: TrainingDistribution, metadata: ArtifactMetadata, batch_size: int = 32):
        self.metadata = metadata
        self.class_names: list[str] = list(metadata.class_names)
        self.spec = metadata.preprocessing
        self.tta = metadata.tta
        self.model = model  # also read by Grad-CAM, which needs gradients the traced function does not give
        self.distribution = distribution
        self.forward = ViewAveragedForward(model, metadata.tta, self.spec.input_size, batch_size)

    @classmethod
    def from_path(cls, model_path: str | Path) -> "CellClassifier":
        return cls(*load_artifact(model_path))

    @property
    def sha256(self) -> str:
        return self.metadata.sha256

    def predict_arrays(self, images: np.ndarray) -> np.ndarray:
        """Probabilities for already preprocessed images."""
        return self.forward(images)[0]

    def classify_arrays(self, rgb_images: list[np.ndarray]) -> list[Classification]:
        """Classify decoded RGB images of any size; inference time is shared evenly across the batch."""
        started = time.perf_counter()
        locations = [locate_cell(rgb) for rgb in rgb_images]
        inputs = np.stack([preprocess(rgb, self.spec, location) for rgb, location in zip(rgb_images, locations)])
        flags = [assess_image(rgb, location) for rgb, location in zip(rgb_images, locations)]
        probabilities, features = self.forward(inputs)
        distances = self.distribution.distances(features)
        elapsed_ms = (time.perf_counter() - started) * 1000 / max(1, len(rgb_images))
        return [self._result(row, location.nucleus_found, float(distance), image_flags, elapsed_ms)
                for row, location, distance, image_flags in zip(probabilities, locations, distances, flags)]

    def _result(self, row: np.ndarray, nucleus_found: bool, distance: float, image_flags: tuple[str, ...],
                elapsed_ms: float) -> Classification:
        best = int(np.argmax(row))
        unlike = (UNLIKE_TRAINING_IMAGES,) if distance > self.distribution.threshold else ()
        return Classification(
            label=self.class_names[best],
            confidence=float(row[best]),
            probabilities={name: float(value) for name, value in zip(self.class_names, row)},
            nucleus_found=nucleus_found,
            inference_ms=elapsed_ms,
            novelty_distance=distance,
            quality_flags=image_flags + unlike,
        )


class ClassifierCache:
    """One classifier per process, reloaded only when the artifact file changes; safe across threads."""

    def __init__(self):
        self._lock = threading.Lock()
        self._key: tuple | None = None
        self._classifier: CellClassifier | None = None
        self.loads = 0  # how many times a model was read from disk, for tests and diagnostics

    def get(self, model_path: str | Path) -> CellClassifier:
        path = Path(model_path)
        key = (str(path.resolve()), path.stat().st_mtime_ns) if path.exists() else (str(path), None)
        with self._lock:
            if self._classifier is None or self._key != key:
                self._classifier = CellClassifier.from_path(path)
                self._key = key
                self.loads += 1
            return self._classifier

    def clear(self) -> None:
        with self._lock:
            self._classifier, self._key = None, None
