"""A verified sample is frozen for the API too: every write is a JSON 400 and changes nothing; un-verifying is
its own permission, needs a reason and lands in the audit trail (/api/samples/{id}/events/)."""

import pytest
from django.urls import reverse

from classifier.models import Prediction
from labs.models import SampleEvent
from tests.factories import (
    media_files,
    reviewer_grant,
    sample_verified_make,
    unverifier_grant,
    upload,
    upload_file,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def verified(user, other_user):
    return sample_verified_make(user, reviewer_grant(other_user))


def snapshot(sample):
    return list(Prediction.objects.filter(sample=sample).order_by("pk").values()), sample.events.count()


WRITES = [
    ("post", "api:prediction-review", {"label": "MONOCYTE"}),
    ("post", "api:prediction-exclude", {"reason": "Blast"}),
    ("delete", "api:prediction", None),
    ("post", "api:sample-images", None),
    ("delete", "api:sample", None),
    ("post", "api:sample-verify", None),
]


@pytest.mark.parametrize("method, name, data", WRITES)
def test_every_api_write_to_a_verified_sample_is_refused(
    alice_reviewer_api, verified, model_path, isolated_media, method, name, data, django_capture_on_commit_callbacks
):
    target = verified.predictions.first() if name.startswith("api:prediction") else verified
    before, files = snapshot(verified), media_files(isolated_media)
    with django_capture_on_commit_callbacks(execute=True):
        if name == "api:sample-images":
            response = upload(alice_reviewer_api, reverse(name, args=[target.pk]), upload_file("late.jpeg"))
        else:
            response = getattr(alice_reviewer_api, method)(reverse(name, args=[target.pk]), data, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "detail": "This sample is verified: nothing in it can change unless it is un-verified first."
    }
    assert snapshot(verified) == before and media_files(isolated_media) == files
    verified.refresh_from_db()
    assert verified.is_verified


def test_unverify_needs_the_permission_and_a_reason(alice_reviewer_api, user, verified):
    url = reverse("api:sample-unverify", args=[verified.pk])
    refused = alice_reviewer_api.post(url, {"reason": "Typo"}, format="json")
    assert refused.status_code == 403 and "un-verify" in refused.json()["detail"]
    unverifier_grant(user)
    supervisor_api = alice_reviewer_api  # the token's user is read afresh on every request
    assert list(supervisor_api.post(url, {}, format="json").json()) == ["reason"]
    response = supervisor_api.post(url, {"reason": "Wrong smear"}, format="json")
    assert response.status_code == 200 and not response.json()["is_verified"]
    assert supervisor_api.post(url, {"reason": "Again"}, format="json").json() == {
        "detail": "This sample is not verified."
    }


def test_the_audit_trail_keeps_every_step_in_order(alice_reviewer_api, user, verified):
    unverifier_grant(user)
    alice_reviewer_api.post(reverse("api:sample-unverify", args=[verified.pk]), {"reason": "Recount"}, format="json")
    cell = verified.predictions.first()
    alice_reviewer_api.post(reverse("api:prediction-review", args=[cell.pk]), {"label": "EOSINOPHIL"}, format="json")
    alice_reviewer_api.post(reverse("api:prediction-exclude", args=[cell.pk]), {"reason": "Smudge"}, format="json")
    alice_reviewer_api.post(reverse("api:prediction-review", args=[cell.pk]), {"label": "NEUTROPHIL"}, format="json")
    alice_reviewer_api.post(reverse("api:sample-verify", args=[verified.pk]))
    events = alice_reviewer_api.get(reverse("api:sample-events", args=[verified.pk])).json()["results"]
    assert [
        (event["kind"], event["actor"], event["from_label"], event["to_label"], event["reason"])
        for event in reversed(events)
    ] == [
        ("verified", "bob", "", "", ""),
        ("unverified", "alice", "", "", "Recount"),
        ("corrected", "alice", "NEUTROPHIL", "EOSINOPHIL", ""),
        ("excluded", "alice", "EOSINOPHIL", "excluded", "Smudge"),
        ("confirmed", "alice", "excluded", "NEUTROPHIL", ""),
        ("verified", "alice", "", "", ""),
    ]
    assert all(event["cell"] == cell.original_filename for event in events if event["prediction"])
    assert SampleEvent.objects.count() == 6


def test_exclusion_needs_a_reason_of_at_most_200_characters(alice_reviewer_api, user, alice_prediction, alice_sample):
    Prediction.objects.filter(pk=alice_prediction.pk).update(sample=alice_sample)
    url = reverse("api:prediction-exclude", args=[alice_prediction.pk])
    assert list(alice_reviewer_api.post(url, {"reason": "x" * 201}, format="json").json()) == ["reason"]
    assert list(alice_reviewer_api.post(url, {"reason": "  "}, format="json").json()) == ["reason"]
    assert not Prediction.objects.get().excluded


def test_a_prediction_outside_a_sample_cannot_be_excluded(alice_reviewer_api, alice_prediction):
    response = alice_reviewer_api.post(
        reverse("api:prediction-exclude", args=[alice_prediction.pk]), {"reason": "Blast"}, format="json"
    )
    assert response.status_code == 400 and "Only a cell of a sample" in response.json()["detail"]


def test_excluded_cells_leave_the_differential(alice_reviewer_api, alice_prediction, alice_sample):
    Prediction.objects.filter(pk=alice_prediction.pk).update(sample=alice_sample, predicted_label="MONOCYTE")
    alice_reviewer_api.post(
        reverse("api:prediction-exclude", args=[alice_prediction.pk]), {"reason": "Blast"}, format="json"
    )
    body = alice_reviewer_api.get(reverse("api:sample-differential", args=[alice_sample.pk])).json()
    assert body["total"] == 0 and all(row["count"] == 0 for row in body["rows"])
