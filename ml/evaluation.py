"""Evaluate a saved artifact on one split, end to end (file decode included), as the app would classify."""

from __future__ import annotations

import io
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display on servers and CI
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ml.data import LabelledImage, list_split, resolve_dataset_root  # noqa: E402
from ml.inference import CellClassifier  # noqa: E402
from ml.metrics import bootstrap_accuracy_ci, class_table_lines, classification_metrics  # noqa: E402
from ml.photos import group_by_source  # noqa: E402
from ml.training import make_dataset, predict_dataset  # noqa: E402


def predict_split(classifier: CellClassifier, samples: list[LabelledImage], batch_size: int) -> tuple[np.ndarray, float]:
    """Probabilities for every sample and the images/s achieved, decode and crop running in parallel."""
    dataset = make_dataset(samples, classifier.spec, batch_size, training=False, cache=False)
    started = time.perf_counter()
    probabilities = predict_dataset(classifier, dataset)
    return probabilities, len(samples) / (time.perf_counter() - started)


def evaluate(model_path: str | Path, dataset_dir: str | Path, split: str = "TEST", batch_size: int = 64) -> dict:
    """All metrics of the artifact on ``split``, as a JSON-ready dict.

    Cells for the majority vote and the bootstrap are source photos recovered by ``ml.photos``: the
    ``_<i>_`` in the file names is not the source (see that module).
    """
    classifier = CellClassifier.from_path(model_path)
    samples = group_by_source(list_split(dataset_dir, split))
    probabilities, images_per_second = predict_split(classifier, samples, batch_size)
    metrics = classification_metrics(samples, probabilities, classifier.class_names)
    correct = probabilities.argmax(axis=1) == np.array([sample.label for sample in samples])
    return {
        **metrics,
        "accuracy_ci95": bootstrap_accuracy_ci(samples, correct),
        "images_per_second": round(images_per_second, 1),
        "split": split,
        "dataset_dir": str(resolve_dataset_root(dataset_dir)),
        "model_path": str(model_path),
        "model_name": classifier.metadata.get("name"),
        "model_sha256": classifier.sha256,
        "tta": classifier.tta,
        "photo_grouping": "source photos recovered by colour histogram (ml.photos)",
    }


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
        axes.text(column, row, str(value), ha="center", va="center",
                  color="white" if value > matrix.max() / 2 else "black")
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
        f"accuracy {metrics['accuracy']:.2%} (95% CI over cells {low:.1%}-{high:.1%}), "
        f"macro F1 {metrics['macro_f1']:.3f}",
        f"cells right by majority: {metrics['photos_correct']}/{metrics['photos_total']}",
        f"speed: {metrics['images_per_second']:.0f} images/s end to end",
        "",
        *class_table_lines(metrics),
    ]
    lines += ["", "accuracy per source photo, worst first (voted = majority of its images):",
              f"{'source photo':<24}{'true':<12}{'voted':<12}{'images':>7}{'accuracy':>10}"]
    lines += [f"{row['photo']:<24}{row['true']:<12}{row['voted']:<12}{row['images']:>7}{row['accuracy']:>10.1%}"
              for row in metrics["per_photo"]]
    return "\n".join(lines)
