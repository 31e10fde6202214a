"""Fixtures for tests that need the real dataset or ImageNet weights, and tiny generated datasets.

Real-data fixtures skip with a reason on a developer machine that lacks the files, but fail under CI=true,
where a silent skip would hide a broken configuration. Modules outside tests/ml import them by name.
"""

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ml import CLASS_NAMES
from tests.factories import smear_rgb


def _required_path(variable: str) -> Path:
    value = os.environ.get(variable, "")
    if value and Path(value).exists():
        return Path(value)
    reason = f"{variable} is {'unset' if not value else f'{value!r}, which does not exist'}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason}; CI must run the real-data tests.")
    pytest.skip(f"{reason}: set it to run the tests that need the real dataset or weights.")


@pytest.fixture(scope="session")
def real_dataset_dir() -> Path:
    return _required_path("HEMATOVISION_DATASET_DIR")


@pytest.fixture(scope="session")
def real_base_weights() -> Path:
    return _required_path("HEMATOVISION_BASE_WEIGHTS")


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


@pytest.fixture(scope="session")
def reduced_model(real_dataset_dir, real_base_weights, tmp_path_factory) -> Path:
    """A quick real training run (150 images per class, 128 px): small, but it must have learned."""
    from ml.training import TrainingConfig, run_training

    path = tmp_path_factory.mktemp("reduced-model") / "model.keras"
    config = TrainingConfig(image_size=128, head_epochs=3, fine_tune_epochs=1, max_per_class=150)
    run_training(real_dataset_dir, str(real_base_weights), path, config)
    return path
