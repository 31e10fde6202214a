"""The samples list, the new-sample form, the sample page, and isolation: nobody sees another user's sample."""

import re

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.urls import reverse

from labs.apps import REVIEWERS_GROUP
from labs.differential import sample_report_number
from labs.models import NOTES_MAX_LENGTH, Sample
from labs.services.review import prediction_review
from labs.services.samples import sample_create
from tests.factories import (
    mixed_smear_make,
    prediction_make,
    predictions_make,
    reviewed_lab_sample_make,
    reviewer_make,
    sample_make,
)
from tests.labs.sample_pages import POST_DATA, SAMPLE_PAGES

pytestmark = pytest.mark.django_db
LIST_URL = reverse("labs:samples")


def test_list_shows_own_samples_with_counts_and_state(alice_client, user, other_user):
    sample = sample_make(user, "S-ALICE")
    predictions_make(sample, {"NEUTROPHIL": 2})
    prediction_make(sample, "MONOCYTE", needs_review=True)
    sample_make(other_user, "S-BOB")
    response = alice_client.get(LIST_URL)
    content = response.content.decode()
    assert response.status_code == 200
    assert "S-ALICE" in content and "S-BOB" not in content
    row = response.context["samples"].get()
    assert (row.image_count, row.flagged_count, row.is_verified, row.state) == (3, 1, False, "awaiting_review")
    assert "Awaiting review" in content


def test_staff_see_every_sample_with_its_owner(client, django_user_model, user, other_user):
    sample_make(user, "S-ALICE")
    sample_make(other_user, "S-BOB")
    client.force_login(django_user_model.objects.create_user("staffer", password="pw-staff-2026", is_staff=True))
    content = client.get(LIST_URL).content.decode()
    assert "S-ALICE" in content and "S-BOB" in content and "bob" in content


def test_new_sample_form_warns_against_personal_data(alice_client):
    assert "no patient names or other personal data" in alice_client.get(LIST_URL).content.decode()


def test_creating_a_sample_opens_its_page(alice_client, user):
    response = alice_client.post(LIST_URL, {"identifier": "  S-2026-001 ", "notes": "Routine smear"}, follow=True)
    sample = Sample.objects.get(owner=user)
    assert sample.identifier == "S-2026-001" and sample.notes == "Routine smear"
    assert response.redirect_chain[-1][0] == reverse("labs:sample_detail", args=[sample.pk])
    assert "Sample S-2026-001 created" in response.content.decode()


def test_duplicate_identifier_is_a_clear_form_error(alice_client, user):
    sample_make(user, "S-1")
    response = alice_client.post(LIST_URL, {"identifier": "S-1", "notes": "second try"})
    assert response.status_code == 400
    assert "You already have a sample called &#x27;S-1&#x27;" in response.content.decode()
    assert response.context["form"]["notes"].value() == "second try"
    assert Sample.objects.filter(owner=user).count() == 1


def test_same_identifier_is_fine_for_another_user(alice_client, other_user, user):
    sample_make(other_user, "S-1")
    alice_client.post(LIST_URL, {"identifier": "S-1"})
    assert Sample.objects.filter(identifier="S-1").count() == 2


def test_empty_identifier_is_refused(alice_client):
    response = alice_client.post(LIST_URL, {"identifier": "   "})
    assert response.status_code == 400 and not Sample.objects.exists()


def test_sample_page_shows_differential_table_flags_and_chart(alice_client, user):
    sample = sample_make(user, "S-7", notes="Left arm smear")
    predictions_make(sample, {"NEUTROPHIL": 9, "LYMPHOCYTE": 1})
    response = alice_client.get(reverse("labs:sample_detail", args=[sample.pk]))
    content = response.content.decode()
    assert response.status_code == 200
    assert "Left arm smear" in content and "10 cells" in content
    assert "<svg" in content and "differential-chart" in content
    assert "▲ High" in content and "▼ Low" in content  # neutrophils 90%, lymphocytes 10%
    assert "40–70%" in content
    assert 'id="sample-upload"' in content and "<progress" in content and "js/sample_upload.js" in content


def test_reviewers_see_verify_and_dataset_actions_others_do_not(alice_client, user):
    url = reverse("labs:sample_detail", args=[sample_make(user).pk])
    content = alice_client.get(url).content.decode()
    assert "Verify sample" not in content and "dataset ZIP" not in content
    user.groups.add(Group.objects.get(name=REVIEWERS_GROUP))
    content = alice_client.get(url).content.decode()
    assert "Verify sample" in content and "dataset ZIP" in content


@pytest.mark.parametrize("method, name, needs_prediction", SAMPLE_PAGES)
def test_another_users_sample_is_404_everywhere(client, django_user_model, user, method, name, needs_prediction):
    sample = sample_make(user, "S-ALICE")
    prediction = prediction_make(sample)
    bob = reviewer_make(django_user_model, "bob")  # even a reviewer: review rights do not open others' samples
    client.force_login(bob)
    args = [sample.pk, prediction.pk] if needs_prediction else [sample.pk]
    response = getattr(client, method)(reverse(name, args=args), POST_DATA if method == "post" else {})
    assert response.status_code == 404
    assert b"S-ALICE" not in response.content


def test_another_users_cell_image_is_404(client, other_user, user):
    prediction = prediction_make(sample_make(user))
    client.force_login(other_user)
    assert client.get(reverse("classifier:preview", args=[prediction.pk])).status_code == 404


def test_a_prediction_is_reviewed_only_through_its_own_sample(client, django_user_model, user):
    reviewer = reviewer_make(django_user_model)
    own_sample = sample_make(reviewer, "S-OWN")
    alices = prediction_make(sample_make(user, "S-ALICE"))
    client.force_login(reviewer)
    response = client.post(reverse("labs:prediction_review", args=[own_sample.pk, alices.pk]), {"label": "MONOCYTE"})
    assert response.status_code == 404
    alices.refresh_from_db()
    assert alices.reviewed_label == ""


def test_anonymous_users_are_sent_to_log_in(client, user):
    sample = sample_make(user)
    for url in (
        LIST_URL,
        reverse("labs:sample_detail", args=[sample.pk]),
        reverse("labs:sample_csv", args=[sample.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_notes_over_the_length_limit_are_refused(alice_client):
    response = alice_client.post(
        reverse("labs:samples"), {"identifier": "S-LONG", "notes": "n" * (NOTES_MAX_LENGTH + 1)}
    )
    assert response.status_code == 400
    assert f"at most {NOTES_MAX_LENGTH} characters" in response.content.decode()
    assert not Sample.objects.exists()


def test_the_model_refuses_notes_over_the_limit_whoever_writes(user):
    with pytest.raises(ValidationError, match="notes"):
        sample_create(owner=user, identifier="S-LONG", notes="n" * (NOTES_MAX_LENGTH + 1))


def test_sample_page_carries_the_report_fields(client, user, settings, django_user_model):
    """The same facts as the PDF: lab, report number, counts, low-count warning, reviewer's name, lab time, crops."""
    settings.TIME_ZONE = "Europe/Berlin"
    reviewer = reviewer_make(django_user_model)
    sample = reviewed_lab_sample_make(user, reviewer)
    client.force_login(reviewer)
    content = client.get(reverse("labs:sample_detail", args=[sample.pk])).content.decode()
    assert "Haematology North · report" in content
    assert f'id="report-number">{sample_report_number(sample, 1)}<' in content  # verified: its first revision
    assert "10 cells counted" in content
    assert "Reviewed 3 of 11: 1 confirmed, 1 corrected, 1 excluded (not counted)." in content
    assert f"Only 10 cells counted, fewer than the {settings.HEMATOVISION_REPORT_MIN_CELLS}" in content
    assert "Verified</span> by Rita Levi on 1 Dec 2026, 18:05 CET" in content
    gallery = content[content.index('id="gallery"') :]
    headings = re.findall(r"<h3>(\w[\w ()]*?) <span class=\"meta\">(\d+) cells?</span></h3>", gallery)
    assert headings == [("Lymphocyte", "1"), ("Neutrophil", "9"), ("Excluded (not counted)", "1")]
    crops = [prediction.pk for prediction in sample.predictions.all()]
    assert all(reverse("classifier:cell_crop", args=[pk]) in gallery for pk in crops)


def test_enough_cells_bring_no_low_count_warning(alice_client, user, settings):
    settings.HEMATOVISION_REPORT_MIN_CELLS = 3
    sample = sample_make(user, "S-ENOUGH")
    predictions_make(sample, {"NEUTROPHIL": 3})
    assert (
        'id="low-count-warning"'
        not in alice_client.get(reverse("labs:sample_detail", args=[sample.pk])).content.decode()
    )
    settings.HEMATOVISION_REPORT_MIN_CELLS = 4
    assert (
        "Only 3 cells counted, fewer than the 4"
        in alice_client.get(reverse("labs:sample_detail", args=[sample.pk])).content.decode()
    )


def differential_text(client, sample) -> str:
    """The sample page's differential section, tags stripped, white space folded."""
    content = client.get(reverse("labs:sample_detail", args=[sample.pk])).content.decode()
    section = content.split('id="differential"')[1].split("</section>")[0]
    return " ".join(re.sub(r"<[^>]+>", " ", section).split())


def test_the_sample_page_counts_only_what_is_recognised_and_lists_the_rest(alice_client, user, django_user_model):
    sample, blank = mixed_smear_make(user)
    text = differential_text(alice_client, sample)
    assert "4 cells counted" in text and "Not counted: 2 not recognised." in text
    assert "Not recognised, not counted: 2 images" in text
    assert "Monocyte 0 0.0" in text  # the blank frame and the gradient are not monocytes
    prediction_review(prediction=blank, reviewer=reviewer_make(django_user_model), label="MONOCYTE")
    text = differential_text(alice_client, sample)
    assert "5 cells counted" in text and "Not counted: 1 not recognised." in text and "Monocyte 1 20.0" in text


def test_the_sample_page_lists_other_cells_by_kind_apart_from_the_differential(alice_client, user):
    sample = sample_make(user, "S-OTHER")
    predictions_make(sample, {"NEUTROPHIL": 2, "BASOPHIL": 1, "PLATELET": 2})
    text = differential_text(alice_client, sample)
    assert "2 cells counted" in text and "Neutrophil 2 100.0" in text
    assert "Other cells, not counted Kind Count Basophil 1 Platelet 2" in text
    assert "Immature granulocyte" not in text.split("Other cells, not counted")[1]  # kinds of none are left out
