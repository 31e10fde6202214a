"""Labelled images, the Kaggle split layout, and the validation split grouped by source photo.

The Kaggle "Blood Cells" images are augmented copies of a few hundred source photos. Any split that puts
copies of one photo on both sides leaks, so every split here is made over groups, never over images.
``group`` starts from the ``_<i>_<n>.jpeg`` file name, but in this dataset ``i`` is *not* the source
photo (see ``ml.photos``, which recovers the real groups and replaces ``group`` before splitting).
Which folders are read, and in which layout, is ``ml.sources``.
"""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass
from pathlib import Path

from ml import CLASS_NAMES, MODEL_CLASSES

IMAGE_SUFFIXES = {".jpeg", ".jpg", ".png", ".tif", ".tiff", ".bmp"}
# Kaggle's generated file names, ``_<position>_<copy>``: the position of the source photo within its class.
KAGGLE_FILE_NAME = re.compile(r"^_(\d+)_\d+$")


class DatasetError(Exception):
    """The dataset folder is missing or not laid out as ``<root>/<SPLIT>/<CLASS>/*.jpeg``."""


@dataclass(frozen=True)
class LabelledImage:
    """One labelled image file; ``group`` holds the images that no split may separate (one source photo)."""

    path: Path
    label: int
    group: str  # unique across classes and sources, e.g. "kaggle:EOSINOPHIL/source-3" or "pbc:MONOCYTE/MO_1"
    source: str = ""  # the name of the source it was read from

    @property
    def class_name(self) -> str:
        return MODEL_CLASSES[self.label]

    @property
    def is_other(self) -> bool:
        """None of the four classes (a basophil, immature granulocyte, erythroblast or platelet)."""
        return self.label >= len(CLASS_NAMES)


def resolve_dataset_root(directory: str | Path) -> Path:
    """Return the folder holding the split folders; accepts ``dataset2-master`` (with ``images/``) too."""
    root = Path(directory).expanduser()
    if not root.is_dir():
        raise DatasetError(
            f"Dataset folder {root} does not exist. Set HEMATOVISION_DATASET_DIR "
            "to the folder that holds TRAIN/ and TEST/."
        )
    for candidate in (root, root / "images", root / "dataset2-master" / "images"):
        if (candidate / "TRAIN").is_dir() or (candidate / "TEST").is_dir():
            return candidate
    raise DatasetError(
        f"{root} holds no TRAIN/ or TEST/ folder (nor images/TRAIN/). "
        "Point HEMATOVISION_DATASET_DIR at the dataset2-master folder of the Blood Cells dataset."
    )


def is_image_file(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES


def group_for(path: Path, class_name: str) -> str:
    """The group an image's name suggests; files not named ``_<i>_<n>`` are their own group."""
    match = KAGGLE_FILE_NAME.match(path.stem)
    return f"{class_name}/{match.group(1) if match else path.stem}"


def list_split(directory: str | Path, split: str) -> list[LabelledImage]:
    """All labelled images of one split, sorted so that the order never depends on the file system.

    Each of the four classes needs its folder; a folder of another kind (``BASOPHIL/``, … as the app's
    reviewed-cells export writes them) is read when present.
    """
    split_dir = resolve_dataset_root(directory) / split
    if not split_dir.is_dir():
        raise DatasetError(f"Split folder {split_dir} does not exist.")
    samples = []
    for label, class_name in enumerate(MODEL_CLASSES):
        class_dir = split_dir / class_name
        if not class_dir.is_dir() and label >= len(CLASS_NAMES):
            continue
        if not class_dir.is_dir():
            raise DatasetError(
                f"Class folder {class_dir} is missing; expected one folder per class: {', '.join(CLASS_NAMES)}."
            )
        for path in sorted(class_dir.iterdir()):
            if is_image_file(path):
                samples.append(LabelledImage(path=path, label=label, group=group_for(path, class_name)))
    if not samples:
        raise DatasetError(f"Split folder {split_dir} holds no images.")
    return samples


def grouped_split(
    samples: list[LabelledImage], val_fraction: float, seed: int
) -> tuple[list[LabelledImage], list[LabelledImage]]:
    """Split by group, stratified by source and class, so no photo is on both sides."""
    if not 0 < val_fraction < 1:
        raise ValueError("val_fraction must be between 0 and 1.")
    rng = random.Random(seed)
    val_cells: set[str] = set()
    for stratum in sorted({(s.source, s.label) for s in samples}):
        cells = sorted({s.group for s in samples if (s.source, s.label) == stratum})
        rng.shuffle(cells)
        n_val = max(1, round(len(cells) * val_fraction)) if len(cells) > 1 else 0
        val_cells.update(cells[:n_val])
    train = [s for s in samples if s.group not in val_cells]
    val = [s for s in samples if s.group in val_cells]
    return train, val


def fingerprint(samples: list[LabelledImage]) -> str:
    """A short hash of which files (name, size) were used, to tell training sets apart."""
    digest = hashlib.sha256()
    for sample in samples:
        digest.update(
            f"{sample.source}:{sample.path.parent.name}/{sample.path.name}:{sample.path.stat().st_size}\n".encode()
        )
    return digest.hexdigest()[:16]
