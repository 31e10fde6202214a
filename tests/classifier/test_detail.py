"""One prediction's page: its owner sees it; anyone else sees nothing."""

import pytest
from django.urls import reverse

from classifier.models import Prediction
from tests.factories import prediction_make, reviewer_make, sample_make, smear_rgb, upload_file

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


def headline(content: str) -> str:
    return " ".join(content.split("<h1>")[1].split("</h1>")[0].split())


def test_a_cell_a_reviewer_marked_another_kind_leads_with_that_kind(alice_client, user, django_user_model):
    sample = sample_make(user, "S-KIND")
    cell = prediction_make(sample, "MONOCYTE", reviewed_label="ERYTHROBLAST", reviewer=reviewer_make(django_user_model))
    content = alice_client.get(url(cell)).content.decode()
    assert headline(content).startswith('<span class="other-kind-headline">Nucleated red cell — not counted</span>')
    assert "The model's answer: Monocyte (70.0%)." in content
    assert reverse("labs:sample_detail", args=[sample.pk]) in content and "not counted in its differential" in content


def test_a_basophil_answer_of_an_eight_output_model_is_headlined_as_not_counted(alice_client, user, basophil_model):
    alice_client.post(reverse("classifier:upload"), {"images": [upload_file("baso.jpeg")]})
    prediction = Prediction.objects.get(owner=user)
    content = alice_client.get(url(prediction)).content.decode()
    assert "Basophil — not counted" in headline(content)
    assert content.count('class="bar"') == 8 and "Immature granulocyte" in content
