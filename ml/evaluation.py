"""Evaluate a saved artifact on every source's evaluation set, end to end (file decode included), as served.

A source's evaluation set is its TEST split (Kaggle) or its fixed held-out fifth (class folders, ``ml.sources``);
none of them is ever trained on.
"""

from __future__ import annotations

import dataclasses
import io
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display on servers and CI
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ml.artifact import ArtifactMetadata, read_metadata, write_metadata  # noqa: E402
from ml.data import LabelledImage  # noqa: E402
from ml.inference import CellClassifier  # noqa: E402
from ml.metrics import bootstrap_accuracy_ci, class_table_lines, classification_metrics  # noqa: E402
from ml.quality import review_summary  # noqa: E402
from ml.sources import Source, evaluation_images, other_evaluation_images  # noqa: E402
from ml.training import make_dataset, predict_dataset  # noqa: E402


def predict_split(
    classifier: CellClassifier, samples: list[LabelledImage], batch_size: int
) -> tuple[np.ndarray, np.ndarray, float]:
    """Probabilities and novelty distances of every sample, and the images/s achieved (decode and crop included)."""
    dataset = make_dataset(samples, classifier.spec, batch_size, training=False, cache=False)
    started = time.perf_counter()
    probabilities, features = predict_dataset(classifier.forward, dataset)
    distances = classifier.distribution.distances(features)
    return probabilities, distances, len(samples) / (time.perf_counter() - started)


def evaluate_set(
    classifier: CellClassifier, name: str, samples: list[LabelledImage], review_threshold: float, batch_size: int = 64
) -> dict:
    """All metrics of the classifier on one evaluation set, as a JSON-ready dict, with what the review flags
    (``review_threshold`` and the novelty check) catch. On a set of other-kind cells "accuracy" is the kind's.

    Groups for the majority vote and the bootstrap are Kaggle's recovered source photos, or single cells.
    """
    probabilities, distances, images_per_second = predict_split(classifier, samples, batch_size)
    labels = np.array([sample.label for sample in samples])
    metrics = classification_metrics(samples, probabilities, classifier.class_names)
    correct = probabilities.argmax(axis=1) == labels
    unlike = distances > classifier.distribution.threshold
    return {
        **metrics,
        **review_summary(probabilities, labels, unlike, review_threshold),
        "review_threshold": review_threshold,
        # how sure the model is of the true class (lower is better): it still tells two models apart when a small
        # set, such as a lab's held-out cells, is read equally well by both
        "log_loss": float(-np.log(np.clip(probabilities[np.arange(len(labels)), labels], 1e-7, 1)).mean()),
        "accuracy_ci95": bootstrap_accuracy_ci(samples, correct),
        "images_per_second": round(images_per_second, 1),
        "split": name,
        "model_name": classifier.metadata.name,
        "model_sha256": classifier.sha256,
        "tta": list(classifier.tta),
    }


def evaluate(
    model_path: str | Path, sources: list[Source], review_threshold: float, batch_size: int = 64
) -> dict[str, dict]:
    """``evaluate_set`` for every evaluation set of every source (the four classes, then the held-out other-kind
    cells when the source has them), keyed by the set's name."""
    classifier = CellClassifier.from_path(model_path)
    results = {}
    for source in sources:
        for evaluation_set in (evaluation_images(source), other_evaluation_images(source)):
            if evaluation_set:
                name, samples = evaluation_set
                results[name] = evaluate_set(classifier, name, samples, review_threshold, batch_size)
    return results


def evaluate_into_metadata(
    model_path: str | Path, sources: list[Source], review_threshold: float
) -> tuple[ArtifactMetadata, dict[str, dict]]:
    """``evaluate``, then the figures written into the artifact's metadata (which stays the model's: only the .json
    changes); the new metadata and the figures."""
    results = evaluate(model_path, sources, review_threshold)
    metadata = write_metadata(model_path, dataclasses.replace(read_metadata(model_path), evaluation=results))
    return metadata, results


def save_confusion_png(metrics: dict, path: str | Path) -> Path:
    """Write ``confusion_png_bytes`` to ``path`` (creating its folder)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(confusion_png_bytes(metrics))
    return path


def confusion_png_bytes(metrics: dict) -> bytes:
    """The confusion matrix as a PNG (rows true, columns predicted), for the report and the web page."""
    matrix = np.array(metrics["confusion_matrix"])
    names = metrics["class_names"]
    figure, axes = plt.subplots(figsize=(5.5, 4.8), dpi=120)
    axes.imshow(matrix, cmap="Blues")
    axes.set_xticks(range(len(names)), names, rotation=30, ha="right")
    axes.set_yticks(range(len(names)), names)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    axes.set_title(f"{metrics['split']}: accuracy {metrics['accuracy']:.1%}")
    for (row, column), value in np.ndenumerate(matrix):
        axes.text(
            column, row, str(value), ha="center", va="center", color="white" if value > matrix.max() / 2 else "black"
        )
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return buffer.getvalue()


def format_report(metrics: dict) -> str:
    """A plain-text summary for the terminal."""
    low, high = metrics["accuracy_ci95"]
    lines = [
        f"Model {metrics['model_name']} ({metrics['model_sha256'][:12]}) on {metrics['split']}: "
        f"{metrics['n_images']} images",
        f"accuracy {metrics['accuracy']:.2%} (95% CI over photos {low:.1%}-{high:.1%}), "
        f"macro F1 {metrics['macro_f1']:.3f}",
        f"photos right by majority: {metrics['photos_correct']}/{metrics['photos_total']}",
        f"flagged unlike the training images: {metrics['unlike_training_share']:.1%}",
        f"flagged for review (top probability under {metrics['review_threshold']} or unlike): "
        f"{metrics['flagged_share']:.1%}; unflagged right {metrics['unflagged_accuracy']:.2%}; "
        f"wrong and unflagged {metrics['wrong_unflagged_share']:.1%}",
        f"answered 'none of the four' (another kind): {metrics['answered_other_share']:.1%}; "
        f"another kind or flagged (never counted unreviewed): {metrics['other_or_flagged_share']:.1%}",
        f"speed: {metrics['images_per_second']:.0f} images/s end to end",
        "",
        *class_table_lines(metrics),
    ]
    if metrics["photos_total"] == metrics["n_images"]:
        return "\n".join(lines)  # every image its own cell: a per-photo table would repeat the images
    lines += [
        "",
        "accuracy per source photo, worst first (voted = majority of its images):",
        f"{'source photo':<32}{'true':<12}{'voted':<12}{'images':>7}{'accuracy':>10}",
    ]
    lines += [
        f"{row['photo']:<32}{row['true']:<12}{row['voted']:<12}{row['images']:>7}{row['accuracy']:>10.1%}"
        for row in metrics["per_photo"]
    ]
    return "\n".join(lines)
