"""Is this a stained blood-smear image at all, and how confident must the model be to skip review?

The classifier always answers one of four classes, even for a cat. ``assess_image`` looks at simple,
interpretable statistics of the picture (colour, brightness, contrast, texture, the purple nucleus) and
returns quality flags when they fall outside what the training images show, so that such uploads go to
a person instead of being reported as a confident result.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from PIL import Image

from ml.preprocessing import CellLocation, locate_cell

_STATISTICS_WIDTH = 160  # statistics are taken on a fixed-width copy, so they do not depend on resolution
_PADDING_LEVEL = 40  # TRAIN's rotated copies have black corners; pixels darker than this are not smear

# Bounds of each statistic over the real TRAIN images (all 9,957 of dataset2-master/images/TRAIN), from
# ``smear_statistics``: the 0.5th and 99.5th percentiles, each widened by half the distance between them,
# because uploads come from other microscopes and cameras than this one dataset. A side is left open
# (±inf) where that side does not tell a smear from something else: TEST_SIMPLE, the unaugmented
# originals, is smoother and flatter than TRAIN, and a featureless image is caught by "blank" instead.
# Recompute: percentiles of ``smear_statistics(rgb)`` over TRAIN (see tests/ml/test_quality.py).
SMEAR_BOUNDS: dict[str, tuple[float, float]] = {
    "content_fraction": (0.726, math.inf),  # percentiles 0.806 and 0.968
    "brightness": (155.5, 234.8),  # 175.3 and 215.0
    "red_excess": (-13.0, 27.0),  # -3 and 17
    "blue_excess": (-15.5, 10.5),  # -9 and 4
    "saturation": (0.0011, 0.1407),  # 0.036 and 0.106
    "contrast": (-math.inf, 31.44),  # 15.3 and 26.1
    "roughness": (-math.inf, 4.76),  # 2.42 and 3.98
}
# Share of the image covered by the nucleus (``CellLocation.nucleus_fraction``) over TRAIN: 0.5th
# percentile halved and 99.5th percentile times 1.5, for the same reason as above.
NUCLEUS_FRACTION_BOUNDS = (0.0060, 0.149)  # percentiles 0.0114 and 0.0991
BLANK_CONTRAST = 3.0  # grey-level standard deviation; the flattest TRAIN image has about 14


@dataclass(frozen=True)
class SmearStatistics:
    content_fraction: float  # share of pixels that are not black rotation padding
    brightness: float  # median grey level of the content
    red_excess: float  # median red minus green: eosin stains red cells pink
    blue_excess: float  # median blue minus green: the lavender background and purple nuclei
    saturation: float  # median HSV saturation: smears are pale, photos and drawings are not
    contrast: float  # standard deviation of the grey level
    roughness: float  # mean grey-level step between neighbouring pixels: noise and text are rough


def smear_statistics(rgb: np.ndarray) -> SmearStatistics:
    """The colour and texture statistics that ``assess_image`` compares with TRAIN's bounds."""
    height, width = rgb.shape[:2]
    small_height = max(1, round(height * _STATISTICS_WIDTH / width))
    small = np.asarray(Image.fromarray(rgb).resize((_STATISTICS_WIDTH, small_height), Image.BILINEAR),
                       dtype=np.float32)
    content = small.max(axis=2) >= _PADDING_LEVEL
    pixels = small[content] if content.any() else small.reshape(-1, 3)
    red, green, blue = pixels[:, 0], pixels[:, 1], pixels[:, 2]
    brightest = pixels.max(axis=1)
    saturation = (brightest - pixels.min(axis=1)) / np.maximum(brightest, 1.0)
    grey = small.mean(axis=2)
    neighbours = content[:, 1:] & content[:, :-1]
    steps = np.abs(np.diff(grey, axis=1))[neighbours]
    return SmearStatistics(
        content_fraction=float(content.mean()),
        brightness=float(np.median(pixels.mean(axis=1))),
        red_excess=float(np.median(red - green)),
        blue_excess=float(np.median(blue - green)),
        saturation=float(np.median(saturation)),
        contrast=float(pixels.mean(axis=1).std()),
        roughness=float(steps.mean()) if steps.size else 0.0,
    )


def smear_deviations(statistics: SmearStatistics) -> list[str]:
    """Names of the statistics outside TRAIN's bounds (empty for a typical smear image)."""
    return [name for name, (low, high) in SMEAR_BOUNDS.items()
            if not low <= getattr(statistics, name) <= high]


def assess_image(rgb: np.ndarray, location: CellLocation | None = None) -> tuple[str, ...]:
    """Quality flags of a decoded RGB image: "blank", "not_a_smear", "no_nucleus", "nucleus_size_atypical".

    ``location`` saves locating the cell again when the caller already has it.
    """
    statistics = smear_statistics(rgb)
    location = location or locate_cell(rgb)
    flags = []
    if statistics.contrast < BLANK_CONTRAST:
        flags.append("blank")
    elif smear_deviations(statistics):
        flags.append("not_a_smear")
    low, high = NUCLEUS_FRACTION_BOUNDS
    if not location.nucleus_found:
        flags.append("no_nucleus")
    elif not low <= location.nucleus_fraction <= high:
        flags.append("nucleus_size_atypical")
    return tuple(flags)


@dataclass(frozen=True)
class ReviewOutcome:
    """What one review threshold does to a set of predictions whose true classes are known."""

    threshold: float
    images: int
    flagged_share: float  # share of images whose top probability is below the threshold
    accuracy_above: float | None  # accuracy of the images that would be trusted (None: there are none)
    accuracy_below: float | None  # accuracy of the images that would be sent to review


@dataclass(frozen=True)
class ThresholdChoice(ReviewOutcome):
    target_accuracy: float


def _confidence_and_correct(probabilities: np.ndarray, labels) -> tuple[np.ndarray, np.ndarray]:
    probabilities = np.asarray(probabilities, dtype=np.float64)
    labels = np.asarray(labels)
    if probabilities.ndim != 2 or len(probabilities) != len(labels) or not len(labels):
        raise ValueError("Need one row of class probabilities per label, and at least one image.")
    return probabilities.max(axis=1), probabilities.argmax(axis=1) == labels


def _outcome(confidence: np.ndarray, correct: np.ndarray, threshold: float) -> ReviewOutcome:
    trusted = confidence >= threshold
    return ReviewOutcome(
        threshold=threshold,
        images=len(correct),
        flagged_share=float(1 - trusted.mean()),
        accuracy_above=float(correct[trusted].mean()) if trusted.any() else None,
        accuracy_below=float(correct[~trusted].mean()) if (~trusted).any() else None,
    )


def review_outcomes(probabilities: np.ndarray, labels, thresholds) -> list[ReviewOutcome]:
    """The trade-off a lab chooses from: for each threshold, how much is reviewed and how right the rest is."""
    confidence, correct = _confidence_and_correct(probabilities, labels)
    return [_outcome(confidence, correct, threshold) for threshold in thresholds]


def choose_review_threshold(probabilities: np.ndarray, labels, target_accuracy: float = 0.99) -> ThresholdChoice:
    """The lowest threshold at which predictions with top probability >= threshold are >= target accurate.

    Candidates are the observed top probabilities; when no threshold reaches the target, the threshold
    is just above the highest confidence seen, so every prediction is reviewed.
    """
    confidence, correct = _confidence_and_correct(probabilities, labels)
    order = np.argsort(-confidence, kind="stable")
    confidence, correct = confidence[order], correct[order]
    accuracy_of_top = np.cumsum(correct) / np.arange(1, len(correct) + 1)
    # A threshold equal to confidence[i] trusts every image tied with it, so only the last of ties counts.
    last_of_ties = np.append(confidence[1:] != confidence[:-1], True)
    reaching = np.flatnonzero(last_of_ties & (accuracy_of_top >= target_accuracy))
    threshold = float(confidence[reaching[-1]]) if reaching.size else float(np.nextafter(confidence[0], 2.0))
    return ThresholdChoice(**asdict(_outcome(confidence, correct, threshold)), target_accuracy=target_accuracy)
