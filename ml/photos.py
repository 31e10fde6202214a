"""Recover the source photo of every augmented image, since the file names do not tell it.

The dataset's ``_<i>_<n>.jpeg`` names were written by Keras 2.0's ``ImageDataGenerator.flow(save_to_dir=...)``,
whose ``i`` is the position in that pass's *shuffled* order, not the index of the source photo: copies of
one photo appear under many values of ``i``. Measured on TRAIN eosinophils: an image's nearest neighbour
(ImageNet features) has the same ``i`` in 1.4% of cases, which is chance (1/75). A split "by ``i``" is
therefore a random split of images, which is why such validation reads ~98% while TEST reads ~82%.

The augmentations (rotation, shear, zoom, flips) move pixels but keep each photo's colour distribution
(stain and illumination differ from smear to smear), so images are grouped by colour histogram. The
number of photos per class is known: the positions ``i`` run from 0 to n-1 over n photos.
"""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from sklearn.cluster import AgglomerativeClustering

from ml.data import KAGGLE_FILE_NAME, LabelledImage
from ml.preprocessing import decode_image

_BINS = 8  # per channel: 512 colour bins separate photos while ignoring where each pixel moved
_FILL_LEVEL = 60  # darker pixels (R+G+B) are the generator's black fill around rotated images


def colour_signature(sample: LabelledImage) -> np.ndarray:
    """Square-rooted colour histogram of the image without its black fill (Hellinger geometry)."""
    pixels = decode_image(sample.path)[::2, ::2].reshape(-1, 3).astype(np.int32)
    pixels = pixels[pixels.sum(axis=1) > _FILL_LEVEL]
    bins = (pixels * _BINS) // 256
    counts = np.bincount((bins[:, 0] * _BINS + bins[:, 1]) * _BINS + bins[:, 2], minlength=_BINS**3)
    return np.sqrt(counts / max(1, counts.sum()))


def photos_in_class(samples: list[LabelledImage]) -> int:
    """How many source photos a class has: the generator's positions run over 0..n-1."""
    positions = {match.group(1) for sample in samples if (match := KAGGLE_FILE_NAME.match(sample.path.stem))}
    return max(1, len(positions)) if positions else len(samples)


def group_by_source(samples: list[LabelledImage], merge: int = 1) -> list[LabelledImage]:
    """The same samples with ``group`` set to a recovered source group.

    ``merge`` > 1 asks for about ``merge`` photos per group: coarser groups rarely cut one photo in two,
    which is what matters for a leak-free validation split.
    """
    with ThreadPoolExecutor() as pool:
        signatures = np.stack(list(pool.map(colour_signature, samples)))
    grouped = list(samples)
    for label in sorted({sample.label for sample in samples}):
        indices = [i for i, sample in enumerate(samples) if sample.label == label]
        of_class = [samples[i] for i in indices]
        n_groups = min(len(indices), max(1, round(photos_in_class(of_class) / merge)))
        if n_groups > 1:
            clusters = AgglomerativeClustering(n_clusters=n_groups, linkage="average").fit_predict(signatures[indices])
        else:
            clusters = np.zeros(len(indices), int)
        for i, cluster in zip(indices, clusters, strict=True):
            grouped[i] = dataclasses.replace(samples[i], group=f"{samples[i].class_name}/source-{cluster}")
    return grouped
