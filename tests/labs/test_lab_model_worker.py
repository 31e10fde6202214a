"""A lab model build as a Celery task on a real worker, and a running worker that picks up a newly activated lab
model for the lab's next images without a restart."""

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command

from classifier.models import Prediction
from classifier.services.waiting import sample_images_add
from labs.models import Lab, LabModelChange
from labs.services.lab_models import lab_model_request
from tests.factories import (
    FAST_LAB_MODEL_BUILD,
    coloured_cell_bytes,
    lab_cells_make,
    lab_make,
    reviewer_make,
    sample_make,
    upload_file,
)
from tests.workers import start_worker, wait_for_workers


def _queue_one(user, sample, name: str) -> None:
    added = sample_images_add(
        owner=user, sample=sample, uploads=[upload_file(name, coloured_cell_bytes("LYMPHOCYTE", seed=len(name)))]
    )
    assert (added.waiting, added.failures) == (1, [])


@pytest.mark.django_db(transaction=True)
def test_a_worker_builds_a_lab_model_and_serves_a_new_one_without_restarting(
    broker, lab_model_settings, user, django_user_model, tmp_path
):
    reviewer = reviewer_make(django_user_model)
    reviewer.user_permissions.add(Permission.objects.get(codename="adapt_model"))
    reviewer = type(reviewer).objects.get(pk=reviewer.pk)
    lab = lab_make(user, reviewer)
    lab_cells_make(lab, user, reviewer, per_class=12)
    sample = sample_make(user, "S-WORKER", lab=lab)
    log_path = tmp_path / "worker.log"
    with open(log_path, "w") as log:
        worker = start_worker(
            broker,
            lab_model_settings,
            log,
            HEMATOVISION_LAB_MODELS_DIR=str(lab_model_settings.HEMATOVISION_LAB_MODELS_DIR),
            HEMATOVISION_TRAINING_SOURCES=lab_model_settings.HEMATOVISION_TRAINING_SOURCES,
        )
        try:
            _queue_one(user, sample, "before.jpeg")
            wait_for_workers(lambda: Prediction.objects.filter(sample=sample).exists(), 120, "the first cell", log_path)
            call_command("adapt_model", "--lab", lab.slug, *FAST_LAB_MODEL_BUILD)  # activated here, in another process
            lab_model = Lab.objects.get(pk=lab.pk).active_model
            assert lab_model is not None
            _queue_one(user, sample, "after-activation.jpeg")
            wait_for_workers(
                lambda: Prediction.objects.filter(sample=sample).count() == 2, 120, "the second cell", log_path
            )

            change = lab_model_request(lab=Lab.objects.get(pk=lab.pk), user=reviewer)  # sent to the worker
            wait_for_workers(
                lambda: not LabModelChange.objects.get(pk=change.pk).in_progress, 600, "the build task", log_path
            )
        finally:
            worker.terminate()
            worker.wait(30)
    versions = dict(Prediction.objects.filter(sample=sample).values_list("original_filename", "model_version__name"))
    assert versions == {"before.jpeg": "tiny-shared-model", "after-activation.jpeg": lab_model.name}
    change.refresh_from_db()
    assert change.status in {LabModelChange.Status.ACTIVATED, LabModelChange.Status.KEPT}, change.message
    assert change.candidate is not None and change.candidate.file_path.startswith(
        str(lab_model_settings.HEMATOVISION_LAB_MODELS_DIR)
    )
