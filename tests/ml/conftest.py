"""Tiny generated datasets for the ml tests (the real-data fixtures live in tests/conftest.py)."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ml import CLASS_NAMES
from tests.factories import smear_rgb


def write_tiny_split(root: Path, split: str = "TRAIN", photos_per_class: int = 4, copies: int = 3) -> Path:
    """``root/<split>/<CLASS>/_<i>_<n>.jpeg`` smear look-alikes, ``copies`` files per photo index."""
    for label, class_name in enumerate(CLASS_NAMES):
        folder = root / split / class_name
        folder.mkdir(parents=True)
        for photo in range(photos_per_class):
            for copy in range(copies):
                rgb = smear_rgb(nucleus=(100 + 30 * copy, 120), seed=label * 100 + photo)
                Image.fromarray(rgb).save(folder / f"_{photo}_{1000 + copy}.jpeg")
    return root


@pytest.fixture
def tiny_dataset(tmp_path) -> Path:
    """A dataset2-master look-alike: ``<tmp>/dataset2-master/images/TRAIN/<CLASS>/...``."""
    return write_tiny_split(tmp_path / "dataset2-master" / "images").parent


def tinted_photo(seed: int, tint) -> np.ndarray:
    """A smear with its own stain colour, like one source photo of the real dataset."""
    rgb = smear_rgb(seed=seed).astype(np.int16) + np.array(tint, np.int16)
    return np.clip(rgb, 0, 255).astype(np.uint8)
