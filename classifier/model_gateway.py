"""The adapter from the web app to ``ml/``: it owns the loaded classifier and the ``ModelVersion`` it stamps.

Web code (views, services, the API) reaches ``ml/`` only through this module; the model management commands in
``registry/`` are the second, documented bridge: they call ``ml/``'s training and evaluation functions directly.
It registers a newly loaded artifact's version through ``registry.services`` and imports no service of this app.
"""

from __future__ import annotations

import io
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from PIL import Image

from ml.artifact import ArtifactError
from ml.explain import gradcam_overlay
from ml.inference import CellClassifier, Classification, ClassifierCache
from ml.preprocessing import (
    ALLOWED_FORMATS,
    ImageError,
    crop_box,
    crop_padded,
    decode_image,
    locate_cell,
    preprocess,
    verify_image,
)
from ml.runtime import RUNTIME_PRECISIONS, RUNTIMES
from registry.models import ModelVersion
from registry.services import model_version_register

__all__ = [
    "ALLOWED_FORMATS",
    "RUNTIMES",
    "RUNTIME_PRECISIONS",
    "CellCrop",
    "ImageError",
    "ModelUnavailable",
    "active",
    "active_version",
    "cache",
    "cell_crop",
    "classify",
    "confusion_png",
    "decode",
    "forget_version",
    "get_classifier",
    "gradcam_png",
    "runtime_name",
]

# Uploads larger than this on their longer side are shrunk as they decode: the model looks at a crop around the
# nucleus resized to its input size (128 px for the shipped model), so nothing it uses is lost, and a 6300 x 6300 upload costs
# 12 MB of pixels instead of 120 MB.
DECODE_MAX_SIDE = 2048

# The reviewer's crop: wider than the model's (2.8 nucleus sizes) so the whole cell and a rim of its neighbours
# show, never under CELL_CROP_MIN_SIDE pixels, at the image's own resolution (granules stay visible); only a crop
# over CELL_CROP_MAX_SIDE is shrunk, so a grid of a hundred cells stays light.
CELL_CROP_SCALE = 4.0
CELL_CROP_MIN_SIDE = 160
CELL_CROP_MAX_SIDE = 480
CELL_CROP_QUALITY = 90

NO_MODEL = (
    "no trained model is installed. An administrator must train or install one (`python manage.py "
    "train_model`); the server log says what is missing."
)

logger = logging.getLogger(__name__)
cache = ClassifierCache(capacity=settings.HEMATOVISION_SERVED_MODELS)
_lock = threading.Lock()
_active: tuple[CellClassifier, ModelVersion] | None = None


class ModelUnavailable(Exception):
    """No usable trained model. The message is fit for any user (no server paths); ``detail`` says what is missing
    and how to provide it, for the server log."""

    def __init__(self, message: str, detail: str = ""):
        super().__init__(message)
        self.detail = detail or message


def get_classifier(model_path=None) -> CellClassifier:
    """The classifier of the artifact at ``model_path`` (default ``HEMATOVISION_MODEL_PATH``, the shared model) on
    ``HEMATOVISION_RUNTIME``, loaded once per process and reused by every request; the shared model in
    ``HEMATOVISION_RUNTIME_PRECISION``, a lab's own in fp32 (it has no int8 export)."""
    shared = settings.HEMATOVISION_MODEL_PATH
    path = Path(model_path or shared)
    precision = settings.HEMATOVISION_RUNTIME_PRECISION if path == Path(shared) else "fp32"
    try:
        return cache.get(path, settings.HEMATOVISION_RUNTIME, precision)
    except ArtifactError as error:
        logger.error("The classifier is not available: %s", error)
        raise ModelUnavailable(NO_MODEL, detail=str(error)) from error


def active(lab_model: ModelVersion | None = None) -> tuple[CellClassifier, ModelVersion]:
    """The classifier to use and the ``ModelVersion`` it stamps: ``lab_model`` (a lab's own) when given and
    loadable, else the shared model, registered once when a new artifact is loaded.

    As the Label Studio ML backend's ``setup()`` does, the shared version is resolved once and every
    prediction is stamped with it, rather than looked up again per upload. A lab model that cannot be loaded, or
    whose file is no longer the one registered, is logged and the shared model serves: the prediction then says so.
    """
    global _active
    if lab_model is not None:
        try:
            classifier = get_classifier(lab_model.file_path)
            if classifier.sha256 == lab_model.sha256:
                return classifier, lab_model
            logger.error("The file of lab model %s now holds another model; the shared model serves.", lab_model)
        except ModelUnavailable:
            logger.error("Lab model %s cannot be loaded; the shared model serves.", lab_model)
    classifier = get_classifier()
    with _lock:
        if _active is None or _active[0] is not classifier:
            version = model_version_register(model_path=settings.HEMATOVISION_MODEL_PATH, metadata=classifier.metadata)
            _active = (classifier, version)
        return _active


def active_version() -> ModelVersion | None:
    """The shared model's version, read afresh (``evaluate_model`` adds metrics from another process), or None."""
    try:
        _, version = active()
    except ModelUnavailable:
        return None
    return ModelVersion.objects.get(pk=version.pk)


def runtime_name() -> str:
    """Which runtime computes this process's predictions (e.g. ``openvino 2026.4.1 (f32, CPU)``), or empty."""
    try:
        return get_classifier().runtime
    except ModelUnavailable:
        return ""


def forget_version() -> None:
    """Resolve the version again on next use: the database was replaced under the process (tests do so)."""
    global _active
    with _lock:
        _active = None


def classify(rgb_images: list, lab_model: ModelVersion | None = None) -> tuple[list[Classification], ModelVersion]:
    """Classify decoded images in batched model calls, with the lab's own model when it has one (``active``);
    the version is the one that made the predictions."""
    classifier, version = active(lab_model)
    return classifier.classify_arrays(rgb_images), version


def decode(data: bytes, on_header=None):
    """RGB pixels of an upload (at most ``DECODE_MAX_SIDE`` on the longer side), or ``ImageError`` with a
    message fit for the user; ``on_header(format, width, height)`` may refuse it from its header, before it is
    decoded. Grad-CAM decodes stored images the same way, so it explains what was classified."""
    return decode_image(
        data, max_pixels=settings.HEMATOVISION_MAX_IMAGE_PIXELS, max_side=DECODE_MAX_SIDE, on_header=on_header
    )


def verify(data: bytes, on_header=None) -> None:
    """Check an upload whose pixels a worker decodes as ``decode`` checks it (``ImageError`` alike, ``on_header``
    alike), without holding its pixels in the request."""
    verify_image(data, max_pixels=settings.HEMATOVISION_MAX_IMAGE_PIXELS, on_header=on_header)


def confusion_png(metrics: dict) -> bytes:
    """The stored evaluation's confusion matrix drawn as a PNG.

    ``ml.evaluation`` is imported only when asked, which keeps the training pipeline it brings
    (``ml.training``, ``ml.data``) out of the web process. It does not keep matplotlib out of start-up:
    Keras imports ``matplotlib.pyplot`` itself (``keras.src.visualization``) as soon as it is loaded.
    """
    from ml.evaluation import confusion_png_bytes  # imported here: the training pipeline only when asked

    return confusion_png_bytes(metrics)


def gradcam_png(prediction_image_bytes: bytes, class_name: str, *, version: ModelVersion) -> bytes:
    """PNG of the Grad-CAM overlay of ``class_name`` on the crop the model sees.

    ``version`` is the model that made the prediction (the shared one or a lab's): a heatmap from another model
    would explain a decision nobody made, so when its file now holds another model this raises ``ModelUnavailable``.
    """
    classifier = get_classifier(version.file_path)
    if classifier.sha256 != version.sha256:
        raise ModelUnavailable(
            "The model that made this prediction is no longer the active model, so its decision cannot be explained."
        )
    model_input = preprocess(decode(prediction_image_bytes), classifier.spec)
    overlay = gradcam_overlay(classifier.model, model_input, classifier.class_names.index(class_name))
    buffer = io.BytesIO()
    Image.fromarray(overlay).save(buffer, format="PNG")
    return buffer.getvalue()


@dataclass(frozen=True)
class CellCrop:
    """The reviewer's crop as a JPEG, and its square as fractions of the frame (left, top, right, bottom): below 0
    or above 1 where the square reaches past the frame and the crop is padded. The pages draw the padding apart
    from the image, and the square on the whole field."""

    jpeg: bytes
    box: tuple[float, float, float, float]


def cell_crop(rgb, location=None) -> CellCrop:
    """A square around the located cell of decoded pixels, at native resolution (no model needed), for review and
    the report; ``location`` is the classification's, else the cell is located here.

    Where the square reaches past the frame, the frame's median colour fills it, as for the model's crop.
    """
    height, width = rgb.shape[:2]
    location = location or locate_cell(rgb)
    scale = max(CELL_CROP_SCALE, CELL_CROP_MIN_SIDE / location.nucleus_size) if location.nucleus_found else 0.0
    left, top, right, bottom = box = crop_box(width, height, location, scale)
    crop = crop_padded(rgb, box)
    crop.thumbnail((CELL_CROP_MAX_SIDE, CELL_CROP_MAX_SIDE))
    buffer = io.BytesIO()
    crop.save(buffer, format="JPEG", quality=CELL_CROP_QUALITY)
    fractions = (left / width, top / height, right / width, bottom / height)
    return CellCrop(buffer.getvalue(), tuple(round(value, 4) for value in fractions))
