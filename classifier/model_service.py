"""The only bridge from the web app to ``ml/``: the process-wide cached classifier and image decoding."""

from __future__ import annotations

import io

from django.conf import settings
from PIL import Image

from ml.artifact import ArtifactError, ArtifactMetadata, read_metadata
from ml.explain import gradcam_overlay
from ml.inference import CellClassifier, Classification, ClassifierCache
from ml.preprocessing import ALLOWED_FORMATS, ImageError, decode_image, preprocess

__all__ = ["ALLOWED_FORMATS", "ArtifactError", "ArtifactMetadata", "Classification", "ImageError", "ModelUnavailable", "cache", "classify",
           "decode", "get_classifier", "gradcam_png", "read_metadata"]

cache = ClassifierCache()


class ModelUnavailable(Exception):
    """No usable trained model: the message says what is missing and how to provide it."""


def get_classifier() -> CellClassifier:
    """The classifier for ``HEMATOVISION_MODEL_PATH``, loaded once per process and reused by every request."""
    try:
        return cache.get(settings.HEMATOVISION_MODEL_PATH)
    except ArtifactError as error:
        raise ModelUnavailable(str(error)) from error


def decode(data: bytes):
    """RGB pixels of an upload, or ``ImageError`` with a message fit for the user."""
    return decode_image(data, max_pixels=settings.HEMATOVISION_MAX_IMAGE_PIXELS)


def confusion_png(metrics: dict) -> bytes:
    """The stored evaluation's confusion matrix drawn as a PNG (matplotlib is loaded only when asked)."""
    from ml.evaluation import confusion_png_bytes  # noqa: PLC0415 - keeps matplotlib out of start-up

    return confusion_png_bytes(metrics)


def classify(rgb_images: list) -> tuple[CellClassifier, list[Classification]]:
    classifier = get_classifier()
    return classifier, classifier.classify_arrays(rgb_images)


def gradcam_png(prediction_image_bytes: bytes, class_name: str, *, model_sha256: str | None = None) -> bytes:
    """PNG of the Grad-CAM overlay of ``class_name`` on the crop the model sees.

    ``model_sha256`` names the model that made the prediction: a heatmap from another model would explain
    a decision nobody made, so a different loaded model raises ``ModelUnavailable``.
    """
    classifier = get_classifier()
    if model_sha256 is not None and classifier.sha256 != model_sha256:
        raise ModelUnavailable("The model that made this prediction is no longer the active model, so its "
                               "decision cannot be explained.")
    model_input = preprocess(decode(prediction_image_bytes), classifier.spec)
    overlay = gradcam_overlay(classifier.model, model_input, classifier.class_names.index(class_name))
    buffer = io.BytesIO()
    Image.fromarray(overlay).save(buffer, format="PNG")
    return buffer.getvalue()
