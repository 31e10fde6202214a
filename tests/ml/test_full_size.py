"""The full-size check: TEST_SIMPLE files paired with their originals, and the comparison's summary."""

import csv

import numpy as np
import pytest
from PIL import Image

from ml import CLASS_NAMES
from ml.data import DatasetError
from ml.full_size import compare_full_size, format_full_size_report, list_original_pairs
from ml.inference import CellClassifier
from tests.ml.conftest import write_tiny_split


@pytest.fixture
def blood_cells(tmp_path):
    """``blood-cells/`` as shipped: dataset2-master with TEST_SIMPLE, the originals at twice the size, the table."""
    images = write_tiny_split(tmp_path / "dataset2-master" / "images", "TEST", photos_per_class=1, copies=1)
    write_tiny_split(images, "TEST_SIMPLE", photos_per_class=1, copies=1)
    originals = tmp_path / "dataset-master" / "JPEGImages"
    originals.mkdir(parents=True)
    rows = []
    for number, class_name in enumerate(CLASS_NAMES):
        small = images / "TEST_SIMPLE" / class_name / "_0_1000.jpeg"
        with Image.open(small) as image:
            image.resize((640, 480), Image.BILINEAR).save(originals / f"BloodImage_{number:05d}.jpg")
        rows.append(
            {
                "class": class_name,
                "file": small.name,
                "original_image": f"BloodImage_{number:05d}.jpg",
                "corr": "0.9990",
            }
        )
    with (tmp_path / "test_simple_to_original.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["class", "file", "original_image", "corr"])
        writer.writeheader()
        writer.writerows(rows)
    return tmp_path


def test_pairs_each_test_simple_file_with_its_original(blood_cells):
    pairs = list_original_pairs(blood_cells / "dataset2-master")
    assert [pair.label for pair in pairs] == list(CLASS_NAMES)
    assert pairs[2].small_path == blood_cells / "dataset2-master/images/TEST_SIMPLE/MONOCYTE/_0_1000.jpeg"
    assert pairs[2].original_path == blood_cells / "dataset-master/JPEGImages/BloodImage_00002.jpg"
    assert list_original_pairs(blood_cells / "dataset2-master" / "images") == pairs


def test_missing_table_is_a_clear_error(blood_cells):
    (blood_cells / "test_simple_to_original.csv").unlink()
    with pytest.raises(DatasetError, match="test_simple_to_original.csv does not exist"):
        list_original_pairs(blood_cells / "dataset2-master")


def test_a_file_named_in_the_table_but_missing_is_a_clear_error(blood_cells):
    (blood_cells / "dataset-master" / "JPEGImages" / "BloodImage_00001.jpg").unlink()
    with pytest.raises(DatasetError, match=r"1 file\(s\) named in .* are missing, e.g. .*BloodImage_00001.jpg"):
        list_original_pairs(blood_cells / "dataset2-master")


def test_summary_is_computed_from_the_pairs(blood_cells, tiny_model_path):
    classifier = CellClassifier.from_path(tiny_model_path)
    result = compare_full_size(classifier, list_original_pairs(blood_cells / "dataset2-master"))
    rows = result["pairs"]
    assert result["n_pairs"] == len(rows) == 4
    assert result["agreement"] == np.mean([row["small_label"] == row["original_label"] for row in rows]).round(4)
    assert result["accuracy_small"] == np.mean([row["small_label"] == row["true"] for row in rows]).round(4)
    assert result["accuracy_original"] == np.mean([row["original_label"] == row["true"] for row in rows]).round(4)
    assert result["max_largest_probability_shift"] == max(row["largest_probability_shift"] for row in rows)
    report = format_full_size_report(result)
    assert f"{result['n_pairs']} TEST_SIMPLE photos" in report
    misread = [row["file"] for row in rows if row["small_label"] != row["true"]]
    assert all(any(line.startswith(name) for line in report.splitlines()) for name in misread)
