"""A lab's own model: requested by a holder of the permission, built from the lab's verified cells (a Celery task,
or the ``adapt_model`` command), activated for that lab only when it is better there and keeps the shared sets,
and revertible to the shared model. Every step is a ``LabModelChange`` row: the lab's model audit trail.

Activation is one row update of ``Lab.active_model``: a request classifying the lab's cells reads it once and
stamps every prediction with the version that made it, so nothing is half-switched (docs/model-card.md,
"Adapting to a laboratory", has the figures).
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from classifier import model_gateway
from labs.models import ADAPT_MODEL_PERMISSION, Lab, LabModelChange
from labs.selectors import lab_list, lab_training_cells
from registry.adaptation import (
    AdaptationConfig,
    LabCell,
    LabModelError,
    lab_cells_problem,
    lab_model_candidate,
    sources,
)

logger = logging.getLogger(__name__)

# A build still queued or running after this long was lost with its worker: it is marked failed so the lab can
# start another (a build with 10 cells per class takes minutes, docs/model-card.md).
LOST_BUILD_AFTER = timedelta(hours=1)


def lab_model_check_allowed(*, user, lab: Lab) -> None:
    """Only a member of the lab (or staff) holding the permission may change which model the lab uses."""
    if user is None:
        return  # the command line: whoever runs manage.py administers the deployment
    if not user.has_perm(ADAPT_MODEL_PERMISSION):
        raise PermissionDenied("Only people allowed to build lab models can do this; ask an administrator.")
    if not (user.is_staff or lab_list(user=user).filter(pk=lab.pk).exists()):
        raise PermissionDenied("You can only change the model of a lab you belong to.")


def lab_model_request(*, lab: Lab, user, send: bool = True) -> LabModelChange:
    """Queue a build of the lab's own model and send it to a worker (run here when no broker is set); ``send=False``
    leaves it to the caller (the ``adapt_model`` command runs it in its own process)."""
    lab_model_check_allowed(user=user, lab=lab)
    LabModelChange.objects.filter(
        lab=lab, status__in=LabModelChange.IN_PROGRESS, requested_at__lt=timezone.now() - LOST_BUILD_AFTER
    ).update(status=LabModelChange.Status.FAILED, finished_at=timezone.now(), message="Lost with its worker.")
    try:
        with transaction.atomic():
            change = LabModelChange.objects.create(
                lab=lab, kind=LabModelChange.Kind.BUILD, requested_by=user, previous_model=lab.active_model
            )
    except IntegrityError as error:
        raise ValidationError("A model for this lab is being built already; wait until it finishes.") from error
    if send:
        from labs import tasks  # imported here: the task calls back into this module

        transaction.on_commit(lambda: tasks.build_lab_model.delay(change.pk))
    return change


def lab_model_build(
    *,
    change: LabModelChange,
    config: AdaptationConfig | None = None,
    replay_sources: str | list[str] | None = None,
    evaluation_sources: str | list[str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> LabModelChange:
    """Build the candidate for the change's lab, evaluate it beside the lab's current model and activate it when
    ``ml.adaptation.decide`` says so. Refused (too few cells) and failed builds are recorded, never raised, except
    that an unexpected error is re-raised after it is recorded (the worker logs it)."""
    config = config or AdaptationConfig()
    lab = change.lab

    def step(text: str) -> None:
        LabModelChange.objects.filter(pk=change.pk).update(progress=text[:200])
        if progress:
            progress(text)

    LabModelChange.objects.filter(pk=change.pk).update(status=LabModelChange.Status.RUNNING)
    step("Reading the lab's verified cells")
    cells, sample_ids = _lab_cells(lab)
    problem = lab_cells_problem(Counter(cell.label for cell in cells), config)
    if problem:
        return _finish(change, LabModelChange.Status.REFUSED, problem)
    try:
        current = lab.active_model or model_gateway.active()[1]
        replay = sources(replay_sources or settings.HEMATOVISION_TRAINING_SOURCES)
        evaluation = sources(evaluation_sources or settings.HEMATOVISION_TRAINING_SOURCES)
        candidate = lab_model_candidate(
            lab_slug=lab.slug,
            cells=cells,
            current=current,
            shared_model_path=settings.HEMATOVISION_MODEL_PATH,
            replay_sources=replay,
            evaluation_sources=evaluation,
            output_dir=settings.HEMATOVISION_LAB_MODELS_DIR,
            review_threshold=settings.HEMATOVISION_CONFIDENCE_THRESHOLD,
            config=config,
            progress=step,
        )
    except (LabModelError, model_gateway.ModelUnavailable) as error:
        return _finish(change, LabModelChange.Status.FAILED, str(error))
    except Exception as error:
        _finish(change, LabModelChange.Status.FAILED, f"The build failed unexpectedly ({type(error).__name__}).")
        raise
    change.candidate = candidate.version
    change.training_cells = {**candidate.training_cells, "samples": sample_ids, "seconds": round(candidate.seconds)}
    change.evaluations = candidate.evaluations
    change.save(update_fields=["candidate", "training_cells", "evaluations"])
    with transaction.atomic():
        if candidate.decision.activate:
            Lab.objects.filter(pk=lab.pk).update(active_model=candidate.version)
        status = LabModelChange.Status.ACTIVATED if candidate.decision.activate else LabModelChange.Status.KEPT
        return _finish(change, status, "\n".join(candidate.decision.reasons))


def lab_model_revert(*, lab: Lab, user) -> LabModelChange:
    """Take the lab back to the shared model; recorded with the model it leaves."""
    lab_model_check_allowed(user=user, lab=lab)
    with transaction.atomic():
        lab = Lab.objects.select_for_update().get(pk=lab.pk)
        if lab.active_model_id is None:
            raise ValidationError("This lab already uses the shared model.")
        change = LabModelChange.objects.create(
            lab=lab,
            kind=LabModelChange.Kind.REVERT,
            status=LabModelChange.Status.REVERTED,
            requested_by=user,
            previous_model_id=lab.active_model_id,
            finished_at=timezone.now(),
            message="The lab went back to the shared model.",
        )
        Lab.objects.filter(pk=lab.pk).update(active_model=None)
    return change


def _lab_cells(lab: Lab) -> tuple[list[LabCell], list[int]]:
    """The lab's training cells, each named by its content's sha256 (the held-out fifth is chosen on that name, so
    a cell uploaded twice stays on one side), and the ids of the samples they come from."""
    cells, sample_ids = {}, set()
    for prediction in lab_training_cells(lab=lab):
        with prediction.image.open("rb") as handle:
            digest = hashlib.file_digest(handle, "sha256").hexdigest()
        name = f"{digest}{Path(prediction.image.name).suffix.lower() or '.jpg'}"
        cells[name] = LabCell(name=name, label=prediction.reviewed_label, read=_reader(prediction.image))
        sample_ids.add(prediction.sample_id)
    return list(cells.values()), sorted(sample_ids)


def _reader(field_file) -> Callable[[], bytes]:
    def read() -> bytes:
        with field_file.storage.open(field_file.name, "rb") as handle:
            return handle.read()

    return read


def _finish(change: LabModelChange, status: str, message: str) -> LabModelChange:
    change.status, change.message, change.finished_at = status, message, timezone.now()
    change.progress = ""
    change.save(update_fields=["status", "message", "finished_at", "progress"])
    log = logger.info if status in (LabModelChange.Status.ACTIVATED, LabModelChange.Status.KEPT) else logger.warning
    log("Lab %s model build %s: %s", change.lab.slug, status, message.replace("\n", "; "))
    return change
