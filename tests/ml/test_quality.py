"""Not-a-cell detection (plain checks here, the learned check in test_novelty) and the review threshold."""

import numpy as np
import pytest

from ml.inference import CellClassifier
from ml.preprocessing import decode_image
from ml.quality import (
    FLAT_COLOUR_SHARE,
    UNLIKE_TRAINING_IMAGES,
    assess_image,
    choose_review_threshold,
    flat_colour_share,
    grey_contrast,
    review_outcomes,
    review_summary,
)
from tests.factories import blank_rgb, jpeg_round_trip, noise_rgb, screenshot_rgb, smear_rgb

BLANKS = {
    "white image": blank_rgb(),
    "black image": blank_rgb(colour=(0, 0, 0)),
    "smear-coloured blank": blank_rgb(colour=(225, 200, 200)),
}


@pytest.mark.parametrize("case", BLANKS)
def test_blank_images_are_flagged(case):
    assert "blank" in assess_image(BLANKS[case])


@pytest.mark.parametrize(
    "rgb", [smear_rgb(), noise_rgb(), blank_rgb(colour=(255, 255, 255))], ids=["smear", "noise", "white"]
)
def test_grey_contrast_is_the_spread_of_the_channel_mean(rgb):
    assert grey_contrast(rgb) == pytest.approx(rgb.mean(axis=2).std(), abs=1e-9)


def test_a_smear_look_alike_passes_the_plain_checks():
    assert assess_image(smear_rgb()) == ()


def test_image_without_a_purple_nucleus_is_flagged_no_nucleus():
    assert assess_image(smear_rgb(radius=0)) == ("no_nucleus",)


@pytest.mark.parametrize("size", [(320, 240), (640, 480), (1280, 960)])
def test_a_screenshot_is_unlike_the_training_images_by_a_margin_whatever_the_model(size):
    for picture in (screenshot_rgb(*size), jpeg_round_trip(screenshot_rgb(*size))):
        assert flat_colour_share(picture) > 1.4 * FLAT_COLOUR_SHARE
        assert UNLIKE_TRAINING_IMAGES in assess_image(picture)


def test_real_cells_of_both_laboratories_have_no_flat_fills(dataset_dir, pbc_dir):
    """The commonest colour of the brightest-backgrounded real images stays far below the limit."""
    files = [
        *sorted((pbc_dir / "erythroblast").glob("*.jpg"))[:40],
        *sorted((pbc_dir / "eosinophil").glob("*.jpg"))[:40],
        *sorted(dataset_dir.glob("images/TRAIN/NEUTROPHIL/*.jpeg"))[:40],
    ]
    shares = [flat_colour_share(decode_image(path)) for path in files]
    assert len(shares) == 120 and max(shares) < FLAT_COLOUR_SHARE / 1.5


def test_review_summary_counts_what_the_flags_miss():
    probabilities = np.array([[0.9, 0.1, 0, 0, 0], [0.9, 0.1, 0, 0, 0], [0.5, 0.5, 0, 0, 0], [0.1, 0, 0, 0, 0.9]])
    summary = review_summary(probabilities, [0, 1, 1, 2], unlike=[False, False, False, True], threshold=0.7)
    assert summary["flagged_share"] == 0.5  # the 0.5 answer and the unlike one
    assert summary["wrong_unflagged_share"] == 0.25  # the confident wrong answer for image 2
    assert summary["unflagged_accuracy"] == 0.5
    assert summary["answered_other_share"] == 0.25  # index 4: not one of the four
    assert summary["other_or_flagged_share"] == 0.5  # the low-confidence one and the other-kind one


def test_classifier_adds_the_learned_flag_to_the_plain_ones(tiny_model_path):
    classifier = CellClassifier.from_path(tiny_model_path)
    smear, noise, blank = classifier.classify_arrays([smear_rgb(seed=3), noise_rgb(), blank_rgb()])
    assert smear.quality_flags == () and smear.nucleus_found
    assert smear.novelty_distance <= classifier.distribution.threshold < noise.novelty_distance
    assert UNLIKE_TRAINING_IMAGES in noise.quality_flags
    assert blank.quality_flags[:2] == ("blank", "no_nucleus")


def _one_hot_rows(confidences, predicted):
    """Probability rows whose top class is ``predicted`` with the given confidence."""
    rows = np.full((len(confidences), 4), 0.0)
    for row, (confidence, label) in enumerate(zip(confidences, predicted, strict=True)):
        rows[row] = (1 - confidence) / 3
        rows[row, label] = confidence
    return rows


def test_threshold_is_the_lowest_that_keeps_trusted_predictions_accurate():
    confidences = [0.99, 0.95, 0.9, 0.8, 0.7, 0.6]
    probabilities = _one_hot_rows(confidences, [0, 1, 2, 3, 0, 1])
    labels = [0, 1, 2, 0, 0, 1]  # only the 0.8 prediction is wrong
    choice = choose_review_threshold(probabilities, labels, target_accuracy=0.99)
    assert choice.threshold == pytest.approx(0.9)
    assert choice.flagged_share == pytest.approx(0.5)
    assert choice.accuracy_above == 1.0 and choice.accuracy_below == pytest.approx(2 / 3)
    assert choose_review_threshold(probabilities, labels, target_accuracy=0.8).threshold == pytest.approx(0.6)


def test_when_every_prediction_is_right_nothing_is_flagged():
    probabilities = _one_hot_rows([0.9, 0.5, 0.4], [0, 1, 2])
    choice = choose_review_threshold(probabilities, [0, 1, 2])
    assert choice.threshold == pytest.approx(0.4) and choice.flagged_share == 0 and choice.accuracy_below is None


def test_when_no_threshold_reaches_the_target_everything_is_flagged():
    probabilities = _one_hot_rows([0.9, 0.8], [0, 1])
    choice = choose_review_threshold(probabilities, [1, 1])
    assert choice.threshold > 0.9 and choice.flagged_share == 1 and choice.accuracy_above is None


def test_tied_confidences_are_trusted_or_flagged_together():
    probabilities = _one_hot_rows([0.9, 0.7, 0.7], [0, 1, 2])
    choice = choose_review_threshold(probabilities, [0, 1, 0])  # one of the two 0.7s is wrong
    assert choice.threshold == pytest.approx(0.9) and choice.flagged_share == pytest.approx(2 / 3)


def test_review_outcomes_show_the_trade_off_at_each_threshold():
    probabilities = _one_hot_rows([0.99, 0.95, 0.9, 0.8, 0.7, 0.6], [0, 1, 2, 3, 0, 1])
    labels = [0, 1, 2, 0, 0, 1]  # only the 0.8 prediction is wrong
    lenient, middle, strict = review_outcomes(probabilities, labels, [0.5, 0.85, 1.0])
    assert lenient.flagged_share == 0 and lenient.accuracy_above == pytest.approx(5 / 6)
    assert lenient.accuracy_below is None
    assert middle.flagged_share == pytest.approx(0.5) and middle.accuracy_above == 1.0
    assert middle.accuracy_below == pytest.approx(2 / 3)
    assert strict.flagged_share == 1 and strict.accuracy_above is None and strict.images == 6


def test_threshold_needs_matching_probabilities_and_labels():
    with pytest.raises(ValueError, match="one row of class probabilities per label"):
        choose_review_threshold(np.zeros((2, 4)), [0])
