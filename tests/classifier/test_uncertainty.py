"""Uploads that are not a stained white cell, or that the model is unsure of, are marked "needs review"."""

import pytest
from django.urls import reverse

from classifier.models import REVIEW_REASON_TEXT, Prediction
from tests.factories import blank_rgb, cat_like_rgb, image_bytes, noise_rgb, screenshot_rgb, upload_file

pytestmark = pytest.mark.django_db

NOT_CELLS = {
    "cat.jpeg": (cat_like_rgb(), "unlike_training_images"),
    "blank.png": (blank_rgb(), "blank"),
    "noise.png": (noise_rgb(), "unlike_training_images"),
    "screenshot.png": (screenshot_rgb(), "unlike_training_images"),
}


def upload(client, name, rgb):
    fmt = "JPEG" if name.endswith(".jpeg") else "PNG"
    return client.post(reverse("classifier:upload"),
                       {"images": [upload_file(name, image_bytes(fmt, rgb=rgb), f"image/{fmt.lower()}")]},
                       follow=True)


@pytest.mark.parametrize("name", NOT_CELLS)
def test_non_cell_image_needs_review_even_when_the_model_is_sure(alice_client, model_path, settings, name):
    settings.HEMATOVISION_CONFIDENCE_THRESHOLD = 0.0  # no confidence is low: only the image itself can flag it
    rgb, reason = NOT_CELLS[name]
    response = upload(alice_client, name, rgb)
    prediction = Prediction.objects.get(original_filename=name)
    assert prediction.needs_review and reason in prediction.review_reasons
    assert "Needs review" in response.content.decode()
    assert REVIEW_REASON_TEXT[reason] in response.content.decode()


def test_smear_image_with_a_confident_model_needs_no_review(alice_client, model_path, settings):
    settings.HEMATOVISION_CONFIDENCE_THRESHOLD = 0.0
    response = alice_client.post(reverse("classifier:upload"), {"images": [upload_file("cell.jpeg")]}, follow=True)
    prediction = Prediction.objects.get()
    assert not prediction.needs_review and prediction.review_reasons == []
    assert "Needs review" not in response.content.decode()


def test_low_confidence_needs_review_with_the_reason_in_words(alice_client, model_path, settings):
    settings.HEMATOVISION_CONFIDENCE_THRESHOLD = 1.01  # no probability can reach it
    alice_client.post(reverse("classifier:upload"), {"images": [upload_file("cell.jpeg")]})
    prediction = Prediction.objects.get()
    assert prediction.review_reasons == ["low_confidence"]
    page = alice_client.get(reverse("classifier:detail", args=[prediction.pk])).content.decode()
    assert "Needs review" in page and REVIEW_REASON_TEXT["low_confidence"] in page
