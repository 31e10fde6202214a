"""Test-time augmentation in the serving forward pass: the mean over flipped views, in one traced call."""

import numpy as np
import tensorflow as tf

from ml.inference import TTA_VIEWS, ViewAveragedForward
from ml.model import BASE_LAYER_NAME, build_model

SIZE = 32


def test_tta_averages_probabilities_and_features_over_every_view():
    model = build_model(num_classes=4, input_size=SIZE, base_weights=None, alpha=0.35)
    images = np.random.default_rng(0).integers(0, 256, (5, SIZE, SIZE, 3), dtype=np.uint8)
    views = tuple(TTA_VIEWS)
    expected = np.mean(
        [model.predict(np.asarray(TTA_VIEWS[name](tf.constant(images, tf.float32))), verbose=0) for name in views],
        axis=0,
    )
    probabilities, features = ViewAveragedForward(model, views, SIZE)(images)
    np.testing.assert_allclose(probabilities, expected, atol=1e-5)
    base = model.get_layer(BASE_LAYER_NAME)
    expected_features = np.mean(
        [
            base(model.get_layer("mobilenet_scaling")(TTA_VIEWS[name](tf.constant(images, tf.float32)))).numpy()
            for name in views
        ],
        axis=0,
    )
    np.testing.assert_allclose(features, expected_features, atol=1e-4)


def test_one_view_calls_the_model_once_as_it_is():
    model = build_model(num_classes=4, input_size=SIZE, base_weights=None, alpha=0.35)
    images = np.random.default_rng(1).integers(0, 256, (3, SIZE, SIZE, 3), dtype=np.uint8)
    probabilities, _ = ViewAveragedForward(model, ("identity",), SIZE, batch_size=2)(images)
    np.testing.assert_allclose(probabilities, model.predict(images.astype("float32"), verbose=0), atol=1e-5)
