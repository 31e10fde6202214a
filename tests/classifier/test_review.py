"""The review grid: reviewers confirm or correct cells (JSON for the keyboard, forms without JS) and verify samples."""

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import prediction_make, reviewer_make, sample_make

pytestmark = pytest.mark.django_db
JSON = {"HTTP_ACCEPT": "application/json"}


@pytest.fixture
def reviewer(django_user_model):
    return reviewer_make(django_user_model)


@pytest.fixture
def reviewer_client(client, reviewer):
    client.force_login(reviewer)
    return client


@pytest.fixture
def sample(reviewer):
    return sample_make(reviewer, "S-REV")


def review_url(prediction):
    return reverse("classifier:prediction_review", args=[prediction.sample_id, prediction.pk])


def grid_url(sample, **params):
    query = "?needs_review=1" if params.get("only_flagged") else ""
    return reverse("classifier:sample_review", args=[sample.pk]) + query


def test_grid_shows_each_cell_with_label_confidence_flag_and_review(reviewer_client, sample, reviewer):
    prediction_make(sample, "NEUTROPHIL", filename="plain.jpeg")
    prediction_make(sample, "MONOCYTE", needs_review=True, filename="unsure.jpeg")
    prediction_make(sample, "LYMPHOCYTE", reviewed_label="EOSINOPHIL", reviewer=reviewer, filename="fixed.jpeg")
    content = reviewer_client.get(grid_url(sample)).content.decode()
    for text in ("plain.jpeg", "unsure.jpeg", "fixed.jpeg", "Neutrophil", "70.0%", "Needs review", "✓ Eosinophil",
                 "js/review_grid.js", 'data-can-review="true"'):
        assert text in content
    assert content.count('class="cell-review"') == 3


def test_filter_shows_only_cells_that_need_review(reviewer_client, sample):
    prediction_make(sample, filename="plain.jpeg")
    prediction_make(sample, needs_review=True, filename="unsure.jpeg")
    content = reviewer_client.get(grid_url(sample, only_flagged=True)).content.decode()
    assert "unsure.jpeg" in content and "plain.jpeg" not in content


def test_reviewer_corrects_a_cell_and_the_original_prediction_is_kept(reviewer_client, sample, reviewer):
    prediction = prediction_make(sample, "NEUTROPHIL", needs_review=True)
    response = reviewer_client.post(review_url(prediction), {"label": "MONOCYTE"}, **JSON)
    assert response.status_code == 200
    answer = response.json()
    assert (answer["reviewed_label"], answer["final_label"], answer["reviewed_by"]) == ("MONOCYTE", "MONOCYTE", "rita")
    assert answer["pending_count"] == 0
    prediction.refresh_from_db()
    assert (prediction.predicted_label, prediction.reviewed_label) == ("NEUTROPHIL", "MONOCYTE")
    assert prediction.reviewed_by == reviewer and prediction.reviewed_at is not None
    assert prediction.probabilities["NEUTROPHIL"] == 0.7


def test_confirming_stores_the_same_label(reviewer_client, sample):
    prediction = prediction_make(sample, "EOSINOPHIL")
    reviewer_client.post(review_url(prediction), {"label": "EOSINOPHIL"}, **JSON)
    prediction.refresh_from_db()
    assert prediction.reviewed_label == "EOSINOPHIL"


def test_review_without_js_redirects_back_to_the_cell(reviewer_client, sample):
    prediction = prediction_make(sample, "NEUTROPHIL", filename="c1.jpeg")
    response = reviewer_client.post(review_url(prediction), {"label": "LYMPHOCYTE"})
    assert response.status_code == 302
    assert response["Location"] == f"{grid_url(sample)}#cell-{prediction.pk}"
    assert "Reviewed c1.jpeg: Lymphocyte." in reviewer_client.get(response["Location"]).content.decode()


def test_unknown_label_is_refused(reviewer_client, sample):
    prediction = prediction_make(sample)
    response = reviewer_client.post(review_url(prediction), {"label": "BASOPHIL"}, **JSON)
    assert response.status_code == 400 and "Unknown class" in response.json()["message"]
    prediction.refresh_from_db()
    assert prediction.reviewed_label == ""


def test_user_without_the_review_permission_sees_a_read_only_grid_and_cannot_review(alice_client, user):
    sample = sample_make(user)
    prediction = prediction_make(sample)
    content = alice_client.get(grid_url(sample)).content.decode()
    assert 'class="cell-review"' not in content and "Read-only" in content
    response = alice_client.post(review_url(prediction), {"label": "MONOCYTE"}, **JSON)
    assert response.status_code == 403 and "Only reviewers" in response.json()["message"]
    prediction.refresh_from_db()
    assert prediction.reviewed_label == ""


def test_cells_of_a_verified_sample_cannot_change(reviewer_client, sample, reviewer):
    prediction = prediction_make(sample)
    sample.verified_at, sample.verified_by = timezone.now(), reviewer
    sample.save()
    assert 'class="cell-review"' not in reviewer_client.get(grid_url(sample)).content.decode()
    response = reviewer_client.post(review_url(prediction), {"label": "MONOCYTE"}, **JSON)
    assert response.status_code == 400 and "verified" in response.json()["message"]


def test_verify_is_refused_while_flagged_cells_are_unreviewed(reviewer_client, sample):
    prediction_make(sample, needs_review=True)
    response = reviewer_client.post(reverse("classifier:sample_verify", args=[sample.pk]), follow=True)
    assert "1 flagged prediction(s) still need review" in response.content.decode()
    sample.refresh_from_db()
    assert not sample.is_verified


def test_verify_signs_the_sample_off(reviewer_client, sample, reviewer):
    prediction = prediction_make(sample, needs_review=True)
    reviewer_client.post(review_url(prediction), {"label": "NEUTROPHIL"}, **JSON)
    response = reviewer_client.post(reverse("classifier:sample_verify", args=[sample.pk]), follow=True)
    assert "Sample S-REV is verified." in response.content.decode()
    sample.refresh_from_db()
    assert sample.verified_by == reviewer and sample.is_verified


def test_non_reviewer_cannot_verify(alice_client, user):
    sample = sample_make(user)
    assert alice_client.post(reverse("classifier:sample_verify", args=[sample.pk])).status_code == 403
    sample.refresh_from_db()
    assert not sample.is_verified
