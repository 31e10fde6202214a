"""The review grid: every cell as a crop, grouped by predicted class, with its review state and the progress;
plain form posts (no JavaScript) confirm, correct or exclude; verification needs every cell handled."""

import pytest
from django.urls import reverse

from classifier.models import Prediction
from labs.models import SampleEvent
from tests.factories import prediction_make, sample_make

pytestmark = pytest.mark.django_db
JSON = {"HTTP_ACCEPT": "application/json"}


@pytest.fixture
def reviewer_client(client, reviewer):
    client.force_login(reviewer)
    return client


@pytest.fixture
def sample(reviewer):
    return sample_make(reviewer, "S-REV")


def review_url(prediction):
    return reverse("labs:prediction_review", args=[prediction.sample_id, prediction.pk])


def grid_url(sample, **params):
    query = "?needs_review=1" if params.get("only_flagged") else ""
    return reverse("labs:sample_review", args=[sample.pk]) + query


def verify(client, sample):
    return client.post(reverse("labs:sample_verify", args=[sample.pk]), follow=True)


def test_grid_shows_each_cell_as_a_crop_with_label_confidence_flag_and_review_state(reviewer_client, sample, reviewer):
    plain = prediction_make(sample, "NEUTROPHIL", filename="plain.jpeg")
    prediction_make(sample, "MONOCYTE", needs_review=True, filename="unsure.jpeg")
    prediction_make(sample, "LYMPHOCYTE", reviewed_label="EOSINOPHIL", reviewer=reviewer, filename="fixed.jpeg")
    prediction_make(sample, "LYMPHOCYTE", reviewed_label="LYMPHOCYTE", reviewer=reviewer, filename="fine.jpeg")
    prediction_make(sample, "NEUTROPHIL", exclusion_reason="Smudge cell", reviewer=reviewer, filename="smudge.jpeg")
    content = reviewer_client.get(grid_url(sample)).content.decode()
    for text in (
        "plain.jpeg",
        "unsure.jpeg",
        "Neutrophil",
        "70.0%",
        "Needs review",
        "✎ Corrected to Eosinophil",
        "✓ Confirmed",
        "✕ Excluded: Smudge cell",
        "js/review_grid.js",
        'data-can-review="true"',
        reverse("classifier:cell_crop", args=[plain.pk]),
        reverse("api:prediction-review", args=[plain.pk]),
        reverse("api:prediction-exclude", args=[plain.pk]),
        reverse("api:sample-verify", args=[sample.pk]),
    ):
        assert text in content
    assert content.count('class="cell-review"') == content.count('class="cell-exclude-form"') == 5
    assert 'class="cell corrected"' in content and 'class="cell confirmed"' in content
    assert 'class="cell excluded"' in content


def test_cells_are_grouped_by_predicted_class_in_the_class_order(reviewer_client, sample):
    for name, label in [("n1.jpeg", "NEUTROPHIL"), ("e1.jpeg", "EOSINOPHIL"), ("n2.jpeg", "NEUTROPHIL")]:
        prediction_make(sample, label, filename=name)
    content = reviewer_client.get(grid_url(sample)).content.decode()
    assert content.index("Predicted Eosinophil") < content.index("e1.jpeg") < content.index("Predicted Neutrophil")
    assert content.index("Predicted Neutrophil") < content.index("n1.jpeg") < content.index("n2.jpeg")
    assert "Predicted Monocyte" not in content  # no empty groups


def test_a_cell_the_image_checks_object_to_is_not_headlined_by_its_class(reviewer_client, sample):
    unlike = prediction_make(sample, "LYMPHOCYTE", needs_review=True, filename="odd.jpeg")
    unlike.review_reasons = ["unlike_training_images"]
    unlike.save()
    content = reviewer_client.get(grid_url(sample)).content.decode()
    headline = content.split(f'id="cell-{unlike.pk}"')[1].split('class="predicted">')[1].split("</span>")[0]
    assert "Not recognised as a white-cell image" in headline and "Lymphocyte" not in headline


def test_progress_counts_reviewed_confirmed_corrected_and_excluded(reviewer_client, sample, reviewer):
    prediction_make(sample, "NEUTROPHIL")
    prediction_make(sample, "NEUTROPHIL", reviewed_label="NEUTROPHIL", reviewer=reviewer)
    prediction_make(sample, "NEUTROPHIL", reviewed_label="MONOCYTE", reviewer=reviewer)
    prediction_make(sample, "NEUTROPHIL", exclusion_reason="Blast", reviewer=reviewer)
    response = reviewer_client.get(grid_url(sample))
    assert response.context["counts"] == {"total": 4, "reviewed": 3, "confirmed": 1, "corrected": 1, "excluded": 1}
    assert 'Reviewed <strong data-count="reviewed">3</strong> of 4' in response.content.decode()


def test_filter_shows_only_cells_that_need_review(reviewer_client, sample):
    prediction_make(sample, filename="plain.jpeg")
    prediction_make(sample, needs_review=True, filename="unsure.jpeg")
    content = reviewer_client.get(grid_url(sample, only_flagged=True)).content.decode()
    assert "unsure.jpeg" in content and "plain.jpeg" not in content


def test_form_post_corrects_a_cell_keeps_the_original_and_records_it(reviewer_client, sample, reviewer):
    prediction = prediction_make(sample, "NEUTROPHIL", needs_review=True, filename="c1.jpeg")
    response = reviewer_client.post(review_url(prediction), {"label": "MONOCYTE"})
    assert response.status_code == 302
    assert response["Location"] == f"{grid_url(sample)}#cell-{prediction.pk}"
    assert "Reviewed c1.jpeg: Monocyte." in reviewer_client.get(response["Location"]).content.decode()
    prediction.refresh_from_db()
    assert (prediction.predicted_label, prediction.reviewed_label) == ("NEUTROPHIL", "MONOCYTE")
    assert prediction.reviewed_by == reviewer and prediction.reviewed_at is not None
    assert prediction.probabilities["NEUTROPHIL"] == 0.7
    event = SampleEvent.objects.get()
    assert (event.kind, event.actor, event.prediction, event.from_label, event.to_label) == (
        "corrected",
        reviewer,
        prediction,
        "NEUTROPHIL",
        "MONOCYTE",
    )


def test_confirming_stores_the_same_label(reviewer_client, sample):
    prediction = prediction_make(sample, "EOSINOPHIL")
    reviewer_client.post(review_url(prediction), {"label": "EOSINOPHIL"})
    prediction.refresh_from_db()
    assert prediction.reviewed_label == "EOSINOPHIL" and prediction.review_state == "confirmed"
    assert SampleEvent.objects.get().kind == "confirmed"


def test_form_post_excludes_a_cell_with_its_reason_and_a_later_review_brings_it_back(reviewer_client, sample):
    prediction = prediction_make(sample, "NEUTROPHIL", filename="odd.jpeg")
    response = reviewer_client.post(review_url(prediction), {"exclude": "1", "reason": "  Blast "}, follow=True)
    assert "Excluded odd.jpeg: Blast." in response.content.decode()
    prediction.refresh_from_db()
    assert (prediction.excluded, prediction.exclusion_reason, prediction.reviewed_label) == (True, "Blast", "")
    reviewer_client.post(review_url(prediction), {"label": "LYMPHOCYTE"})
    prediction.refresh_from_db()
    assert (prediction.excluded, prediction.exclusion_reason, prediction.reviewed_label) == (False, "", "LYMPHOCYTE")
    assert [(event.kind, event.from_label, event.to_label, event.reason) for event in SampleEvent.objects.all()] == [
        ("corrected", "excluded", "LYMPHOCYTE", ""),
        ("excluded", "NEUTROPHIL", "excluded", "Blast"),
    ]


def test_exclusion_without_a_reason_is_refused(reviewer_client, sample):
    prediction = prediction_make(sample)
    response = reviewer_client.post(review_url(prediction), {"exclude": "1", "reason": "  "}, follow=True)
    assert "Give a reason for excluding the cell." in response.content.decode()
    prediction.refresh_from_db()
    assert not prediction.excluded and not SampleEvent.objects.exists()


def test_the_html_view_no_longer_answers_json(reviewer_client, sample):
    prediction = prediction_make(sample)
    response = reviewer_client.post(review_url(prediction), {"label": "MONOCYTE"}, **JSON)
    assert response.status_code == 302 and response["Content-Type"].startswith("text/html")


def test_unknown_label_is_refused(reviewer_client, sample):
    prediction = prediction_make(sample)
    response = reviewer_client.post(review_url(prediction), {"label": "BLAST"}, follow=True)
    assert "Unknown label" in response.content.decode()
    prediction.refresh_from_db()
    assert prediction.reviewed_label == ""


def test_user_without_the_review_permission_sees_a_read_only_grid_and_cannot_review(alice_client, user):
    sample = sample_make(user)
    prediction = prediction_make(sample)
    content = alice_client.get(grid_url(sample)).content.decode()
    assert 'class="cell-review"' not in content and "Read-only" in content
    assert alice_client.post(review_url(prediction), {"label": "MONOCYTE"}).status_code == 403
    assert alice_client.post(review_url(prediction), {"exclude": "1", "reason": "Blast"}).status_code == 403
    prediction.refresh_from_db()
    assert prediction.reviewed_label == "" and not prediction.excluded


def test_verify_is_refused_until_every_cell_is_handled_with_the_count(reviewer_client, sample, reviewer):
    prediction_make(sample, "NEUTROPHIL", reviewed_label="NEUTROPHIL", reviewer=reviewer)
    prediction_make(sample, "NEUTROPHIL", exclusion_reason="Blast", reviewer=reviewer)
    waiting = [prediction_make(sample, "NEUTROPHIL") for _ in range(2)]  # unflagged cells count too
    content = verify(reviewer_client, sample).content.decode()
    assert "2 of 4 cells are not reviewed yet: confirm, correct or exclude every cell" in content
    sample.refresh_from_db()
    assert not sample.is_verified
    for prediction in waiting:
        reviewer_client.post(review_url(prediction), {"label": "MONOCYTE"})
    assert "Sample S-REV is verified." in verify(reviewer_client, sample).content.decode()
    sample.refresh_from_db()
    assert sample.verified_by == reviewer and sample.is_verified
    assert SampleEvent.objects.filter(kind="verified", actor=reviewer, sample=sample).exists()


def test_an_empty_sample_cannot_be_verified(reviewer_client, sample):
    assert "no classified cells yet" in verify(reviewer_client, sample).content.decode()
    sample.refresh_from_db()
    assert not sample.is_verified


def test_verify_asks_once_for_confirmation_when_it_can_be_done(reviewer_client, sample, reviewer):
    prediction_make(sample, reviewed_label="NEUTROPHIL", reviewer=reviewer)
    content = reviewer_client.get(grid_url(sample)).content.decode()
    assert content.count("data-confirm=") == 1 and "You sign its report, and the sample is frozen until" in content
    assert "nothing in it can change" not in content  # untrue: a holder of the un-verify permission can open it
    assert 'id="verify-refusal"' not in content and 'id="verify-sample" disabled' not in content


@pytest.mark.parametrize("page", ["labs:sample_review", "labs:sample_detail"])
def test_verify_shows_why_it_would_be_refused_instead_of_asking(reviewer_client, sample, reviewer, page):
    prediction_make(sample, reviewed_label="NEUTROPHIL", reviewer=reviewer)
    prediction_make(sample)
    content = reviewer_client.get(reverse(page, args=[sample.pk])).content.decode()
    assert "data-confirm=" not in content.split('id="verify-form"')[1].split(">")[0]
    assert 'id="verify-sample" disabled aria-describedby="verify-refusal"' in content
    assert '<span class="meta verify-refusal" id="verify-refusal">1 of 2 cells are not reviewed yet' in content
    # the grid's script asks the question once the last cell is reviewed: it is handed over, not asked now
    assert 'data-ready="Verify sample S-REV? You sign its report, and the sample is frozen until' in content


def test_an_empty_sample_shows_why_it_cannot_be_verified_and_offers_no_question(reviewer_client, sample):
    content = reviewer_client.get(reverse("labs:sample_detail", args=[sample.pk])).content.decode()
    assert "no classified cells yet; there is nothing to verify" in content
    assert "data-ready=" not in content and "data-confirm=" not in content.split('id="verify-form"')[1].split(">")[0]


def test_non_reviewer_cannot_verify(alice_client, user):
    sample = sample_make(user)
    assert alice_client.post(reverse("labs:sample_verify", args=[sample.pk])).status_code == 403
    sample.refresh_from_db()
    assert not sample.is_verified


def test_cells_answered_as_another_kind_are_grouped_under_it_after_the_four(reviewer_client, sample):
    prediction_make(sample, "BASOPHIL", review_reasons=["other_kind"], filename="baso.jpeg")
    prediction_make(sample, "NEUTROPHIL", filename="n1.jpeg")
    content = reviewer_client.get(grid_url(sample)).content.decode()
    assert content.index("Predicted Neutrophil") < content.index("Predicted Basophil") < content.index("baso.jpeg")
    assert "Basophil — not counted" in content
    assert "not counted unless a reviewer sets one of the four" in content


def test_every_label_has_keys_of_its_own(reviewer_client, sample):
    prediction_make(sample)
    response = reviewer_client.get(grid_url(sample))
    grid = response.content.decode().split('data-class-keys="')[1].split('"')[0]
    pairs = [pair.split(":") for pair in grid.split(",") if pair]
    keys = [key for key, _ in pairs]
    assert len(keys) == len(set(keys)) and not {"j", "k", "f", "x", "5"} & set(keys)
    assert [key for key in keys if key.isdigit()] == ["1", "2", "3", "4"]  # the four classes only
    assert {key: name for key, name in pairs if key.isalpha()} == {
        "e": "EOSINOPHIL",
        "l": "LYMPHOCYTE",
        "m": "MONOCYTE",
        "n": "NEUTROPHIL",
        "b": "BASOPHIL",
        "i": "IMMATURE_GRANULOCYTE",
        "r": "ERYTHROBLAST",
        "p": "PLATELET",
    }


def test_form_post_marks_a_cell_another_kind_and_records_it(reviewer_client, sample, reviewer):
    prediction = prediction_make(sample, "MONOCYTE", filename="ig.jpeg")
    reviewer_client.post(review_url(prediction), {"label": "IMMATURE_GRANULOCYTE"})
    prediction.refresh_from_db()
    assert (prediction.reviewed_label, prediction.counted) == ("IMMATURE_GRANULOCYTE", False)
    event = SampleEvent.objects.get(kind="corrected")
    assert (event.from_label, event.to_label, event.actor) == ("MONOCYTE", "IMMATURE_GRANULOCYTE", reviewer)
    assert "✎ Corrected to Immature granulocyte" in reviewer_client.get(grid_url(sample)).content.decode()
    trail = reviewer_client.get(reverse("labs:sample_detail", args=[sample.pk])).content.decode()
    assert "monocyte → immature granulocyte" in trail


def test_a_cell_of_another_kind_must_be_handled_before_verification(reviewer_client, sample):
    basophil = prediction_make(sample, "BASOPHIL", review_reasons=["other_kind"])
    assert "1 of 1 cells are not reviewed yet" in verify(reviewer_client, sample).content.decode()
    reviewer_client.post(review_url(basophil), {"label": "BASOPHIL"})
    assert "Sample S-REV is verified." in verify(reviewer_client, sample).content.decode()


def test_each_class_shows_its_least_confident_cells_first(reviewer_client, sample):
    for name, confidence in (("certain.jpeg", 0.99), ("unsure.jpeg", 0.41), ("middling.jpeg", 0.8)):
        cell = prediction_make(sample, "NEUTROPHIL", filename=name)
        Prediction.objects.filter(pk=cell.pk).update(confidence=confidence)
    content = reviewer_client.get(grid_url(sample)).content.decode()
    assert content.index("unsure.jpeg") < content.index("middling.jpeg") < content.index("certain.jpeg")


def test_the_card_size_is_chosen_once_and_remembered(reviewer_client, sample):
    prediction_make(sample)
    assert 'class="cell-groups size-standard"' in reviewer_client.get(grid_url(sample)).content.decode()
    reviewer_client.get(grid_url(sample) + "?size=compact")
    assert 'class="cell-groups size-compact"' in reviewer_client.get(grid_url(sample)).content.decode()
    reviewer_client.get(grid_url(sample) + "?size=huge")  # not a size: the remembered one stays
    assert 'class="cell-groups size-compact"' in reviewer_client.get(grid_url(sample)).content.decode()
