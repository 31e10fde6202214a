"""The learned novelty check of a model really trained on both sources: cells of either lab pass, non-cells don't."""

import pytest
from sklearn.datasets import load_sample_images

from ml.inference import CellClassifier
from ml.preprocessing import decode_image
from ml.quality import UNLIKE_TRAINING_IMAGES
from ml.sources import Source, cap_per_class, evaluation_images
from tests.factories import cat_like_rgb, noise_rgb, screenshot_rgb

pytestmark = pytest.mark.real_model


@pytest.fixture(scope="module")
def classifier(trained_model_path):
    return CellClassifier.from_path(trained_model_path)


def _flagged_share(classifier, images) -> float:
    results = classifier.classify_arrays([decode_image(image.path) for image in images])
    return sum(UNLIKE_TRAINING_IMAGES in result.quality_flags for result in results) / len(results)


def test_held_out_cells_of_both_laboratories_are_not_unlike_the_training_images(classifier, dataset_dir, pbc_dir):
    _, pbc = evaluation_images(Source("pbc", pbc_dir))
    _, kaggle = evaluation_images(Source("kaggle", dataset_dir))
    assert _flagged_share(classifier, cap_per_class(pbc, 25)) <= 0.1
    assert _flagged_share(classifier, cap_per_class(kaggle, 25)) <= 0.2


def test_pictures_that_are_not_white_cells_are_unlike_the_training_images(classifier):
    pictures = [
        cat_like_rgb(),
        cat_like_rgb(width=640, height=480, seed=3),
        noise_rgb(),
        screenshot_rgb(),
        *load_sample_images().images,
    ]  # scikit-learn's bundled photos: a temple and a flower
    results = classifier.classify_arrays(pictures)
    assert [UNLIKE_TRAINING_IMAGES in result.quality_flags for result in results] == [True] * len(pictures)
