"""The lab's model page: which model classifies the lab's cells, the history side by side, and the buttons only for
holders of the adapt-model permission."""

import pytest
from django.contrib.auth.models import Permission

from labs.models import LabModelChange
from tests.factories import lab_make, model_version_make, reviewer_make

pytestmark = pytest.mark.django_db


@pytest.fixture
def lab(user):
    return lab_make(user)


def _evaluations():
    sets = {"haematology-north held-out": 0.5, "kaggle TEST": 0.871}
    return {
        "lab_set": "haematology-north held-out",
        "current": {"sets": {name: {"n_images": 10, "accuracy": value} for name, value in sets.items()}},
        "candidate": {"sets": {name: {"n_images": 10, "accuracy": value + 0.1} for name, value in sets.items()}},
    }


def test_members_see_the_model_and_its_history_without_buttons(client, user, lab):
    LabModelChange.objects.create(
        lab=lab,
        kind=LabModelChange.Kind.BUILD,
        status=LabModelChange.Status.KEPT,
        candidate=model_version_make(),
        evaluations=_evaluations(),
        message="Not activated: the lab keeps the model it has.",
    )
    client.force_login(user)

    page = client.get(f"/labs/{lab.slug}/model/").content.decode()

    assert "The shared model" in page and "Not better: the lab kept its model" in page
    assert "50.0%" in page and "60.0%" in page and "97.1%" in page
    assert "build-lab-model" not in page


def test_holders_of_the_permission_get_build_and_revert(client, user, lab):
    user.user_permissions.add(Permission.objects.get(codename="adapt_model"))
    lab.active_model = model_version_make()
    lab.save()
    client.force_login(user)

    page = client.get(f"/labs/{lab.slug}/model/").content.decode()
    assert "build-lab-model" in page and "revert-lab-model" in page and "factory-model" in page

    response = client.post(f"/labs/{lab.slug}/model/revert/", follow=True)
    lab.refresh_from_db()
    assert lab.active_model is None and "now uses the shared model again" in response.content.decode()


def test_a_post_without_the_permission_is_forbidden(client, django_user_model, lab):
    reviewer = reviewer_make(django_user_model)
    lab.members.add(reviewer)
    client.force_login(reviewer)

    assert client.post(f"/labs/{lab.slug}/model/build/").status_code == 403
    assert not LabModelChange.objects.exists()


def test_a_build_in_progress_shows_its_step(client, user, lab):
    LabModelChange.objects.create(
        lab=lab, kind=LabModelChange.Kind.BUILD, status=LabModelChange.Status.RUNNING, progress="Evaluating"
    )
    client.force_login(user)

    page = client.get(f"/labs/{lab.slug}/model/").content.decode()

    assert "Building (building): Evaluating" in page and 'http-equiv="refresh"' in page


def test_the_model_page_names_each_of_the_users_labs_model(client, user, lab, model_path):
    client.force_login(user)

    page = client.get("/model/").content.decode()

    assert f"/labs/{lab.slug}/model/" in page and "the shared model below" in page
