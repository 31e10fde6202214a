"""/api/samples/: create, list, detail, delete, batch images, differential, verification, isolation."""

import pytest
from django.urls import reverse

from classifier.models import Prediction
from labs.models import NOTES_MAX_LENGTH, Sample
from tests.factories import (
    image_bytes,
    media_files,
    page_session,
    reviewer_make,
    sample_verified_make,
    upload,
    upload_file,
    zip_of,
)

pytestmark = pytest.mark.django_db
LIST_URL = reverse("api:samples")


def url(name: str, sample) -> str:
    return reverse(f"api:{name}", args=[sample.pk])


def test_sample_is_created_with_identifier_and_notes(alice_api, user):
    response = alice_api.post(LIST_URL, {"identifier": " S-042 ", "notes": "EDTA, 2 h"}, format="json")
    assert response.status_code == 201
    sample = Sample.objects.get(owner=user)
    assert (sample.identifier, sample.notes) == ("S-042", "EDTA, 2 h")
    assert response.json() | {"created_at": None} == {
        "id": sample.pk,
        "identifier": "S-042",
        "notes": "EDTA, 2 h",
        "owner": "alice",
        "lab": None,
        "created_at": None,
        "is_verified": False,
        "verified_at": None,
        "verified_by": None,
        "image_count": 0,
        "reviewed_count": 0,
        "flagged_count": 0,
        "unreviewed_count": 0,
        "waiting_count": 0,
        "classification": "0 of 0 classified",
        "last_upload": None,
    }


def test_duplicate_identifier_is_a_json_400_and_keeps_the_first(alice_api, alice_sample):
    response = alice_api.post(LIST_URL, {"identifier": alice_sample.identifier}, format="json")
    assert response.status_code == 400
    assert "identifier" in response.json()
    assert Sample.objects.get() == alice_sample


def test_missing_identifier_is_a_json_400(alice_api):
    response = alice_api.post(LIST_URL, {"notes": "no id"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"identifier": ["This field is required."]}


def test_list_shows_own_samples_newest_first_with_counts(alice_api, bob_api, alice_sample, user, other_user):
    newer = Sample.objects.create(owner=user, identifier="S-002")
    Sample.objects.create(owner=other_user, identifier="B-001")
    body = alice_api.get(LIST_URL).json()
    assert body["count"] == 2
    assert [item["id"] for item in body["results"]] == [newer.pk, alice_sample.pk]
    assert [item["identifier"] for item in bob_api.get(LIST_URL).json()["results"]] == ["B-001"]


def test_batch_and_zip_images_go_into_the_sample(alice_api, alice_sample, model_path):
    archive = zip_of({f"cells/{name}": image_bytes(comment=name) for name in ("c.jpeg", "d.jpeg")})
    response = upload(
        alice_api,
        url("sample-images", alice_sample),
        upload_file("a.jpeg"),
        upload_file("b.jpeg"),
        upload_file("cells.zip", archive, "application/zip"),
    )
    assert response.status_code == 201
    assert {item["sample"] for item in response.json()["predictions"]} == {alice_sample.pk}
    assert sorted(alice_sample.predictions.values_list("original_filename", flat=True)) == [
        "a.jpeg",
        "b.jpeg",
        "c.jpeg",
        "d.jpeg",
    ]
    assert alice_api.get(url("sample", alice_sample)).json()["image_count"] == 4


def test_images_cannot_be_added_to_a_verified_sample(alice_api, user, django_user_model, model_path):
    sample = sample_verified_make(user, reviewer_make(django_user_model))
    response = upload(alice_api, url("sample-images", sample), upload_file("late.jpeg"))
    assert response.status_code == 400
    assert "verified" in response.json()["detail"]
    assert not Prediction.objects.filter(original_filename="late.jpeg").exists()


def sample_with_labels(sample, prediction, labels: list[str], **changes) -> None:
    """Give ``sample`` one prediction per label, copied from ``prediction``."""
    for label in labels:
        copy = Prediction.objects.get(pk=prediction.pk)
        copy.pk = None
        copy.sample, copy.predicted_label = sample, label
        for name, value in changes.items():
            setattr(copy, name, value)
        copy.save()


def test_differential_counts_percentages_intervals_and_flags(alice_api, alice_sample, alice_prediction, settings):
    settings.HEMATOVISION_REFERENCE_INTERVALS = {
        "NEUTROPHIL": [40, 70],
        "LYMPHOCYTE": [20, 40],
        "MONOCYTE": [2, 8],
        "EOSINOPHIL": [1, 6],
    }
    sample_with_labels(alice_sample, alice_prediction, ["NEUTROPHIL"] * 6 + ["LYMPHOCYTE"] * 3 + ["MONOCYTE"])
    response = alice_api.get(url("sample-differential", alice_sample))
    assert response.status_code == 200
    body = response.json()
    assert (body["sample"], body["total"]) == (alice_sample.pk, 10)
    rows = {row["class_name"]: row for row in body["rows"]}
    assert {name: (row["count"], row["percent"], row["flag"]) for name, row in rows.items()} == {
        "EOSINOPHIL": (0, 0.0, "low"),
        "LYMPHOCYTE": (3, 30.0, ""),
        "MONOCYTE": (1, 10.0, "high"),
        "NEUTROPHIL": (6, 60.0, ""),
    }
    assert (rows["MONOCYTE"]["reference_low"], rows["MONOCYTE"]["reference_high"]) == (2.0, 8.0)


def test_verify_is_refused_until_every_cell_is_reviewed(alice_reviewer_api, alice_sample, alice_prediction):
    sample_with_labels(alice_sample, alice_prediction, ["MONOCYTE"], needs_review=False, reviewed_label="")
    flagged = alice_sample.predictions.get()
    response = alice_reviewer_api.post(url("sample-verify", alice_sample))
    assert response.status_code == 400
    assert response.json() == {
        "detail": "1 of 1 cells are not reviewed yet: confirm, correct or exclude every cell "
        "before verifying the sample."
    }
    assert not Sample.objects.get().is_verified

    review = alice_reviewer_api.post(
        reverse("api:prediction-review", args=[flagged.pk]), {"label": "MONOCYTE"}, format="json"
    )
    assert review.status_code == 200
    response = alice_reviewer_api.post(url("sample-verify", alice_sample))
    assert response.status_code == 200
    assert response.json()["is_verified"] and response.json()["verified_by"] == "alice"


def test_non_reviewer_cannot_verify(alice_api, alice_sample):
    response = alice_api.post(url("sample-verify", alice_sample))
    assert response.status_code == 403
    assert "reviewers" in response.json()["detail"]
    assert not Sample.objects.get().is_verified


def test_delete_removes_the_sample_its_predictions_and_their_files(
    alice_api, alice_sample, alice_prediction, isolated_media, django_capture_on_commit_callbacks
):
    Prediction.objects.filter(pk=alice_prediction.pk).update(sample=alice_sample)
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_api.delete(url("sample", alice_sample))
    assert response.status_code == 204
    assert not Sample.objects.exists() and not Prediction.objects.exists()
    assert media_files(isolated_media) == []


@pytest.mark.parametrize(
    "method, name",
    [
        ("get", "sample"),
        ("delete", "sample"),
        ("post", "sample-images"),
        ("get", "sample-differential"),
        ("post", "sample-verify"),
    ],
)
def test_another_users_sample_is_404_on_every_endpoint_and_untouched(
    bob_reviewer_api,
    alice_sample,
    alice_prediction,
    model_path,
    isolated_media,
    method,
    name,
    django_capture_on_commit_callbacks,
):
    Prediction.objects.filter(pk=alice_prediction.pk).update(sample=alice_sample)
    files_before = media_files(isolated_media)
    with django_capture_on_commit_callbacks(execute=True):
        if name == "sample-images":
            response = upload(bob_reviewer_api, url(name, alice_sample), upload_file())
        else:
            response = getattr(bob_reviewer_api, method)(url(name, alice_sample))
    assert response.status_code == 404
    assert response.json() == {"detail": "No Sample matches the given query."}
    sample = Sample.objects.get()
    assert sample == alice_sample and not sample.is_verified
    assert list(Prediction.objects.all()) == [alice_prediction]
    assert media_files(isolated_media) == files_before


@pytest.mark.parametrize("field, length", [("identifier", 65), ("notes", NOTES_MAX_LENGTH + 1)])
def test_text_over_its_length_limit_is_a_json_400(alice_api, field, length):
    response = alice_api.post(reverse("api:samples"), {"identifier": "S-9", field: "a" * length}, format="json")
    assert response.status_code == 400
    assert "no more than" in response.json()[field][0]
    assert not Sample.objects.exists()


def test_the_sample_pages_uploader_posts_with_its_session_and_csrf_token(user, alice_sample, model_path):
    """What static/js/sample_upload.js sends: per-file failures come back, the good files are kept."""
    client, token = page_session(user, reverse("labs:sample_detail", args=[alice_sample.pk]))
    files = {"images": [upload_file("good.jpeg"), upload_file("bad.jpeg", b"no")]}
    refused = client.post(url("sample-images", alice_sample), files)
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    assert not Prediction.objects.exists()
    files = {"images": [upload_file("good.jpeg"), upload_file("bad.jpeg", b"no")]}
    response = client.post(url("sample-images", alice_sample), files, HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 201
    assert [item["original_filename"] for item in response.json()["predictions"]] == ["good.jpeg"]
    assert [error["filename"] for error in response.json()["errors"]] == ["bad.jpeg"]
    assert list(alice_sample.predictions.values_list("original_filename", flat=True)) == ["good.jpeg"]


def test_a_chunk_with_no_good_file_lists_every_reason(alice_api, alice_sample, model_path):
    response = upload(
        alice_api,
        url("sample-images", alice_sample),
        upload_file("a.jpeg", b"no"),
        upload_file("cell.gif", image_bytes("GIF")),
    )
    assert response.status_code == 400
    assert [error["filename"] for error in response.json()["errors"]] == ["a.jpeg", "cell.gif"]
    assert "is not an image" in response.json()["errors"][0]["reason"]


def test_the_differential_lists_a_basophil_under_other_cells_not_counted(alice_api, alice_sample, basophil_model):
    upload(alice_api, url("sample-images", alice_sample), upload_file("baso.jpeg"))
    body = alice_api.get(url("sample-differential", alice_sample)).json()
    assert body["total"] == 0 and all(row["count"] == 0 for row in body["rows"])
    assert body["other_cells"] == {"BASOPHIL": 1, "IMMATURE_GRANULOCYTE": 0, "ERYTHROBLAST": 0, "PLATELET": 0}
    assert (body["not_recognised"], body["excluded"]) == (0, 0)


def test_the_differential_counts_apart_what_is_not_recognised(alice_api, alice_sample, alice_prediction):
    sample_with_labels(alice_sample, alice_prediction, ["NEUTROPHIL"] * 2)
    sample_with_labels(alice_sample, alice_prediction, ["MONOCYTE"], review_reasons=["blank"], needs_review=True)
    body = alice_api.get(url("sample-differential", alice_sample)).json()
    assert (body["total"], body["not_recognised"]) == (2, 1)
    assert {row["class_name"]: row["percent"] for row in body["rows"]}["NEUTROPHIL"] == 100.0
