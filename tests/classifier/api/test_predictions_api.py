"""/api/predictions/: upload (single, batch, ZIP), paginated and filtered list, detail, delete, isolation."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework import serializers
from rest_framework.test import APIRequestFactory

from classifier import model_gateway
from classifier.api.serializers import PredictionSerializer
from classifier.models import Prediction
from tests.factories import blank_rgb, image_bytes, media_files, page_session, upload, upload_file, zip_of

pytestmark = pytest.mark.django_db
LIST_URL = reverse("api:predictions")
CLASSES = {"EOSINOPHIL", "LYMPHOCYTE", "MONOCYTE", "NEUTROPHIL"}


def detail_url(prediction) -> str:
    return reverse("api:prediction", args=[prediction.pk])


def copy_of(prediction, **changes) -> Prediction:
    """Another row like ``prediction`` (sharing its files): cheap data for list and filter tests."""
    created_at = changes.pop("created_at", None)
    copy = Prediction.objects.get(pk=prediction.pk)
    copy.pk = None
    for name, value in changes.items():
        setattr(copy, name, value)
    copy.save()
    if created_at:
        Prediction.objects.filter(pk=copy.pk).update(created_at=created_at)
    return copy


def test_single_image_is_classified_and_returned_with_all_probabilities(alice_api, model_path, user):
    response = upload(alice_api, LIST_URL, upload_file("cell.jpeg"))
    assert response.status_code == 201
    body = response.json()
    assert body["errors"] == []
    [created] = body["predictions"]
    prediction = Prediction.objects.get(owner=user)
    assert created["id"] == prediction.pk and created["original_filename"] == "cell.jpeg"
    assert set(created["probabilities"]) == CLASSES
    assert created["predicted_label"] == created["final_label"] == prediction.predicted_label
    assert created["model_version"] == prediction.model_version.sha256
    assert created["runtime"] == prediction.runtime == model_gateway.get_classifier().runtime
    assert created["preview_url"].endswith(reverse("api:prediction-preview", args=[prediction.pk]))


def test_batch_upload_classifies_every_file(alice_api, model_path):
    files = [upload_file(f"cell-{index}.jpeg") for index in range(3)]
    files.append(upload_file("cell.png", image_bytes("PNG"), "image/png"))
    response = upload(alice_api, LIST_URL, *files)
    assert response.status_code == 201
    names = ["cell-0.jpeg", "cell-1.jpeg", "cell-2.jpeg", "cell.png"]
    assert [item["original_filename"] for item in response.json()["predictions"]] == names
    assert sorted(Prediction.objects.values_list("original_filename", flat=True)) == names


def test_zip_upload_is_expanded_into_its_images(alice_api, model_path):
    archive = zip_of({"smear/a.jpeg": image_bytes(), "smear/b.png": image_bytes("PNG"), "smear/readme.txt": b"hi"})
    response = upload(alice_api, LIST_URL, upload_file("smear.zip", archive, "application/zip"))
    assert response.status_code == 201
    body = response.json()
    assert sorted(item["original_filename"] for item in body["predictions"]) == ["a.jpeg", "b.png"]
    assert [error["filename"] for error in body["errors"]] == ["readme.txt"]
    assert Prediction.objects.count() == 2


def test_bad_file_is_reported_by_name_and_the_good_ones_are_kept(alice_api, model_path):
    response = upload(
        alice_api,
        LIST_URL,
        upload_file("good.jpeg"),
        upload_file("notes.jpeg", b"lab notes"),
        upload_file("empty.jpeg", b""),
    )
    assert response.status_code == 201
    body = response.json()
    assert [item["original_filename"] for item in body["predictions"]] == ["good.jpeg"]
    reasons = {error["filename"]: error["reason"] for error in body["errors"]}
    assert list(reasons) == ["notes.jpeg", "empty.jpeg"]
    assert "is not an image" in reasons["notes.jpeg"] and "the file is empty" in reasons["empty.jpeg"]
    assert list(Prediction.objects.values_list("original_filename", flat=True)) == ["good.jpeg"]


def test_only_bad_files_is_a_400_listing_each_reason_and_stores_nothing(alice_api, model_path, isolated_media):
    response = upload(alice_api, LIST_URL, upload_file("cell.gif", image_bytes("GIF"), "image/gif"))
    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == "None of the files could be classified."
    assert body["errors"] == [
        {"filename": "cell.gif", "reason": "cell.gif: only BMP, JPEG, PNG and TIFF files are accepted."}
    ]
    assert not Prediction.objects.exists() and not media_files(isolated_media)


def test_upload_without_files_is_a_400_naming_the_field(alice_api, model_path):
    response = alice_api.post(LIST_URL, {}, format="multipart")
    assert response.status_code == 400
    assert response.json() == {"images": ["This field is required."]}


def test_missing_model_is_a_503_json_and_stores_nothing(
    alice_api, settings, tmp_path, fresh_model_cache, isolated_media
):
    settings.HEMATOVISION_MODEL_PATH = tmp_path / "absent.keras"
    response = upload(alice_api, LIST_URL, upload_file())
    assert response.status_code == 503
    detail = response.json()["detail"]
    assert detail.startswith("The classifier is not available:") and "train_model" in detail
    assert str(tmp_path) not in detail
    assert not Prediction.objects.exists() and not media_files(isolated_media)


def test_list_is_paginated_newest_first(alice_api, alice_prediction, settings):
    copies = [copy_of(alice_prediction) for _ in range(settings.PAGINATE_BY)]
    first = alice_api.get(LIST_URL).json()
    assert first["count"] == settings.PAGINATE_BY + 1
    assert [item["id"] for item in first["results"]] == [copy.pk for copy in reversed(copies)]
    second = alice_api.get(first["next"]).json()
    assert [item["id"] for item in second["results"]] == [alice_prediction.pk]


def test_list_shows_only_the_users_own_predictions(bob_api, alice_prediction):
    response = bob_api.get(LIST_URL)
    assert response.status_code == 200
    assert response.json()["count"] == 0


def test_staff_see_everyones_predictions(bob_api, alice_prediction, other_user):
    other_user.is_staff = True
    other_user.save()
    assert [item["id"] for item in bob_api.get(LIST_URL).json()["results"]] == [alice_prediction.pk]


@pytest.fixture
def varied_predictions(alice_prediction, alice_sample):
    """One prediction per filter, each differing from the original in exactly that respect."""
    other_label = next(name for name in sorted(CLASSES) if name != alice_prediction.predicted_label)
    Prediction.objects.filter(pk=alice_prediction.pk).update(needs_review=False)
    return {
        "original": alice_prediction,
        "label": copy_of(alice_prediction, predicted_label=other_label),
        "needs_review": copy_of(alice_prediction, needs_review=True),
        "old": copy_of(alice_prediction, created_at=timezone.now() - datetime.timedelta(days=30)),
        "sample": copy_of(alice_prediction, sample=alice_sample),
    }


def test_list_filters_by_label_review_flag_date_and_sample(alice_api, varied_predictions):
    def listed(**params) -> set[int]:
        response = alice_api.get(LIST_URL, params)
        assert response.status_code == 200
        return {item["id"] for item in response.json()["results"]}

    ids = {name: prediction.pk for name, prediction in varied_predictions.items()}
    assert listed(label=varied_predictions["label"].predicted_label) == {ids["label"]}
    assert listed(needs_review="true") == {ids["needs_review"]}
    month_ago = (timezone.now() - datetime.timedelta(days=30)).date().isoformat()
    assert listed(date_to=month_ago) == {ids["old"]}
    assert listed(date_from=timezone.now().date().isoformat()) == set(ids.values()) - {ids["old"]}
    assert listed(sample=varied_predictions["sample"].sample_id) == {ids["sample"]}


def test_malformed_filter_is_a_json_400(alice_api, alice_prediction):
    response = alice_api.get(LIST_URL, {"label": "CAT", "date_from": "yesterday"})
    assert response.status_code == 400
    assert set(response.json()) == {"label", "date_from"}


def test_detail_returns_the_prediction(alice_api, alice_prediction):
    response = alice_api.get(detail_url(alice_prediction))
    assert response.status_code == 200
    assert response.json()["id"] == alice_prediction.pk
    assert response.json()["confidence"] == pytest.approx(alice_prediction.confidence)


def test_delete_removes_the_prediction_and_its_files(
    alice_api, alice_prediction, isolated_media, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_api.delete(detail_url(alice_prediction))
    assert response.status_code == 204
    assert not Prediction.objects.exists()
    assert media_files(isolated_media) == []


@pytest.mark.parametrize("method", ["get", "delete"])
def test_another_users_prediction_is_404_and_untouched(
    bob_api, alice_prediction, isolated_media, method, django_capture_on_commit_callbacks
):
    files_before = media_files(isolated_media)
    with django_capture_on_commit_callbacks(execute=True):
        response = getattr(bob_api, method)(detail_url(alice_prediction))
    assert response.status_code == 404
    assert response.json() == {"detail": "No Prediction matches the given query."}
    assert Prediction.objects.get() == alice_prediction
    assert media_files(isolated_media) == files_before


def test_token_client_downloads_its_own_image_and_preview(alice_api, alice_prediction):
    original = alice_api.get(reverse("api:prediction-image", args=[alice_prediction.pk]))
    preview = alice_api.get(reverse("api:prediction-preview", args=[alice_prediction.pk]))
    assert original.status_code == 200 and preview.status_code == 200
    assert b"".join(original.streaming_content) == alice_prediction.image.open("rb").read()
    assert preview["Content-Type"] == "image/jpeg"


def test_other_user_cannot_download_the_image(bob_api, alice_prediction):
    for name in ("api:prediction-image", "api:prediction-preview"):
        assert bob_api.get(reverse(name, args=[alice_prediction.pk])).status_code == 404


def test_upload_over_the_file_limit_is_a_400_with_the_number(alice_api, model_path, settings):
    settings.HEMATOVISION_MAX_FILES_PER_UPLOAD = 2
    zip_file = upload_file("cells.zip", zip_of({f"cell-{i}.jpeg": image_bytes() for i in range(3)}), "application/zip")
    response = upload(alice_api, LIST_URL, zip_file)
    assert response.status_code == 400
    assert response.json() == {
        "detail": "This upload holds 3 files (ZIP contents included); at most 2 files per "
        "upload. Send them in several uploads."
    }


def test_an_empty_zip_is_a_400_saying_so(alice_api, model_path):
    response = upload(alice_api, LIST_URL, upload_file("empty.zip", zip_of({}), "application/zip"))
    assert response.status_code == 400
    assert response.json() == {"detail": "Nothing to classify: the upload held no images."}


def test_each_prediction_says_whether_its_class_is_headlined(alice_api, model_path, settings):
    settings.HEMATOVISION_CONFIDENCE_THRESHOLD = 0.0  # only the image checks can object
    blank = upload_file("blank.png", image_bytes("PNG", rgb=blank_rgb()), "image/png")
    response = upload(alice_api, LIST_URL, upload_file("cell.jpeg"), blank)
    by_name = {item["original_filename"]: item for item in response.json()["predictions"]}
    assert by_name["cell.jpeg"]["recognised"] is True
    assert by_name["blank.png"]["recognised"] is False and "blank" in by_name["blank.png"]["review_reasons"]
    assert by_name["blank.png"]["predicted_label"] in CLASSES  # the fields stay; recognised says what they mean


def test_the_upload_pages_script_posts_with_its_session_and_csrf_token(user, model_path):
    """What static/js/upload.js sends; the ids it gets open the results page."""
    client, token = page_session(user, reverse("classifier:upload"))
    assert client.post(LIST_URL, {"images": [upload_file("cell.jpeg")]}).status_code == 403
    response = client.post(LIST_URL, {"images": [upload_file("cell.jpeg")]}, HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 201
    [created] = response.json()["predictions"]
    results = client.get(reverse("classifier:results"), {"ids": created["id"]}).content.decode()
    assert "cell.jpeg" in results


def test_a_basophil_answer_is_stored_as_such_needs_review_and_is_not_counted(alice_api, basophil_model, user):
    response = upload(alice_api, LIST_URL, upload_file("baso.jpeg"))
    assert response.status_code == 201
    [created] = response.json()["predictions"]
    assert created["predicted_label"] == created["final_label"] == "BASOPHIL"
    assert created["needs_review"] and created["review_reasons"] == ["other_kind"]
    assert created["counted"] is False and created["recognised"] is True
    assert set(created["probabilities"]) == CLASSES | {"BASOPHIL", "IMMATURE_GRANULOCYTE", "ERYTHROBLAST", "PLATELET"}
    assert Prediction.objects.get(owner=user).predicted_label == "BASOPHIL"


def test_a_model_of_the_four_classes_only_still_classifies_and_counts(alice_api, model_path):
    [created] = upload(alice_api, LIST_URL, upload_file("cell.jpeg")).json()["predictions"]
    assert set(created["probabilities"]) == CLASSES
    assert created["predicted_label"] in CLASSES and created["counted"] is True


def test_a_single_image_upload_reads_the_token_and_writes_the_prediction_and_nothing_else(alice_api, model_path):
    """Queries per upload (issue 23): the token's one read, unordered (its digest is unique), and the prediction's
    one insert, with no transaction (nor, inside the test's, a savepoint) around that lone INSERT. A first upload
    registers the model version, so the second one is counted."""
    upload(alice_api, "/api/predictions/", upload_file("first.jpeg"))
    with CaptureQueriesContext(connection) as queries:
        response = upload(alice_api, "/api/predictions/", upload_file("second.jpeg"))
    assert response.status_code == 201
    statements = [query["sql"] for query in queries]
    assert len(statements) == 2, statements
    assert statements[0].startswith("SELECT") and '"accounts_apitoken"' in statements[0]
    assert "ORDER BY" not in statements[0]
    assert statements[1].startswith('INSERT INTO "classifier_prediction"')


def test_the_answers_fields_are_built_once_and_answer_as_a_fresh_build(alice_api, model_path, monkeypatch):
    """DRF would build the prediction serializer's fields from the model for every answer (issue 23)."""
    builds, build = [], serializers.ModelSerializer.get_fields

    def counted(serializer):
        builds.append(type(serializer))
        return build(serializer)

    monkeypatch.setattr(serializers.ModelSerializer, "get_fields", counted)
    monkeypatch.delattr(PredictionSerializer, "_built_fields", raising=False)
    for name in ("first.jpeg", "second.jpeg"):
        assert upload(alice_api, LIST_URL, upload_file(name)).status_code == 201
    assert builds == [PredictionSerializer]

    class Rebuilt(PredictionSerializer):
        def get_fields(self):
            return build(self)

    request = APIRequestFactory().get(LIST_URL)
    for prediction in Prediction.objects.all():
        assert PredictionSerializer(prediction, context={"request": request}).data == (
            Rebuilt(prediction, context={"request": request}).data
        )


def test_a_prediction_made_by_the_int8_export_says_so(alice_api, settings, int8_model_path, fresh_model_cache):
    settings.HEMATOVISION_MODEL_PATH, settings.HEMATOVISION_RUNTIME_PRECISION = int8_model_path, "int8"
    response = upload(alice_api, LIST_URL, upload_file("cell.jpeg"))
    assert response.status_code == 201
    assert "(int8, CPU)" in response.json()["predictions"][0]["runtime"]
    assert "(int8, CPU)" in Prediction.objects.get().runtime
