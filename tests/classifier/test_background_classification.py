"""Sample uploads with a broker: stored and answered at once, classified later in batches, never shown complete
early. Here the tasks run in-process (Celery's eager mode); tests/classifier/test_celery_worker.py uses a real
worker and Redis."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import Storage
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from classifier import model_gateway, tasks
from classifier.models import Prediction, WaitingImage
from classifier.selectors import waiting_ids
from classifier.services.waiting import sample_images_add, waiting_classify
from hematovision.celery import app as celery_app
from labs.services.samples import sample_delete
from labs.services.sign_off import sample_verify
from ml.preprocessing import decode_image
from tests.factories import (
    image_bytes,
    media_files,
    reviewer_grant,
    sample_make,
    smear_rgb,
    token_client,
    upload,
    upload_file,
    zip_of,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def background(settings):
    settings.HEMATOVISION_CLASSIFY_IN_BACKGROUND = True
    settings.HEMATOVISION_CLASSIFY_BATCH = 2


@pytest.fixture
def sample(user):
    return sample_make(user, "S-BG")


def three_images():
    return [
        upload_file("a.jpeg"),
        upload_file(
            "cells.zip",
            zip_of({name: image_bytes(comment=name) for name in ("b.jpeg", "c.jpeg")}),
            "application/zip",
        ),
    ]


def test_api_upload_stores_every_file_answers_at_once_and_shows_n_of_m(
    background, model_path, user, sample, django_capture_on_commit_callbacks
):
    api = token_client(user)
    with django_capture_on_commit_callbacks(execute=False) as enqueued:
        response = upload(api, reverse("api:sample-images", args=[sample.pk]), *three_images())
    assert response.status_code == 202
    body = response.json()
    assert (body["predictions"], body["waiting"], body["errors"], body["already_in_sample"]) == ([], 3, [], [])
    assert body["upload"]["received_count"] == body["upload"]["expected_count"] == 2  # an image and a ZIP
    assert WaitingImage.objects.count() == 3 and not Prediction.objects.exists()
    assert len(enqueued) == 1
    body = api.get(reverse("api:sample", args=[sample.pk])).json()
    assert (body["image_count"], body["waiting_count"], body["classification"]) == (0, 3, "0 of 3 classified")
    assert api.get(reverse("api:sample-differential", args=[sample.pk])).json()["waiting_count"] == 3


def test_sample_page_shows_progress_until_every_image_is_classified(
    background, model_path, alice_client, sample, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as enqueued:
        response = alice_client.post(
            reverse("labs:sample_upload", args=[sample.pk]), {"images": three_images()}, follow=True
        )
    page = response.content.decode()
    assert "3 image(s) stored in sample S-BG; they are being classified." in page and "Not classified" not in page
    assert "0 of 3 classified" in page and 'data-waiting="3"' in page
    enqueued[0]()  # the eager task: classifies the three images in batches of two
    page = alice_client.get(reverse("labs:sample_detail", args=[sample.pk])).content.decode()
    assert "classified;" not in page and 'data-waiting="0"' in page
    assert sorted(sample.predictions.values_list("original_filename", flat=True)) == ["a.jpeg", "b.jpeg", "c.jpeg"]
    assert not WaitingImage.objects.exists()


def test_prediction_keeps_the_stored_upload_and_gets_a_preview(
    background, model_path, user, sample, django_capture_on_commit_callbacks, isolated_media
):
    with django_capture_on_commit_callbacks(execute=True):
        sample_images_add(owner=user, sample=sample, uploads=[upload_file("a.jpeg")])
    prediction = Prediction.objects.get()
    assert prediction.image.read() == upload_file("a.jpeg").read()
    assert (prediction.image_width, prediction.image_height) == (320, 240)
    assert len(media_files(isolated_media)) == 3  # the upload, its preview and crop: no copy left behind


def test_a_batch_delivered_twice_classifies_each_image_once(
    background, model_path, user, sample, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        sample_images_add(owner=user, sample=sample, uploads=three_images())
    ids = waiting_ids(sample=sample)
    assert waiting_classify(ids=ids[:2]) == 2
    assert waiting_classify(ids=ids) == 1
    assert waiting_classify(ids=ids) == 0
    assert Prediction.objects.count() == 3


@pytest.fixture
def decodes(monkeypatch):
    """The images decoded in full (to pixels the model could read), counted as the gateway decodes them."""
    counted = []

    def counting(*args, **kwargs):
        counted.append(args[0])
        return decode_image(*args, **kwargs)

    monkeypatch.setattr(model_gateway, "decode_image", counting)
    return counted


def test_with_workers_each_image_is_decoded_once_by_the_worker_not_in_the_request(
    background, model_path, user, sample, decodes, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        added = sample_images_add(owner=user, sample=sample, uploads=three_images())
    assert added.waiting == 3 and decodes == []  # checked in the request (verified), not decoded
    waiting_classify(ids=waiting_ids(sample=sample))
    assert Prediction.objects.count() == 3 and len(decodes) == 3


@pytest.fixture
def storage_opens(monkeypatch):
    """The names of the stored files opened through the storage (on S3, each opening is a GET)."""
    opened = []
    real_open = Storage.open

    def counting(self, name, *args, **kwargs):
        opened.append(name)
        return real_open(self, name, *args, **kwargs)

    monkeypatch.setattr(Storage, "open", counting)
    return opened


def test_the_worker_reads_each_stored_image_once_and_keeps_the_size_it_was_sent_at(
    background, model_path, user, sample, storage_opens, django_capture_on_commit_callbacks
):
    """The worker decodes the stored upload from one read of the storage and takes its width and height from
    that decode's header: an image wider than ``DECODE_MAX_SIDE`` decodes smaller yet keeps the size it was sent
    at. The prediction's ``full_clean`` used to open the stored file a second time for its size."""
    width = model_gateway.DECODE_MAX_SIDE + 452
    wide = image_bytes("JPEG", rgb=smear_rgb(width=width, height=300))
    with django_capture_on_commit_callbacks(execute=False):
        sample_images_add(owner=user, sample=sample, uploads=[upload_file("wide.jpeg", wide), upload_file("a.jpeg")])
    waiting_classify(ids=waiting_ids(sample=sample))
    wide_prediction, small_prediction = Prediction.objects.order_by("-original_filename")
    assert (wide_prediction.image_width, wide_prediction.image_height) == (width, 300)
    assert (small_prediction.image_width, small_prediction.image_height) == (320, 240)
    for prediction in (wide_prediction, small_prediction):
        assert storage_opens.count(prediction.image.name) == 1, storage_opens


def test_classified_in_the_request_each_image_is_decoded_once(model_path, user, sample, decodes):
    added = sample_images_add(owner=user, sample=sample, uploads=three_images())
    assert len(added.predictions) == 3 and len(decodes) == 3


def test_a_sample_cannot_be_verified_while_images_wait(
    background, model_path, user, sample, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        sample_images_add(owner=user, sample=sample, uploads=[upload_file("a.jpeg")])
    with pytest.raises(ValidationError, match="waiting to be classified"):
        sample_verify(sample=sample, reviewer=reviewer_grant(user))


def test_deleting_a_sample_removes_its_waiting_files(
    background, model_path, user, sample, isolated_media, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        sample_images_add(owner=user, sample=sample, uploads=three_images())
    with django_capture_on_commit_callbacks(execute=True):
        sample_delete(sample=sample)
    assert not WaitingImage.objects.exists() and media_files(isolated_media) == []


def test_queue_pending_sends_every_waiting_image_again(
    background, model_path, user, sample, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        sample_images_add(owner=user, sample=sample, uploads=three_images())
    call_command("queue_pending")  # eager here: the workers' job done in-process
    assert Prediction.objects.count() == 3 and not WaitingImage.objects.exists()


def test_the_stale_sweep_sends_again_only_images_waiting_longer_than_the_visibility_timeout(
    background, model_path, settings, user, sample, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):  # their messages lost: never sent
        sample_images_add(owner=user, sample=sample, uploads=three_images())
    stale, *recent = WaitingImage.objects.order_by("id")
    WaitingImage.objects.filter(pk=stale.pk).update(
        queued_at=timezone.now() - timedelta(seconds=settings.HEMATOVISION_RESEND_AFTER + 1)
    )
    assert tasks.send_waiting_again.delay().get() == 1  # eager: the worker's job done in-process
    assert list(Prediction.objects.values_list("original_filename", flat=True)) == [stale.original_filename]
    assert list(WaitingImage.objects.order_by("id")) == recent


def test_beat_runs_the_stale_sweep_once_per_visibility_timeout(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["send-waiting-again"]
    assert entry["task"] in celery_app.tasks and entry["task"] == tasks.send_waiting_again.name
    assert (
        entry["schedule"]
        == settings.HEMATOVISION_RESEND_AFTER
        == settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    )


def test_without_a_broker_a_sample_upload_is_classified_in_the_request(model_path, user, sample):
    added = sample_images_add(owner=user, sample=sample, uploads=three_images())
    assert (len(added.predictions), added.waiting, added.failures) == (3, 0, [])
    assert not WaitingImage.objects.exists()
