"""The cell crop reviewers judge: a square around the located cell at native resolution, stored when the cell is
classified, private; reading it never writes."""

import io

import numpy as np
import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from PIL import Image

from classifier import model_gateway
from classifier.models import Prediction
from classifier.services.waiting import sample_images_add
from tests.factories import image_bytes, media_files, prediction_make, sample_make, smear_rgb, upload_file

pytestmark = pytest.mark.django_db


def url(prediction) -> str:
    return reverse("classifier:cell_crop", args=[prediction.pk])


def crop_of(response) -> Image.Image:
    return Image.open(io.BytesIO(response.content))


def with_image(prediction, rgb):
    prediction.image.save("cell.png", ContentFile(image_bytes("PNG", rgb=rgb)), save=False)
    prediction.image_height, prediction.image_width = rgb.shape[:2]
    prediction.save()
    return prediction


def test_crop_is_a_native_resolution_square_centred_on_the_nucleus(alice_client, user):
    prediction = with_image(prediction_make(sample_make(user)), smear_rgb(nucleus=(100, 140), radius=30))
    response = alice_client.get(url(prediction))
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert "private" in response["Cache-Control"]
    crop = crop_of(response)
    nucleus_size = np.sqrt(np.pi * 30**2)
    assert crop.width == crop.height == pytest.approx(model_gateway.CELL_CROP_SCALE * nucleus_size, abs=4)
    centre = np.asarray(crop.convert("RGB"))[crop.height // 2, crop.width // 2]
    assert centre[2] > centre[1] + 60  # purple: the nucleus, not the pink background


def test_a_small_cell_still_gets_the_minimum_side(alice_client, user):
    prediction = with_image(prediction_make(sample_make(user)), smear_rgb(radius=9))
    assert crop_of(alice_client.get(url(prediction))).size == (model_gateway.CELL_CROP_MIN_SIDE,) * 2


def test_a_huge_cell_is_shrunk_to_the_maximum_side(alice_client, user):
    rgb = smear_rgb(width=1600, height=1200, nucleus=(800, 600), radius=150)
    prediction = with_image(prediction_make(sample_make(user)), rgb)
    assert crop_of(alice_client.get(url(prediction))).size == (model_gateway.CELL_CROP_MAX_SIDE,) * 2


def test_crop_is_stored_when_the_cell_is_classified_and_served_as_stored(alice_client, user, model_path, monkeypatch):
    added = sample_images_add(owner=user, sample=sample_make(user), uploads=[upload_file("cell.jpeg")])
    prediction = added.predictions[0]
    assert prediction.cell_crop.name
    with prediction.cell_crop.open("rb") as handle:
        stored = handle.read()
    monkeypatch.setattr(model_gateway, "cell_crop", lambda rgb: pytest.fail("a stored crop is not made again"))
    assert alice_client.get(url(prediction)).content == stored


def test_reading_the_crop_of_an_older_cell_writes_nothing(alice_client, user, isolated_media):
    prediction = prediction_make(sample_make(user))  # classified before crops were stored: none is
    files = media_files(isolated_media)
    first = alice_client.get(url(prediction)).content
    assert alice_client.get(url(prediction)).content == first
    assert media_files(isolated_media) == files
    prediction.refresh_from_db()
    assert not prediction.cell_crop


def test_another_users_cell_is_404(client, user, other_user):
    prediction = prediction_make(sample_make(user))
    client.force_login(other_user)
    assert client.get(url(prediction)).status_code == 404
    prediction.refresh_from_db()
    assert not prediction.cell_crop


def test_the_square_of_the_crop_is_stored_as_fractions_of_the_frame(user, model_path):
    rgb = smear_rgb(nucleus=(100, 140), radius=30)
    upload = upload_file("cell.png", image_bytes("PNG", rgb=rgb), "image/png")
    prediction = sample_images_add(owner=user, sample=sample_make(user), uploads=[upload]).predictions[0]
    side = model_gateway.CELL_CROP_SCALE * np.sqrt(np.pi * 30**2)
    left, top, right, bottom = prediction.cell_box
    assert (right - left) * 320 == pytest.approx(side, abs=4) and (bottom - top) * 240 == pytest.approx(side, abs=4)
    assert (left + right) / 2 * 320 == pytest.approx(100, abs=2) and (top + bottom) / 2 * 240 == pytest.approx(
        140, abs=2
    )
    assert prediction.crop_image_area is not None  # 4 nucleus sizes (213 px) reach past the 240 px frame's bottom


def test_a_crop_past_the_frame_knows_where_the_image_lies_inside_it():
    """A cell near the top left corner: its square (fractions of the frame) starts before the frame's edges; the part
    of the crop that is image starts a quarter of the way in from the left and a tenth from the top."""
    cell = Prediction(cell_box=[-0.25, -0.1, 0.75, 0.9])
    assert cell.crop_image_area == (25.0, 10.0, 75.0, 90.0)
    assert cell.cell_box_in_image == (0.0, 0.0, 75.0, 90.0)
    assert Prediction(cell_box=[0.1, 0.1, 0.6, 0.8]).crop_image_area is None  # all image: nothing to draw
    assert Prediction(cell_box=[]).crop_image_area is None and Prediction().cell_box_in_image is None
