"""The four-eyes rule (``HEMATOVISION_UNVERIFY_FOUR_EYES``): whoever un-verified a sample, withdrawing its signed
report, may not verify it again; another reviewer may. Refused with the reason on the page and in the API; off by
default."""

import pytest
from django.urls import reverse

from labs.models import ReportRevision
from labs.services.sign_off import sample_unverify, sample_verify
from tests.factories import lab_make, prediction_make, reviewer_make, sample_make, senior_reviewer_make, token_client

pytestmark = pytest.mark.django_db
REFUSAL = "Four-eyes rule: you withdrew revision 1 of this report, so another reviewer must verify the sample again."


@pytest.fixture
def vera(django_user_model):
    return senior_reviewer_make(django_user_model, "vera")


@pytest.fixture
def rob(django_user_model):
    return reviewer_make(django_user_model, "rob")


@pytest.fixture
def withdrawn(user, vera, rob):
    """A sample Vera verified and then un-verified."""
    sample = sample_make(user, "S-4EYES", lab=lab_make(user, vera, rob))
    prediction_make(sample, reviewed_label="NEUTROPHIL", reviewer=vera)
    sample_verify(sample=sample, reviewer=vera)
    return sample_unverify(sample=sample, actor=vera, reason="Recount")


@pytest.fixture
def four_eyes(settings):
    settings.HEMATOVISION_UNVERIFY_FOUR_EYES = True


def page(client, user, sample):
    client.force_login(user)
    return client.get(reverse("labs:sample_detail", args=[sample.pk])).content.decode()


def verified_by(sample):
    sample.refresh_from_db()
    return sample.verified_by


def test_the_withdrawer_is_refused_on_the_page(client, four_eyes, withdrawn, vera):
    content = page(client, vera, withdrawn)
    assert REFUSAL in content and 'id="verify-form"' not in content
    response = client.post(reverse("labs:sample_verify", args=[withdrawn.pk]), follow=True)
    assert REFUSAL in response.content.decode()
    assert verified_by(withdrawn) is None and ReportRevision.objects.count() == 1


def test_the_withdrawer_is_refused_in_the_api(four_eyes, withdrawn, vera):
    response = token_client(vera).post(reverse("api:sample-verify", args=[withdrawn.pk]))
    assert response.status_code == 400 and response.json() == {"detail": REFUSAL}
    assert verified_by(withdrawn) is None


def test_another_reviewer_verifies_it_again(client, four_eyes, withdrawn, rob):
    content = page(client, rob, withdrawn)
    assert 'id="verify-form"' in content and "Four-eyes" not in content
    assert (
        "is verified" in client.post(reverse("labs:sample_verify", args=[withdrawn.pk]), follow=True).content.decode()
    )
    assert verified_by(withdrawn) == rob and ReportRevision.objects.get(number=2).verified_by == rob


def test_without_the_rule_the_withdrawer_may_verify_again(withdrawn, vera, settings):
    settings.HEMATOVISION_UNVERIFY_FOUR_EYES = False  # the default (tests/hematovision/test_settings.py)
    response = token_client(vera).post(reverse("api:sample-verify", args=[withdrawn.pk]))
    assert response.status_code == 200 and verified_by(withdrawn) == vera
