"""Metrics: per-class scores, the majority vote over source cells, and the cell-level bootstrap."""

from pathlib import Path

import numpy as np

from ml import CLASS_NAMES
from ml.data import LabelledImage
from ml.metrics import bootstrap_accuracy_ci, classification_metrics


def _samples(cells: dict[str, tuple[int, int]]) -> list[LabelledImage]:
    """``cells``: cell -> (label, number of images)."""
    return [
        LabelledImage(Path(f"{cell}_{n}.jpeg"), label, cell)
        for cell, (label, count) in cells.items()
        for n in range(count)
    ]


def _one_hot(labels) -> np.ndarray:
    return np.eye(len(CLASS_NAMES))[labels]


def test_majority_vote_counts_cells_and_names_the_wrong_ones():
    samples = _samples({"E/1": (0, 3), "L/1": (1, 3), "M/1": (2, 2), "N/1": (3, 2)})
    predicted = [0, 0, 3, 1, 1, 1, 3, 3, 3, 3]  # E/1 right 2 of 3, M/1 wrong both times
    metrics = classification_metrics(samples, _one_hot(predicted), list(CLASS_NAMES))
    assert metrics["accuracy"] == 0.7 and metrics["n_images"] == 10
    assert (metrics["photos_correct"], metrics["photos_total"]) == (3, 4)
    assert metrics["wrong_photos"] == [{"photo": "M/1", "true": "MONOCYTE", "voted": "NEUTROPHIL"}]
    assert metrics["confusion_matrix"][2] == [0, 0, 0, 2]
    assert metrics["per_class"]["MONOCYTE"]["recall"] == 0.0
    assert metrics["per_photo"][0] == {
        "photo": "M/1",
        "true": "MONOCYTE",
        "voted": "NEUTROPHIL",
        "images": 2,
        "accuracy": 0.0,
    }
    assert [(row["photo"], round(row["accuracy"], 3)) for row in metrics["per_photo"][1:]] == [
        ("E/1", 0.667),
        ("L/1", 1.0),
        ("N/1", 1.0),
    ]


def test_bootstrap_interval_brackets_the_accuracy_and_resamples_whole_cells():
    samples = _samples({f"c{i}": (0, 10) for i in range(20)})
    correct = np.array([i < 150 for i in range(200)])  # 15 cells all right, 5 all wrong
    low, high = bootstrap_accuracy_ci(samples, correct, rounds=500)
    assert low < 0.75 < high
    assert high - low > 0.2  # 20 independent cells, not 200 independent images
