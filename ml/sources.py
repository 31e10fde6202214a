"""Labelled image sources: which folders a model trains on, and which images each keeps for evaluation.

Two layouts are read:

- ``split``: ``<root>/TRAIN/<CLASS>/*`` and ``<root>/TEST/<CLASS>/*`` (the Kaggle "Blood Cells" layout, with
  or without its ``images/`` folder, and the app's reviewed-images export). TRAIN trains, TEST evaluates.
  Kaggle's files are augmented copies of a few hundred photos, so they are grouped by recovered source
  photo (``ml.photos``) wherever a split is made.
- ``class_folders``: ``<root>/<class>/*`` with class folder names in any case (PBC's upstream layout, or any
  lab's own labelled folders). Every file is its own cell. A fixed fifth of the files, chosen by a hash of
  the file name (``is_held_out``), is the source's evaluation set and never trains.

A source is written ``NAME=PATH`` or ``NAME:N=PATH``, N capping the training images per class (drawn with a
fixed seed, so a smaller cap is a subset of a larger one).
"""

from __future__ import annotations

import dataclasses
import hashlib
import random
import warnings
from dataclasses import dataclass
from pathlib import Path

from ml import CLASS_NAMES, MODEL_CLASSES
from ml.data import DatasetError, LabelledImage, is_image_file, list_split, resolve_dataset_root
from ml.photos import group_by_source

# Class folder names, any case: the model's class names and the names PBC's upstream layout gives the other kinds.
FOLDER_LABELS = {
    **{name.lower(): label for label, name in enumerate(MODEL_CLASSES)},
    "ig": MODEL_CLASSES.index("IMMATURE_GRANULOCYTE"),
    "nrbc": MODEL_CLASSES.index("ERYTHROBLAST"),
}
HELD_OUT_MODULUS = 5  # one file name in five (by hash) is held out of a class-folder source
SUBSAMPLE_SEED = 0  # the draw behind ``NAME:N=PATH``, fixed so that every machine trains on the same cells
PHOTO_MERGE = 2  # photos per training group: coarse groups keep every copy of a photo on one side of a split


@dataclass(frozen=True)
class Source:
    name: str
    root: Path
    per_class: int | None = None  # training images per class, all when None

    @property
    def layout(self) -> str:
        try:
            resolve_dataset_root(self.root)
        except DatasetError:
            return "class_folders"
        return "split"

    def as_setting(self) -> str:
        """The ``NAME[:N]=PATH`` text ``parse_source`` reads back."""
        return f"{self.name}{f':{self.per_class}' if self.per_class else ''}={self.root}"

    def describe(self) -> str:
        cap = f", {self.per_class} per class" if self.per_class else ""
        return f"{self.name} ({self.layout}{cap}): {self.root}"


def parse_source(text: str) -> Source:
    """``NAME=PATH``, ``NAME:N=PATH`` or a bare ``PATH`` (named after its folder)."""
    text = text.strip()
    name, separator, path = text.partition("=")
    if not separator:
        name, path = Path(text).name, text
    name, _, cap = name.partition(":")
    if not name or not path:
        raise DatasetError(f"Cannot read the source {text!r}: write NAME=PATH, NAME:N=PATH or PATH.")
    if cap and not (cap.isdigit() and int(cap) > 0):
        raise DatasetError(f"In the source {text!r}, the images per class after ':' must be a positive number.")
    root = Path(path).expanduser()
    if not root.is_dir():
        raise DatasetError(
            f"Source {name}: folder {root} does not exist. Set HEMATOVISION_TRAINING_SOURCES or "
            "pass --source NAME=PATH with an existing folder."
        )
    return Source(name=name, root=root, per_class=int(cap) if cap else None)


def parse_sources(texts) -> list[Source]:
    """Sources from a comma-separated setting or a list of ``--source`` values; names must differ."""
    if isinstance(texts, str):
        texts = texts.split(",")
    sources = [parse_source(text) for text in texts if text.strip()]
    if not sources:
        raise DatasetError("No training source: set HEMATOVISION_TRAINING_SOURCES or pass --source NAME=PATH.")
    names = [source.name for source in sources]
    if len(set(names)) != len(names):
        raise DatasetError(f"Source names must differ; got {', '.join(names)}.")
    return sources


def is_held_out(path: Path) -> bool:
    """The fixed evaluation fifth of a class-folder source: sha256 of the file name, modulo 5, is 0.

    Only the name counts, so the rule is the same on every machine and for every copy of the data set.
    """
    return int(hashlib.sha256(path.name.encode()).hexdigest(), 16) % HELD_OUT_MODULUS == 0


def read_class_folders(source: Source) -> list[LabelledImage]:
    """Every image under ``<root>/<class>/``: the four classes and the other kinds (``FOLDER_LABELS``); other
    folders are skipped with a warning."""
    images = []
    for folder in sorted(path for path in source.root.iterdir() if path.is_dir()):
        label = FOLDER_LABELS.get(folder.name.lower())
        if label is None:
            warnings.warn(
                f"Source {source.name}: skipping folder {folder.name!r}, which is not one of the classes "
                f"{', '.join(sorted(FOLDER_LABELS))}.",
                stacklevel=2,
            )
            continue
        images += [
            LabelledImage(
                path=path, label=label, group=f"{source.name}:{MODEL_CLASSES[label]}/{path.stem}", source=source.name
            )
            for path in sorted(folder.iterdir())
            if is_image_file(path)
        ]
    if not any(image.label < len(CLASS_NAMES) for image in images):
        raise DatasetError(
            f"Source {source.name}: {source.root} holds no images in class folders "
            f"({', '.join(name.lower() for name in CLASS_NAMES)}, any case)."
        )
    return images


def _read_split(source: Source, split: str, merge: int) -> list[LabelledImage]:
    """The split's images grouped by recovered source photo (``merge`` photos per group)."""
    images = group_by_source(
        [dataclasses.replace(image, source=source.name) for image in list_split(source.root, split)], merge=merge
    )
    return [dataclasses.replace(image, group=f"{source.name}:{image.group}") for image in images]


def cap_per_class(
    images: list[LabelledImage], per_class: int | None, seed: int = SUBSAMPLE_SEED
) -> list[LabelledImage]:
    """At most ``per_class`` images of each class, drawn with ``seed``; a smaller cap gives a subset."""
    if not per_class:
        return images
    chosen = []
    for label in range(len(MODEL_CLASSES)):
        of_class = [image for image in images if image.label == label]
        random.Random(seed).shuffle(of_class)
        chosen += sorted(of_class[:per_class], key=lambda image: image.path)
    return chosen


def training_images(source: Source) -> list[LabelledImage]:
    """What ``source`` trains on: TRAIN (grouped by recovered photo), or a class-folder source without its
    held-out fifth."""
    if source.layout == "split":
        images = _read_split(source, "TRAIN", merge=PHOTO_MERGE)
    else:
        images = [image for image in read_class_folders(source) if not is_held_out(image.path)]
    return cap_per_class(images, source.per_class)


def evaluation_images(source: Source) -> tuple[str, list[LabelledImage]] | None:
    """(name, images) of the source's evaluation set of the four classes: its TEST split, or its held-out fifth;
    None without one."""
    if source.layout == "split":
        if not (resolve_dataset_root(source.root) / "TEST").is_dir():
            return None
        return f"{source.name} TEST", _read_split(source, "TEST", merge=1)  # one group per photo
    return f"{source.name} held-out", [
        image for image in read_class_folders(source) if is_held_out(image.path) and not image.is_other
    ]


def other_evaluation_images(source: Source) -> tuple[str, list[LabelledImage]] | None:
    """(name, images) of the held-out fifth of the source's other-kind folders (same rule); None without them."""
    if source.layout == "split":
        return None
    images = [image for image in read_class_folders(source) if is_held_out(image.path) and image.is_other]
    return (f"{source.name} other held-out", images) if images else None
