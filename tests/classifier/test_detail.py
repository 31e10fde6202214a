"""One prediction's page (the cell page): its owner and the members of its sample's lab see it, led by what the
review made of the cell; anyone else sees nothing."""

import re

import pytest
from django.urls import reverse

from classifier.models import Prediction
from labs.services.review import prediction_exclude, prediction_review
from tests.factories import (
    lab_make,
    prediction_make,
    reviewer_make,
    sample_make,
    sample_verified_make,
    smear_rgb,
    upload_file,
)

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
    assert f'<span class="runtime">{alice_prediction.runtime}</span>' in content and alice_prediction.runtime
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
    assert '<p class="model-answer" id="model-answer">Model: Monocyte 70.0%</p>' in content
    assert reverse("labs:sample_detail", args=[sample.pk]) in content and "not counted in its differential" in content


def test_a_basophil_answer_of_an_eight_output_model_is_headlined_as_not_counted(alice_client, user, basophil_model):
    alice_client.post(reverse("classifier:upload"), {"images": [upload_file("baso.jpeg")]})
    prediction = Prediction.objects.get(owner=user)
    content = alice_client.get(url(prediction)).content.decode()
    assert "Basophil — not counted" in headline(content)
    assert content.count('class="bar"') == 8 and "Immature granulocyte" in content


def text_of(content: str, element_id: str) -> str:
    """The text of the element with ``element_id``, markup removed, white space folded."""
    inner = re.search(rf'id="{element_id}">(.*?)</p>', content, re.S).group(1)
    return " ".join(re.sub(r"<[^>]+>", "", inner).split())


def test_a_corrected_cell_leads_with_the_reviewers_class_and_shows_the_models_answer_as_such(
    client, user, django_user_model, settings
):
    settings.TIME_ZONE = "Europe/Berlin"
    reviewer = reviewer_make(django_user_model)
    reviewer.first_name, reviewer.last_name = "Rita", "Levi"
    reviewer.save()
    sample = sample_make(user, "S-CELL", lab=lab_make(user, reviewer))
    cell = prediction_make(sample, "EOSINOPHIL", needs_review=True)
    prediction_review(prediction=cell, reviewer=reviewer, label="NEUTROPHIL")
    client.force_login(user)
    content = client.get(url(cell)).content.decode()
    assert headline(content) == 'Neutrophil <span class="confidence">reviewed</span>'  # no "Needs review" once handled
    assert text_of(content, "model-answer") == "Model: Eosinophil 70.0%"
    review_line = text_of(content, "review-line")
    assert review_line.startswith("Corrected to Neutrophil by Rita Levi on ") and " CET." in review_line
    assert f'href="{reverse("labs:sample_detail", args=[sample.pk])}" id="cell-sample">S-CELL</a>' in content
    assert "Eosinophil 70.0%" not in content.split("<h1>")[1].split("</h1>")[0]


def test_an_excluded_cell_leads_with_excluded_and_the_reason(alice_client, user, django_user_model):
    sample = sample_make(user, "S-EXCL")
    cell = prediction_make(sample, "LYMPHOCYTE")
    prediction_exclude(prediction=cell, reviewer=reviewer_make(django_user_model), reason="smudge cell")
    content = alice_client.get(url(cell)).content.decode()
    assert headline(content) == '<span class="excluded-headline">Excluded</span>'
    assert text_of(content, "model-answer") == "Model: Lymphocyte 70.0%"
    assert "Excluded from the differential by rita on" in text_of(content, "review-line")
    assert "smudge cell" in text_of(content, "review-line") and "not counted in its differential" in content


def test_an_unreviewed_cell_of_a_sample_says_so(alice_client, user):
    cell = prediction_make(sample_make(user, "S-OPEN"))
    content = alice_client.get(url(cell)).content.decode()
    assert headline(content) == 'Neutrophil <span class="confidence">70.0%</span>'
    assert text_of(content, "review-line").startswith("Not reviewed yet. Cell of sample S-OPEN.")


def test_a_lab_member_opens_the_cells_of_the_labs_samples_but_may_not_delete_them(client, user, django_user_model):
    reviewer = reviewer_make(django_user_model)
    cell = prediction_make(sample_make(user, "S-LAB", lab=lab_make(user, reviewer)))
    client.force_login(reviewer)
    content = client.get(url(cell)).content.decode()
    assert "S-LAB" in content and "for alice" in content
    assert reverse("classifier:delete", args=[cell.pk]) not in content  # only the owner deletes
    outsider = reviewer_make(django_user_model, "otto")
    client.force_login(outsider)
    assert client.get(url(cell)).status_code == 404


def test_a_cell_of_a_verified_sample_offers_no_delete(alice_client, user, django_user_model):
    sample = sample_verified_make(user, reviewer_make(django_user_model))
    cell = sample.predictions.first()
    content = alice_client.get(url(cell)).content.decode()
    assert reverse("classifier:delete", args=[cell.pk]) not in content and ">Delete<" not in content
    assert "the sample is verified, so this cell can no longer change" in content
    alice_client.post(reverse("classifier:delete", args=[cell.pk]))  # and the server still refuses
    assert Prediction.objects.filter(pk=cell.pk).exists()


def test_the_whole_field_shows_a_box_around_the_cell_that_was_classified(alice_client, user, model_path):
    alice_client.post(reverse("classifier:upload"), {"images": [upload_file("cell.jpeg")]})
    cell = Prediction.objects.get(owner=user)
    x, y, width, height = cell.cell_box_in_image
    content = alice_client.get(url(cell)).content.decode()
    assert f'<rect x="{x}" y="{y}" width="{width}" height="{height}"' in content
    assert "The box is the crop the review grid shows" in content


def test_a_cell_classified_before_its_square_was_stored_shows_no_box(alice_client, user):
    content = alice_client.get(url(prediction_make(sample_make(user)))).content.decode()
    assert 'class="cell-box"' not in content and "The box is" not in content
