"""Is this a white-cell image at all, and how confident must the model be to skip review?

The classifier always answers one of its classes, even for a cat. The main check is learned
(``ml.novelty``: an image whose network features are far from every training source's is
"unlike_training_images"); plain checks that no stain or camera changes stay here: a blank frame, a frame
without any purple-stained nucleus, and a frame of flat colour fills (a screenshot, a drawing), which no
microscope camera makes and which is also "unlike_training_images" whatever the learned distance says.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ml import CLASS_NAMES
from ml.preprocessing import CellLocation, locate_cell

UNLIKE_TRAINING_IMAGES = "unlike_training_images"
BLANK_CONTRAST = 3.0  # grey-level standard deviation; real smear images have well over 10
# Share of the pixels in the image's commonest exact colour. On all 19,415 images of both labs (Kaggle TRAIN,
# TEST and the 640x480 originals, every PBC folder) it is at most 0.23 (99th percentile 0.16); a screenshot
# saved as JPEG has 0.68-0.88. Twice the highest seen on real smears, with room to spare below a screenshot.
FLAT_COLOUR_SHARE = 0.45
_FLAT_SAMPLE_PIXELS = 8192  # a grid of about this many pixels is enough to see a fill, and takes 0.1 ms


def grey_contrast(rgb: np.ndarray) -> float:
    """Standard deviation of the channels' mean: summed in uint16 first, a tenth of the time of ``mean(axis=2)``."""
    total = rgb[..., 0].astype(np.uint16) + rgb[..., 1] + rgb[..., 2]
    return float(total.std()) / 3


def flat_colour_share(rgb: np.ndarray) -> float:
    """Share of the pixels (on a grid) that have the image's commonest exact colour."""
    step = max(1, int(np.sqrt(rgb.shape[0] * rgb.shape[1] / _FLAT_SAMPLE_PIXELS)))
    sample = rgb[::step, ::step].reshape(-1, 3).astype(np.uint32)
    codes = (sample[:, 0] << 16) | (sample[:, 1] << 8) | sample[:, 2]
    return float(np.unique(codes, return_counts=True)[1].max() / len(codes))


def assess_image(rgb: np.ndarray, location: CellLocation | None = None) -> tuple[str, ...]:
    """Plain quality flags of a decoded RGB image: "blank", "no_nucleus", and "unlike_training_images" for a
    frame of flat colour fills.

    ``location`` saves locating the cell again when the caller already has it.
    """
    flags = []
    if grey_contrast(rgb) < BLANK_CONTRAST:
        flags.append("blank")
    if not (location or locate_cell(rgb)).nucleus_found:
        flags.append("no_nucleus")
    if flat_colour_share(rgb) > FLAT_COLOUR_SHARE:
        flags.append(UNLIKE_TRAINING_IMAGES)
    return tuple(flags)


def review_summary(probabilities: np.ndarray, labels, unlike: np.ndarray, threshold: float) -> dict:
    """What the review flags catch on images whose true classes are known.

    An image is flagged when its top probability is below ``threshold`` or it is unlike the training images;
    an answer of another kind (not one of the four) is never counted, so it is listed apart, like a flag.
    """
    probabilities, labels, unlike = np.asarray(probabilities), np.asarray(labels), np.asarray(unlike, bool)
    predicted = probabilities.argmax(axis=1)
    flagged = (probabilities.max(axis=1) < threshold) | unlike
    wrong = predicted != labels
    unflagged = ~flagged
    return {
        "flagged_share": float(flagged.mean()),
        "unlike_training_share": float(unlike.mean()),
        "answered_other_share": float((predicted >= len(CLASS_NAMES)).mean()),
        # never counted silently: answered another kind, or flagged
        "other_or_flagged_share": float(((predicted >= len(CLASS_NAMES)) | flagged).mean()),
        "unflagged_accuracy": float((~wrong[unflagged]).mean()) if unflagged.any() else 0.0,
        "wrong_unflagged_share": float((wrong & unflagged).mean()),
    }


def threshold_for_unseen_labs(
    readings: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]], max_wrong_unflagged: float = 0.05
) -> tuple[float | None, list[dict]]:
    """The lowest review threshold that leaves at most ``max_wrong_unflagged`` of the images wrong and unflagged
    on every lab of ``readings`` ({lab: (probabilities, labels, unlike)}, each lab unseen by its model), and the
    trade-off at each candidate; None when no threshold short of 1 reaches it."""
    candidates = np.round(np.arange(0.30, 1.0, 0.01), 2)
    table = [
        {
            "threshold": float(threshold),
            **{lab: review_summary(*reading[:2], reading[2], float(threshold)) for lab, reading in readings.items()},
        }
        for threshold in candidates
    ]
    reaching = [
        row["threshold"]
        for row in table
        if all(row[lab]["wrong_unflagged_share"] <= max_wrong_unflagged for lab in readings)
    ]
    return (reaching[0] if reaching else None), table


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
