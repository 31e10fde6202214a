"""Uploads that are not a stained white cell, or that the model is unsure of, are marked "needs review"."""

import re

import pytest
from django.urls import reverse

from classifier.models import Prediction, ReviewReason
from tests.factories import (
    blank_rgb,
    cat_like_rgb,
    image_bytes,
    noise_rgb,
    prediction_make,
    screenshot_rgb,
    upload_file,
)

pytestmark = pytest.mark.django_db

NOT_CELLS = {
    "cat.jpeg": (cat_like_rgb(), "unlike_training_images"),
    "blank.png": (blank_rgb(), "blank"),
    "noise.png": (noise_rgb(), "unlike_training_images"),
    "screenshot.png": (screenshot_rgb(), "unlike_training_images"),
}


def upload(client, name, rgb):
    fmt = "JPEG" if name.endswith(".jpeg") else "PNG"
    return client.post(
        reverse("classifier:upload"),
        {"images": [upload_file(name, image_bytes(fmt, rgb=rgb), f"image/{fmt.lower()}")]},
        follow=True,
    )


@pytest.mark.parametrize("name", NOT_CELLS)
def test_non_cell_image_needs_review_even_when_the_model_is_sure(alice_client, model_path, settings, name):
    settings.HEMATOVISION_CONFIDENCE_THRESHOLD = 0.0  # no confidence is low: only the image itself can flag it
    rgb, reason = NOT_CELLS[name]
    response = upload(alice_client, name, rgb)
    prediction = Prediction.objects.get(original_filename=name)
    assert prediction.needs_review and reason in prediction.review_reasons
    assert "Needs review" in response.content.decode()
    assert ReviewReason(reason).label in response.content.decode()


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
    assert "Needs review" in page and ReviewReason.LOW_CONFIDENCE.label in page


def headline(page: str, tag: str) -> str:
    """The text of the page's first ``tag`` heading, markup removed."""
    return " ".join(re.sub(r"<[^>]+>", " ", re.search(rf"<{tag}>(.*?)</{tag}>", page, re.S).group(1)).split())


@pytest.mark.parametrize("name", NOT_CELLS)
def test_a_non_cell_image_is_headlined_as_not_recognised_with_its_probabilities_below(
    alice_client, model_path, settings, name
):
    settings.HEMATOVISION_CONFIDENCE_THRESHOLD = 0.0  # however sure the model is, no class is headlined
    rgb, _ = NOT_CELLS[name]
    results = upload(alice_client, name, rgb).content.decode()
    prediction = Prediction.objects.get(original_filename=name)
    detail = alice_client.get(reverse("classifier:detail", args=[prediction.pk])).content.decode()
    for page, tag in ((results, "h2"), (detail, "h1")):
        assert headline(page, tag).startswith("Not recognised as a white-cell image"), headline(page, tag)
        assert prediction.get_predicted_label_display() not in headline(page, tag)
        assert page.count('class="bar"') == 4  # every class's probability is still shown
        assert f"nearest class, {prediction.get_predicted_label_display()}" in page
    history = alice_client.get(reverse("classifier:history")).content.decode()
    assert "Not recognised" in history


def test_a_confident_cell_with_no_objecting_check_is_headlined_by_its_class(alice_client, model_path, settings):
    settings.HEMATOVISION_CONFIDENCE_THRESHOLD = 1.01  # low confidence flags it, but it is still a cell
    results = alice_client.post(
        reverse("classifier:upload"), {"images": [upload_file("cell.jpeg")]}, follow=True
    ).content.decode()
    prediction = Prediction.objects.get()
    assert prediction.recognised
    assert headline(results, "h2").startswith(prediction.get_predicted_label_display())
    assert "Not recognised" not in results


def test_another_labs_cell_is_not_recognised_but_not_called_a_picture_of_something_else(alice_client, user):
    """A real cell the novelty check finds unfamiliar: "not recognised", and the reason allows that it is a cell."""
    prediction = prediction_make(None, "NEUTROPHIL", owner=user, needs_review=True)
    Prediction.objects.filter(pk=prediction.pk).update(review_reasons=["unlike_training_images"])
    page = alice_client.get(reverse("classifier:detail", args=[prediction.pk])).content.decode()
    assert headline(page, "h1") == "Not recognised as a white-cell image Needs review"
    assert "a cell from an instrument, stain or magnification it has not seen" in page
    assert "screenshot" not in page and "noise" not in page
