"""Samples a user may see, their counts, cells and audit trail, and whether one is verified (frozen).

The access rules live here. A sample is seen by its owner, by the members of its lab, and by staff; anyone else
gets a 404, exactly as for a record that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from django.utils import timezone

from classifier.models import LABEL_CHOICES, Prediction, SampleUpload, WaitingImage
from labs.models import Lab, Sample, SampleEvent

VERIFIED_REFUSAL = "This sample is verified: nothing in it can change unless it is un-verified first."


def lab_list(*, user) -> QuerySet[Lab]:
    """The labs the user is a member of (the labs a new sample may go into)."""
    return Lab.objects.filter(members=user)


def sample_is_member(*, user, sample: Sample) -> bool:
    """Whether the user works on the sample: its owner or a member of its lab (staff only look after records)."""
    return sample.owner_id == user.pk or (
        sample.lab_id is not None and lab_list(user=user).filter(pk=sample.lab_id).exists()
    )


def sample_refuse_if_verified(sample: Sample | None) -> None:
    """Refuse any change to a verified sample, read afresh; inside a transaction under a row lock, so a
    verification committing in another request cannot slip between the check and the write."""
    if sample is None:
        return
    verified = Sample.objects.filter(Sample.IN_A_VERIFIED_SAMPLE, pk=sample.pk)
    if transaction.get_connection().in_atomic_block:
        verified = verified.select_for_update()
    if verified.exists():
        raise ValidationError(VERIFIED_REFUSAL, code="verified")


def sample_images_known(*, sample: Sample, sha256s) -> set[str]:
    """Which of these image checksums the sample holds already, as a cell or as an image waiting for a worker.

    Inside a transaction the sample's row is locked first, so two requests storing one file cannot both find it
    absent (on SQLite, writers queue for the whole database anyway)."""
    if transaction.get_connection().in_atomic_block:
        list(Sample.objects.select_for_update().filter(pk=sample.pk).values_list("pk", flat=True))
    hashes = set(sha256s)
    return {
        *Prediction.objects.filter(sample=sample, image_sha256__in=hashes).values_list("image_sha256", flat=True),
        *WaitingImage.objects.filter(sample=sample, image_sha256__in=hashes).values_list("image_sha256", flat=True),
    }


def sample_list(*, user) -> QuerySet[Sample]:
    """The user's own samples and their labs' samples; staff see everyone's."""
    if user.is_staff:
        samples = Sample.objects.all()
    else:  # a subquery, not a join over the members: the counts below stay right
        samples = Sample.objects.filter(Q(owner=user) | Q(lab__in=lab_list(user=user).values("pk")))
    return samples.select_related("owner", "lab", "verified_by")


def sample_get(*, user, pk: int) -> Sample:
    return get_object_or_404(sample_list(user=user), pk=pk)


def sample_list_with_counts(*, user) -> QuerySet[Sample]:
    """``sample_list`` with ``image_count`` (classified), ``reviewed_count`` (handled: confirmed, corrected or
    excluded), ``flagged_count`` (need review), ``unreviewed_count`` (of those, not handled yet),
    ``waiting_count`` (stored, waiting for a worker) and the latest upload's ``last_upload_*`` (its id, declared and
    received counts, and until when a request of it may still be running; ``sample_upload_progress``) per sample."""
    waiting = (
        WaitingImage.objects.filter(sample=OuterRef("pk"))
        .order_by()
        .values("sample")
        .annotate(count=Count("pk"))
        .values("count")
    )
    last_upload = SampleUpload.objects.filter(sample=OuterRef("pk")).order_by("-started_at", "-id")
    handled = Prediction.handled("predictions__")
    return (
        sample_list(user=user)
        .annotate(
            waiting_count=Coalesce(Subquery(waiting), 0),
            **{
                f"last_upload_{field}": Subquery(last_upload.values(field)[:1])
                for field in ("id", "expected_count", "received_count", "receiving_until")
            },
            image_count=Count("predictions"),
            reviewed_count=Count("predictions", filter=handled),
            flagged_count=Count("predictions", filter=Q(predictions__needs_review=True)),
            unreviewed_count=Count("predictions", filter=Q(predictions__needs_review=True) & ~handled),
        )
        .order_by(*Sample._meta.ordering)
    )  # GROUP BY queries drop Meta.ordering


def sample_get_with_counts(*, user, pk: int) -> Sample:
    return get_object_or_404(sample_list_with_counts(user=user), pk=pk)


@dataclass(frozen=True)
class ClassificationProgress:
    """How much of a sample the model has classified; while images wait, every count and export is partial."""

    classified: int
    waiting: int

    def __str__(self) -> str:
        return f"{self.classified} of {self.classified + self.waiting} classified"


def sample_classification(*, sample: Sample) -> ClassificationProgress:
    """From the counts of ``sample_list_with_counts`` (no query), for the API, the exports and the report."""
    return ClassificationProgress(classified=sample.image_count, waiting=sample.waiting_count)


@dataclass(frozen=True)
class UploadProgress:
    """How much of an upload arrived: "upload interrupted: 50 of 100 received" once fewer files arrived than it
    declared and no request of it is running (it ended, or was killed past its time limit)."""

    id: int
    expected: int
    received: int
    receiving: bool  # a request of the upload is running

    @property
    def state(self) -> str:
        if self.received >= self.expected:
            return "complete"
        return "receiving" if self.receiving else "interrupted"

    def __str__(self) -> str:
        if self.state == "complete":
            return ""
        doing = "in progress" if self.receiving else "interrupted"
        return f"upload {doing}: {self.received} of {self.expected} received"


def upload_progress(upload: SampleUpload) -> UploadProgress:
    return _progress(upload.pk, upload.expected_count, upload.received_count, upload.receiving_until)


def _progress(pk: int, expected: int, received: int, receiving_until) -> UploadProgress:
    receiving = receiving_until is not None and receiving_until > timezone.now()
    return UploadProgress(id=pk, expected=expected, received=received, receiving=receiving)


def sample_upload_progress(*, sample: Sample) -> UploadProgress | None:
    """The sample's latest upload, from the counts of ``sample_list_with_counts`` (no query); None before any."""
    if sample.last_upload_id is None:
        return None
    return _progress(
        sample.last_upload_id,
        sample.last_upload_expected_count,
        sample.last_upload_received_count,
        sample.last_upload_receiving_until,
    )


def sample_waiting_images(*, sample: Sample) -> QuerySet[WaitingImage]:
    """The sample's images stored but not classified yet, oldest first."""
    return sample.waiting_images.select_related("sample").order_by("id")


def sample_predictions(*, sample: Sample, needs_review: bool | None = None) -> QuerySet[Prediction]:
    predictions = sample.predictions.select_related("model_version", "reviewed_by").order_by("id")
    return predictions if needs_review is None else predictions.filter(needs_review=needs_review)


def sample_predictions_by_class(*, sample: Sample, needs_review: bool | None = None) -> list[tuple[str, list]]:
    """(label, its cells) per predicted label, the four classes then the other kinds: the review grid's groups."""
    predictions = list(sample_predictions(sample=sample, needs_review=needs_review))
    groups = [(label, [item for item in predictions if item.predicted_label == name]) for name, label in LABEL_CHOICES]
    return [(label, cells) for label, cells in groups if cells]


def sample_review_counts(sample: Sample) -> dict:
    """How many cells the sample has (``total``) and how many are ``reviewed`` (handled), of them ``confirmed``,
    ``corrected`` and ``excluded``."""
    relabelled = Q(excluded=False) & ~Q(reviewed_label="")
    return sample.predictions.aggregate(
        total=Count("pk"),
        reviewed=Count("pk", filter=Prediction.handled()),
        confirmed=Count("pk", filter=relabelled & Q(reviewed_label=F("predicted_label"))),
        corrected=Count("pk", filter=relabelled & ~Q(reviewed_label=F("predicted_label"))),
        excluded=Count("pk", filter=Q(excluded=True)),
    )


def sample_events(*, sample: Sample) -> QuerySet[SampleEvent]:
    """The sample's audit trail, newest first."""
    return sample.events.select_related("actor")


def sample_prediction_get(*, sample: Sample, pk: int) -> Prediction:
    """One prediction of a sample the user may see (get the sample with ``sample_get`` first), or 404."""
    return get_object_or_404(sample_predictions(sample=sample), pk=pk)


def sample_reviewed_predictions(*, sample: Sample) -> QuerySet[Prediction]:
    """The sample's predictions a reviewer has labelled (not excluded): the ones fit to become training data."""
    return sample_predictions(sample=sample).exclude(reviewed_label="").filter(excluded=False)
