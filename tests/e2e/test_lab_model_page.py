"""The lab's model page in headless Chromium: the history side by side, a revert that takes the lab back to the
shared model, and the page fitting a phone."""

import pytest
from django.contrib.auth.models import Permission

from labs.models import Lab, LabModelChange
from tests.e2e.test_phone_layout import PHONE_WIDTH, overflow
from tests.factories import lab_make, model_version_make

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_lab_manager_reads_the_history_and_goes_back_to_the_shared_model(pages, user):
    user.user_permissions.add(Permission.objects.get(codename="adapt_model"))
    version = model_version_make()
    lab = lab_make(user)
    Lab.objects.filter(pk=lab.pk).update(active_model=version)
    LabModelChange.objects.create(
        lab=lab,
        kind=LabModelChange.Kind.BUILD,
        status=LabModelChange.Status.ACTIVATED,
        candidate=version,
        training_cells={"trained": {"NEUTROPHIL": 8}, "held_out": {"NEUTROPHIL": 2}},
        evaluations={
            "lab_set": "haematology-north held-out",
            "current": {"sets": {"haematology-north held-out": {"n_images": 2, "accuracy": 0.5}}},
            "candidate": {"sets": {"haematology-north held-out": {"n_images": 2, "accuracy": 1.0}}},
        },
        message="Activated for this lab.",
    )
    pages.driver.set_window_size(PHONE_WIDTH, 844)
    pages.login("alice", "s3cret-pass-alice")
    pages.open(f"/labs/{lab.slug}/model/")

    assert "The lab's own model factory-model" in pages.find("#lab-active-model").text
    assert "50.0%" in pages.text() and "100.0%" in pages.text() and "8 neutrophil cells" in pages.text()
    layout = overflow(pages)
    pages.screenshot("lab_model_phone")
    assert layout["scroll"] <= layout["width"] and not layout["wide"], layout

    old_page = pages.find("body")
    pages.find("#revert-lab-model").click()
    pages.wait_for_new_page(old_page)
    assert "now uses the shared model again" in pages.text()
    assert "The shared model" in pages.find("#lab-active-model").text
    assert Lab.objects.get(pk=lab.pk).active_model is None
