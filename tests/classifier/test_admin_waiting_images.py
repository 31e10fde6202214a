"""Staff see the images waiting for a worker in the admin, and can neither add, change nor delete them."""

import pytest
from django.urls import reverse
from django.utils import formats, timezone

from classifier.models import WaitingImage
from tests.factories import sample_make

pytestmark = pytest.mark.django_db
CHANGELIST = reverse("admin:classifier_waitingimage_changelist")


@pytest.fixture
def waiting(user, other_user):
    return [
        WaitingImage.objects.create(
            owner=owner, sample=sample_make(owner, identifier), image=f"w/{name}", original_filename=name
        )
        for owner, identifier, name in [(user, "S-ALICE", "alice-wait.jpeg"), (other_user, "S-BOB", "bob.png")]
    ]


def test_changelist_shows_sample_owner_file_name_and_dates_of_every_waiting_image(admin_client, waiting):
    response = admin_client.get(CHANGELIST)
    assert response.status_code == 200
    assert sorted(image.original_filename for image in response.context["cl"].result_list) == [
        "alice-wait.jpeg",
        "bob.png",
    ]
    content = response.content.decode()
    for column in ("sample", "owner", "original_filename", "created_at", "queued_at"):
        assert f"column-{column}" in content
    for text in (
        "S-ALICE",
        "S-BOB",
        ">alice<",
        ">bob<",
        formats.date_format(timezone.localtime(waiting[0].created_at), "DATETIME_FORMAT"),
    ):
        assert text in content, text


def test_waiting_images_are_read_only(admin_client, waiting):
    image = waiting[0]
    assert admin_client.get(reverse("admin:classifier_waitingimage_add")).status_code == 403
    detail = admin_client.get(reverse("admin:classifier_waitingimage_change", args=[image.pk]))
    assert detail.status_code == 200 and 'name="_save"' not in detail.content.decode()
    admin_client.post(
        reverse("admin:classifier_waitingimage_change", args=[image.pk]), {"original_filename": "renamed.jpeg"}
    )
    assert (
        admin_client.post(reverse("admin:classifier_waitingimage_delete", args=[image.pk]), {"post": "yes"}).status_code
        == 403
    )
    assert WaitingImage.objects.get(pk=image.pk).original_filename == "alice-wait.jpeg"


def test_non_staff_users_cannot_see_them(alice_client, waiting):
    assert alice_client.get(CHANGELIST).status_code == 302
