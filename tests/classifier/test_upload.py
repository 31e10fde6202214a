"""The upload page: good files are classified and stored; every kind of bad input is refused cleanly."""

import django.core.files.images
import numpy as np
import PIL.Image
import pytest
from django.test import Client
from django.urls import reverse

from classifier import model_gateway
from classifier.models import Prediction
from ml import inference
from ml.artifact import read_metadata
from ml.preprocessing import locate_cell
from registry.models import ModelVersion
from tests.factories import image_bytes, media_files, png_bomb, smear_rgb, truncated_jpeg, upload_file, zip_of

pytestmark = pytest.mark.django_db
URL = reverse("classifier:upload")


def post(client, *files):
    return client.post(URL, {"images": list(files)}, follow=True)


def test_upload_page_shows_the_form(alice_client):
    response = alice_client.get(URL)
    assert response.status_code == 200
    assert b'type="file"' in response.content and b"multiple" in response.content


def test_upload_classifies_each_file_and_shows_all_probabilities(alice_client, model_path, user):
    response = post(alice_client, upload_file("a.jpeg"), upload_file("b.png", image_bytes("PNG"), "image/png"))
    assert response.status_code == 200
    predictions = list(Prediction.objects.filter(owner=user).order_by("id"))
    assert [p.original_filename for p in predictions] == ["a.jpeg", "b.png"]
    for prediction in predictions:
        assert set(prediction.probabilities) == {"EOSINOPHIL", "LYMPHOCYTE", "MONOCYTE", "NEUTROPHIL"}
        assert sum(prediction.probabilities.values()) == pytest.approx(1.0, abs=1e-4)
        assert prediction.confidence == pytest.approx(max(prediction.probabilities.values()))
        # by value: PostgreSQL's jsonb reorders the keys, so a tie would pick another name than the model did
        assert prediction.probabilities[prediction.predicted_label] == max(prediction.probabilities.values())
        assert prediction.model_version.sha256 == read_metadata(model_path).sha256
    content = response.content.decode()
    for name in ("Eosinophil", "Lymphocyte", "Monocyte", "Neutrophil", "a.jpeg", "b.png"):
        assert name in content


@pytest.mark.parametrize(
    "fmt, name, mode",
    [
        ("TIFF", "cell.tiff", None),
        ("BMP", "cell.bmp", None),
        ("PNG", "grey.png", "L"),
        ("PNG", "alpha.png", "RGBA"),
        ("TIFF", "sixteen.tif", "I;16"),
    ],
)
def test_upload_accepts_every_supported_format_and_mode(alice_client, model_path, fmt, name, mode):
    data = image_bytes(fmt, rgb=smear_rgb() if mode != "I;16" else smear_rgb()[..., 0], mode=mode)
    post(alice_client, upload_file(name, data, "image/" + fmt.lower()))
    prediction = Prediction.objects.get()
    assert prediction.original_filename == name
    assert prediction.preview.name.endswith(".jpg")


def test_stored_name_is_generated_not_the_client_name(alice_client, model_path):
    post(alice_client, upload_file("../../etc/passwd.jpeg"))
    prediction = Prediction.objects.get()
    assert prediction.original_filename == "passwd.jpeg"
    assert "passwd" not in prediction.image.name and prediction.image.name.startswith("predictions/")


def test_second_request_reuses_the_loaded_model(alice_client, model_path, fresh_model_cache):
    post(alice_client, upload_file("first.jpeg"))
    loads_after_first = fresh_model_cache.loads
    post(alice_client, upload_file("second.jpeg"))
    assert Prediction.objects.count() == 2
    assert fresh_model_cache.loads == loads_after_first


def test_model_version_is_registered_once_and_stamps_every_upload(alice_client, model_path, monkeypatch):
    registrations = []
    register = model_gateway.model_version_register
    monkeypatch.setattr(
        model_gateway, "model_version_register", lambda **kwargs: registrations.append(kwargs) or register(**kwargs)
    )
    post(alice_client, upload_file("first.jpeg"))
    post(alice_client, upload_file("second.jpeg"))
    assert len(registrations) == 1
    assert {prediction.model_version for prediction in Prediction.objects.all()} == {ModelVersion.objects.get()}


BAD_FILES = {
    "not an image": ("notes.jpeg", b"These are lab notes, not a picture.", "is not an image"),
    "truncated": ("cut.jpeg", truncated_jpeg(), "corrupt or truncated"),
    "decompression bomb": ("bomb.png", png_bomb(), "over the limit"),
    "disguised pdf": ("scan.jpg", b"%PDF-1.7\n1 0 obj <<>> endobj\n%%EOF", "is not an image"),
    "disguised png": ("photo.jpg", image_bytes("PNG"), "the name says JPEG but the content is PNG"),
    "empty": ("empty.jpeg", b"", "the file is empty"),
    "wrong type": ("cell.gif", image_bytes("GIF"), "only BMP, JPEG, PNG and TIFF"),
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_bad_file_is_refused_with_a_clear_message_and_nothing_is_lost(
    alice_client, alice_prediction, isolated_media, case
):
    name, data, message = BAD_FILES[case]
    files_before = media_files(isolated_media)
    response = post(alice_client, upload_file(name, data))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert name in response.content.decode()
    assert list(Prediction.objects.all()) == [alice_prediction]
    assert media_files(isolated_media) == files_before
    assert alice_prediction.image.storage.exists(alice_prediction.image.name)


def test_file_over_the_size_limit_is_refused(alice_client, model_path, settings, isolated_media):
    settings.HEMATOVISION_MAX_UPLOAD_BYTES = 1000
    response = post(alice_client, upload_file("big.jpeg"))
    assert response.status_code == 400
    assert "the limit is" in response.content.decode()
    assert not Prediction.objects.exists() and not media_files(isolated_media)


def test_one_bad_file_does_not_block_the_good_ones(alice_client, model_path):
    response = post(alice_client, upload_file("good.jpeg"), upload_file("bad.jpeg", b"nope"))
    assert response.status_code == 200
    assert [p.original_filename for p in Prediction.objects.all()] == ["good.jpeg"]
    assert "bad.jpeg" in response.content.decode()


def test_post_without_files_asks_for_one(alice_client, model_path):
    response = alice_client.post(URL, {})
    assert response.status_code == 400
    assert "Choose at least one image." in response.content.decode()


def test_missing_model_gives_a_clear_message_and_stores_nothing(
    alice_client, settings, tmp_path, caplog, fresh_model_cache, isolated_media
):
    settings.HEMATOVISION_MODEL_PATH = tmp_path / "absent.keras"
    response = post(alice_client, upload_file())
    assert response.status_code == 503
    page = response.content.decode()
    assert "The classifier is not available: no trained model is installed." in page and "train_model" in page
    assert str(tmp_path) not in page  # the server's paths go to the log, not to users
    assert f"No trained model at {tmp_path / 'absent.keras'}" in caplog.text
    assert not Prediction.objects.exists() and not media_files(isolated_media)


def test_anonymous_user_is_sent_to_log_in(client, model_path):
    response = client.post(URL, {"images": [upload_file()]})
    assert response.status_code == 302 and reverse("login") in response["Location"]
    assert not Prediction.objects.exists()


def test_post_without_csrf_token_is_forbidden(user, model_path):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.post(URL, {"images": [upload_file()]})
    assert response.status_code == 403
    assert not Prediction.objects.exists()


def test_upload_over_the_file_limit_is_refused_with_the_number(alice_client, model_path, settings):
    settings.HEMATOVISION_MAX_FILES_PER_UPLOAD = 2
    zip_file = upload_file("cells.zip", zip_of({f"cell-{i}.jpeg": image_bytes() for i in range(3)}), "application/zip")
    response = post(alice_client, zip_file)
    assert response.status_code == 400
    assert "This upload holds 3 files (ZIP contents included); at most 2 files per upload." in response.content.decode()
    assert not Prediction.objects.exists()


def test_an_empty_zip_is_refused_with_a_message(alice_client, model_path):
    response = post(alice_client, upload_file("empty.zip", zip_of({}), "application/zip"))
    assert response.status_code == 400
    assert "Nothing to classify: the upload held no images." in response.content.decode()


def test_an_uploaded_image_is_opened_once_and_decoded_once(alice_client, model_path, monkeypatch):
    """The header checks (format, pixel budget), the decode, the preview and the crop come from one opening of
    the file (issue 23); it was opened twice, once for the header alone."""
    data = image_bytes("JPEG", rgb=smear_rgb())
    opened = []
    real_open = PIL.Image.open

    def counting_open(source, *args, **kwargs):
        position = source.tell() if hasattr(source, "tell") else 0
        opened.append(source.read() == data if hasattr(source, "read") else False)
        if hasattr(source, "seek"):
            source.seek(position)
        return real_open(source, *args, **kwargs)

    monkeypatch.setattr(PIL.Image, "open", counting_open)
    response = post(alice_client, upload_file("cell.jpeg", data))
    assert response.status_code == 200 and Prediction.objects.count() == 1
    assert opened.count(True) == 1  # the upload's bytes, opened once


def test_the_stored_crop_is_around_the_cell_the_classification_located_once(alice_client, model_path, monkeypatch):
    located = []

    def counting_locate(rgb):
        located.append(rgb.shape)
        return locate_cell(rgb)

    monkeypatch.setattr(inference, "locate_cell", counting_locate)
    monkeypatch.setattr(model_gateway, "locate_cell", counting_locate)
    post(alice_client, upload_file("cell.jpeg", image_bytes("JPEG", rgb=smear_rgb())))
    prediction = Prediction.objects.get()
    assert located == [(240, 320, 3)]
    assert prediction.cell_crop and len(prediction.cell_box) == 4


def test_the_stored_upload_is_not_read_back_for_its_size(alice_client, model_path, monkeypatch):
    """The image's width and height come from the header read at the check, the size it was sent at even when it
    decodes smaller (wider than ``DECODE_MAX_SIDE``); the field would otherwise read the stored file back (a storage
    round trip per upload, on S3 a GET)."""
    read_back = []
    measure = django.core.files.images.get_image_dimensions

    def counting(file_or_path, *args, **kwargs):
        read_back.append(getattr(file_or_path, "name", file_or_path))
        return measure(file_or_path, *args, **kwargs)

    monkeypatch.setattr(django.core.files.images, "get_image_dimensions", counting)
    width = model_gateway.DECODE_MAX_SIDE + 452
    post(alice_client, upload_file("wide.png", image_bytes("PNG", rgb=np.zeros((50, width, 3), np.uint8)), "image/png"))
    prediction = Prediction.objects.get()
    assert (prediction.image_width, prediction.image_height) == (width, 50)
    assert prediction.image.name not in read_back, read_back
