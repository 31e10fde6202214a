"""A sample's images, classified in the request or, with a broker, stored as waiting images for the workers;
the workers' side (classify a batch) and the recovery of batches whose message was lost."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from classifier import model_gateway, tasks
from classifier.models import Prediction, WaitingImage
from classifier.selectors import waiting_ids
from classifier.services.files import files_delete, stored_files
from classifier.services.predictions import (
    JUST_READ_RELATIONS,
    checked_chunks,
    prediction_create_many,
    prediction_derived_files_save,
    prediction_new,
    sample_check_writable,
)
from classifier.uploads import CheckedUpload, UploadFailure
from labs.selectors import sample_lab_model, sample_refuse_if_verified
from registry.models import ModelVersion


def sample_images_add(
    *,
    owner,
    sample,
    uploads: list[UploadedFile],
) -> tuple[list[Prediction], int, list[UploadFailure]]:
    """Images for a sample: classified now, or, with a broker, stored and left waiting for workers (how many).

    Waiting files are stored before the answer, so a worker that dies loses nothing; the request stays short.
    """
    if not settings.HEMATOVISION_CLASSIFY_IN_BACKGROUND:
        predictions, failures = prediction_create_many(owner=owner, uploads=uploads, sample=sample)
        return predictions, 0, failures
    sample_check_writable(user=owner, sample=sample)
    waiting, failures = 0, []
    for checked, chunk_failures in checked_chunks(uploads):
        failures += chunk_failures
        if checked:
            waiting += len(_waiting_create_many(owner=owner, sample=sample, checked=checked))
    return [], waiting, failures


def _waiting_create_many(*, owner, sample, checked: list[CheckedUpload]) -> list[WaitingImage]:
    images = []
    try:
        for item in checked:
            image = WaitingImage(owner=owner, sample=sample, original_filename=item.filename)
            image.image.save(item.filename, ContentFile(item.data), save=False)
            images.append(image)
        with transaction.atomic():
            sample_refuse_if_verified(sample)
            WaitingImage.objects.bulk_create(images)
            ids = [image.pk for image in images]
            # robust: a broker that is down leaves the images waiting, never lost; `waiting_send_again` sends them
            transaction.on_commit(lambda: tasks.waiting_enqueue(ids), robust=True)
    except Exception:
        files_delete([(image.image.storage, image.image.name) for image in images])
        raise
    return images


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
        rgbs = []
        for image in of_model:
            with image.image.open("rb") as handle:
                rgbs.append(model_gateway.decode(handle.read()))
        results, version = model_gateway.classify(rgbs, lab_model)
        classified += sum(
            _waiting_to_prediction(image, rgb, result, version)
            for image, rgb, result in zip(of_model, rgbs, results, strict=True)
        )
    return classified


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


def _waiting_to_prediction(image: WaitingImage, rgb, result, version: ModelVersion) -> bool:
    prediction = prediction_new(
        owner=image.owner, sample=image.sample, filename=image.original_filename, result=result, version=version
    )
    prediction.image.name = image.image.name  # the stored upload becomes the prediction's, not a copy
    prediction.image_height, prediction.image_width = rgb.shape[:2]
    with transaction.atomic():
        if not WaitingImage.objects.select_for_update().filter(pk=image.pk).exists():
            return False  # another delivery of this batch classified it already
        try:
            prediction_derived_files_save(prediction, rgb)
            prediction.full_clean(exclude=JUST_READ_RELATIONS)
            prediction.save()
            WaitingImage.objects.filter(pk=image.pk).delete()
        except Exception:
            files_delete([item for item in stored_files(prediction) if item[1] != image.image.name])
            raise
    return True
