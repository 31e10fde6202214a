"""The lab model API: who may build or revert a lab's model, what a build answers, and the lab's model history."""

import pytest
from django.contrib.auth.models import Permission

from labs.models import LabModelChange
from tests.factories import lab_cells_make, lab_make, model_version_make, token_client

pytestmark = pytest.mark.django_db


def _adapter(user):
    user.user_permissions.add(Permission.objects.get(codename="adapt_model", content_type__app_label="labs"))
    return type(user).objects.get(pk=user.pk)


@pytest.fixture
def lab(user, reviewer):
    return lab_make(user, reviewer)


def test_a_reviewer_without_the_permission_cannot_build_or_revert(lab, reviewer):
    lab.active_model = model_version_make()
    lab.save()
    api = token_client(reviewer)

    assert api.post(f"/api/labs/{lab.slug}/model/build/").status_code == 403
    assert api.post(f"/api/labs/{lab.slug}/model/revert/").status_code == 403

    lab.refresh_from_db()
    assert not LabModelChange.objects.exists() and lab.active_model is not None


def test_someone_outside_the_lab_gets_404_even_with_the_permission(lab, django_user_model):
    outsider = _adapter(django_user_model.objects.create_user(username="otto", password="s3cret-pass-otto"))
    api = token_client(outsider)

    assert api.get(f"/api/labs/{lab.slug}/model/").status_code == 404
    assert api.post(f"/api/labs/{lab.slug}/model/build/").status_code == 404
    assert not LabModelChange.objects.exists()


@pytest.mark.django_db(
    transaction=True
)  # the build is sent on commit: run it as a request outside a test's transaction
def test_a_build_with_too_few_cells_is_answered_refused(lab, user, reviewer, lab_model_settings):
    lab_cells_make(lab, user, reviewer, per_class=2)

    response = token_client(_adapter(reviewer)).post(f"/api/labs/{lab.slug}/model/build/")

    assert response.status_code == 202
    assert response.json()["status"] == "refused" and "at least 5 verified cells" in response.json()["message"]


@pytest.mark.django_db(transaction=True)
def test_a_build_runs_without_a_broker_and_the_history_shows_it(lab, user, reviewer, lab_model_settings):
    lab_cells_make(lab, user, reviewer, per_class=6)
    api = token_client(_adapter(reviewer))

    built = api.post(f"/api/labs/{lab.slug}/model/build/").json()

    assert built["status"] in {"activated", "kept"} and built["candidate"].startswith(lab.slug)
    assert built["requested_by"] == reviewer.username
    assert set(built["evaluations"]["candidate"]["sets"]) == {f"{lab.slug} held-out", "shared held-out"}
    history = api.get(f"/api/labs/{lab.slug}/model/").json()
    assert [change["id"] for change in history["changes"]] == [built["id"]]
    expected = built["candidate"] if built["status"] == "activated" else None
    assert (history["active_model"] or {}).get("name") == expected


def test_a_second_build_while_one_runs_is_refused(lab, reviewer):
    LabModelChange.objects.create(lab=lab, kind=LabModelChange.Kind.BUILD, status=LabModelChange.Status.RUNNING)

    response = token_client(_adapter(reviewer)).post(f"/api/labs/{lab.slug}/model/build/")

    assert response.status_code == 400 and "being built already" in str(response.json())
    assert LabModelChange.objects.count() == 1
