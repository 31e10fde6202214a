"""Errors: every API error is JSON with a ``detail`` (400, 403, 404, 413, 500, 503), the web pages show the
styled error templates, and neither shows a server path."""

import pytest
from django.core.files.storage import FileSystemStorage
from django.db import OperationalError
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from classifier.models import Prediction
from hematovision.errors import SERVER_ERROR
from labs import selectors
from tests.factories import media_files, sample_make, token_client, upload, upload_file

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice_api(user):
    api = token_client(user)
    api.raise_request_exception = False  # answer as the server would, with the 500 handler
    return api


def test_api_body_over_the_size_limit_is_a_json_413(alice_api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = alice_api.post(reverse("api:samples"), {"identifier": "S-1", "notes": "n" * 2000}, format="json")
    assert response.status_code == 413
    assert response.json()["detail"].startswith("The request body is over the limit of 0.0 MB")


def test_web_body_over_the_size_limit_is_a_styled_413(alice_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = alice_client.post(reverse("labs:samples"), {"identifier": "S-1", "notes": "n" * 2000})
    assert response.status_code == 413
    page = response.content.decode()
    assert "The request body is over the limit" in page and "css/app.css" in page


def test_api_upload_of_more_files_than_django_parses_is_a_json_400_with_the_limit(alice_api, model_path, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = settings.HEMATOVISION_MAX_FILES_PER_UPLOAD = 2
    response = upload(alice_api, reverse("api:predictions"), *[upload_file(f"c{i}.jpeg") for i in range(3)])
    assert response.status_code == 400
    assert response.json() == {
        "detail": "This upload holds more than 2 files; at most 2 files per upload. Send them in several uploads."
    }


def test_api_unexpected_failure_is_a_json_500(alice_api, monkeypatch):
    monkeypatch.setattr(selectors, "sample_list_with_counts", lambda **kwargs: 1 / 0)
    response = alice_api.get(reverse("api:samples"))
    assert response.status_code == 500
    assert response.json() == {"detail": SERVER_ERROR}


def test_api_locked_database_is_a_json_503(alice_api, monkeypatch):
    def locked(**kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr(selectors, "sample_list_with_counts", locked)
    response = alice_api.get(reverse("api:samples"))
    assert response.status_code == 503
    assert response.json()["detail"].startswith("The database or the file storage is not available right now")


def test_api_storage_failure_on_upload_is_a_json_503_and_stores_nothing(
    alice_api, model_path, monkeypatch, isolated_media
):
    def unwritable(self, name, content, max_length=None):
        raise PermissionError(13, "Permission denied", str(isolated_media))

    monkeypatch.setattr(FileSystemStorage, "save", unwritable)
    response = upload(alice_api, reverse("api:predictions"), upload_file())
    assert response.status_code == 503
    assert str(isolated_media) not in response.json()["detail"]
    assert not Prediction.objects.exists() and media_files(isolated_media) == []


def test_api_permission_refusal_is_json(user):
    sample = sample_make(user, "S-1")
    response = token_client(user).post(reverse("api:sample-verify", args=[sample.pk]))
    assert response.status_code == 403 and "detail" in response.json()


def test_web_404_is_the_styled_page(alice_client):
    response = alice_client.get("/no-such-page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "Not found" in page and "css/app.css" in page and "Log out" in page


def test_web_403_is_the_styled_page_with_the_reason(alice_client, user):
    sample = sample_make(user, "S-1")
    response = alice_client.get(reverse("labs:sample_dataset", args=[sample.pk]))
    assert response.status_code == 403
    page = response.content.decode()
    assert "Only reviewers can export reviewed images as a dataset." in page and "css/app.css" in page


def test_web_500_is_the_styled_page(client, user, monkeypatch):
    client.force_login(user)
    client.raise_request_exception = False
    monkeypatch.setattr(selectors, "sample_list_with_counts", lambda **kwargs: 1 / 0)
    response = client.get(reverse("labs:samples"))
    assert response.status_code == 500
    page = response.content.decode()
    assert "Server error" in page and "css/app.css" in page


def test_the_html_error_pages_never_go_to_api_clients(client):
    response = APIClient().get("/api/no-such-endpoint/")
    assert response.status_code == 404 and response.json()["detail"].startswith("No API endpoint")
    assert client.get("/no-such-page/")["Content-Type"].startswith("text/html")


def test_a_form_without_its_csrf_token_gets_the_styled_403_page(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.post(reverse("labs:samples"), {"identifier": "S-1"})
    assert response.status_code == 403
    page = response.content.decode()
    assert "This form could not be accepted" in page and "css/app.css" in page and "Log out" in page
    assert "CSRF verification failed" not in page  # Django's bare page


@pytest.mark.parametrize("status, path", [(404, "/no-such-page/"), (403, None)])
def test_error_pages_have_the_site_navigation_for_a_signed_in_user(alice_client, user, status, path):
    path = path or reverse("labs:sample_dataset", args=[sample_make(user, "S-2").pk])
    response = alice_client.get(path)
    assert response.status_code == status
    page = response.content.decode()
    for link in ("classifier:upload", "labs:samples", "classifier:history", "classifier:model"):
        assert f'href="{reverse(link)}"' in page
    assert '<header class="topbar">' in page and "<footer>" in page
