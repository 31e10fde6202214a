"""Laboratories through the API: samples are created in one of the user's labs, members list and work on them, the
lab's reviewers review, exclude and verify them, and everyone else gets 404."""

import pytest
from django.urls import reverse

from classifier.models import Prediction
from labs.models import Sample
from tests.factories import lab_make, prediction_make, reviewer_grant, sample_make, token_client, upload, upload_file

pytestmark = pytest.mark.django_db


@pytest.fixture
def senior(django_user_model):
    return reviewer_grant(django_user_model.objects.create_user("sam", password="s3cret-pass-sam"))


@pytest.fixture
def lab(user, senior):
    return lab_make(user, senior)


@pytest.fixture
def lab_sample(user, lab):
    sample = sample_make(user, "S-LAB", lab=lab)
    prediction_make(sample, "NEUTROPHIL")
    return sample


@pytest.fixture
def senior_api(senior):
    return token_client(senior)


def test_a_sample_is_created_in_one_of_the_users_labs(alice_api, lab):
    response = alice_api.post(reverse("api:samples"), {"identifier": "S-1", "lab": lab.slug}, format="json")
    assert response.status_code == 201 and response.json()["lab"] == lab.slug
    assert Sample.objects.get().lab == lab


@pytest.mark.parametrize("slug", ["elsewhere", "no-such-lab"])
def test_a_lab_the_user_is_not_in_is_refused_like_an_unknown_one(alice_api, other_user, slug):
    lab_make(other_user, name="Elsewhere", slug="elsewhere")
    response = alice_api.post(reverse("api:samples"), {"identifier": "S-1", "lab": slug}, format="json")
    assert response.status_code == 400 and list(response.json()) == ["lab"]
    assert not Sample.objects.exists()


def test_members_list_their_labs_samples(senior_api, lab_sample, bob_api):
    assert [item["identifier"] for item in senior_api.get(reverse("api:samples")).json()["results"]] == ["S-LAB"]
    assert bob_api.get(reverse("api:samples")).json()["count"] == 0


def test_a_lab_reviewer_reviews_excludes_and_verifies_a_colleagues_sample(senior_api, lab_sample, senior):
    first = lab_sample.predictions.get()
    second = prediction_make(lab_sample, "MONOCYTE", filename="odd.jpeg")
    review = senior_api.post(reverse("api:prediction-review", args=[first.pk]), {"label": "NEUTROPHIL"}, format="json")
    assert review.status_code == 200 and review.json()["reviewed_by"] == "sam"
    exclude = senior_api.post(reverse("api:prediction-exclude", args=[second.pk]), {"reason": "Blast"}, format="json")
    assert exclude.status_code == 200
    assert (exclude.json()["excluded"], exclude.json()["exclusion_reason"]) == (True, "Blast")
    verified = senior_api.post(reverse("api:sample-verify", args=[lab_sample.pk]))
    assert verified.status_code == 200 and verified.json()["verified_by"] == "sam"
    assert verified.json()["reviewed_count"] == 2
    kinds = [
        event["kind"] for event in senior_api.get(reverse("api:sample-events", args=[lab_sample.pk])).json()["results"]
    ]
    assert kinds == ["verified", "excluded", "confirmed"]


def test_a_member_adds_images_but_deletes_only_their_own(senior_api, lab_sample, model_path):
    response = upload(senior_api, reverse("api:sample-images", args=[lab_sample.pk]), upload_file("by-sam.jpeg"))
    assert response.status_code == 201
    alices = lab_sample.predictions.get(original_filename="cell.jpeg")
    refused = senior_api.delete(reverse("api:prediction", args=[alices.pk]))
    assert refused.status_code == 403 and "Only the person who uploaded" in refused.json()["detail"]
    assert senior_api.delete(reverse("api:sample", args=[lab_sample.pk])).status_code == 403
    own = lab_sample.predictions.get(original_filename="by-sam.jpeg")
    assert senior_api.delete(reverse("api:prediction", args=[own.pk])).status_code == 204
    assert list(lab_sample.predictions.all()) == [alices]


def test_predictions_outside_samples_stay_private(senior_api, user, lab):
    private = prediction_make(None, owner=user)
    assert senior_api.get(reverse("api:prediction", args=[private.pk])).status_code == 404
    assert senior_api.get(reverse("api:predictions")).json()["count"] == 0


ENDPOINTS = [
    ("get", "api:sample"),
    ("delete", "api:sample"),
    ("post", "api:sample-images"),
    ("get", "api:sample-differential"),
    ("post", "api:sample-verify"),
    ("post", "api:sample-unverify"),
    ("get", "api:sample-events"),
    ("get", "api:prediction"),
    ("delete", "api:prediction"),
    ("post", "api:prediction-review"),
    ("post", "api:prediction-exclude"),
    ("get", "api:prediction-preview"),
]


@pytest.mark.parametrize("method, name", ENDPOINTS)
def test_another_labs_reviewer_gets_404_on_every_endpoint(bob_reviewer_api, other_user, lab_sample, method, name):
    lab_make(other_user, name="Elsewhere", slug="elsewhere")
    prediction = lab_sample.predictions.get()
    target = prediction if name.startswith("api:prediction") else lab_sample
    data = {"label": "MONOCYTE", "reason": "x"}
    if name == "api:sample-images":
        response = upload(bob_reviewer_api, reverse(name, args=[target.pk]), upload_file())
    else:
        response = getattr(bob_reviewer_api, method)(reverse(name, args=[target.pk]), data, format="json")
    assert response.status_code == 404
    prediction.refresh_from_db()
    assert prediction.reviewed_label == "" and not prediction.excluded
    assert Prediction.objects.count() == 1 and not Sample.objects.get().is_verified
