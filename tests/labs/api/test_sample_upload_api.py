"""/api/samples/{id}/images/ with a declared upload: an upload says how many files it sends (``expected_count``,
over one request or several), the sample shows "upload interrupted: n of m received" while fewer arrived, and a
file the sample holds already is answered "already in this sample" and stored once, so sending the batch again
completes it. The page's uploader (static/js/sample_upload.js) posts here with its session."""

import datetime

import pytest
from django.core.files.storage import FileSystemStorage
from django.urls import reverse
from django.utils import timezone

from classifier.models import Prediction, SampleUpload, WaitingImage
from classifier.services import waiting
from tests.factories import (
    media_files,
    page_session,
    reviewer_make,
    sample_make,
    sample_verified_make,
    upload_file,
)

pytestmark = pytest.mark.django_db
NAMES = [f"cell-{index}.jpeg" for index in range(6)]


def images_url(sample) -> str:
    return reverse("api:sample-images", args=[sample.pk])


def send(client, sample, names, **fields):
    """POST the named files (each its own bytes) with ``fields``, as the page's uploader does."""
    return client.post(
        images_url(sample), {"images": [upload_file(name) for name in names], **fields}, format="multipart"
    )


def last_upload(client, sample) -> dict:
    return client.get(reverse("api:sample", args=[sample.pk])).json()["last_upload"]


def stored_names(sample) -> list[str]:
    return sorted(sample.predictions.values_list("original_filename", flat=True))


def test_an_upload_declared_six_that_sends_three_shows_interrupted_three_of_six(alice_api, alice_sample, model_path):
    response = send(alice_api, alice_sample, NAMES[:3], expected_count=6)
    assert response.status_code == 201
    upload = response.json()["upload"]
    assert upload == {
        "id": SampleUpload.objects.get().pk,
        "expected_count": 6,
        "received_count": 3,
        "state": "interrupted",
        "status": "upload interrupted: 3 of 6 received",
    }
    assert last_upload(alice_api, alice_sample) == upload
    listed = alice_api.get(reverse("api:samples")).json()["results"]
    assert [sample["last_upload"]["status"] for sample in listed] == ["upload interrupted: 3 of 6 received"]


def test_sending_all_six_again_stores_the_three_missing_and_answers_the_others_already_there(
    alice_api, alice_sample, model_path, isolated_media
):
    send(alice_api, alice_sample, NAMES[:3], expected_count=6)
    files_before = len(media_files(isolated_media))
    response = send(alice_api, alice_sample, NAMES, expected_count=6)
    assert response.status_code == 201
    body = response.json()
    assert [item["original_filename"] for item in body["predictions"]] == NAMES[3:]
    assert body["already_in_sample"] == [
        {"filename": name, "reason": f"{name}: already in this sample."} for name in NAMES[:3]
    ]
    assert body["errors"] == [] and stored_names(alice_sample) == NAMES
    assert len(media_files(isolated_media)) == 2 * files_before  # three more cells' files, none of the others again
    assert (body["upload"]["state"], body["upload"]["status"]) == ("complete", "")
    assert last_upload(alice_api, alice_sample)["state"] == "complete"


def test_a_batch_the_sample_holds_entirely_is_answered_200_with_nothing_stored(alice_api, alice_sample, model_path):
    send(alice_api, alice_sample, NAMES[:2])
    response = send(alice_api, alice_sample, NAMES[:2])
    assert response.status_code == 200
    assert response.json()["predictions"] == [] and len(response.json()["already_in_sample"]) == 2
    assert Prediction.objects.count() == 2


def test_one_file_sent_twice_in_one_request_is_stored_once(alice_api, alice_sample, model_path):
    response = send(alice_api, alice_sample, ["twice.jpeg", "other.jpeg", "twice.jpeg"])
    assert [item["filename"] for item in response.json()["already_in_sample"]] == ["twice.jpeg"]
    assert stored_names(alice_sample) == ["other.jpeg", "twice.jpeg"]
    assert response.json()["upload"]["received_count"] == 3


def test_the_pages_uploader_spreads_one_upload_over_requests(alice_api, alice_sample, model_path):
    first = send(alice_api, alice_sample, NAMES[:4], expected_count=6).json()["upload"]
    second = send(alice_api, alice_sample, NAMES[4:], upload=first["id"]).json()["upload"]
    assert (second["id"], second["received_count"], second["state"]) == (first["id"], 6, "complete")
    assert SampleUpload.objects.count() == 1 and stored_names(alice_sample) == NAMES


def test_an_upload_cut_off_midway_counts_the_files_stored_and_sending_it_again_completes_it(
    alice_api, alice_sample, model_path, monkeypatch
):
    save, writes = FileSystemStorage.save, []

    def full_at_the_third_cell(self, name, content, max_length=None):  # a cell is its image, preview and crop
        writes.append(name)
        if len(writes) == 7:
            raise OSError(28, "No space left on device")
        return save(self, name, content, max_length)

    monkeypatch.setattr(FileSystemStorage, "save", full_at_the_third_cell)
    assert send(alice_api, alice_sample, NAMES, expected_count=6).status_code == 503
    assert stored_names(alice_sample) == NAMES[:2]
    assert last_upload(alice_api, alice_sample)["status"] == "upload interrupted: 2 of 6 received"
    monkeypatch.undo()
    again = send(alice_api, alice_sample, NAMES, expected_count=6).json()
    assert (len(again["predictions"]), len(again["already_in_sample"])) == (4, 2)
    assert again["upload"]["state"] == "complete" and stored_names(alice_sample) == NAMES


def test_a_request_still_running_shows_in_progress_and_one_killed_shows_interrupted_after_its_time_limit(
    alice_api, alice_sample, model_path
):
    send(alice_api, alice_sample, NAMES[:3], expected_count=6)
    upload = SampleUpload.objects.get()
    running = timezone.now() + datetime.timedelta(minutes=1)
    SampleUpload.objects.filter(pk=upload.pk).update(receiving_until=running)  # a request of it is running
    assert (last_upload(alice_api, alice_sample)["state"], last_upload(alice_api, alice_sample)["status"]) == (
        "receiving",
        "upload in progress: 3 of 6 received",
    )
    killed = timezone.now() - datetime.timedelta(seconds=1)  # the process died: its request never ended
    SampleUpload.objects.filter(pk=upload.pk).update(receiving_until=killed)
    assert last_upload(alice_api, alice_sample)["status"] == "upload interrupted: 3 of 6 received"


def test_an_upload_sending_more_than_it_declared_is_refused_whole(alice_api, alice_sample, model_path):
    response = send(alice_api, alice_sample, NAMES[:3], expected_count=2)
    assert response.status_code == 400
    assert response.json() == {
        "expected_count": ["The upload declared 2 file(s); this request sends 3. Declare every file the upload sends."]
    }
    first = send(alice_api, alice_sample, NAMES[:2], expected_count=3).json()["upload"]
    response = send(alice_api, alice_sample, NAMES[2:4], upload=first["id"])
    assert response.status_code == 400 and "2 arrived before and this request sends 2" in str(response.json())
    assert stored_names(alice_sample) == NAMES[:2]


def test_only_ones_own_upload_of_this_sample_can_be_continued(alice_api, bob_api, alice_sample, other_user, model_path):
    first = send(alice_api, alice_sample, NAMES[:1], expected_count=3).json()["upload"]
    bobs_sample = sample_make(other_user, "S-BOB")
    response = send(bob_api, bobs_sample, NAMES[1:2], upload=first["id"])
    assert response.status_code == 400
    assert response.json() == {
        "upload": [f"No upload {first['id']} of yours to this sample; leave it out to begin one."]
    }
    assert not bobs_sample.predictions.exists()


def test_a_verified_sample_still_refuses_uploads_and_records_none(alice_api, user, django_user_model, model_path):
    sample = sample_verified_make(user, reviewer_make(django_user_model))
    response = send(alice_api, sample, NAMES[:3], expected_count=6)
    assert response.status_code == 400 and "verified" in response.json()["detail"]
    assert not SampleUpload.objects.exists() and not Prediction.objects.filter(original_filename__in=NAMES).exists()


def test_a_file_another_request_stored_meanwhile_is_answered_already_and_leaves_no_file(
    alice_api, alice_sample, model_path, monkeypatch, isolated_media
):
    send(alice_api, alice_sample, NAMES[:1])
    files_before = media_files(isolated_media)
    monkeypatch.setattr(waiting, "sample_images_known", lambda **kwargs: set())  # the first look misses it
    response = send(alice_api, alice_sample, NAMES[:1])
    assert response.status_code == 200 and response.json()["already_in_sample"][0]["filename"] == NAMES[0]
    assert Prediction.objects.count() == 1 and media_files(isolated_media) == files_before


def test_with_workers_a_file_still_waiting_is_already_in_the_sample(
    alice_api, alice_sample, model_path, settings, django_capture_on_commit_callbacks
):
    settings.HEMATOVISION_CLASSIFY_IN_BACKGROUND = True
    with django_capture_on_commit_callbacks(execute=False):
        first = send(alice_api, alice_sample, NAMES[:3], expected_count=6)
        again = send(alice_api, alice_sample, NAMES, expected_count=6)
    assert (first.status_code, first.json()["waiting"]) == (202, 3)
    assert (again.status_code, again.json()["waiting"], len(again.json()["already_in_sample"])) == (202, 3, 3)
    assert WaitingImage.objects.count() == 6
    assert again.json()["upload"]["status"] == ""


def test_through_the_sample_page_the_interrupted_upload_shows_on_the_page_and_the_list(user, alice_sample, model_path):
    """What static/js/sample_upload.js does with its session and CSRF token."""
    page = reverse("labs:sample_detail", args=[alice_sample.pk])
    client, token = page_session(user, page)
    response = client.post(
        images_url(alice_sample),
        {"images": [upload_file(name) for name in NAMES[:3]], "expected_count": 6},
        HTTP_X_CSRFTOKEN=token,
    )
    assert response.status_code == 201
    assert "Upload interrupted: 3 of 6 received" in client.get(page).content.decode()
    assert "upload interrupted: 3 of 6 received" in client.get(reverse("labs:samples")).content.decode()
    again = client.post(
        images_url(alice_sample),
        {"images": [upload_file(name) for name in NAMES], "expected_count": 6},
        HTTP_X_CSRFTOKEN=token,
    )
    assert [item["filename"] for item in again.json()["already_in_sample"]] == NAMES[:3]
    assert "interrupted" not in client.get(page).content.decode() and stored_names(alice_sample) == NAMES
