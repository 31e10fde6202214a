"""The inference service: load a trained model once per process, warm it up, classify images in batches."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tensorflow as tf

from ml.artifact import load_artifact
from ml.preprocessing import PreprocessingSpec, decode_image, locate_cell, preprocess
from ml.quality import assess_image


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
    quality_flags: tuple[str, ...] = ()  # reasons the image may not be a stained white cell


class CellClassifier:
    """Wraps a Keras model in a traced ``tf.function``: no ``model.predict`` set-up cost per request."""

    def __init__(self, model, metadata: dict, batch_size: int = 32):
        self.metadata = metadata
        self.class_names: list[str] = list(metadata["class_names"])
        self.spec = PreprocessingSpec.from_dict(metadata["preprocessing"])
        self.batch_size = batch_size
        self.model = model  # also read by Grad-CAM, which needs gradients the traced function does not give
        self.tta: list[str] = list(metadata.get("tta") or ["identity"])
        size = self.spec.input_size
        self._forward = tf.function(self._average_over_views,
                                    input_signature=[tf.TensorSpec([None, size, size, 3], tf.uint8)])
        self.predict_arrays(np.zeros((1, size, size, 3), np.uint8))  # trace and warm up now, not on a request

    def _average_over_views(self, images: tf.Tensor) -> tf.Tensor:
        """One model call on all TTA views stacked, then the mean probability per image."""
        images = tf.cast(images, tf.float32)
        views = tf.concat([TTA_VIEWS[name](images) for name in self.tta], axis=0)
        probabilities = self.model(views, training=False)
        return tf.reduce_mean(tf.reshape(probabilities, [len(self.tta), -1, len(self.class_names)]), axis=0)

    @classmethod
    def from_path(cls, model_path: str | Path) -> "CellClassifier":
        model, metadata = load_artifact(model_path)
        return cls(model, metadata)

    @property
    def sha256(self) -> str:
        return self.metadata["sha256"]

    def predict_arrays(self, images: np.ndarray) -> np.ndarray:
        """Probabilities for already preprocessed images, one model call per ``batch_size`` images."""
        outputs = [self._forward(tf.constant(images[start:start + self.batch_size])).numpy()
                   for start in range(0, len(images), self.batch_size)]
        return np.concatenate(outputs) if outputs else np.zeros((0, len(self.class_names)), np.float32)

    def classify_arrays(self, rgb_images: list[np.ndarray]) -> list[Classification]:
        """Classify decoded RGB images of any size; inference time is shared evenly across the batch."""
        started = time.perf_counter()
        locations = [locate_cell(rgb) for rgb in rgb_images]
        inputs = np.stack([preprocess(rgb, self.spec, location) for rgb, location in zip(rgb_images, locations)])
        flags = [assess_image(rgb, location) for rgb, location in zip(rgb_images, locations)]
        probabilities = self.predict_arrays(inputs)
        elapsed_ms = (time.perf_counter() - started) * 1000 / max(1, len(rgb_images))
        return [self._result(row, location.nucleus_found, image_flags, elapsed_ms)
                for row, location, image_flags in zip(probabilities, locations, flags)]

    def classify(self, source, max_pixels: int | None = None) -> Classification:
        rgb = decode_image(source) if max_pixels is None else decode_image(source, max_pixels=max_pixels)
        return self.classify_arrays([rgb])[0]

    def _result(self, row: np.ndarray, nucleus_found: bool, quality_flags: tuple[str, ...],
                elapsed_ms: float) -> Classification:
        best = int(np.argmax(row))
        return Classification(
            label=self.class_names[best],
            confidence=float(row[best]),
            probabilities={name: float(value) for name, value in zip(self.class_names, row)},
            nucleus_found=nucleus_found,
            inference_ms=elapsed_ms,
            quality_flags=quality_flags,
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
