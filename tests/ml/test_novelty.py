"""The learned novelty check on features: fitted, calibrated, saved; real images in test_novelty_real."""

import numpy as np
import pytest

from ml.novelty import THRESHOLD_PERCENTILE, TrainingDistribution, fit_training_distribution


def _clustered_features(rng, count=800, dimensions=100, classes=4):
    labels = rng.integers(0, classes, count)
    centres = rng.normal(0, 5, (classes, dimensions))
    return centres[labels] + rng.normal(0, 1, (count, dimensions)), labels, centres


def test_features_far_from_the_training_classes_are_unfamiliar_and_close_ones_are_not():
    rng = np.random.default_rng(0)
    features, labels, centres = _clustered_features(rng)
    distribution, summary = fit_training_distribution(features, labels, [str(i) for i in range(len(labels))])
    new_inliers = centres[rng.integers(0, 4, 400)] + rng.normal(0, 1, (400, 100))
    outliers = rng.normal(0, 5, (50, 100)) + 30
    assert distribution.is_unfamiliar(new_inliers).mean() < 0.05
    assert distribution.is_unfamiliar(outliers).all()
    assert summary["calibration_images"] == pytest.approx(200, abs=1)
    assert summary["threshold_percentile"] == THRESHOLD_PERCENTILE


def test_calibration_leaves_out_whole_groups():
    rng = np.random.default_rng(1)
    features, labels, _ = _clustered_features(rng, count=400)
    groups = [f"photo-{i // 10}" for i in range(400)]  # ten images per photo
    _, summary = fit_training_distribution(features, labels, groups)
    assert summary["calibration_images"] % 10 == 0 and summary["fit_images"] % 10 == 0


def test_the_distribution_survives_saving():
    rng = np.random.default_rng(2)
    features, labels, _ = _clustered_features(rng, count=300)
    distribution, _ = fit_training_distribution(features, labels, [str(i) for i in range(300)])
    again = TrainingDistribution.from_bytes(distribution.to_bytes())
    np.testing.assert_allclose(again.distances(features[:20]), distribution.distances(features[:20]))
    assert again.threshold == distribution.threshold


def test_a_class_without_fit_images_is_refused():
    features = np.random.default_rng(3).normal(size=(40, 10))
    with pytest.raises(ValueError, match="every class needs images"):
        fit_training_distribution(features, np.zeros(40, int), [str(i) for i in range(40)])
