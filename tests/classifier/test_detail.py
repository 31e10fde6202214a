"""One prediction's page: its owner sees it; anyone else sees nothing."""

import pytest
from django.urls import reverse

from tests.factories import smear_rgb

pytestmark = pytest.mark.django_db


def url(prediction):
    return reverse("classifier:detail", args=[prediction.pk])


def test_owner_sees_the_prediction(alice_client, alice_prediction):
    response = alice_client.get(url(alice_prediction))
    assert response.status_code == 200
    content = response.content.decode()
    height, width, _ = smear_rgb().shape
    assert f"alice-cell.jpeg ({width}×{height})" in content
    assert alice_prediction.get_predicted_label_display() in content
    assert alice_prediction.model_version.name in content and alice_prediction.model_version.sha256[:12] in content
    for label in ("Eosinophil", "Lymphocyte", "Monocyte", "Neutrophil"):
        assert label in content
    assert content.count('class="bar"') == 4
    assert reverse("classifier:preview", args=[alice_prediction.pk]) in content
    assert reverse("classifier:original", args=[alice_prediction.pk]) in content
    assert reverse("classifier:delete", args=[alice_prediction.pk]) in content


def test_other_user_gets_404(client, other_user, alice_prediction):
    client.force_login(other_user)
    response = client.get(url(alice_prediction))
    assert response.status_code == 404
    assert "alice-cell.jpeg" not in response.content.decode()


def test_missing_prediction_is_404(alice_client, alice_prediction):
    assert alice_client.get(reverse("classifier:detail", args=[alice_prediction.pk + 1000])).status_code == 404


def test_anonymous_user_is_redirected_to_log_in(client, alice_prediction):
    response = client.get(url(alice_prediction))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login")) and f"next={url(alice_prediction)}" in response["Location"]
