"""Deleting a prediction: only its owner may, only by POST, and its image files go with it."""

import pytest
from django.urls import reverse

from classifier.models import Prediction
from classifier.services.predictions import prediction_delete
from tests.factories import media_files

pytestmark = pytest.mark.django_db


def url(prediction):
    return reverse("classifier:delete", args=[prediction.pk])


def stored_names(prediction):
    return [field.name for field in (prediction.image, prediction.preview, prediction.cell_crop) if field.name]


def test_owner_deletes_and_the_files_are_removed(
    alice_client, alice_prediction, isolated_media, django_capture_on_commit_callbacks
):
    names = stored_names(alice_prediction)
    assert len(names) == 3 and all(alice_prediction.image.storage.exists(name) for name in names)
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(url(alice_prediction), follow=True)
    assert response.redirect_chain[-1][0] == reverse("classifier:history")
    assert "Deleted the prediction for alice-cell.jpeg." in response.content.decode()
    assert not Prediction.objects.filter(pk=alice_prediction.pk).exists()
    assert not any(alice_prediction.image.storage.exists(name) for name in names)
    assert media_files(isolated_media) == []


def test_other_user_gets_404_and_nothing_is_deleted(
    client, other_user, alice_prediction, isolated_media, django_capture_on_commit_callbacks
):
    files_before = media_files(isolated_media)
    client.force_login(other_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url(alice_prediction))
    assert response.status_code == 404
    assert Prediction.objects.filter(pk=alice_prediction.pk).exists()
    assert media_files(isolated_media) == files_before and len(files_before) == 3


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_only_post_is_allowed(alice_client, alice_prediction, isolated_media, method):
    response = getattr(alice_client, method)(url(alice_prediction))
    assert response.status_code == 405
    assert Prediction.objects.filter(pk=alice_prediction.pk).exists()
    assert len(media_files(isolated_media)) == 3  # the image, its preview and its cell crop


def test_anonymous_post_is_redirected_and_nothing_is_deleted(client, alice_prediction):
    response = client.post(url(alice_prediction))
    assert response.status_code == 302 and reverse("login") in response["Location"]
    assert Prediction.objects.filter(pk=alice_prediction.pk).exists()


def test_files_stay_when_the_deletion_is_rolled_back(alice_prediction, django_capture_on_commit_callbacks):
    from django.db import transaction

    names, pk = stored_names(alice_prediction), alice_prediction.pk
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                prediction_delete(prediction=alice_prediction)
                raise RuntimeError("roll back")
        except RuntimeError:
            pass
    assert callbacks == []
    assert Prediction.objects.filter(pk=pk).exists()
    assert all(alice_prediction.image.storage.exists(name) for name in names)


@pytest.mark.django_db(transaction=True)  # real commits: the view reads the outcome of the on-commit deletion
def test_a_storage_fault_on_delete_keeps_rows_consistent_and_tells_the_user(
    alice_client, alice_prediction, isolated_media, monkeypatch, caplog
):
    from django.core.files.storage import FileSystemStorage

    attempts = []

    def unwritable(self, name):
        attempts.append(name)
        raise PermissionError(13, "Permission denied", name)

    monkeypatch.setattr(FileSystemStorage, "delete", unwritable)
    names = stored_names(alice_prediction)
    response = alice_client.post(url(alice_prediction), follow=True)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Deleted the prediction for alice-cell.jpeg, but the storage would not remove its image files" in page
    assert str(isolated_media) not in page
    assert not Prediction.objects.filter(pk=alice_prediction.pk).exists()
    assert attempts == [name for name in names for _ in range(3)]  # each file tried three times
    assert all(f"Could not delete the stored file {name} after 3 attempts" in caplog.text for name in names)


def test_a_passing_storage_fault_is_retried_and_the_files_go(
    alice_prediction, isolated_media, monkeypatch, django_capture_on_commit_callbacks
):
    from django.core.files.storage import FileSystemStorage

    delete, failures = FileSystemStorage.delete, []

    def flaky(self, name):
        if name not in failures:
            failures.append(name)
            raise OSError("storage busy")
        delete(self, name)

    monkeypatch.setattr(FileSystemStorage, "delete", flaky)
    with django_capture_on_commit_callbacks(execute=True):
        cleanup = prediction_delete(prediction=alice_prediction)
    assert cleanup.left == [] and media_files(isolated_media) == []
