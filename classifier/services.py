"""Everything that writes: predictions from uploads (now or by a worker), reviews and exclusions, samples, their
verification and un-verification (each written to the sample's audit trail), deletion, and model versions.

A verified sample is a frozen record: every write to it or its cells is refused here, whichever page, API call or
admin action asks, until someone with the un-verify permission un-verifies it with a reason.
"""

from __future__ import annotations

import io
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from PIL import Image
from rest_framework.authtoken.models import Token

from classifier import model_gateway, selectors
from classifier.model_gateway import ArtifactMetadata
from classifier.models import (
    CLASS_CHOICES,
    EXCLUSION_REASON_MAX_LENGTH,
    REVIEW_PERMISSION,
    UNVERIFY_PERMISSION,
    ModelVersion,
    PendingImage,
    Prediction,
    Sample,
    SampleEvent,
    upload_to,
)
from classifier.uploads import (
    CheckedUpload,
    PixelBudget,
    UploadFailure,
    uploads_check,
    uploads_count_check,
    uploads_expand,
)

PREVIEW_MAX_SIDE = 640
FILE_DELETE_ATTEMPTS = 3
logger = logging.getLogger("hematovision.storage")
NOTHING_TO_CLASSIFY = "Nothing to classify: the upload held no images."
CLASSIFY_CHUNK_FILES = 16  # files decoded, classified and stored at a time: a request's memory stays bounded
# A new prediction's relations are objects the service has just read: checking that each exists would cost a query
# apiece per image.
JUST_READ_RELATIONS = ["owner", "sample", "model_version"]
FROZEN = "This sample is verified: nothing in it can change unless it is un-verified first."


def _preview_jpeg(rgb) -> ContentFile:
    """A browser-friendly JPEG copy (TIFF and 16-bit images do not display in browsers)."""
    image = Image.fromarray(rgb)
    image.thumbnail((PREVIEW_MAX_SIDE, PREVIEW_MAX_SIDE))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=90)
    return ContentFile(buffer.getvalue(), name="preview.jpg")


def model_version_register(*, model_path, metadata: ArtifactMetadata) -> ModelVersion:
    """The artifact's version, created the first time its sha256 is seen and left as it is after."""
    version, _ = ModelVersion.objects.get_or_create(
        sha256=metadata.sha256,
        defaults={
            "name": metadata.name,
            "file_path": str(model_path),
            "base_network": metadata.base_network,
            "input_size": metadata.preprocessing.input_size,
            "class_names": list(metadata.class_names),
            "trained_at": datetime.fromisoformat(metadata.trained_at),
            "metrics": _training_record(metadata),
        },
    )
    return version


def _training_record(metadata: ArtifactMetadata) -> dict:
    """What the Model page says about training: validation figures, the sources, the novelty check."""
    record = {"validation": metadata.validation} if metadata.validation else {}
    training = metadata.training
    record["training"] = {"train_images": training["train_images"], "val_images": training["val_images"],
                          "train_images_per_source": training["train_images_per_source"],
                          "sources": training["sources"]}
    record["novelty"] = metadata.novelty
    return record


def model_version_record_evaluation(*, model_path, metrics: dict) -> ModelVersion:
    """Store an evaluation (keyed by evaluation set) on the version whose sha256 the metrics name."""
    split = metrics["split"]
    return _model_version_add_metrics(
        model_path, lambda version: {"evaluation": {**version.metrics.get("evaluation", {}), split: metrics}})


def model_version_record_full_size_check(*, model_path, result: dict) -> ModelVersion:
    """Store ``evaluate_full_size``'s comparison, which the Model page shows beside the TEST figures."""
    return _model_version_add_metrics(model_path, lambda version: {"full_size": result})


def _model_version_add_metrics(model_path, entries_for) -> ModelVersion:
    """Register the artifact's version if needed, then merge ``entries_for(version)`` into its metrics."""
    version = model_version_register(model_path=model_path, metadata=model_gateway.read_metadata(model_path))
    version.metrics = {**version.metrics, **entries_for(version)}
    version.save(update_fields=["metrics"])
    return version


def review_reasons_for(result) -> list[str]:
    """Why a person must look at this prediction before it counts (empty when it may be trusted)."""
    reasons = list(result.quality_flags)
    if result.confidence < settings.HEMATOVISION_CONFIDENCE_THRESHOLD:
        reasons.append("low_confidence")
    return reasons


def _checked_chunks(uploads: list[UploadedFile]):
    """(checked, failures) for ``CLASSIFY_CHUNK_FILES`` files at a time, ZIPs expanded: a request's decoded images
    stay bounded. A request over the file limit (ZIP members counted) is refused whole, an empty one says so,
    and the pixels it may decode in all are bounded by a ``PixelBudget``."""
    uploads_count_check(uploads)
    files, failures = uploads_expand(uploads)
    if not files and not failures:  # an empty ZIP, or one of nothing but folders and Mac metadata
        raise ValidationError(NOTHING_TO_CLASSIFY, code="no_images")
    if failures:
        yield [], failures
    budget = PixelBudget(settings.HEMATOVISION_MAX_REQUEST_PIXELS)
    for start in range(0, len(files), CLASSIFY_CHUNK_FILES):
        yield uploads_check(files[start:start + CLASSIFY_CHUNK_FILES], budget)


def prediction_create_many(*, owner, uploads: list[UploadedFile], sample: Sample | None = None,
                           ) -> tuple[list[Prediction], list[UploadFailure]]:
    """Classify every acceptable upload (ZIPs expanded); bad files are reported one by one.

    Files are decoded, classified (one batched model call) and stored a chunk at a time (``_checked_chunks``).
    """
    if sample is not None:
        _check_sample_open(owner=owner, sample=sample)
    predictions, failures = [], []
    for checked, chunk_failures in _checked_chunks(uploads):
        failures += chunk_failures
        if checked:
            results, version = model_gateway.classify([item.rgb for item in checked])
            predictions += [_prediction_save(owner=owner, sample=sample, upload=item, result=result, version=version)
                            for item, result in zip(checked, results)]
    return predictions, failures


def _check_sample_open(*, owner, sample: Sample) -> None:
    if not selectors.sample_is_member(user=owner, sample=sample):
        raise PermissionDenied("Images can only be added to your own samples or your lab's.")
    _check_not_frozen(sample)


def _check_not_frozen(sample: Sample | None) -> None:
    """Refuse any change to a verified sample, read afresh; inside a transaction under a row lock, so a
    verification committing in another request cannot slip between the check and the write."""
    if sample is None:
        return
    verified = Sample.objects.filter(pk=sample.pk, verified_at__isnull=False)
    if transaction.get_connection().in_atomic_block:
        verified = verified.select_for_update()
    if verified.exists():
        raise ValidationError(FROZEN, code="frozen")


def sample_images_add(*, owner, sample: Sample, uploads: list[UploadedFile],
                      ) -> tuple[list[Prediction], int, list[UploadFailure]]:
    """Images for a sample: classified now, or, with a broker, stored and queued for workers (how many queued).

    Queued files are stored before the answer, so a worker that dies loses nothing; the request stays short.
    """
    if not settings.HEMATOVISION_CLASSIFY_IN_BACKGROUND:
        predictions, failures = prediction_create_many(owner=owner, uploads=uploads, sample=sample)
        return predictions, 0, failures
    _check_sample_open(owner=owner, sample=sample)
    queued, failures = 0, []
    for checked, chunk_failures in _checked_chunks(uploads):
        failures += chunk_failures
        if checked:
            queued += len(_pending_create_many(owner=owner, sample=sample, checked=checked))
    return [], queued, failures


def _pending_create_many(*, owner, sample: Sample, checked: list[CheckedUpload]) -> list[PendingImage]:
    from classifier import tasks  # noqa: PLC0415 - tasks imports this module

    pending = []
    try:
        for item in checked:
            image = PendingImage(owner=owner, sample=sample, original_filename=item.filename)
            image.image.save(item.filename, ContentFile(item.data), save=False)
            pending.append(image)
        with transaction.atomic():
            _check_not_frozen(sample)
            PendingImage.objects.bulk_create(pending)
            ids = [image.pk for image in pending]
            # robust: a broker that is down leaves the images waiting, never lost; `pending_send_again` sends them
            transaction.on_commit(lambda: tasks.pending_enqueue(ids), robust=True)
    except Exception:
        for image in pending:
            image.image.storage.delete(image.image.name)
        raise
    return pending


def pending_send_again(*, waited_longer_than: timedelta | None = None) -> int:
    """Send the waiting images to the workers again (all, or those whose batch was sent longer ago); how many.

    This recovers a batch whose message is gone: the broker was down at upload, or a worker was killed between
    taking it from Redis and recording it as unacknowledged, which kombu's visibility timeout cannot restore.
    Sending an image that is still queued is harmless: a batch classifies only the images that still wait.
    """
    from classifier import tasks  # noqa: PLC0415 - tasks imports this module

    now = timezone.now()
    ids = selectors.pending_ids(queued_before=None if waited_longer_than is None else now - waited_longer_than)
    PendingImage.objects.filter(pk__in=ids).update(queued_at=now)
    tasks.pending_enqueue(ids)
    return len(ids)


def pending_classify(*, pending_ids: list[int]) -> int:
    """Classify, in one batched model call, those of the queued images that still wait; how many it classified.

    A batch delivered twice (its worker was killed, or a redelivery overlapped) classifies each image once:
    an image becomes a prediction and leaves the queue in one transaction, under a row lock.
    """
    pending = list(PendingImage.objects.filter(pk__in=pending_ids).select_related("owner", "sample"))
    if not pending:
        return 0
    rgbs = []
    for image in pending:
        with image.image.open("rb") as handle:
            rgbs.append(model_gateway.decode(handle.read()))
    results, version = model_gateway.classify(rgbs)
    return sum(_pending_to_prediction(image, rgb, result, version)
               for image, rgb, result in zip(pending, rgbs, results))


def _pending_to_prediction(pending: PendingImage, rgb, result, version: ModelVersion) -> bool:
    prediction = _prediction_new(owner=pending.owner, sample=pending.sample, filename=pending.original_filename,
                                 result=result, version=version)
    prediction.image.name = pending.image.name  # the stored upload becomes the prediction's, not a copy
    prediction.image_height, prediction.image_width = rgb.shape[:2]
    with transaction.atomic():
        if not PendingImage.objects.select_for_update().filter(pk=pending.pk).exists():
            return False  # another delivery of this batch classified it already
        prediction.preview.save("preview.jpg", _preview_jpeg(rgb), save=False)
        try:
            prediction.full_clean(exclude=JUST_READ_RELATIONS)
            prediction.save()
            PendingImage.objects.filter(pk=pending.pk).delete()
        except Exception:
            prediction.preview.storage.delete(prediction.preview.name)
            raise
    return True


def _prediction_new(*, owner, sample, filename: str, result, version: ModelVersion) -> Prediction:
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
    )


def _prediction_save(*, owner, sample, upload: CheckedUpload, result, version: ModelVersion) -> Prediction:
    prediction = _prediction_new(owner=owner, sample=sample, filename=upload.filename, result=result,
                                 version=version)
    prediction.image.save(upload.filename, ContentFile(upload.data), save=False)
    prediction.preview.save("preview.jpg", _preview_jpeg(upload.rgb), save=False)
    try:
        prediction.full_clean(exclude=JUST_READ_RELATIONS)
        with transaction.atomic():
            _check_not_frozen(sample)  # verified while this upload was being classified
            prediction.save()
    except Exception:
        _delete_files(prediction)
        raise
    return prediction


def _stored_files(prediction: Prediction) -> list:
    return [(field.storage, field.name)
            for field in (prediction.image, prediction.preview, prediction.gradcam, prediction.cell_crop) if field.name]


def _storage_delete(storage, name: str) -> bool:
    """Delete one stored file, trying again on a storage fault; a file that stays is logged, never raised."""
    for attempt in range(1, FILE_DELETE_ATTEMPTS + 1):
        try:
            storage.delete(name)
            return True
        except Exception as error:  # noqa: BLE001 - any backend's fault (OSError, an S3 client error)
            if attempt == FILE_DELETE_ATTEMPTS:
                logger.error("Could not delete the stored file %s after %d attempts (%s); its row is gone: remove the "
                             "file by hand.", name, attempt, error)
                return False
            time.sleep(0.05 * attempt)
    return False


def _delete_files(prediction: Prediction) -> None:
    for storage, name in _stored_files(prediction):
        _storage_delete(storage, name)


@dataclass
class FileCleanup:
    """The stored files of deleted rows, removed once the deletion commits (a rolled-back deletion keeps them);
    ``left`` names the files storage would not remove, each one logged."""

    files: list
    left: list[str] = field(default_factory=list)

    def run(self) -> None:
        self.left = [name for storage, name in self.files if not _storage_delete(storage, name)]


def _delete_files_on_commit(predictions, pending=()) -> FileCleanup:
    """Files go only after the rows: a failed file delete leaves an orphan file (logged), never a row without
    its image."""
    files = [item for prediction in predictions for item in _stored_files(prediction)]
    files += [(image.image.storage, image.image.name) for image in pending]
    cleanup = FileCleanup(files)
    transaction.on_commit(cleanup.run)
    return cleanup


def _check_owner_or_staff(actor, record, what: str) -> None:
    if actor is not None and not actor.is_staff and record.owner_id != actor.pk:
        raise PermissionDenied(f"Only the person who uploaded {what} (or staff) can delete it.")


@transaction.atomic
def prediction_delete(*, prediction: Prediction, actor=None) -> FileCleanup:
    """Delete a prediction and its files; never a cell of a verified sample. ``actor`` (None: the system) must be
    its owner or staff: lab members see each other's cells but do not delete them."""
    _check_owner_or_staff(actor, prediction, "this image")
    if prediction.sample_id:
        _check_not_frozen(prediction.sample)
    cleanup = _delete_files_on_commit([prediction])
    prediction.delete()
    return cleanup


def prediction_explain(*, prediction: Prediction) -> Prediction:
    """Store the Grad-CAM overlay of the predicted class, computed once and reused after.

    Two simultaneous requests may both compute it; only the first stored file is kept.
    """
    if prediction.gradcam:
        return prediction
    with prediction.image.open("rb") as handle:
        png = model_gateway.gradcam_png(handle.read(), prediction.predicted_label,
                                        model_sha256=prediction.model_version.sha256)
    name = prediction.gradcam.storage.save(upload_to(prediction, "gradcam.png"), ContentFile(png))
    if not Prediction.objects.filter(pk=prediction.pk, gradcam="").update(gradcam=name):
        prediction.gradcam.storage.delete(name)
    prediction.refresh_from_db(fields=["gradcam"])
    return prediction


def prediction_cell_crop(*, prediction: Prediction) -> bytes:
    """JPEG bytes of the crop around the located cell (review grid, report), computed once and stored after.

    Two simultaneous requests may both compute it; only the first stored file is kept.
    """
    if prediction.cell_crop:
        with prediction.cell_crop.open("rb") as handle:
            return handle.read()
    with prediction.image.open("rb") as handle:
        jpeg = model_gateway.cell_crop_jpeg(handle.read())
    name = prediction.cell_crop.storage.save(upload_to(prediction, "cell.jpg"), ContentFile(jpeg))
    if not Prediction.objects.filter(pk=prediction.pk, cell_crop="").update(cell_crop=name):
        prediction.cell_crop.storage.delete(name)
    prediction.refresh_from_db(fields=["cell_crop"])
    return jpeg


def _check_reviewer(user) -> None:
    if not user.has_perm(REVIEW_PERMISSION):
        raise PermissionDenied("Only reviewers can confirm or correct predictions.")


def _cell_state(prediction: Prediction) -> str:
    """The cell's label as the audit trail records it: its class (the reviewer's, else the model's), or
    'excluded'."""
    return "excluded" if prediction.excluded else prediction.final_label


def _review_save(prediction: Prediction, reviewer, *, kind: str, reason: str = "") -> Prediction:
    """Stamp and save the reviewed prediction, with its audit-trail entry when it belongs to a sample."""
    before = Prediction.objects.get(pk=prediction.pk)
    prediction.reviewed_by = reviewer
    prediction.reviewed_at = timezone.now()
    prediction.full_clean()
    prediction.save(update_fields=["reviewed_label", "reviewed_by", "reviewed_at", "excluded", "exclusion_reason"])
    if prediction.sample_id:
        SampleEvent.objects.create(sample_id=prediction.sample_id, actor=reviewer, kind=kind, prediction=prediction,
                                   cell=prediction.original_filename, from_label=_cell_state(before),
                                   to_label=_cell_state(prediction), reason=reason, at=prediction.reviewed_at)
    return prediction


@transaction.atomic
def prediction_review(*, prediction: Prediction, reviewer, label: str) -> Prediction:
    """Confirm (same label) or correct a prediction; the model's own label and probabilities are kept, and an
    earlier exclusion is lifted."""
    _check_reviewer(reviewer)
    if label not in dict(CLASS_CHOICES):
        raise ValidationError({"label": f"Unknown class {label!r}."})
    _check_not_frozen(prediction.sample if prediction.sample_id else None)
    prediction.reviewed_label = label
    prediction.excluded, prediction.exclusion_reason = False, ""
    kind = SampleEvent.Kind.CONFIRMED if label == prediction.predicted_label else SampleEvent.Kind.CORRECTED
    return _review_save(prediction, reviewer, kind=kind)


def _reason_checked(reason: str, what: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": f"Give a reason {what}."})
    if len(reason) > EXCLUSION_REASON_MAX_LENGTH:
        raise ValidationError({"reason": f"The reason is {len(reason)} characters long; at most "
                                         f"{EXCLUSION_REASON_MAX_LENGTH}."})
    return reason


@transaction.atomic
def prediction_exclude(*, prediction: Prediction, reviewer, reason: str) -> Prediction:
    """Take a cell out of the differential (none of the four classes: a blast, a smudge cell, an artefact), with
    the reason; confirming or correcting it later brings it back."""
    _check_reviewer(reviewer)
    if not prediction.sample_id:
        raise ValidationError("Only a cell of a sample can be excluded from its differential.")
    reason = _reason_checked(reason, "for excluding the cell")
    _check_not_frozen(prediction.sample)
    prediction.reviewed_label = ""
    prediction.excluded, prediction.exclusion_reason = True, reason
    return _review_save(prediction, reviewer, kind=SampleEvent.Kind.EXCLUDED, reason=reason)


def sample_create(*, owner, identifier: str, notes: str = "", lab=None) -> Sample:
    """A new sample of ``owner``'s, in one of their labs (seen by its members) or, without one, theirs alone."""
    if lab is not None and not selectors.lab_list(user=owner).filter(pk=lab.pk).exists():
        raise ValidationError({"lab": "You are not a member of that lab."})
    sample = Sample(owner=owner, lab=lab, identifier=identifier.strip(), notes=notes.strip())
    if Sample.objects.filter(owner=owner, identifier=sample.identifier).exists():
        raise ValidationError({"identifier": f"You already have a sample called {sample.identifier!r}; "
                                             "choose another identifier."})
    if lab is not None and Sample.objects.filter(lab=lab, identifier=sample.identifier).exists():
        raise ValidationError({"identifier": f"{lab.name} already has a sample called {sample.identifier!r}; "
                                             "choose another identifier."})
    sample.full_clean()
    sample.save()
    return sample


@transaction.atomic
def sample_verify(*, sample: Sample, reviewer) -> Sample:
    """Sign the sample off once every cell is confirmed, corrected or excluded; from then on it is frozen."""
    _check_reviewer(reviewer)
    _check_not_frozen(sample)
    queued = sample.pending_images.count()
    if queued:
        raise ValidationError(f"{queued} image(s) are still waiting to be classified; verify the sample once "
                              "every image is classified.")
    counts = selectors.sample_review_counts(sample)
    if not counts["total"]:
        raise ValidationError("This sample has no classified cells yet; there is nothing to verify.")
    unhandled = counts["total"] - counts["reviewed"]
    if unhandled:
        raise ValidationError(f"{unhandled} of {counts['total']} cells are not reviewed yet: confirm, correct or "
                              "exclude every cell before verifying the sample.")
    sample.verified_at = timezone.now()
    sample.verified_by = reviewer
    sample.save(update_fields=["verified_at", "verified_by"])
    SampleEvent.objects.create(sample=sample, actor=reviewer, kind=SampleEvent.Kind.VERIFIED, at=sample.verified_at)
    return sample


@transaction.atomic
def sample_unverify(*, sample: Sample, actor, reason: str) -> Sample:
    """Open a verified sample again (a separate permission from reviewing); who, when and why are recorded."""
    if not actor.has_perm(UNVERIFY_PERMISSION):
        raise PermissionDenied("Only people allowed to un-verify samples can do this; ask an administrator.")
    reason = _reason_checked(reason, "for un-verifying the sample")
    if not Sample.objects.select_for_update().filter(pk=sample.pk, verified_at__isnull=False).exists():
        raise ValidationError("This sample is not verified.")
    sample.verified_at, sample.verified_by = None, None
    sample.save(update_fields=["verified_at", "verified_by"])
    SampleEvent.objects.create(sample=sample, actor=actor, kind=SampleEvent.Kind.UNVERIFIED, reason=reason)
    return sample


@transaction.atomic
def sample_delete(*, sample: Sample, actor=None) -> FileCleanup:
    """Delete a sample, its cells and their files; never a verified one. ``actor`` (None: the system) must be its
    owner or staff."""
    _check_owner_or_staff(actor, sample, "this sample")
    _check_not_frozen(sample)
    cleanup = _delete_files_on_commit(list(sample.predictions.all()), list(sample.pending_images.all()))
    sample.delete()
    return cleanup


def token_issue(*, user) -> Token:
    """The user's API token: the existing one while it lasts, a new one once it has expired."""
    token, created = Token.objects.get_or_create(user=user)
    if not created and selectors.token_is_expired(token=token):
        token.delete()
        token = Token.objects.create(user=user)
    return token


def token_revoke(*, user) -> int:
    """End the user's API token (on log-out, a password change, expiry or the client's own request)."""
    deleted, _ = Token.objects.filter(user=user).delete()
    return deleted
