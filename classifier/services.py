"""Everything that writes: predictions from uploads, their deletion, and model-version records."""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePath

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from PIL import Image

from classifier import model_service
from classifier.models import ModelVersion, Prediction

logger = logging.getLogger(__name__)

EXTENSION_FORMATS = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".tif": "TIFF", ".tiff": "TIFF",
                     ".bmp": "BMP"}
PREVIEW_MAX_SIDE = 640


class UploadRejected(Exception):
    """One uploaded file cannot be classified; the message says why, in words for the user."""


@dataclass(frozen=True)
class UploadFailure:
    filename: str
    reason: str


@dataclass(frozen=True)
class _CheckedUpload:
    filename: str
    data: bytes
    rgb: object


def upload_check(upload: UploadedFile) -> _CheckedUpload:
    """Reject empty, oversized, disguised, corrupt and bomb files before anything is stored."""
    filename = PurePath(upload.name or "upload").name[:255]
    expected_format = EXTENSION_FORMATS.get(PurePath(filename).suffix.lower())
    if expected_format is None:
        raise UploadRejected(f"{filename}: only JPEG, PNG, TIFF and BMP files are accepted.")
    if not upload.size:
        raise UploadRejected(f"{filename}: the file is empty.")
    limit = settings.HEMATOVISION_MAX_UPLOAD_BYTES
    if upload.size > limit:
        raise UploadRejected(f"{filename}: the file is {upload.size / 2**20:.1f} MB; the limit is "
                             f"{limit / 2**20:.0f} MB.")
    data = upload.read()
    try:
        rgb = model_service.decode(data)
    except model_service.ImageError as error:
        raise UploadRejected(f"{filename}: {error}") from error
    actual_format = Image.open(io.BytesIO(data)).format  # cannot fail: the same bytes just decoded
    if actual_format != expected_format:
        raise UploadRejected(f"{filename}: the name says {expected_format} but the content is {actual_format}; "
                             "rename the file or export it again.")
    return _CheckedUpload(filename=filename, data=data, rgb=rgb)


def _preview_jpeg(rgb) -> ContentFile:
    """A browser-friendly JPEG copy (TIFF and 16-bit images do not display in browsers)."""
    image = Image.fromarray(rgb)
    image.thumbnail((PREVIEW_MAX_SIDE, PREVIEW_MAX_SIDE))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=90)
    return ContentFile(buffer.getvalue(), name="preview.jpg")


def model_version_register(*, model_path, metadata: dict) -> ModelVersion:
    """Record a trained artifact (idempotent: the sha256 identifies it)."""
    trained_at = metadata.get("trained_at")
    version, _ = ModelVersion.objects.update_or_create(
        sha256=metadata["sha256"],
        defaults={
            "name": metadata.get("name") or f"model-{metadata['sha256'][:10]}",
            "file_path": str(model_path),
            "base_network": metadata.get("base_network", "MobileNetV2"),
            "input_size": int(metadata.get("input_size") or metadata["preprocessing"]["input_size"]),
            "class_names": list(metadata["class_names"]),
            "trained_at": datetime.fromisoformat(trained_at) if trained_at else None,
        },
    )
    if metadata.get("validation") and "validation" not in version.metrics:
        version.metrics = {**version.metrics, "validation": metadata["validation"]}
        version.save(update_fields=["metrics"])
    return version


def model_version_record_evaluation(*, model_path, metrics: dict) -> ModelVersion:
    """Store an evaluation (keyed by split) on the version whose sha256 the metrics name."""
    version = model_version_register(model_path=model_path, metadata=model_service.read_metadata(model_path))
    split = metrics.get("split", "TEST")
    evaluations = {**version.metrics.get("evaluation", {}), split: metrics}
    version.metrics = {**version.metrics, "evaluation": evaluations}
    version.save(update_fields=["metrics"])
    return version


def prediction_create_many(*, owner, uploads: list[UploadedFile]) -> tuple[list[Prediction], list[UploadFailure]]:
    """Classify every acceptable upload in one model call; each bad file is reported, none blocks the others."""
    checked, failures = [], []
    for upload in uploads:
        try:
            checked.append(upload_check(upload))
        except UploadRejected as error:
            failures.append(UploadFailure(filename=PurePath(upload.name or "upload").name, reason=str(error)))
    if not checked:
        return [], failures
    classifier, results = model_service.classify([item.rgb for item in checked])
    version = model_version_register(model_path=settings.HEMATOVISION_MODEL_PATH, metadata=classifier.metadata)
    predictions = [_prediction_save(owner=owner, upload=item, result=result, version=version)
                   for item, result in zip(checked, results)]
    return predictions, failures


def _prediction_save(*, owner, upload: _CheckedUpload, result, version: ModelVersion) -> Prediction:
    prediction = Prediction(
        owner=owner,
        original_filename=upload.filename,
        predicted_label=result.label,
        confidence=result.confidence,
        probabilities=result.probabilities,
        nucleus_found=result.nucleus_found,
        model_version=version,
        inference_ms=result.inference_ms,
    )
    prediction.image.save(upload.filename, ContentFile(upload.data), save=False)
    prediction.preview.save("preview.jpg", _preview_jpeg(upload.rgb), save=False)
    try:
        prediction.full_clean()
        with transaction.atomic():
            prediction.save()
    except Exception:
        _delete_files(prediction)
        raise
    return prediction


def _delete_files(prediction: Prediction) -> None:
    for field in (prediction.image, prediction.preview):
        if field.name:
            field.storage.delete(field.name)


@transaction.atomic
def prediction_delete(*, prediction: Prediction) -> None:
    """Delete the record, and its files once the deletion is committed (a rollback keeps them)."""
    names = [(field.storage, field.name) for field in (prediction.image, prediction.preview) if field.name]
    prediction.delete()
    transaction.on_commit(lambda: [storage.delete(name) for storage, name in names])
