"""A sample's images, classified in the request or, with a broker, stored as waiting images for the workers;
the workers' side (classify a batch) and the recovery of batches whose message was lost."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from classifier import model_gateway, tasks
from classifier.models import Prediction, SampleUpload, WaitingImage
from classifier.selectors import waiting_ids
from classifier.services.files import files_delete, stored_files
from classifier.services.predictions import (
    CHECKED_UPLOAD,
    JUST_READ_RELATIONS,
    UploadPlan,
    prediction_derived_files_save,
    prediction_new,
    predictions_classify,
    sample_check_writable,
)
from classifier.services.sample_uploads import Arrivals, sample_upload_begin, sample_upload_end
from classifier.uploads import CheckedUpload, UploadFailure
from labs.selectors import sample_images_known, sample_lab_model, sample_refuse_if_verified
from registry.models import ModelVersion

ALREADY_IN_SAMPLE = "already in this sample"


@dataclass
class SampleImagesAdded:
    """What one request of a sample upload did: the predictions made now, how many images it left waiting for the
    workers, the files refused (each with its reason), the files the sample held already (stored once, not
    again), and the upload it belongs to, read once the request was over."""

    upload: SampleUpload
    predictions: list[Prediction] = field(default_factory=list)
    waiting: int = 0
    failures: list[UploadFailure] = field(default_factory=list)
    already: list[UploadFailure] = field(default_factory=list)

    def add_already(self, items: list[CheckedUpload]) -> None:
        self.already += [UploadFailure(item.filename, f"{item.filename}: {ALREADY_IN_SAMPLE}.") for item in items]


def sample_images_add(
    *,
    owner,
    sample,
    uploads: list[UploadedFile],
    expected_count: int | None = None,
    upload_id: int | None = None,
) -> SampleImagesAdded:
    """Images for a sample: classified now, or, with a broker, stored and left waiting for workers.

    The request's files belong to an upload that declares how many files it sends (``expected_count``, or the
    request's own files), begun by this request or continued (``upload_id``); each file counts as received once
    it is stored, refused or found in the sample already (``Arrivals``), so a request cut short leaves the upload
    showing what did not arrive. A file the sample holds already (the same bytes: sha256) is not stored again, so
    sending a batch again after an interruption completes the sample. Waiting files are stored before the answer,
    so a worker that dies loses nothing; the request stays short.
    """
    sample_check_writable(user=owner, sample=sample)
    # a request refused whole is refused before its upload is recorded; workers decode what they classify
    plan = UploadPlan(uploads, decode=not settings.HEMATOVISION_CLASSIFY_IN_BACKGROUND)
    upload = sample_upload_begin(
        sender=owner, sample=sample, files=len(uploads), expected_count=expected_count, upload_id=upload_id
    )
    added, seen = SampleImagesAdded(upload=upload), set()
    try:
        arrivals = Arrivals(upload, plan.images_per_file)
        for checked, failures in plan.chunks():
            added.failures += failures
            arrivals.handled(failures)
            fresh, already = _not_yet_in(sample, checked, seen)
            seen |= {item.sha256 for item in fresh}
            added.add_already(already)
            arrivals.handled(already)
            if settings.HEMATOVISION_CLASSIFY_IN_BACKGROUND:
                waiting, found_meanwhile = _waiting_create_many(owner=owner, sample=sample, checked=fresh)
                added.waiting += len(waiting)
                added.add_already(found_meanwhile)
                arrivals.handled(fresh)
            else:
                for item, prediction in predictions_classify(owner=owner, sample=sample, checked=fresh):
                    if prediction is None:
                        added.add_already([item])
                    else:
                        added.predictions.append(prediction)
                    arrivals.handled([item])
    finally:
        added.upload = sample_upload_end(upload=upload)
    return added


def _not_yet_in(
    sample, checked: list[CheckedUpload], seen: set[str]
) -> tuple[list[CheckedUpload], list[CheckedUpload]]:
    """(the uploads the sample does not hold yet, those it does): in the database, or sent earlier in this request."""
    known = seen | (sample_images_known(sample=sample, sha256s=[item.sha256 for item in checked]) if checked else set())
    fresh, already = [], []
    for item in checked:
        if item.sha256 in known:
            already.append(item)
        else:
            fresh.append(item)
            known.add(item.sha256)
    return fresh, already


def _waiting_create_many(
    *, owner, sample, checked: list[CheckedUpload]
) -> tuple[list[WaitingImage], list[CheckedUpload]]:
    """The stored waiting images, and the uploads another request stored into the sample meanwhile (not kept)."""
    if not checked:
        return [], []
    images = []
    try:
        for item in checked:
            image = WaitingImage(owner=owner, sample=sample, original_filename=item.filename, image_sha256=item.sha256)
            image.image.save(item.filename, ContentFile(item.data), save=False)
            images.append(image)
        with transaction.atomic():
            sample_refuse_if_verified(sample)
            known = sample_images_known(sample=sample, sha256s=[image.image_sha256 for image in images])
            stored = [image for image in images if image.image_sha256 not in known]
            WaitingImage.objects.bulk_create(stored)
            ids = [image.pk for image in stored]
            # robust: a broker that is down leaves the images waiting, never lost; `waiting_send_again` sends them
            transaction.on_commit(lambda: tasks.waiting_enqueue(ids), robust=True)
    except Exception:
        files_delete([(image.image.storage, image.image.name) for image in images])
        raise
    files_delete([(image.image.storage, image.image.name) for image in images if image.image_sha256 in known])
    return stored, [item for item in checked if item.sha256 in known]


def waiting_send_again(*, waited_longer_than: timedelta | None = None) -> int:
    """Send the waiting images to the workers again (all, or those whose batch was sent longer ago); how many.

    This recovers a batch whose message is gone: the broker was down at upload, or a worker was killed between
    taking it from Redis and recording it as unacknowledged, which kombu's visibility timeout cannot restore.
    Sending an image that still waits is harmless: a batch classifies only the images that still wait.
    """
    now = timezone.now()
    ids = waiting_ids(queued_before=None if waited_longer_than is None else now - waited_longer_than)
    WaitingImage.objects.filter(pk__in=ids).update(queued_at=now)
    tasks.waiting_enqueue(ids)
    return len(ids)


def waiting_classify(*, ids: list[int]) -> int:
    """Classify, in one batched model call, those of the images that still wait; how many it classified.

    A batch delivered twice (its worker was killed, or a redelivery overlapped) classifies each image once:
    an image becomes a prediction and stops waiting in one transaction, under a row lock.
    """
    images = list(WaitingImage.objects.filter(pk__in=ids).select_related("owner", "sample"))
    if not images:
        return 0
    classified = 0
    for lab_model, of_model in _by_lab_model(images):
        decoded = [_stored_decode(image) for image in of_model]
        results, version = model_gateway.classify([rgb for rgb, _ in decoded], lab_model)
        classified += sum(
            _waiting_to_prediction(image, rgb, size, result, version)
            for image, (rgb, size), result in zip(of_model, decoded, results, strict=True)
        )
    return classified


def _stored_decode(image: WaitingImage) -> tuple:
    """(the pixels, the (width, height) of the file as sent) from one read of the stored upload: the size comes
    from the header the decode reads, since an image over ``DECODE_MAX_SIDE`` decodes smaller than it was sent,
    and reading it from the stored file again would be a second storage round trip (on S3, a GET)."""
    size = (0, 0)

    def header_seen(_format: str, width: int, height: int) -> None:
        nonlocal size
        size = (width, height)

    with image.image.open("rb") as handle:
        rgb = model_gateway.decode(handle.read(), header_seen)
    return rgb, size


def _by_lab_model(images: list[WaitingImage]) -> list[tuple]:
    """The images grouped by the model that classifies them (their lab's own, or None: the shared one), one
    lookup per lab."""
    by_lab: dict = {}
    for image in images:
        lab_id = image.sample.lab_id if image.sample_id else None
        if lab_id not in by_lab:
            by_lab[lab_id] = (sample_lab_model(image.sample if image.sample_id else None), [])
        by_lab[lab_id][1].append(image)
    return list(by_lab.values())


def _waiting_to_prediction(image: WaitingImage, rgb, size: tuple[int, int], result, version: ModelVersion) -> bool:
    prediction = prediction_new(
        owner=image.owner, sample=image.sample, filename=image.original_filename, result=result, version=version
    )
    prediction.image.name = image.image.name  # the stored upload becomes the prediction's, not a copy
    prediction.image_sha256 = image.image_sha256
    prediction.image_width, prediction.image_height = size
    with transaction.atomic():
        if not WaitingImage.objects.select_for_update().filter(pk=image.pk).exists():
            return False  # another delivery of this batch classified it already
        try:
            prediction_derived_files_save(prediction, rgb, result)
            prediction.full_clean(exclude=JUST_READ_RELATIONS + CHECKED_UPLOAD)
            prediction.save()
            WaitingImage.objects.filter(pk=image.pk).delete()
        except Exception:
            files_delete([item for item in stored_files(prediction) if item[1] != image.image.name])
            raise
    return True
