"""Full-size uploads: the 640x480 originals of the TEST_SIMPLE photos against their 320x240 copies.

A lab uploads photos at the camera's size, but the model was trained on 320x240 copies. The dataset keeps
the originals of the TEST cells (``dataset-master/JPEGImages``) and a table naming each TEST_SIMPLE file's
original (``test_simple_to_original.csv``). They are read only here, to check that a full-size photo is
classified like its small copy; never to train or to choose anything.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ml.data import DatasetError, resolve_dataset_root
from ml.inference import CellClassifier, Classification
from ml.preprocessing import decode_image

PAIRS_TABLE = "test_simple_to_original.csv"
ORIGINALS_FOLDER = Path("dataset-master") / "JPEGImages"


@dataclass(frozen=True)
class OriginalPair:
    label: str
    small_path: Path
    original_path: Path


def list_original_pairs(dataset_dir: str | Path) -> list[OriginalPair]:
    """Every TEST_SIMPLE file with its original, from the table beside ``dataset2-master``."""
    images_root = resolve_dataset_root(dataset_dir)
    blood_cells = images_root.parent.parent if images_root.name == "images" else images_root.parent
    table = blood_cells / PAIRS_TABLE
    if not table.is_file():
        raise DatasetError(
            f"{table} does not exist: the full-size check needs the table that maps TEST_SIMPLE "
            f"files to their originals in {blood_cells / ORIGINALS_FOLDER}."
        )
    with table.open(newline="") as handle:
        pairs = [
            OriginalPair(
                label=row["class"],
                small_path=images_root / "TEST_SIMPLE" / row["class"] / row["file"],
                original_path=blood_cells / ORIGINALS_FOLDER / row["original_image"],
            )
            for row in csv.DictReader(handle)
        ]
    missing = [str(path) for pair in pairs for path in (pair.small_path, pair.original_path) if not path.is_file()]
    if missing:
        raise DatasetError(f"{len(missing)} file(s) named in {table} are missing, e.g. {missing[0]}.")
    if not pairs:
        raise DatasetError(f"{table} lists no pairs.")
    return pairs


def compare_full_size(classifier: CellClassifier, pairs: list[OriginalPair]) -> dict:
    """Accuracy on each size, how often the two sizes agree, and how far their probabilities move apart."""
    small = classifier.classify_arrays([decode_image(pair.small_path) for pair in pairs])
    original = classifier.classify_arrays([decode_image(pair.original_path) for pair in pairs])
    rows = [
        _pair_row(pair, small_result, original_result)
        for pair, small_result, original_result in zip(pairs, small, original, strict=True)
    ]
    shifts = np.array([row["largest_probability_shift"] for row in rows])
    return {
        "n_pairs": len(rows),
        "accuracy_small": _share(row["small_label"] == row["true"] for row in rows),
        "accuracy_original": _share(row["original_label"] == row["true"] for row in rows),
        "agreement": _share(row["small_label"] == row["original_label"] for row in rows),
        "mean_largest_probability_shift": round(float(shifts.mean()), 4),
        "max_largest_probability_shift": round(float(shifts.max()), 4),
        "pairs": rows,
        "model_name": classifier.metadata.name,
        "model_sha256": classifier.sha256,
    }


def _pair_row(pair: OriginalPair, small: Classification, original: Classification) -> dict:
    return {
        "file": pair.small_path.name,
        "original": pair.original_path.name,
        "true": pair.label,
        "small_label": small.label,
        "original_label": original.label,
        "largest_probability_shift": round(
            max(abs(small.probabilities[name] - original.probabilities[name]) for name in small.probabilities), 4
        ),
    }


def _share(flags) -> float:
    flags = list(flags)
    return round(sum(flags) / len(flags), 4)


def format_full_size_report(result: dict) -> str:
    """Summary lines, then every pair whose two sizes disagree or are misread."""
    lines = [
        f"Model {result['model_name']} ({result['model_sha256'][:12]}): {result['n_pairs']} TEST_SIMPLE photos "
        "and their full-size originals",
        f"accuracy 320x240 {result['accuracy_small']:.1%}, full size {result['accuracy_original']:.1%}; "
        f"same class on both sizes {result['agreement']:.1%}",
        f"largest probability shift between sizes: mean {result['mean_largest_probability_shift']:.3f}, "
        f"max {result['max_largest_probability_shift']:.3f}",
    ]
    differing = [
        row
        for row in result["pairs"]
        if row["small_label"] != row["original_label"] or row["small_label"] != row["true"]
    ]
    if differing:
        lines += ["", f"{'file':<18}{'original':<24}{'true':<12}{'320x240':<12}{'full size':<12}{'shift':>6}"]
        lines += [
            f"{row['file']:<18}{row['original']:<24}{row['true']:<12}{row['small_label']:<12}"
            f"{row['original_label']:<12}{row['largest_probability_shift']:>6.3f}"
            for row in differing
        ]
    return "\n".join(lines)
