"""/api/predictions/{id}/review/: only reviewers confirm or correct, the model's own answer is kept."""

import pytest
from django.urls import reverse

from classifier.models import Prediction
from labs.differential import sample_report
from labs.models import SampleEvent
from labs.services.sign_off import sample_verify
from tests.factories import prediction_make

pytestmark = pytest.mark.django_db


def review_url(prediction) -> str:
    return reverse("api:prediction-review", args=[prediction.pk])


def another_label(prediction) -> str:
    return next(name for name in ("EOSINOPHIL", "LYMPHOCYTE", "MONOCYTE") if name != prediction.predicted_label)


def test_reviewer_correction_is_stored_and_the_original_prediction_kept(alice_reviewer_api, alice_prediction, user):
    label = another_label(alice_prediction)
    response = alice_reviewer_api.post(review_url(alice_prediction), {"label": label}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["reviewed_label"] == body["final_label"] == label
    assert body["predicted_label"] == alice_prediction.predicted_label
    assert body["reviewed_by"] == "alice" and body["reviewed_at"]
    stored = Prediction.objects.get()
    assert (stored.reviewed_label, stored.reviewed_by) == (label, user)
    assert stored.predicted_label == alice_prediction.predicted_label
    assert stored.probabilities == alice_prediction.probabilities


def test_non_reviewer_gets_a_json_403_and_nothing_changes(alice_api, alice_prediction):
    response = alice_api.post(review_url(alice_prediction), {"label": "MONOCYTE"}, format="json")
    assert response.status_code == 403
    assert response.json() == {"detail": "Only reviewers can confirm or correct predictions."}
    assert Prediction.objects.get().reviewed_label == ""


@pytest.mark.parametrize("payload", [{"label": "CAT"}, {}])
def test_missing_or_unknown_label_is_a_json_400(alice_reviewer_api, alice_prediction, payload):
    response = alice_reviewer_api.post(review_url(alice_prediction), payload, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["label"]
    assert Prediction.objects.get().reviewed_label == ""


def test_prediction_of_a_verified_sample_cannot_be_reviewed(alice_reviewer_api, alice_prediction, alice_sample, user):
    Prediction.objects.filter(pk=alice_prediction.pk).update(sample=alice_sample, reviewed_label="NEUTROPHIL")
    sample_verify(sample=alice_sample, reviewer=user)
    response = alice_reviewer_api.post(review_url(alice_prediction), {"label": "MONOCYTE"}, format="json")
    assert response.status_code == 400
    assert "verified" in response.json()["detail"]
    assert Prediction.objects.get().reviewed_label == "NEUTROPHIL"


def test_reviewer_gets_404_for_another_users_prediction(bob_reviewer_api, alice_prediction):
    response = bob_reviewer_api.post(review_url(alice_prediction), {"label": "MONOCYTE"}, format="json")
    assert response.status_code == 404
    assert Prediction.objects.get().reviewed_label == ""


def test_a_reviewer_marks_a_cell_immature_granulocyte_and_it_leaves_the_count(alice_reviewer_api, alice_sample, user):
    cell = prediction_make(alice_sample, "MONOCYTE", filename="left-shift.jpeg")
    response = alice_reviewer_api.post(review_url(cell), {"label": "IMMATURE_GRANULOCYTE"}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert (body["reviewed_label"], body["final_label"], body["counted"]) == (
        "IMMATURE_GRANULOCYTE",
        "IMMATURE_GRANULOCYTE",
        False,
    )
    event = SampleEvent.objects.get(sample=alice_sample)
    assert (event.kind, event.cell, event.from_label, event.to_label, event.actor) == (
        "corrected",
        "left-shift.jpeg",
        "MONOCYTE",
        "IMMATURE_GRANULOCYTE",
        user,
    )
    report = sample_report(sample=alice_sample)
    assert report.counted == 0
    assert [(row.class_name, row.count) for row in report.other_cells_found] == [("IMMATURE_GRANULOCYTE", 1)]
