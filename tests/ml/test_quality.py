"""Not-a-cell detection and the choice of the review threshold."""

import numpy as np
import pytest
from sklearn.datasets import load_sample_images

from ml import CLASS_NAMES
from ml.data import list_split, subsample_cells
from ml.inference import CellClassifier
from ml.preprocessing import decode_image
from ml.quality import assess_image, choose_review_threshold, review_outcomes, smear_deviations, smear_statistics
from tests.factories import blank_rgb, cat_like_rgb, noise_rgb, screenshot_rgb, smear_rgb

NOT_CELLS = {
    "cat-like photo": (cat_like_rgb(), "not_a_smear"),
    "another cat-like photo": (cat_like_rgb(width=640, height=480, seed=3), "not_a_smear"),
    "white image": (blank_rgb(), "blank"),
    "black image": (blank_rgb(colour=(0, 0, 0)), "blank"),
    "smear-coloured blank": (blank_rgb(colour=(225, 200, 200)), "blank"),
    "noise": (noise_rgb(), "not_a_smear"),
    "screenshot": (screenshot_rgb(), "not_a_smear"),
}


@pytest.mark.parametrize("case", NOT_CELLS)
def test_images_that_are_not_a_stained_cell_are_flagged(case):
    rgb, expected_flag = NOT_CELLS[case]
    assert expected_flag in assess_image(rgb)


@pytest.mark.parametrize("index", [0, 1])
def test_real_photographs_are_not_a_smear(index):
    photo = load_sample_images().images[index]  # scikit-learn's bundled photos: a temple and a flower
    assert "not_a_smear" in assess_image(photo)


def test_a_smear_look_alike_is_not_flagged():
    assert assess_image(smear_rgb()) == ()


def test_image_without_a_purple_nucleus_is_flagged_no_nucleus():
    rgb = smear_rgb(radius=0)
    assert "no_nucleus" in assess_image(rgb)


def test_a_tiny_purple_speck_is_an_atypical_nucleus():
    assert assess_image(smear_rgb(radius=8)) == ("nucleus_size_atypical",)


def test_statistics_do_not_depend_on_resolution():
    small, large = smear_statistics(cat_like_rgb(320, 240)), smear_statistics(cat_like_rgb(640, 480))
    assert smear_deviations(small) == smear_deviations(large)
    assert small.brightness == pytest.approx(large.brightness, abs=5)


def test_real_train_and_test_simple_images_are_almost_never_flagged(dataset_dir):
    samples = subsample_cells(list_split(dataset_dir, "TRAIN"), per_class=60, seed=7)
    samples += list_split(dataset_dir, "TEST_SIMPLE")
    flagged = [sample.path.name for sample in samples if assess_image(decode_image(sample.path))]
    assert len(flagged) <= 0.01 * len(samples), flagged


def test_classifier_reports_the_quality_flags(tiny_model_path):
    classifier = CellClassifier.from_path(tiny_model_path)
    smear, noise = classifier.classify_arrays([smear_rgb(), noise_rgb()])
    assert smear.quality_flags == () and smear.nucleus_found
    assert "not_a_smear" in noise.quality_flags and noise.label in CLASS_NAMES


def _one_hot_rows(confidences, predicted):
    """Probability rows whose top class is ``predicted`` with the given confidence."""
    rows = np.full((len(confidences), 4), 0.0)
    for row, (confidence, label) in enumerate(zip(confidences, predicted)):
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
