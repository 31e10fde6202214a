"""Uploading a sample's cells from the page's form without JavaScript: many files or a ZIP, each failure shown as a
message on the sample page, files the sample holds already named and stored once; the request is the whole upload
(the JS uploader calls the REST endpoint, tests/labs/api/test_sample_upload_api.py)."""

import pytest
from django.core.files.storage import FileSystemStorage
from django.urls import reverse
from django.utils import timezone

from classifier.models import Prediction
from labs.selectors import VERIFIED_REFUSAL
from tests.factories import image_bytes, media_files, sample_make, upload_file, zip_upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def sample(user):
    return sample_make(user, "S-UP")


def url(sample):
    return reverse("labs:sample_upload", args=[sample.pk])


def post(client, sample, files=None) -> str:
    """Post the form as a browser without JavaScript does; the sample page it returns to, as text."""
    response = client.post(url(sample), {"images": files} if files else {}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("labs:sample_detail", args=[sample.pk])
    return response.content.decode()


def test_plain_post_adds_every_image_to_the_sample_and_returns_to_its_page(alice_client, model_path, sample):
    response = alice_client.post(url(sample), {"images": [upload_file("a.jpeg"), upload_file("b.jpeg")]}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("labs:sample_detail", args=[sample.pk])
    assert sorted(sample.predictions.values_list("original_filename", flat=True)) == ["a.jpeg", "b.jpeg"]
    assert "2 image(s) classified and added to sample S-UP." in response.content.decode()
    assert "2 cells" in response.content.decode()


def test_the_page_answers_html_even_when_json_is_asked_for(alice_client, model_path, sample):
    response = alice_client.post(url(sample), {"images": [upload_file("a.jpeg")]}, HTTP_ACCEPT="application/json")
    assert response.status_code == 302 and response["Location"] == reverse("labs:sample_detail", args=[sample.pk])


def test_plain_post_shows_each_failure_and_keeps_the_good_files(alice_client, model_path, sample):
    response = alice_client.post(
        url(sample), {"images": [upload_file("good.jpeg"), upload_file("bad.jpeg", b"no")]}, follow=True
    )
    content = response.content.decode()
    assert "Not classified: bad.jpeg" in content and "1 image(s) classified" in content
    assert sample.predictions.count() == 1


def test_zip_with_folders_is_expanded_into_the_sample(alice_client, model_path, sample):
    upload = zip_upload(
        {"field-1/a.jpeg": image_bytes("JPEG"), "field-2/b.png": image_bytes("PNG"), "field-2/notes.txt": b"notes"}
    )
    page = post(alice_client, sample, [upload])
    assert "2 image(s) classified" in page and "Not classified: notes.txt" in page
    assert sorted(sample.predictions.values_list("original_filename", flat=True)) == ["a.jpeg", "b.png"]


def test_only_bad_files_shows_the_reasons_and_adds_nothing(alice_client, model_path, sample):
    page = post(alice_client, sample, [upload_file("bad.jpeg", b"no")])
    assert "Not classified: bad.jpeg" in page and "classified and added" not in page
    assert not sample.predictions.exists()


def test_post_without_files_asks_for_one(alice_client, model_path, sample):
    assert "Choose at least one image or a ZIP." in post(alice_client, sample)


def test_verified_sample_takes_no_more_images(alice_client, model_path, sample, user, isolated_media):
    sample.verified_at, sample.verified_by = timezone.now(), user
    sample.save()
    page = post(alice_client, sample, [upload_file()])
    assert VERIFIED_REFUSAL in page
    assert not Prediction.objects.exists() and not media_files(isolated_media)
    assert 'id="sample-upload"' not in page


def test_staff_cannot_add_images_to_someone_elses_sample(client, django_user_model, model_path, sample):
    client.force_login(django_user_model.objects.create_user("staffer", password="pw-staff-2026", is_staff=True))
    page = client.get(reverse("labs:sample_detail", args=[sample.pk])).content.decode()
    assert 'id="sample-upload"' not in page
    assert client.post(url(sample), {"images": [upload_file()]}).status_code == 403
    assert not Prediction.objects.exists()


def test_missing_model_is_said_clearly(alice_client, sample, settings, tmp_path, fresh_model_cache):
    settings.HEMATOVISION_MODEL_PATH = tmp_path / "absent.keras"
    page = post(alice_client, sample, [upload_file()])
    assert "The classifier is not available" in page and str(tmp_path) not in page
    assert not Prediction.objects.exists()


def test_upload_needs_post(alice_client, sample):
    assert alice_client.get(url(sample)).status_code == 405


def test_zip_without_images_says_there_was_nothing_to_classify(alice_client, model_path, sample):
    page = post(alice_client, sample, [zip_upload({"__MACOSX/._a.jpeg": b"junk"})])
    assert "Nothing to classify: the upload held no images." in page


def test_zip_over_the_file_limit_is_refused_with_the_number(alice_client, model_path, sample, settings):
    settings.HEMATOVISION_MAX_FILES_PER_UPLOAD = 2
    members = {f"cell-{index}.jpeg": image_bytes("JPEG") for index in range(3)}
    page = post(alice_client, sample, [zip_upload(members)])
    assert "This upload holds 3 files (ZIP contents included); at most 2" in page
    assert not Prediction.objects.exists()


def test_a_basophil_answer_is_uploaded_headlined_as_such_and_not_counted(alice_client, basophil_model, sample):
    content = post(alice_client, sample, [upload_file("baso.jpeg")])
    assert "0 cells counted" in content and "Not counted: 1 other cell." in content
    assert 'data-class="BASOPHIL"><td>Basophil</td><td class="number count">1</td>' in content
    prediction = Prediction.objects.get(sample=sample)
    assert (prediction.predicted_label, prediction.review_reasons) == ("BASOPHIL", ["other_kind"])
    grid = alice_client.get(reverse("labs:sample_review", args=[sample.pk])).content.decode()
    assert "Basophil — not counted" in grid


def test_sending_the_files_again_adds_only_the_missing_ones_and_names_the_others(alice_client, model_path, sample):
    post(alice_client, sample, [upload_file("a.jpeg"), upload_file("b.jpeg")])
    page = post(alice_client, sample, [upload_file(name) for name in ("a.jpeg", "b.jpeg", "c.jpeg")])
    assert "a.jpeg: already in this sample. It is stored once." in page
    assert "b.jpeg: already in this sample. It is stored once." in page
    assert "1 image(s) classified and added to sample S-UP." in page and "interrupted" not in page
    assert sorted(sample.predictions.values_list("original_filename", flat=True)) == ["a.jpeg", "b.jpeg", "c.jpeg"]


def test_a_form_post_cut_off_midway_leaves_the_sample_page_saying_so(alice_client, model_path, sample, monkeypatch):
    save, writes = FileSystemStorage.save, []

    def full_at_the_second_cell(self, name, content, max_length=None):  # a cell is its image, preview and crop
        writes.append(name)
        if len(writes) == 4:
            raise OSError(28, "No space left on device")
        return save(self, name, content, max_length)

    monkeypatch.setattr(FileSystemStorage, "save", full_at_the_second_cell)
    response = alice_client.post(url(sample), {"images": [upload_file("a.jpeg"), upload_file("b.jpeg")]})
    assert response.status_code == 503
    page = alice_client.get(reverse("labs:sample_detail", args=[sample.pk])).content.decode()
    assert "Upload interrupted: 1 of 2 received" in page
