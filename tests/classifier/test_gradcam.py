"""The Grad-CAM page: computed on request, cached, private to the owner."""

import io

import pytest
from django.urls import reverse
from PIL import Image

from classifier import model_gateway
from tests.factories import TINY_INPUT, media_files

pytestmark = pytest.mark.django_db


def url(prediction):
    return reverse("classifier:gradcam", args=[prediction.pk])


@pytest.fixture
def gradcam_calls(monkeypatch):
    """Counts the real Grad-CAM computations."""
    calls = []
    real = model_gateway.gradcam_png

    def counting(*args, **kwargs):
        calls.append(args[1])
        return real(*args, **kwargs)

    monkeypatch.setattr(model_gateway, "gradcam_png", counting)
    return calls


def test_detail_page_offers_the_heatmap_button(alice_client, alice_prediction):
    page = alice_client.get(reverse("classifier:detail", args=[alice_prediction.pk])).content.decode()
    assert "Show Grad-CAM heatmap" in page and url(alice_prediction) in page


def test_post_computes_the_overlay_of_the_predicted_class_at_the_model_input_size(
    alice_client, alice_prediction, gradcam_calls
):
    response = alice_client.post(url(alice_prediction))
    assert response.status_code == 302 and response["Location"] == reverse(
        "classifier:detail", args=[alice_prediction.pk]
    )
    assert gradcam_calls == [alice_prediction.predicted_label]
    image_response = alice_client.get(url(alice_prediction))
    assert image_response["Content-Type"] == "image/png" and "private" in image_response["Cache-Control"]
    image = Image.open(io.BytesIO(b"".join(image_response.streaming_content)))
    assert image.size == (TINY_INPUT, TINY_INPUT) and image.mode == "RGB"
    page = alice_client.get(reverse("classifier:detail", args=[alice_prediction.pk])).content.decode()
    assert "Show Grad-CAM heatmap" not in page and f'src="{url(alice_prediction)}"' in page


def test_heatmap_is_computed_once_and_reused(alice_client, alice_prediction, gradcam_calls, isolated_media):
    alice_client.post(url(alice_prediction))
    files_after_first = media_files(isolated_media)
    alice_client.post(url(alice_prediction))
    assert len(gradcam_calls) == 1
    assert media_files(isolated_media) == files_after_first


def test_heatmap_is_not_served_before_it_is_computed(alice_client, alice_prediction):
    assert alice_client.get(url(alice_prediction)).status_code == 404


def test_other_users_get_404_and_compute_nothing(client, other_user, alice_client, alice_prediction, gradcam_calls):
    alice_client.post(url(alice_prediction))
    client.force_login(other_user)
    assert client.get(url(alice_prediction)).status_code == 404
    assert client.post(url(alice_prediction)).status_code == 404
    assert len(gradcam_calls) == 1


def test_anonymous_user_is_sent_to_log_in(client, alice_prediction):
    response = client.get(url(alice_prediction))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_a_different_active_model_explains_nothing(alice_client, alice_prediction, isolated_media):
    alice_prediction.model_version.sha256 = "0" * 64
    alice_prediction.model_version.save()
    files_before = media_files(isolated_media)
    response = alice_client.post(url(alice_prediction), follow=True)
    assert "no longer the active model" in response.content.decode()
    alice_prediction.refresh_from_db()
    assert not alice_prediction.gradcam and media_files(isolated_media) == files_before


def test_deleting_the_prediction_deletes_its_heatmap(
    alice_client, alice_prediction, isolated_media, django_capture_on_commit_callbacks
):
    alice_client.post(url(alice_prediction))
    with django_capture_on_commit_callbacks(execute=True):
        alice_client.post(reverse("classifier:delete", args=[alice_prediction.pk]))
    assert media_files(isolated_media) == []
