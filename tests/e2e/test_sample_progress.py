"""The sample page while its images wait for the workers: a progress bar and "n of m classified", replaced by the
finished differential without a reload once the workers are done."""

import pytest

from classifier import tasks
from classifier.selectors import waiting_ids
from classifier.services.waiting import sample_images_add, waiting_classify
from tests.factories import sample_make, upload_file

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_sample_page_follows_the_workers_until_every_image_is_classified(
    pages, user, model_path, settings, monkeypatch
):
    settings.HEMATOVISION_CLASSIFY_IN_BACKGROUND = True
    monkeypatch.setattr(tasks, "waiting_enqueue", lambda ids: None)  # the workers are busy: nothing runs yet
    sample = sample_make(user, "S-WAIT")
    sample_images_add(owner=user, sample=sample, uploads=[upload_file(f"c{index}.jpeg") for index in range(3)])

    pages.login("alice", "s3cret-pass-alice")
    pages.open(f"/samples/{sample.pk}/")
    assert "0 of 3 classified" in pages.find("#classification-progress").text
    assert pages.find("#classification-progress progress").get_attribute("max") == "3"

    waiting_classify(ids=waiting_ids(sample=sample))  # what a worker does
    pages.wait_for_text("#differential-total", "3")  # the page's own poll brought the result
    assert not pages.find_all("#classification-progress")
