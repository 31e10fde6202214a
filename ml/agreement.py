"""How far two forward passes of one model are apart (Keras and OpenVINO, fp32 and int8) on the same crops."""

from __future__ import annotations

import numpy as np

from ml.data import LabelledImage
from ml.novelty import TrainingDistribution
from ml.preprocessing import PreprocessingSpec
from ml.training import make_dataset


def model_inputs(spec: PreprocessingSpec, samples: list[LabelledImage], batch_size: int = 32) -> np.ndarray:
    """The crops the network sees for ``samples``, decoded once so that every forward pass gets the same arrays."""
    dataset = make_dataset(samples, spec, batch_size, training=False, cache=False)
    return np.concatenate([images.numpy() for images, _ in dataset])


def agreement(forwards: dict, distribution: TrainingDistribution, inputs: np.ndarray, labels: np.ndarray) -> dict:
    """The accuracy of each of two forwards (``{name: forward}``, the reference first) on labelled ``inputs``, and
    how often and how far the second differs from the first: class, novelty flag, probabilities, pooled features."""
    (reference, (probabilities, features)), (candidate, (other_probabilities, other_features)) = [
        (name, forward(inputs)) for name, forward in forwards.items()
    ]
    threshold = distribution.threshold
    accuracy = float((probabilities.argmax(axis=1) == labels).mean())
    other_accuracy = float((other_probabilities.argmax(axis=1) == labels).mean())
    return {
        "n_images": len(inputs),
        f"{reference}_accuracy": accuracy,
        f"{candidate}_accuracy": other_accuracy,
        "accuracy_difference_points": round(100 * (other_accuracy - accuracy), 4),
        "same_class_share": float((probabilities.argmax(axis=1) == other_probabilities.argmax(axis=1)).mean()),
        "same_novelty_flag_share": float(
            (
                (distribution.distances(features) > threshold) == (distribution.distances(other_features) > threshold)
            ).mean()
        ),
        "max_probability_difference": float(np.abs(probabilities - other_probabilities).max()),
        "max_feature_difference": float(np.abs(features - other_features).max()),
    }
