"""A verified sample is a frozen record on the web pages: no review, exclusion, upload or delete changes it; only
a holder of the un-verify permission opens it again, with a reason; the audit trail on the sample page keeps
every review, correction, exclusion, verification and un-verification."""

import pytest
from django.urls import reverse

from classifier.models import Prediction
from labs.differential import sample_report_number
from labs.models import SampleEvent
from tests.factories import (
    lab_make,
    media_files,
    sample_verified_make,
    unverifier_grant,
    upload_file,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def verified(user, reviewer):
    return sample_verified_make(user, reviewer)


@pytest.fixture
def supervisor(django_user_model):
    """Staff allowed to un-verify (staff see every sample)."""
    return unverifier_grant(django_user_model.objects.create_user("vera", password="s3cret-pass-vera", is_staff=True))


def snapshot(sample):
    return list(Prediction.objects.filter(sample=sample).order_by("pk").values()), sample.events.count()


WRITES = [
    (
        "review",
        lambda sample, cell: (reverse("labs:prediction_review", args=[sample.pk, cell.pk]), {"label": "MONOCYTE"}),
    ),
    (
        "exclude",
        lambda sample, cell: (
            reverse("labs:prediction_review", args=[sample.pk, cell.pk]),
            {"exclude": "1", "reason": "Blast"},
        ),
    ),
    (
        "upload",
        lambda sample, cell: (reverse("labs:sample_upload", args=[sample.pk]), {"images": [upload_file("late.jpeg")]}),
    ),
    ("delete", lambda sample, cell: (reverse("classifier:delete", args=[cell.pk]), {})),
    ("verify again", lambda sample, cell: (reverse("labs:sample_verify", args=[sample.pk]), {})),
]


@pytest.mark.parametrize("what, request_for", WRITES, ids=[what for what, _ in WRITES])
def test_no_web_write_changes_a_verified_sample(
    client, user, reviewer, verified, model_path, isolated_media, what, request_for, django_capture_on_commit_callbacks
):
    user.groups.add(*reviewer.groups.all())  # the owner may review too: the freeze, not a permission, refuses
    client.force_login(user)
    before, files = snapshot(verified), media_files(isolated_media)
    url, data = request_for(verified, verified.predictions.first())
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, data, follow=True)
    assert "This sample is verified: nothing in it can change" in response.content.decode()
    assert snapshot(verified) == before and media_files(isolated_media) == files
    verified.refresh_from_db()
    assert verified.is_verified


def test_the_sample_page_shows_the_frozen_state_and_no_upload(client, user, verified):
    client.force_login(user)
    content = client.get(reverse("labs:sample_detail", args=[verified.pk])).content.decode()
    assert "Verified" in content and 'id="sample-upload"' not in content
    assert 'id="unverify-form"' not in content  # no permission, no form


def test_unverify_needs_its_own_permission(client, user, reviewer):
    verified = sample_verified_make(user, reviewer, lab=lab_make(user, reviewer))
    client.force_login(reviewer)  # the lab's reviewer who verified it may not open it again
    response = client.post(reverse("labs:sample_unverify", args=[verified.pk]), {"reason": "Typo"})
    assert response.status_code == 403
    verified.refresh_from_db()
    assert verified.is_verified and not SampleEvent.objects.filter(kind="unverified").exists()


def test_unverify_asks_for_a_reason_and_records_who_when_and_why(client, django_user_model, verified):
    supervisor = unverifier_grant(
        django_user_model.objects.create_user(
            "vera", password="s3cret-pass-vera", first_name="Vera", last_name="Voss", is_staff=True
        )
    )
    client.force_login(supervisor)
    url = reverse("labs:sample_unverify", args=[verified.pk])
    page = client.get(reverse("labs:sample_detail", args=[verified.pk])).content.decode()
    assert 'id="unverify-form"' in page
    assert "Give a reason for un-verifying" in client.post(url, {"reason": " "}, follow=True).content.decode()
    verified.refresh_from_db()
    assert verified.is_verified
    response = client.post(url, {"reason": "Wrong smear scanned", "confirm": "yes"}, follow=True)
    assert "is open again" in response.content.decode()
    verified.refresh_from_db()
    assert not verified.is_verified and verified.verified_by is None
    event = SampleEvent.objects.filter(kind="unverified").get()
    assert (event.actor, event.reason, event.sample) == (supervisor, "Wrong smear scanned", verified)


def test_the_audit_trail_is_shown_on_the_sample_page(client, user, reviewer, verified):
    client.force_login(user)
    content = client.get(reverse("labs:sample_detail", args=[verified.pk])).content.decode()
    trail = content[content.index('id="audit-trail"') :]
    assert trail.count('class="event-verified"') == 1
    assert "Verified" in trail and "rita" in trail


def test_unverify_asks_for_confirmation_on_the_page_before_anything_changes(client, supervisor, verified):
    client.force_login(supervisor)
    url = reverse("labs:sample_unverify", args=[verified.pk])
    asked = client.post(url, {"reason": "Wrong smear scanned"})
    content = asked.content.decode()
    assert asked.status_code == 200 and 'id="unverify-confirm-form"' in content
    assert f"withdraws the signed report <strong>{sample_report_number(verified, 1)}</strong>" in content
    assert "revision 2, marked <strong>Amended</strong>" in content
    assert 'name="reason" value="Wrong smear scanned"' in content and 'name="confirm" value="yes"' in content
    verified.refresh_from_db()
    assert verified.is_verified and not SampleEvent.objects.filter(kind="unverified").exists()
    client.post(url, {"reason": "Wrong smear scanned", "confirm": "yes"})
    verified.refresh_from_db()
    assert not verified.is_verified and SampleEvent.objects.filter(kind="unverified").count() == 1


def test_the_confirmation_still_needs_a_reason(client, supervisor, verified):
    client.force_login(supervisor)
    response = client.post(reverse("labs:sample_unverify", args=[verified.pk]), {"confirm": "yes"}, follow=True)
    assert "Give a reason for un-verifying" in response.content.decode()
    verified.refresh_from_db()
    assert verified.is_verified
