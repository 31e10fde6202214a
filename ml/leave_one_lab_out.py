"""Leave-one-laboratory-out: does a recipe transfer to a laboratory it has never seen?

Each source (laboratory) in turn is left out: a model is trained on the others alone, exactly as ``train_model``
trains, then read on the left-out lab's images. Two readings per left-out lab:

- **selection**: the left-out lab's *training* images (four classes, capped per class). No model of the run saw
  them, and they are no evaluation set, so recipes are compared and review flags calibrated on these
  (docs/experiments.md, "The rules").
- **evaluation**: its evaluation set (Kaggle TEST, a held-out fifth), for the model card's table only.

Nothing here is selected on an evaluation set.
"""

from __future__ import annotations

import time
from dataclasses import asdict

import keras
import numpy as np

from ml import MODEL_CLASSES
from ml.data import LabelledImage
from ml.metrics import classification_metrics
from ml.model import resolve_base_weights
from ml.novelty import TrainingDistribution
from ml.quality import review_summary
from ml.sources import Source, cap_per_class, evaluation_images, training_images
from ml.training import TrainingConfig, load_training_images, make_dataset, predict_dataset, serving_forward, train

READING_KEYS = ("accuracy", "macro_f1", "per_class", "confusion_matrix", "photos_correct", "photos_total", "n_images")


def leave_one_lab_out(
    sources: list[Source],
    base_weights_setting: str | None,
    config: TrainingConfig,
    selection_per_class: int | None,
    review_threshold: float,
) -> dict:
    """Train on all sources but one, for each one; the readings of every left-out lab, keyed by its name."""
    if len(sources) < 2:
        raise ValueError("Leave-one-lab-out needs at least two sources (laboratories).")
    base_weights = resolve_base_weights(base_weights_setting)
    results = {}
    for left_out in sources:
        trained_on = [source for source in sources if source is not left_out]
        print(f"Left out: {left_out.name}; training on {', '.join(source.name for source in trained_on)}")
        started = time.perf_counter()
        keras.backend.clear_session()  # each run's graph would otherwise stay in memory
        train_samples, _ = load_training_images(trained_on, config)
        model, distribution, _ = train(train_samples, [], base_weights, config)
        selection = cap_per_class(
            [image for image in training_images(left_out) if not image.is_other], selection_per_class, config.seed
        )
        readings = {"selection": selection}
        evaluation_set = evaluation_images(left_out)
        if evaluation_set:
            readings["evaluation"] = evaluation_set[1]
        results[left_out.name] = {
            "trained_on": [source.name for source in trained_on],
            **{
                name: read_lab(model, distribution, config, samples, review_threshold)
                for name, samples in readings.items()
            },
            "seconds": round(time.perf_counter() - started, 1),
        }
        print(format_lab(left_out.name, results[left_out.name]))
    return {
        "left_out": results,
        "config": {**asdict(config), "selection_per_class": selection_per_class},
        "review_threshold": review_threshold,
    }


def read_lab(
    model: keras.Model,
    distribution: TrainingDistribution,
    config: TrainingConfig,
    samples: list[LabelledImage],
    review_threshold: float,
) -> dict:
    """Scores as served, the review flags' reach, and every image's prediction (to calibrate flags on)."""
    probabilities, features = predict_dataset(
        serving_forward(model, config),
        make_dataset(samples, config.spec, config.batch_size, training=False, cache=False),
    )
    distances = distribution.distances(features)
    unlike = distances > distribution.threshold
    labels = np.array([sample.label for sample in samples])
    metrics = classification_metrics(samples, probabilities, list(MODEL_CLASSES))
    return {
        **{key: metrics[key] for key in READING_KEYS},
        **review_summary(probabilities, labels, unlike, review_threshold),
        "records": [
            {
                "path": str(sample.path),
                "label": sample.class_name,
                "probabilities": [round(float(p), 5) for p in row],
                "novelty_ratio": round(float(distance / distribution.threshold), 4),
            }
            for sample, row, distance in zip(samples, probabilities, distances, strict=True)
        ],
    }


def format_lab(name: str, result: dict) -> str:
    """One line per reading of a left-out lab."""
    return "\n".join(
        f"  {name} {reading} ({result[reading]['n_images']} images): accuracy {result[reading]['accuracy']:.2%}, "
        f"macro F1 {result[reading]['macro_f1']:.3f}, flagged {result[reading]['flagged_share']:.1%}, "
        f"unflagged right {result[reading]['unflagged_accuracy']:.2%}, "
        f"wrong and unflagged {result[reading]['wrong_unflagged_share']:.1%}"
        for reading in ("selection", "evaluation")
        if reading in result
    )


def unseen_lab_readings(
    result: dict, reading: str = "selection"
) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """{left-out lab: (probabilities, class indices, unlike flags)} of a ``leave_one_lab_out`` result's reading."""
    readings = {}
    for lab, figures in result["left_out"].items():
        records = figures[reading]["records"]
        readings[lab] = (
            np.array([record["probabilities"] for record in records]),
            np.array([MODEL_CLASSES.index(record["label"]) for record in records]),
            np.array([record["novelty_ratio"] > 1 for record in records]),
        )
    return readings
