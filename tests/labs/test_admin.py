"""Staff manage every prediction, sample and lab in the admin; what the model produced and the audit trail are
read-only, and a verified sample can be neither changed nor deleted there."""

import datetime
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import formats, timezone

from classifier.models import Prediction
from classifier.services.predictions import prediction_create_many
from labs.models import Lab, Sample, SampleEvent
from labs.services.review import prediction_review
from labs.services.sign_off import sample_verify
from tests.factories import (
    image_bytes,
    lab_make,
    media_files,
    prediction_make,
    reviewer_make,
    sample_make,
    sample_verified_make,
    upload_file,
)

pytestmark = pytest.mark.django_db
CHANGELIST = reverse("admin:classifier_prediction_changelist")


@pytest.fixture
def bob_prediction(other_user, model_path):
    upload = upload_file("bob-smear.png", image_bytes("PNG"), "image/png")
    predictions, _ = prediction_create_many(owner=other_user, uploads=[upload])
    return predictions[0]


def change_url(prediction):
    return reverse("admin:classifier_prediction_change", args=[prediction.pk])


def listed(response):
    return [prediction.original_filename for prediction in response.context["cl"].result_list]


def test_changelist_shows_thumbnail_class_confidence_user_model_and_date(
    admin_client, alice_prediction, bob_prediction
):
    response = admin_client.get(CHANGELIST)
    assert response.status_code == 200
    assert sorted(listed(response)) == ["alice-cell.jpeg", "bob-smear.png"]
    content = response.content.decode()
    for column in (
        "thumbnail",
        "original_filename",
        "predicted_label",
        "confidence_percent",
        "owner",
        "model_version",
        "created_at",
    ):
        assert f"column-{column}" in content
    assert f'<img src="{reverse("classifier:preview", args=[alice_prediction.pk])}"' in content
    assert alice_prediction.get_predicted_label_display() in content
    assert f"{alice_prediction.confidence:.1%}" in content
    assert ">alice<" in content and ">bob<" in content
    assert str(alice_prediction.model_version) in content
    created = formats.date_format(timezone.localtime(alice_prediction.created_at), "DATETIME_FORMAT")
    assert created in content


def test_thumbnail_image_loads_for_staff(admin_client, alice_prediction):
    response = admin_client.get(reverse("classifier:preview", args=[alice_prediction.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"


@pytest.mark.parametrize(
    "query, expected",
    [
        ("alice", ["alice-cell.jpeg"]),
        ("bob", ["bob-smear.png"]),
        ("smear", ["bob-smear.png"]),
        ("cell.jpeg", ["alice-cell.jpeg"]),
        ("nobody", []),
    ],
)
def test_search_by_username_and_file_name(admin_client, alice_prediction, bob_prediction, query, expected):
    response = admin_client.get(CHANGELIST, {"q": query})
    assert response.status_code == 200
    assert listed(response) == expected


def test_filter_by_class(admin_client, alice_prediction, bob_prediction):
    Prediction.objects.filter(pk=bob_prediction.pk).update(predicted_label="MONOCYTE")
    Prediction.objects.filter(pk=alice_prediction.pk).update(predicted_label="NEUTROPHIL")
    assert listed(admin_client.get(CHANGELIST, {"predicted_label__exact": "MONOCYTE"})) == ["bob-smear.png"]


def test_model_outputs_are_read_only(admin_client, alice_prediction):
    response = admin_client.get(change_url(alice_prediction))
    assert response.status_code == 200
    form_fields = set(response.context["adminform"].form.fields)
    for field in (
        "predicted_label",
        "confidence",
        "probabilities",
        "nucleus_found",
        "model_version",
        "inference_ms",
        "image",
        "preview",
        "created_at",
    ):
        assert field not in form_fields
    content = response.content.decode()
    assert 'name="predicted_label"' not in content and 'name="confidence"' not in content

    before = Prediction.objects.values().get(pk=alice_prediction.pk)
    admin_client.post(
        change_url(alice_prediction),
        {
            "owner": alice_prediction.owner_id,
            "original_filename": "alice-cell.jpeg",
            "predicted_label": "MONOCYTE",
            "confidence": "0.01",
            "probabilities": "{}",
            "inference_ms": "1",
        },
    )
    after = Prediction.objects.values().get(pk=alice_prediction.pk)
    for field in ("predicted_label", "confidence", "probabilities", "inference_ms", "image", "preview"):
        assert after[field] == before[field]


def test_non_staff_user_cannot_open_the_admin(alice_client, alice_prediction):
    response = alice_client.get(CHANGELIST)
    assert response.status_code == 302 and reverse("admin:login") in response["Location"]


def test_deleting_from_the_admin_removes_the_files(
    admin_client, alice_prediction, bob_prediction, isolated_media, django_capture_on_commit_callbacks
):
    alice_files = {alice_prediction.image.name, alice_prediction.preview.name, alice_prediction.cell_crop.name}
    delete_url = reverse("admin:classifier_prediction_delete", args=[alice_prediction.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(delete_url, {"post": "yes"})
    assert response.status_code == 302
    assert list(Prediction.objects.values_list("original_filename", flat=True)) == ["bob-smear.png"]
    remaining = {path.relative_to(isolated_media).as_posix() for path in media_files(isolated_media)}
    assert not remaining & alice_files
    assert remaining == {bob_prediction.image.name, bob_prediction.preview.name, bob_prediction.cell_crop.name}


def test_bulk_delete_action_removes_the_files(
    admin_client, alice_prediction, bob_prediction, isolated_media, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            CHANGELIST,
            {"action": "delete_selected", "post": "yes", "_selected_action": [alice_prediction.pk, bob_prediction.pk]},
        )
    assert response.status_code == 302
    assert not Prediction.objects.exists()
    assert media_files(isolated_media) == []


def test_staff_manage_users_of_the_custom_user_model(admin_client, user):
    response = admin_client.get(reverse("admin:accounts_user_changelist"))
    assert response.status_code == 200 and "alice" in response.content.decode()


@pytest.fixture
def verified(user, django_user_model):
    return sample_verified_make(user, reviewer_make(django_user_model), lab=lab_make(user))


def test_samples_list_their_lab_owner_cells_and_verification(admin_client, verified):
    content = admin_client.get(reverse("admin:labs_sample_changelist")).content.decode()
    assert "S-DONE" in content and "Haematology North" in content and "Verified by rita on" in content


def test_a_sample_shows_its_cells_and_audit_trail_read_only(admin_client, verified):
    response = admin_client.get(reverse("admin:labs_sample_change", args=[verified.pk]))
    content = response.content.decode()
    assert response.status_code == 200
    assert "done-0.jpeg" in content and "done-1.jpeg" in content and "Verified" in content
    assert "Confirmed by rita" in content and "70.0%" in content
    assert 'name="predictions-0-predicted_label"' not in content and 'name="identifier"' not in content
    cells = admin_client.get(f"{CHANGELIST}?sample__id__exact={verified.pk}")  # the link to every cell
    assert f'href="{CHANGELIST}?sample__id__exact={verified.pk}"' in content
    assert sorted(listed(cells)) == ["done-0.jpeg", "done-1.jpeg"]
    events = reverse("admin:labs_sampleevent_changelist")
    assert f'href="{events}?sample__id__exact={verified.pk}"' in content
    assert admin_client.get(f"{events}?sample__id__exact={verified.pk}").context["cl"].result_count == 1


def cells_bulk_make(sample, reviewer, count: int) -> None:
    """``count`` reviewed cells of ``sample``, written at once (their image files are never read here)."""
    version = prediction_make(sample, reviewed_label="NEUTROPHIL", reviewer=reviewer).model_version
    Prediction.objects.bulk_create(
        Prediction(
            owner=sample.owner,
            sample=sample,
            image=f"predictions/bulk/{index}.jpeg",
            preview=f"predictions/bulk/{index}-preview.jpeg",
            image_width=320,
            image_height=240,
            original_filename=f"bulk-{index:03}.jpeg",
            predicted_label="NEUTROPHIL",
            confidence=0.9,
            probabilities={"NEUTROPHIL": 0.9, "MONOCYTE": 0.1},
            reviewed_label="NEUTROPHIL",
            reviewed_by=reviewer,
            reviewed_at=timezone.now(),
            model_version=version,
            inference_ms=1.0,
        )
        for index in range(count - 1)
    )
    SampleEvent.objects.bulk_create(
        SampleEvent(sample=sample, actor=reviewer, kind="confirmed", cell=f"bulk-{index:03}.jpeg")
        for index in range(count)
    )


def test_the_page_of_a_500_cell_sample_opens_in_a_second_in_a_bounded_number_of_queries(
    admin_client, user, django_user_model, django_assert_max_num_queries
):
    reviewer = reviewer_make(django_user_model)
    small, large = sample_make(user, "S-SMALL"), sample_make(user, "S-500")
    cells_bulk_make(small, reviewer, 3)
    cells_bulk_make(large, reviewer, 500)
    with CaptureQueriesContext(connection) as few:
        assert admin_client.get(reverse("admin:labs_sample_change", args=[small.pk])).status_code == 200
    started = time.perf_counter()
    with django_assert_max_num_queries(len(few)):  # as many for 500 cells as for 3
        response = admin_client.get(reverse("admin:labs_sample_change", args=[large.pk]))
    assert time.perf_counter() - started < 1.0
    content = response.content.decode()
    assert "500 cells; reviewed 500" in content and "All 500 cells in the Predictions list" in content
    assert content.count('class="admin-thumbnail"') == 20 and "The latest 10 of 500 entries." in content
    with django_assert_max_num_queries(len(few)):  # and the samples list, one row per sample, no query per row
        listing = admin_client.get(reverse("admin:labs_sample_changelist")).content.decode()
    assert '<td class="field-cell_count">500</td>' in listing


def test_the_admin_shows_probabilities_as_percentages_and_people_by_name(admin_client, user, django_user_model):
    reviewer = reviewer_make(django_user_model)
    reviewer.first_name, reviewer.last_name = "Rita", "Levi"
    reviewer.save()
    sample = sample_make(user, "S-NAMES")
    cell = prediction_make(sample, "MONOCYTE", reviewed_label="NEUTROPHIL", reviewer=reviewer)
    page = admin_client.get(change_url(cell)).content.decode()
    assert "Monocyte 70.0%, Eosinophil 10.0%" in page and "0.7" not in page.split("Probabilities")[1][:400]
    assert "Rita Levi (rita)" in page
    sample_verify(sample=sample, reviewer=reviewer)
    listing = admin_client.get(reverse("admin:labs_sample_changelist")).content.decode()
    assert "Verified by Rita Levi on " in listing
    trail = admin_client.get(reverse("admin:labs_sampleevent_changelist")).content.decode()
    assert "Rita Levi (rita)" in trail and ">rita<" not in trail


def test_the_admin_shows_times_in_the_labs_format_and_zone(admin_client, settings, verified):
    settings.TIME_ZONE = "Europe/Berlin"
    moment = datetime.datetime(2026, 12, 1, 17, 5, tzinfo=datetime.UTC)
    Sample.objects.filter(pk=verified.pk).update(created_at=moment, verified_at=moment)
    listing = admin_client.get(reverse("admin:labs_sample_changelist")).content.decode()
    assert listing.count("1 Dec 2026, 18:05 CET") == 2  # created, and verified
    page = admin_client.get(reverse("admin:labs_sample_change", args=[verified.pk])).content.decode()
    assert "1 Dec 2026, 18:05 CET" in page


def test_a_verified_sample_and_its_cells_cannot_be_changed_or_deleted_in_the_admin(admin_client, verified):
    cell = verified.predictions.first()
    before = (Prediction.objects.values().get(pk=cell.pk), Sample.objects.values().get(pk=verified.pk))
    admin_client.post(
        reverse("admin:labs_sample_change", args=[verified.pk]), {"identifier": "CHANGED", "notes": "", "lab": ""}
    )
    admin_client.post(change_url(cell), {"owner": cell.owner_id, "original_filename": "renamed.jpeg"})
    for url in (
        reverse("admin:labs_sample_delete", args=[verified.pk]),
        reverse("admin:classifier_prediction_delete", args=[cell.pk]),
    ):
        assert admin_client.post(url, {"post": "yes"}).status_code == 403
    admin_client.post(CHANGELIST, {"action": "delete_selected", "post": "yes", "_selected_action": [cell.pk]})
    admin_client.post(
        reverse("admin:labs_sample_changelist"),
        {"action": "delete_selected", "post": "yes", "_selected_action": [verified.pk]},
    )
    assert (Prediction.objects.values().get(pk=cell.pk), Sample.objects.values().get(pk=verified.pk)) == before


def test_an_open_sample_with_an_audit_trail_can_be_deleted_in_the_admin(admin_client, user, django_user_model):
    sample = sample_make(user, "S-OPEN")
    prediction_review(prediction=prediction_make(sample), reviewer=reviewer_make(django_user_model), label="MONOCYTE")
    response = admin_client.post(reverse("admin:labs_sample_delete", args=[sample.pk]), {"post": "yes"})
    assert response.status_code == 302 and not Sample.objects.exists() and not SampleEvent.objects.exists()


def test_an_account_holding_a_verified_sample_cannot_be_deleted_in_the_admin(
    admin_client, verified, user, django_user_model
):
    """Its samples and cells would go with it; the frozen record's admin refuses that."""
    member = django_user_model.objects.create_user("mia", password="s3cret-pass-mia")
    Prediction.objects.filter(pk=verified.predictions.first().pk).update(owner=member)  # a colleague's upload
    for account in (user, member):
        url = reverse("admin:accounts_user_delete", args=[account.pk])
        assert "Cannot delete user" in admin_client.get(url).content.decode()
        admin_client.post(url, {"post": "yes"})
    admin_client.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "delete_selected", "post": "yes", "_selected_action": [user.pk, member.pk]},
    )
    assert django_user_model.objects.filter(pk__in=[user.pk, member.pk]).count() == 2
    assert Sample.objects.filter(pk=verified.pk).exists() and verified.predictions.count() == 2


def test_an_account_without_verified_samples_can_still_be_deleted(admin_client, other_user):
    response = admin_client.post(reverse("admin:accounts_user_delete", args=[other_user.pk]), {"post": "yes"})
    assert response.status_code == 302 and not type(other_user).objects.filter(pk=other_user.pk).exists()


def test_labs_are_managed_with_their_members(admin_client, user, other_user):
    response = admin_client.post(
        reverse("admin:labs_lab_add"),
        {"name": "Haematology South", "slug": "haematology-south", "members": [user.pk, other_user.pk]},
    )
    assert response.status_code == 302
    assert set(Lab.objects.get().members.all()) == {user, other_user}
    assert ">2<" in admin_client.get(reverse("admin:labs_lab_changelist")).content.decode()


def test_the_audit_trail_is_read_only_in_the_admin(admin_client, verified):
    event = SampleEvent.objects.get()
    assert admin_client.get(reverse("admin:labs_sampleevent_changelist")).status_code == 200
    page = admin_client.get(reverse("admin:labs_sampleevent_change", args=[event.pk])).content.decode()
    assert 'name="reason"' not in page
    assert (
        admin_client.post(reverse("admin:labs_sampleevent_delete", args=[event.pk]), {"post": "yes"}).status_code == 403
    )
    assert admin_client.get(reverse("admin:labs_sampleevent_add")).status_code == 403
    assert SampleEvent.objects.get() == event
