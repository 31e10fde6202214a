"""Predictions from uploads, classified in the request: stored with their preview and cell crop, deleted with
their files, explained (Grad-CAM) on request.

A cell of a verified sample is never written here: ``labs.selectors.sample_refuse_if_verified`` is asked inside
the transaction that would write it.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from PIL import Image

from accounts.services import owner_or_staff_check
from classifier import model_gateway
from classifier.models import OTHER_KINDS, Prediction, ReviewReason, upload_to
from classifier.services.files import FileCleanup, files_delete, files_delete_on_commit, stored_files
from classifier.uploads import (
    CheckedUpload,
    PixelBudget,
    UploadFailure,
    uploads_check,
    uploads_count_check,
    uploads_expand,
)
from labs.selectors import sample_images_known, sample_is_member, sample_lab_model, sample_refuse_if_verified
from registry.models import ModelVersion

PREVIEW_MAX_SIDE = 640
NOTHING_TO_CLASSIFY = "Nothing to classify: the upload held no images."
CLASSIFY_CHUNK_FILES = 16  # files decoded, classified and stored at a time: a request's memory stays bounded
# A new prediction's relations are objects the service has just read: checking that each exists would cost a query
# apiece per image.
JUST_READ_RELATIONS = ["owner", "sample", "model_version"]
# An upload's width and height come from its header, read when it was checked in the request or decoded in a worker:
# cleaning its field again would read the stored file back for its size, a storage round trip per image (on S3, a GET).
CHECKED_UPLOAD = ["image"]


def _jpeg(image: Image.Image, name: str, quality: int = 90) -> ContentFile:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    return ContentFile(buffer.getvalue(), name=name)


def _preview_jpeg(rgb) -> ContentFile:
    """A browser-friendly JPEG copy (TIFF and 16-bit images do not display in browsers)."""
    image = Image.fromarray(rgb)
    image.thumbnail((PREVIEW_MAX_SIDE, PREVIEW_MAX_SIDE))
    return _jpeg(image, "preview.jpg")


def review_reasons_for(result) -> list[str]:
    """Why a person must look at this prediction before it counts (empty when it may be trusted)."""
    reasons = list(result.quality_flags)
    if result.confidence < settings.HEMATOVISION_CONFIDENCE_THRESHOLD:
        reasons.append(ReviewReason.LOW_CONFIDENCE.value)
    if result.label in OTHER_KINDS:
        reasons.append(ReviewReason.OTHER_KIND.value)
    return reasons


def prediction_new(*, owner, sample, filename: str, result, version: ModelVersion) -> Prediction:
    """An unsaved prediction of ``result``, without its files."""
    reasons = review_reasons_for(result)
    return Prediction(
        owner=owner,
        sample=sample,
        needs_review=bool(reasons),
        review_reasons=reasons,
        original_filename=filename,
        predicted_label=result.label,
        confidence=result.confidence,
        probabilities=result.probabilities,
        nucleus_found=result.nucleus_found,
        model_version=version,
        inference_ms=result.inference_ms,
        runtime=result.runtime,
    )


def prediction_derived_files_save(prediction: Prediction, rgb, result) -> None:
    """Store the preview and the cell crop (and where its square lies in the frame) of a prediction being
    classified (the rows are saved by the caller): the pages and the report only read them after. The crop is
    around the cell the classification located (``result``), not located a second time."""
    prediction.preview.save("preview.jpg", _preview_jpeg(rgb), save=False)
    crop = model_gateway.cell_crop(rgb, result.location)
    prediction.cell_crop.save("cell.jpg", ContentFile(crop.jpeg), save=False)
    prediction.cell_box = list(crop.box)


class UploadPlan:
    """A request's files, ZIPs expanded, to check and classify ``CLASSIFY_CHUNK_FILES`` images at a time
    (``chunks``): a request's decoded images stay bounded. Made only for a request within the file limit (ZIP
    members counted) that holds something: any other is refused whole, before anything is done. Without
    ``decode``, files are checked but not kept decoded: a worker classifies them (``upload_check``)."""

    def __init__(self, uploads: list[UploadedFile], decode: bool = True):
        uploads_count_check(uploads)
        self.decode = decode
        self.failures: list[UploadFailure] = []  # the archives refused whole, the members that are no images
        self.images_per_file: list[int] = []  # of the request's own files, in order (1 for an image)
        self._images: list[tuple[int, UploadedFile]] = []
        for origin, upload in enumerate(uploads):
            members, failures = uploads_expand([upload])
            self.failures += failures
            self.images_per_file.append(len(members))
            self._images += [(origin, member) for member in members]
        if not self._images and not self.failures:  # an empty ZIP, or one of nothing but folders and Mac metadata
            raise ValidationError(NOTHING_TO_CLASSIFY, code="no_images")

    def chunks(self) -> Iterator[tuple[list[CheckedUpload], list[UploadFailure]]]:
        """(checked, failures) of each chunk, every item marked with the request's file it came from (``origin``);
        the plan's own failures first. The pixels a request may decode in all are bounded by a ``PixelBudget``."""
        if self.failures:
            yield [], self.failures
        budget = PixelBudget(settings.HEMATOVISION_MAX_REQUEST_PIXELS)
        for start in range(0, len(self._images), CLASSIFY_CHUNK_FILES):
            chunk = self._images[start : start + CLASSIFY_CHUNK_FILES]
            yield uploads_check([image for _, image in chunk], budget, [origin for origin, _ in chunk], self.decode)


def sample_check_writable(*, user, sample) -> None:
    """Images go only into the user's own samples or their lab's, and never into a verified one."""
    if not sample_is_member(user=user, sample=sample):
        raise PermissionDenied("Images can only be added to your own samples or your lab's.")
    sample_refuse_if_verified(sample)


def prediction_create_many(*, owner, uploads: list[UploadedFile]) -> tuple[list[Prediction], list[UploadFailure]]:
    """Classify every acceptable upload (ZIPs expanded) into the owner's own predictions (a sample's images go
    through ``classifier.services.waiting.sample_images_add``); bad files are reported one by one.

    Files are decoded, classified (one batched model call) and stored a chunk at a time (``UploadPlan``).
    """
    predictions, failures = [], []
    for checked, chunk_failures in UploadPlan(uploads).chunks():
        failures += chunk_failures
        predictions += [prediction for _, prediction in predictions_classify(owner=owner, sample=None, checked=checked)]
    return predictions, failures


def predictions_classify(
    *, owner, sample, checked: list[CheckedUpload]
) -> Iterator[tuple[CheckedUpload, Prediction | None]]:
    """Classify checked uploads in one batched model call (by the sample's lab's own model when it has one), then
    store each: (the upload, its prediction) as each is stored, the prediction None when the sample turned out to
    hold the file already (nothing of it is kept)."""
    if not checked:
        return
    results, version = model_gateway.classify([item.rgb for item in checked], sample_lab_model(sample))
    for item, result in zip(checked, results, strict=True):
        yield item, _prediction_save(owner=owner, sample=sample, upload=item, result=result, version=version)


def _prediction_save(*, owner, sample, upload: CheckedUpload, result, version: ModelVersion) -> Prediction | None:
    """The stored prediction, or None when another request stored the same file into the sample meanwhile."""
    prediction = prediction_new(owner=owner, sample=sample, filename=upload.filename, result=result, version=version)
    prediction.image_sha256 = upload.sha256
    # stored through the storage, not ``image.save``, which would read the stored file back for its size
    prediction.image_width, prediction.image_height = upload.size
    name = prediction.image.field.generate_filename(prediction, upload.filename)
    prediction.image.name = prediction.image.storage.save(name, ContentFile(upload.data))
    try:
        prediction_derived_files_save(prediction, upload.rgb, result)
        prediction.full_clean(exclude=JUST_READ_RELATIONS + CHECKED_UPLOAD)
        stored = _prediction_insert(prediction, sample, upload.sha256)
    except Exception:
        files_delete(stored_files(prediction))
        raise
    if not stored:
        files_delete(stored_files(prediction))
        return None
    return prediction


def _prediction_insert(prediction: Prediction, sample, sha256: str) -> bool:
    """Insert the prediction, unless its sample holds the file already: whether it was inserted. Into a sample,
    inside a transaction that finds the sample unverified and the file new; alone, its one INSERT is atomic by
    itself, so no transaction is opened and committed around it (two statements fewer per single upload)."""
    if sample is None:
        prediction.save()
        return True
    with transaction.atomic():
        sample_refuse_if_verified(sample)  # verified while this upload was being classified
        stored = not sample_images_known(sample=sample, sha256s=[sha256])
        if stored:
            prediction.save()
    return stored


@transaction.atomic
def prediction_delete(*, prediction: Prediction, actor=None) -> FileCleanup:
    """Delete a prediction and its files; never a cell of a verified sample. ``actor`` (None: the system) must be
    its owner or staff: lab members see each other's cells but do not delete them."""
    owner_or_staff_check(actor=actor, record=prediction, what="this image")
    sample_refuse_if_verified(prediction.sample if prediction.sample_id else None)
    cleanup = files_delete_on_commit([prediction])
    prediction.delete()
    return cleanup


def prediction_explain(*, prediction: Prediction) -> Prediction:
    """Store the Grad-CAM overlay of the predicted class, computed once and reused after.

    Two simultaneous requests may both compute it; only the first stored file is kept, and a file whose row could
    not be written is removed.
    """
    if prediction.gradcam:
        return prediction
    with prediction.image.open("rb") as handle:
        png = model_gateway.gradcam_png(handle.read(), prediction.predicted_label, version=prediction.model_version)
    name = prediction.gradcam.storage.save(upload_to(prediction, "gradcam.png"), ContentFile(png))
    stored = 0
    try:
        stored = Prediction.objects.filter(pk=prediction.pk, gradcam="").update(gradcam=name)
    finally:
        if not stored:  # another request stored its overlay first, or the database failed: no file without its row
            files_delete([(prediction.gradcam.storage, name)])
    prediction.refresh_from_db(fields=["gradcam"])
    return prediction
