"""Classification metrics shared by validation (during training) and evaluation: pure NumPy and scikit-learn."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

from ml.data import LabelledImage


def classification_metrics(samples: list[LabelledImage], probabilities: np.ndarray, class_names: list[str]) -> dict:
    """Image-level scores, per class and macro, plus the majority vote over each source photo (``group``)."""
    truth = np.array([sample.label for sample in samples])
    predicted = probabilities.argmax(axis=1)
    labels = list(range(len(class_names)))
    precision, recall, f1, support = precision_recall_fscore_support(truth, predicted, labels=labels, zero_division=0)
    present = sorted(set(truth.tolist()))  # the macro mean is over the classes the set holds, not every output
    per_photo = per_photo_results(samples, predicted, class_names)
    wrong = sorted((row for row in per_photo if row["true"] != row["voted"]), key=lambda row: row["photo"])
    return {
        "accuracy": float(accuracy_score(truth, predicted)),
        "macro_f1": float(f1_score(truth, predicted, labels=present, average="macro", zero_division=0)),
        "per_class": {
            name: {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i, name in enumerate(class_names)
        },
        "confusion_matrix": confusion_matrix(truth, predicted, labels=labels).tolist(),
        "class_names": list(class_names),
        "photos_correct": len(per_photo) - len(wrong),
        "photos_total": len(per_photo),
        "wrong_photos": [{key: row[key] for key in ("photo", "true", "voted")} for row in wrong],
        "per_photo": per_photo,
        "n_images": len(samples),
    }


def per_photo_results(samples: list[LabelledImage], predicted: np.ndarray, class_names: list[str]) -> list[dict]:
    """Majority vote and accuracy of every source photo, worst first, so the photos read wrongly lead the report.

    Ties in the vote go to the lower class index, deterministically.
    """
    counts: dict[str, np.ndarray] = defaultdict(lambda: np.zeros(len(class_names), int))
    labels = {}
    for sample, label in zip(samples, predicted, strict=True):
        counts[sample.group][label] += 1
        labels[sample.group] = sample.label
    rows = [
        {
            "photo": photo,
            "true": class_names[labels[photo]],
            "voted": class_names[int(np.argmax(row))],
            "images": int(row.sum()),
            "accuracy": float(row[labels[photo]] / row.sum()),
        }
        for photo, row in counts.items()
    ]
    return sorted(rows, key=lambda row: (row["accuracy"], row["photo"]))


def bootstrap_accuracy_ci(
    samples: list[LabelledImage], correct: np.ndarray, rounds: int = 2000, seed: int = 0
) -> list[float]:
    """95% interval of accuracy when whole source cells are resampled: images of a cell are not independent."""
    by_cell: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for sample, hit in zip(samples, correct, strict=True):
        by_cell[sample.group][0] += int(hit)
        by_cell[sample.group][1] += 1
    hits, totals = np.array(list(by_cell.values())).T
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(hits), size=(rounds, len(hits)))
    accuracies = hits[draws].sum(axis=1) / totals[draws].sum(axis=1)
    return [float(np.percentile(accuracies, 2.5)), float(np.percentile(accuracies, 97.5))]


def class_table_lines(metrics: dict) -> list[str]:
    """Precision, recall and F1 per class, then the confusion matrix, as terminal lines."""
    lines = [f"{'class':<22}{'precision':>10}{'recall':>8}{'F1':>7}{'n':>6}"]
    lines += [
        f"{name:<22}{row['precision']:>10.3f}{row['recall']:>8.3f}{row['f1']:>7.3f}{row['support']:>6}"
        for name, row in metrics["per_class"].items()
    ]
    lines += ["", "confusion matrix (rows true, columns predicted):"]
    lines += [
        f"{name:<22}" + "".join(f"{value:>6}" for value in row)
        for name, row in zip(metrics["class_names"], metrics["confusion_matrix"], strict=True)
    ]
    return lines
