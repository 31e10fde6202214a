"""A sample's reviewed images as a training dataset ZIP, in the layout ``train_model`` reads."""

from __future__ import annotations

import zipfile
from pathlib import PurePath

from classifier.models import CLASS_NAMES

DATASET_SPLIT = "TRAIN"


def _dataset_member_name(prediction, used: set[str]) -> str:
    """``TRAIN/<final label>/<original name>``; a repeated name gets the prediction id so none is lost."""
    folder = f"{DATASET_SPLIT}/{prediction.final_label}"
    name = PurePath(prediction.original_filename).name
    member = f"{folder}/{name}"
    if member in used:
        path = PurePath(name)
        member = f"{folder}/{path.stem}-{prediction.pk}{path.suffix}"
    used.add(member)
    return member


def reviewed_dataset_zip_write(predictions, out) -> None:
    """A ZIP in the ``TRAIN/<CLASS>/`` layout ``train_model`` reads, holding the original images.

    Every class folder is present, even empty, because the dataset reader expects all four.
    """
    used: set[str] = set()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
        for name in CLASS_NAMES:
            archive.writestr(f"{DATASET_SPLIT}/{name}/", b"")
        for prediction in predictions:
            with prediction.image.open("rb") as image:
                archive.writestr(_dataset_member_name(prediction, used), image.read())
