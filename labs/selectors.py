"""Samples a user may see, their counts, cells, audit trail and signed reports, and whether one is verified
(frozen).

The access rules live here. A sample is seen by its owner, by the members of its lab, and by staff; anyone else
gets a 404, exactly as for a record that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Case, Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from django.utils import timezone

from classifier.models import LABEL_CHOICES, Prediction, SampleUpload, WaitingImage
from labs.models import Lab, LabModelChange, ReportRevision, Sample, SampleEvent

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


class SampleState(models.TextChoices):
    """Where a sample stands in the review, as the Samples list shows it (``sample_list_with_counts``'s ``state``)."""

    UPLOADING = "uploading", "Uploading"  # no cell yet, or images still waiting to be classified
    AWAITING_REVIEW = "awaiting_review", "Awaiting review"  # classified, no cell reviewed yet
    IN_REVIEW = "in_review", "In review"  # some or every cell reviewed, not verified
    VERIFIED = "verified", "Verified"
    AMENDED = "amended", "Amended"  # verified again after an un-verification (the audit trail holds it)


def sample_list_with_counts(*, user) -> QuerySet[Sample]:
    """``sample_list`` with ``image_count`` (classified), ``reviewed_count`` (handled: confirmed, corrected or
    excluded), ``flagged_count`` (need review), ``unreviewed_count`` (of those, not handled yet: what is still to
    do), ``waiting_count`` (stored, waiting for a worker), ``state`` (a ``SampleState``) and the latest upload's
    ``last_upload_*`` (its id, declared and received counts, and until when a request of it may still be running;
    ``sample_upload_progress``) per sample, in one query."""
    waiting = (
        WaitingImage.objects.filter(sample=OuterRef("pk"))
        .order_by()
        .values("sample")
        .annotate(count=Count("pk"))
        .values("count")
    )
    last_upload = SampleUpload.objects.filter(sample=OuterRef("pk")).order_by("-started_at", "-id")
    handled = Prediction.handled("predictions__")
    unverified_before = SampleEvent.objects.filter(sample=OuterRef("pk"), kind=SampleEvent.Kind.UNVERIFIED)
    verified = Q(verified_at__isnull=False)
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
        .annotate(
            state=Case(
                When(verified & Exists(unverified_before), then=Value(SampleState.AMENDED)),
                When(verified, then=Value(SampleState.VERIFIED)),
                When(Q(waiting_count__gt=0) | Q(image_count=0), then=Value(SampleState.UPLOADING)),
                When(reviewed_count=0, then=Value(SampleState.AWAITING_REVIEW)),
                default=Value(SampleState.IN_REVIEW),
                output_field=models.CharField(),
            )
        )
        .order_by(*Sample._meta.ordering)
    )  # GROUP BY queries drop Meta.ordering


def sample_review_queue(*, user) -> QuerySet[Sample]:
    """The samples of the user's labs that await their lab's review, oldest first: not verified, with classified
    cells, some still to review or all reviewed and waiting for the sign-off."""
    return (
        sample_list_with_counts(user=user)
        .filter(lab__in=lab_list(user=user).values("pk"), verified_at__isnull=True, image_count__gt=0)
        .order_by("created_at", "id")
    )


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
    """(label, its cells) per predicted label, the four classes then the other kinds: the review grid's groups,
    each least confident first, so the cells most likely wrong are not lost among many sure ones."""
    predictions = list(sample_predictions(sample=sample, needs_review=needs_review).order_by("confidence", "id"))
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


def sample_verify_refusal(sample: Sample) -> ValidationError | None:
    """Why the sample cannot be verified yet (images waiting for a worker, no cells, cells not reviewed), or None:
    the sign-off service raises it, and the pages show it beside Verify before anyone is asked to confirm."""
    waiting = sample.waiting_images.count()
    if waiting:
        return ValidationError(
            f"{waiting} image(s) are still waiting to be classified; verify the sample once every image is classified.",
            code="waiting",
        )
    counts = sample_review_counts(sample)
    if not counts["total"]:
        return ValidationError("This sample has no classified cells yet; there is nothing to verify.", code="empty")
    unhandled = counts["total"] - counts["reviewed"]
    if unhandled:
        return ValidationError(
            f"{unhandled} of {counts['total']} cells are not reviewed yet: confirm, correct or "
            "exclude every cell before verifying the sample.",
            code="unreviewed",
        )
    return None


def sample_events(*, sample: Sample) -> QuerySet[SampleEvent]:
    """The sample's audit trail, newest first."""
    return sample.events.select_related("actor")


def sample_prediction_get(*, sample: Sample, pk: int) -> Prediction:
    """One prediction of a sample the user may see (get the sample with ``sample_get`` first), or 404."""
    return get_object_or_404(sample_predictions(sample=sample), pk=pk)


def sample_reviewed_predictions(*, sample: Sample) -> QuerySet[Prediction]:
    """The sample's predictions a reviewer has labelled (not excluded): the ones fit to become training data."""
    return sample_predictions(sample=sample).exclude(reviewed_label="").filter(excluded=False)


def lab_get(*, user, slug: str) -> Lab:
    """A lab the user belongs to (staff: any lab); anyone else gets a 404."""
    labs = Lab.objects.all() if user.is_staff else lab_list(user=user)
    return get_object_or_404(labs.select_related("active_model"), slug=slug)


def lab_training_cells(*, lab: Lab) -> QuerySet[Prediction]:
    """The lab's labelled cells: every reviewed, not excluded cell of its verified samples, with its final label
    (the reviewer's; "other" kinds kept as such)."""
    return (
        Prediction.objects.filter(sample__lab=lab, sample__verified_at__isnull=False, excluded=False)
        .exclude(reviewed_label="")
        .only("pk", "image", "reviewed_label", "sample_id")
        .order_by("pk")
    )


def lab_model_changes(*, lab: Lab) -> QuerySet[LabModelChange]:
    """The lab's model history, newest first."""
    return lab.model_changes.select_related("requested_by", "candidate", "previous_model")


def lab_model_build_in_progress(*, lab: Lab) -> LabModelChange | None:
    return lab_model_changes(lab=lab).filter(status__in=LabModelChange.IN_PROGRESS).first()


def sample_lab_model(sample: Sample | None):
    """The ModelVersion that classifies the sample's cells: its lab's own model, read afresh (a build may have
    just activated one), or None for the shared model."""
    if sample is None or sample.lab_id is None:
        return None
    lab = Lab.objects.select_related("active_model").only("active_model").get(pk=sample.lab_id)
    return lab.active_model


def sample_revisions(*, sample: Sample) -> QuerySet[ReportRevision]:
    """The sample's signed reports, the first first, with who signed and who withdrew each."""
    return sample.revisions.select_related("verified_by", "withdrawn_by").order_by("number")


def sample_revision_get(*, sample: Sample, number: int) -> ReportRevision:
    """One signed report of a sample the user may see (get the sample with ``sample_get`` first) whose PDF is
    stored, or 404."""
    return get_object_or_404(sample.revisions.exclude(pdf=""), number=number)


def sample_revision_in_force(*, sample: Sample) -> ReportRevision | None:
    """The stored signed report a verified sample stands as; None for an unverified sample (its report is
    preliminary) and for one signed before reports were stored."""
    if not sample.is_verified:
        return None
    return sample.revisions.filter(withdrawn_at__isnull=True).exclude(pdf="").order_by("-number").first()


def sample_four_eyes_refusal(*, sample: Sample, reviewer) -> str:
    """Why ``reviewer`` may not verify the sample now under ``HEMATOVISION_UNVERIFY_FOUR_EYES`` (they withdrew its
    last signed report: a second person must look at it), or '' when they may."""
    if not settings.HEMATOVISION_UNVERIFY_FOUR_EYES or sample.is_verified:
        return ""
    last = sample.revisions.order_by("-number").first()
    if last is None or last.withdrawn_by_id != reviewer.pk:
        return ""
    return (
        f"Four-eyes rule: you withdrew revision {last.number} of this report, so another reviewer must verify the "
        "sample again."
    )
