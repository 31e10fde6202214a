"""Predictions a user may see, and the images waiting for a worker.

A prediction is seen by its owner, by the members of its sample's lab, and by staff (predictions outside samples
stay their owner's); anyone else gets a 404, exactly as for a record that does not exist. The samples' own access
rules are in ``labs.selectors``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.files.storage import default_storage
from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from classifier.filters import HistoryFilter
from classifier.models import UPLOAD_FOLDER, Prediction, WaitingImage


def prediction_list(*, user) -> QuerySet[Prediction]:
    """The user's own predictions, newest first (staff manage everyone's in the admin)."""
    return Prediction.objects.filter(owner=user).select_related("model_version")


def prediction_history(*, user) -> QuerySet[Prediction]:
    """The history: the user's own predictions and the cells they reviewed in samples they still see (a reviewer
    who uploads nothing finds their work there), newest first, with each one's sample and reviewer."""
    return prediction_list_visible(user=user).filter(Q(owner=user) | Q(reviewed_by=user))


def prediction_filter(*, user, params) -> HistoryFilter:
    """The history filtered (its page and its CSV)."""
    return HistoryFilter(params, queryset=prediction_history(user=user), user=user)


def prediction_get(*, user, pk: int) -> Prediction:
    """One prediction of the user's, or 404: another user's record looks exactly like a missing one."""
    return get_object_or_404(prediction_list(user=user), pk=pk)


def prediction_list_visible(*, user) -> QuerySet[Prediction]:
    """The user's own predictions and those of their labs' samples; staff see everyone's (the REST API, the cell
    images of the review grid and the admin's thumbnails)."""
    if user.is_staff:
        predictions = Prediction.objects.all()
    else:  # a subquery, not a join over the members: no row is repeated
        predictions = Prediction.objects.filter(Q(owner=user) | Q(sample__lab__in=user.labs.values("pk")))
    return predictions.select_related("model_version", "reviewed_by", "sample")


def prediction_get_visible(*, user, pk: int) -> Prediction:
    return get_object_or_404(prediction_list_visible(user=user), pk=pk)


def prediction_deletable(*, user, prediction: Prediction) -> bool:
    """Whether the cell page offers Delete: only on the user's own prediction, never in a verified (frozen) sample;
    the service refuses the rest whatever a page offers."""
    return prediction.owner_id == user.pk and not (prediction.sample_id and prediction.sample.is_verified)


def waiting_ids(*, sample=None, queued_before: datetime | None = None) -> list[int]:
    """Images still waiting for a worker, oldest first (of one sample, or all of them; those whose batch was last
    sent before ``queued_before``, or all)."""
    images = WaitingImage.objects.all() if sample is None else sample.waiting_images.all()
    if queued_before is not None:
        images = images.filter(queued_at__lt=queued_before)
    return list(images.order_by("id").values_list("pk", flat=True))


# A file younger than this may belong to an upload whose row is not committed yet: never called an orphan.
ORPHAN_MIN_AGE = timedelta(hours=1)


def _stored_names(folder: str) -> set[str]:
    """Every file under ``folder`` of the default storage (the file system or a bucket alike)."""
    try:
        folders, files = default_storage.listdir(folder)
    except FileNotFoundError:  # nothing uploaded yet
        return set()
    names = {f"{folder}/{name}" for name in files}
    for sub in folders:
        names |= _stored_names(f"{folder}/{sub}")
    return names


def _referenced_names() -> set[str]:
    names = set(WaitingImage.objects.values_list("image", flat=True))
    for field in ("image", "preview", "gradcam", "cell_crop"):
        names |= set(Prediction.objects.exclude(**{field: ""}).values_list(field, flat=True))
    return names


def media_orphans() -> tuple[list[str], list[str]]:
    """(stored files no row points to, older than ``ORPHAN_MIN_AGE``; files rows point to that are not stored),
    each sorted: what a failed delete, a killed upload or a lost disk leaves behind."""
    stored, referenced = _stored_names(UPLOAD_FOLDER), _referenced_names()
    settled = timezone.now() - ORPHAN_MIN_AGE
    orphans = [name for name in sorted(stored - referenced) if default_storage.get_modified_time(name) < settled]
    return orphans, sorted(referenced - stored)
