"""Uploaded images are private: their owner (and staff) get them, nobody else, never from a public URL."""

import pytest
from django.urls import reverse
from PIL import Image

pytestmark = pytest.mark.django_db


def preview_url(prediction):
    return reverse("classifier:preview", args=[prediction.pk])


def original_url(prediction):
    return reverse("classifier:original", args=[prediction.pk])


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_owner_gets_the_preview_inline(alice_client, alice_prediction):
    response = alice_client.get(preview_url(alice_prediction))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert "attachment" not in response.get("Content-Disposition", "")
    assert "private" in response["Cache-Control"]
    data = body(response)
    assert data[:3] == b"\xff\xd8\xff"
    with alice_prediction.preview.open("rb") as stored:
        assert data == stored.read()


def test_owner_downloads_the_original_under_its_own_name(alice_client, alice_prediction):
    response = alice_client.get(original_url(alice_prediction))
    assert response.status_code == 200
    assert 'attachment; filename="alice-cell.jpeg"' == response["Content-Disposition"]
    with alice_prediction.image.open("rb") as stored:
        assert body(response) == stored.read()


@pytest.mark.parametrize("variant", ["preview", "original"])
def test_other_user_gets_404(client, other_user, alice_prediction, variant):
    client.force_login(other_user)
    response = client.get(reverse(f"classifier:{variant}", args=[alice_prediction.pk]))
    assert response.status_code == 404


@pytest.mark.parametrize("variant", ["preview", "original"])
def test_staff_may_open_any_image(client, django_user_model, alice_prediction, variant):
    staff = django_user_model.objects.create_user(username="staffer", password="x-Staff-2026", is_staff=True)
    client.force_login(staff)
    response = client.get(reverse(f"classifier:{variant}", args=[alice_prediction.pk]))
    assert response.status_code == 200
    Image.open(__import__("io").BytesIO(body(response))).verify()


@pytest.mark.parametrize("variant", ["preview", "original"])
def test_anonymous_user_is_sent_to_log_in(client, alice_prediction, variant):
    response = client.get(reverse(f"classifier:{variant}", args=[alice_prediction.pk]))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_stored_files_are_not_served_from_a_public_media_url(client, alice_client, alice_prediction, settings):
    public = "/" + settings.MEDIA_URL.lstrip("/") + alice_prediction.image.name
    assert client.get(public).status_code == 404
    assert alice_client.get(public).status_code == 404
