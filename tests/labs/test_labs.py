"""Laboratories on the web pages: members see and work on their lab's samples, its reviewers review and verify
them, nobody outside the lab sees them (404), and predictions outside samples stay their owner's."""

import pytest
from django.urls import reverse

from labs.models import Sample
from tests.factories import lab_make, prediction_make, reviewer_grant, sample_make, upload_file
from tests.labs.sample_pages import POST_DATA, SAMPLE_PAGES

pytestmark = pytest.mark.django_db
LIST_URL = reverse("labs:samples")


@pytest.fixture
def tech(django_user_model):
    return django_user_model.objects.create_user("tess", password="s3cret-pass-tess")


@pytest.fixture
def senior(django_user_model):
    """A reviewer of the same lab."""
    return reviewer_grant(django_user_model.objects.create_user("sam", password="s3cret-pass-sam"))


@pytest.fixture
def outsider(django_user_model):
    """A reviewer of another lab: review rights do not open other labs' samples."""
    outsider = reviewer_grant(django_user_model.objects.create_user("otto", password="s3cret-pass-otto"))
    lab_make(outsider, name="Elsewhere", slug="elsewhere")
    return outsider


@pytest.fixture
def lab(tech, senior):
    return lab_make(tech, senior)


@pytest.fixture
def lab_sample(tech, lab):
    sample = sample_make(tech, "S-LAB", lab=lab)
    prediction_make(sample, "NEUTROPHIL", filename="lab-cell.jpeg")
    return sample


def as_user(client, user):
    client.force_login(user)
    return client


def test_the_form_offers_only_the_users_labs_and_creates_the_sample_in_one(client, tech, lab, outsider):
    client = as_user(client, tech)
    form = client.get(LIST_URL).context["form"]
    assert list(form.fields["lab"].queryset) == [lab] and form.fields["lab"].initial == lab
    client.post(LIST_URL, {"identifier": "S-NEW", "lab": lab.pk})
    assert Sample.objects.get(identifier="S-NEW").lab == lab


def test_a_lab_the_user_is_not_in_is_refused(client, tech, lab, outsider):
    other_lab = outsider.labs.get()
    response = as_user(client, tech).post(LIST_URL, {"identifier": "S-NEW", "lab": other_lab.pk})
    assert response.status_code == 400 and not Sample.objects.exists()


def test_users_in_no_lab_get_no_lab_field_and_owner_only_samples(alice_client, user):
    assert "lab" not in alice_client.get(LIST_URL).context["form"].fields
    alice_client.post(LIST_URL, {"identifier": "S-MINE"})
    assert Sample.objects.get().lab is None


def test_two_samples_of_a_lab_cannot_share_an_identifier(client, senior, lab_sample, lab):
    response = as_user(client, senior).post(LIST_URL, {"identifier": "S-LAB", "lab": lab.pk})
    assert response.status_code == 400
    assert "Haematology North already has a sample called" in response.content.decode()


def test_members_see_their_labs_samples_in_the_list(client, senior, lab_sample, outsider):
    content = as_user(client, senior).get(LIST_URL).content.decode()
    assert "S-LAB" in content and "Haematology North" in content
    assert "S-LAB" not in as_user(client, outsider).get(LIST_URL).content.decode()


def test_a_member_adds_images_to_a_colleagues_sample(client, senior, lab_sample, model_path):
    response = as_user(client, senior).post(
        reverse("labs:sample_upload", args=[lab_sample.pk]), {"images": [upload_file("by-sam.jpeg")]}
    )
    assert response.status_code == 302
    added = lab_sample.predictions.get(original_filename="by-sam.jpeg")
    assert added.owner == senior


def test_a_reviewer_of_the_lab_reviews_and_verifies_a_colleagues_sample(client, senior, lab_sample):
    client = as_user(client, senior)
    prediction = lab_sample.predictions.get()
    page = client.get(reverse("labs:sample_review", args=[lab_sample.pk]))
    assert page.status_code == 200 and page.context["can_review"]
    assert client.get(reverse("classifier:cell_crop", args=[prediction.pk])).status_code == 200
    assert client.get(reverse("classifier:preview", args=[prediction.pk])).status_code == 200
    client.post(reverse("labs:prediction_review", args=[lab_sample.pk, prediction.pk]), {"label": "MONOCYTE"})
    client.post(reverse("labs:sample_verify", args=[lab_sample.pk]))
    lab_sample.refresh_from_db()
    assert lab_sample.verified_by == senior


def test_a_member_without_the_review_permission_only_reads(client, django_user_model, lab, lab_sample):
    member = django_user_model.objects.create_user("mia", password="s3cret-pass-mia")
    lab.members.add(member)
    client = as_user(client, member)
    assert client.get(reverse("labs:sample_detail", args=[lab_sample.pk])).status_code == 200
    prediction = lab_sample.predictions.get()
    assert (
        client.post(
            reverse("labs:prediction_review", args=[lab_sample.pk, prediction.pk]), {"label": "MONOCYTE"}
        ).status_code
        == 403
    )


@pytest.mark.parametrize("method, name, needs_prediction", SAMPLE_PAGES)
def test_another_labs_reviewer_gets_404_everywhere(client, outsider, lab_sample, method, name, needs_prediction):
    prediction = lab_sample.predictions.get()
    args = [lab_sample.pk, prediction.pk] if needs_prediction else [lab_sample.pk]
    data = POST_DATA if method == "post" else {}
    response = getattr(as_user(client, outsider), method)(reverse(name, args=args), data)
    assert response.status_code == 404 and b"S-LAB" not in response.content
    prediction.refresh_from_db()
    assert prediction.reviewed_label == ""


@pytest.mark.parametrize("name", ["classifier:cell_crop", "classifier:preview", "classifier:original"])
def test_another_labs_reviewer_gets_404_for_the_cell_images(client, outsider, lab_sample, name):
    prediction = lab_sample.predictions.get()
    assert as_user(client, outsider).get(reverse(name, args=[prediction.pk])).status_code == 404


def test_leaving_the_lab_closes_its_samples(client, senior, lab, lab_sample):
    lab.members.remove(senior)
    assert as_user(client, senior).get(reverse("labs:sample_detail", args=[lab_sample.pk])).status_code == 404


def test_predictions_outside_samples_stay_private_to_their_owner(client, tech, senior, lab):
    private = prediction_make(None, owner=tech, filename="private.jpeg")
    client = as_user(client, senior)
    for name in ("classifier:detail", "classifier:preview", "classifier:cell_crop"):
        assert client.get(reverse(name, args=[private.pk])).status_code == 404
    assert "private.jpeg" not in client.get(reverse("classifier:history")).content.decode()


def test_a_colleagues_cell_is_not_in_my_history_nor_deletable_from_the_web(client, senior, lab_sample):
    prediction = lab_sample.predictions.get()
    client = as_user(client, senior)
    assert "lab-cell.jpeg" not in client.get(reverse("classifier:history")).content.decode()
    assert client.post(reverse("classifier:delete", args=[prediction.pk])).status_code == 404
    assert lab_sample.predictions.exists()
