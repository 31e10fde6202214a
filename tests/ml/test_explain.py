"""Grad-CAM on the nested MobileNetV2 base."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from ml import CLASS_NAMES
from ml.explain import class_score_and_activations, gradcam_heatmap, gradcam_overlay
from ml.model import build_model
from ml.preprocessing import PreprocessingSpec, preprocess
from tests.factories import smear_rgb

INPUT_SIZE = 96  # big enough for a 3x3 last conv map, so heatmaps can differ in place


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(0)
    return build_model(num_classes=len(CLASS_NAMES), input_size=INPUT_SIZE, base_weights=None, alpha=0.35)


@pytest.fixture(scope="module")
def model_input():
    return preprocess(smear_rgb(), PreprocessingSpec(input_size=INPUT_SIZE))


def test_layer_by_layer_pass_gives_the_models_own_probabilities(model, model_input):
    images = tf.constant(model_input[None].astype(np.float32))
    with tf.GradientTape() as tape:
        score, activations = class_score_and_activations(model, images, 2, tape)
    expected = model(images, training=False).numpy()[0, 2]
    assert float(score[0]) == pytest.approx(float(expected), rel=1e-5)
    assert tuple(activations.shape) == (1, 3, 3, 1280)


def test_overlay_has_the_input_size_and_is_rgb_uint8(model, model_input):
    overlay = gradcam_overlay(model, model_input, class_index=0)
    assert overlay.shape == model_input.shape and overlay.dtype == np.uint8


def test_heatmaps_are_scaled_to_peak_at_one(model, model_input):
    heatmaps = [gradcam_heatmap(model, model_input, class_index) for class_index in range(len(CLASS_NAMES))]
    assert all(heatmap.shape == (3, 3) and heatmap.min() >= 0 for heatmap in heatmaps)
    peaks = [float(heatmap.max()) for heatmap in heatmaps]
    assert 1.0 in peaks and set(peaks) <= {0.0, 1.0}  # a class with no positive evidence maps to all zeros


def test_heatmaps_differ_between_classes(model, model_input):
    overlays = [gradcam_overlay(model, model_input, class_index) for class_index in range(len(CLASS_NAMES))]
    assert any(not np.array_equal(overlays[0], other) for other in overlays[1:])
