"""Celery tasks of the labs app: building a lab's own model, minutes of training, runs on a worker."""

from celery import shared_task


@shared_task(acks_late=False)
def build_lab_model(change_id: int) -> str:
    """Acknowledged on receipt, not late: a build lost with its worker is not run twice; the lab's next request
    marks it failed after ``LOST_BUILD_AFTER``."""
    from labs.models import LabModelChange
    from labs.services.lab_models import lab_model_build  # imported here: the service sends this task

    change = LabModelChange.objects.select_related("lab", "lab__active_model").get(pk=change_id)
    return lab_model_build(change=change).status
