"""Uploading a sample's cells: many files or a ZIP, JSON for the JS uploader, a page for a plain form post."""

import pytest
from django.urls import reverse
from django.utils import timezone

from classifier.models import Prediction
from tests.factories import image_bytes, media_files, sample_make, upload_file, zip_of

pytestmark = pytest.mark.django_db
JSON = {"HTTP_ACCEPT": "application/json"}


@pytest.fixture
def sample(user):
    return sample_make(user, "S-UP")


def url(sample):
    return reverse("classifier:sample_upload", args=[sample.pk])


def zip_upload(members: dict[str, bytes]):
    return upload_file("cells.zip", zip_of(members), "application/zip")


def test_plain_post_adds_every_image_to_the_sample_and_returns_to_its_page(alice_client, model_path, sample):
    response = alice_client.post(url(sample), {"images": [upload_file("a.jpeg"), upload_file("b.jpeg")]},
                                 follow=True)
    assert response.redirect_chain[-1][0] == reverse("classifier:sample_detail", args=[sample.pk])
    assert sorted(sample.predictions.values_list("original_filename", flat=True)) == ["a.jpeg", "b.jpeg"]
    assert "2 image(s) classified and added to sample S-UP." in response.content.decode()
    assert "2 cells" in response.content.decode()


def test_json_post_reports_created_count_and_each_failure(alice_client, model_path, sample):
    response = alice_client.post(url(sample), {"images": [upload_file("good.jpeg"), upload_file("bad.jpeg", b"no"),
                                                          upload_file("cell.gif", image_bytes("GIF"))]}, **JSON)
    assert response.status_code == 200
    answer = response.json()
    assert answer["created"] == 1 and answer["error"] == ""
    assert [failure["filename"] for failure in answer["failures"]] == ["bad.jpeg", "cell.gif"]
    assert "is not an image" in answer["failures"][0]["reason"]
    assert list(sample.predictions.values_list("original_filename", flat=True)) == ["good.jpeg"]


def test_plain_post_shows_each_failure_and_keeps_the_good_files(alice_client, model_path, sample):
    response = alice_client.post(url(sample), {"images": [upload_file("good.jpeg"), upload_file("bad.jpeg", b"no")]},
                                 follow=True)
    content = response.content.decode()
    assert "Not classified: bad.jpeg" in content and "1 image(s) classified" in content
    assert sample.predictions.count() == 1


def test_zip_with_folders_is_expanded_into_the_sample(alice_client, model_path, sample):
    upload = zip_upload({"field-1/a.jpeg": image_bytes("JPEG"), "field-2/b.png": image_bytes("PNG"),
                     "field-2/notes.txt": b"notes"})
    answer = alice_client.post(url(sample), {"images": [upload]}, **JSON).json()
    assert answer["created"] == 2
    assert [failure["filename"] for failure in answer["failures"]] == ["notes.txt"]
    assert sorted(sample.predictions.values_list("original_filename", flat=True)) == ["a.jpeg", "b.png"]


def test_only_bad_files_is_a_400_with_the_reasons(alice_client, model_path, sample):
    response = alice_client.post(url(sample), {"images": [upload_file("bad.jpeg", b"no")]}, **JSON)
    assert response.status_code == 400
    assert response.json()["created"] == 0 and "bad.jpeg" in response.json()["failures"][0]["reason"]


def test_post_without_files_asks_for_one(alice_client, model_path, sample):
    response = alice_client.post(url(sample), {}, **JSON)
    assert response.status_code == 400 and response.json()["error"] == "Choose at least one image or a ZIP."
    page = alice_client.post(url(sample), {}, follow=True).content.decode()
    assert "Choose at least one image or a ZIP." in page


def test_verified_sample_takes_no_more_images(alice_client, model_path, sample, user, isolated_media):
    sample.verified_at, sample.verified_by = timezone.now(), user
    sample.save()
    response = alice_client.post(url(sample), {"images": [upload_file()]}, **JSON)
    assert response.status_code == 400 and "verified" in response.json()["error"]
    assert not Prediction.objects.exists() and not media_files(isolated_media)
    page = alice_client.get(reverse("classifier:sample_detail", args=[sample.pk])).content.decode()
    assert 'id="sample-upload"' not in page


def test_staff_cannot_add_images_to_someone_elses_sample(client, django_user_model, model_path, sample):
    client.force_login(django_user_model.objects.create_user("staffer", password="pw-staff-2026", is_staff=True))
    page = client.get(reverse("classifier:sample_detail", args=[sample.pk])).content.decode()
    assert 'id="sample-upload"' not in page
    assert client.post(url(sample), {"images": [upload_file()]}).status_code == 403
    assert not Prediction.objects.exists()


def test_missing_model_is_a_clear_503(alice_client, sample, settings, tmp_path, fresh_model_cache):
    settings.HEMATOVISION_MODEL_PATH = tmp_path / "absent.keras"
    response = alice_client.post(url(sample), {"images": [upload_file()]}, **JSON)
    assert response.status_code == 503 and "The classifier is not available" in response.json()["error"]
    assert str(tmp_path) not in response.json()["error"]
    assert not Prediction.objects.exists()


def test_upload_needs_post(alice_client, sample):
    assert alice_client.get(url(sample)).status_code == 405


def test_zip_without_images_says_there_was_nothing_to_classify(alice_client, model_path, sample):
    response = alice_client.post(url(sample), {"images": [zip_upload({"__MACOSX/._a.jpeg": b"junk"})]}, **JSON)
    assert response.status_code == 400
    assert response.json()["error"] == "Nothing to classify: the upload held no images."


def test_zip_over_the_file_limit_is_refused_with_the_number(alice_client, model_path, sample, settings):
    settings.HEMATOVISION_MAX_FILES_PER_UPLOAD = 2
    members = {f"cell-{index}.jpeg": image_bytes("JPEG") for index in range(3)}
    response = alice_client.post(url(sample), {"images": [zip_upload(members)]}, **JSON)
    assert response.status_code == 400
    assert "This upload holds 3 files (ZIP contents included); at most 2" in response.json()["error"]
    assert not Prediction.objects.exists()
