"""Test-time augmentation in the serving classifier: the mean over flipped views, in one traced call."""

import numpy as np
import tensorflow as tf

from ml import CLASS_NAMES
from ml.inference import TTA_VIEWS, CellClassifier
from ml.model import build_model
from ml.preprocessing import PreprocessingSpec

SIZE = 32


def _classifier(model, tta):
    return CellClassifier(model, {"class_names": list(CLASS_NAMES),
                                  "preprocessing": PreprocessingSpec(input_size=SIZE).to_dict(), "tta": tta})


def test_tta_averages_the_model_over_every_view():
    model = build_model(num_classes=4, input_size=SIZE, base_weights=None, alpha=0.35)
    images = np.random.default_rng(0).integers(0, 256, (5, SIZE, SIZE, 3), dtype=np.uint8)
    views = list(TTA_VIEWS)
    expected = np.mean([model.predict(np.asarray(TTA_VIEWS[name](tf.constant(images, tf.float32))), verbose=0)
                        for name in views], axis=0)
    np.testing.assert_allclose(_classifier(model, views).predict_arrays(images), expected, atol=1e-5)


def test_without_tta_metadata_the_model_is_called_once_as_before():
    model = build_model(num_classes=4, input_size=SIZE, base_weights=None, alpha=0.35)
    images = np.random.default_rng(1).integers(0, 256, (3, SIZE, SIZE, 3), dtype=np.uint8)
    classifier = _classifier(model, None)
    assert classifier.tta == ["identity"]
    np.testing.assert_allclose(classifier.predict_arrays(images), model.predict(images.astype("float32"), verbose=0),
                               atol=1e-5)
