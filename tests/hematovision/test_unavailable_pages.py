"""Web pages whose database or file storage fails answer the styled 503 page with a reason for the user, and leave
nothing half-done: no row without its file, no file without its row (the API's JSON 503: test_errors.py)."""

import pytest
from django.contrib import auth
from django.core.files.storage import FileSystemStorage
from django.db import OperationalError
from django.db.models.query import QuerySet
from django.urls import reverse
from django.utils.html import escape

from classifier.models import Prediction
from hematovision.errors import BACKEND_UNAVAILABLE_PAGE
from labs import selectors
from tests.factories import media_files, sample_make, upload_file

pytestmark = pytest.mark.django_db


def assert_styled_503(response, *, signed_in: bool = True) -> None:
    assert response.status_code == 503
    page = response.content.decode()
    assert escape(BACKEND_UNAVAILABLE_PAGE) in page and "css/app.css" in page and '<header class="topbar">' in page
    assert ("Log out" in page) is signed_in
    assert "Traceback" not in page and "OperationalError" not in page and "Permission denied" not in page


@pytest.fixture
def unwritable_storage(monkeypatch, isolated_media):
    """The file storage refuses every write, as a full or read-only disk does."""

    def refuse(self, name, content, max_length=None):
        raise PermissionError(13, "Permission denied", str(isolated_media))

    monkeypatch.setattr(FileSystemStorage, "save", refuse)


@pytest.fixture
def storage_failing_on_second_write(monkeypatch):
    """The first file is stored (an upload's image), the next write fails (its preview): half an upload."""
    save, writes = FileSystemStorage.save, []

    def second_fails(self, name, content, max_length=None):
        writes.append(name)
        if len(writes) == 2:
            raise OSError(28, "No space left on device")
        return save(self, name, content, max_length)

    monkeypatch.setattr(FileSystemStorage, "save", second_fails)
    return writes


def test_an_upload_page_whose_storage_fails_is_a_styled_503_and_stores_nothing(
    alice_client, model_path, unwritable_storage, isolated_media
):
    response = alice_client.post(reverse("classifier:upload"), {"images": [upload_file("cell.jpeg")]})
    assert_styled_503(response)
    assert str(isolated_media) not in response.content.decode()
    assert not Prediction.objects.exists() and media_files(isolated_media) == []


def test_a_sample_upload_cut_between_an_image_and_its_preview_leaves_no_file_behind(
    alice_client, model_path, user, storage_failing_on_second_write, isolated_media
):
    sample = sample_make(user, "S-DISK")
    response = alice_client.post(reverse("labs:sample_upload", args=[sample.pk]), {"images": [upload_file("a.jpeg")]})
    assert_styled_503(response)
    assert len(storage_failing_on_second_write) == 2  # the image was stored before the preview failed
    assert not Prediction.objects.exists() and media_files(isolated_media) == []


def test_a_page_whose_database_fails_is_a_styled_503(alice_client, monkeypatch):
    def locked(**kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr(selectors, "sample_list_with_counts", locked)
    assert_styled_503(alice_client.get(reverse("labs:samples")))


def test_a_heatmap_whose_row_cannot_be_written_leaves_no_file_behind(
    alice_client, alice_prediction, monkeypatch, isolated_media
):
    files_before = media_files(isolated_media)

    def locked(self, **kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr(QuerySet, "update", locked)
    assert_styled_503(alice_client.post(reverse("classifier:gradcam", args=[alice_prediction.pk])))
    assert media_files(isolated_media) == files_before


def test_when_the_database_cannot_say_who_is_logged_in_the_page_is_still_the_styled_503(alice_client, monkeypatch):
    def unavailable(request):
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(auth, "get_user", unavailable)
    assert_styled_503(alice_client.get(reverse("labs:samples")), signed_in=False)


def test_the_api_keeps_its_json_503(alice_api, monkeypatch):
    def locked(**kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr(selectors, "sample_list_with_counts", locked)
    response = alice_api.get(reverse("api:samples"))
    assert response.status_code == 503 and response["Content-Type"] == "application/json"
