"""Everything that reads: querysets already limited to what the asking user may see.

The access rules live here. A sample is seen by its owner, by the members of its lab, and by staff; a prediction
by its owner, by the members of its sample's lab, and by staff (predictions outside samples stay their owner's).
Anyone else gets a 404, exactly as for a record that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from django.utils import timezone

from classifier import model_gateway
from classifier.filters import PredictionFilter
from classifier.models import CLASS_CHOICES, Lab, ModelVersion, PendingImage, Prediction, Sample, SampleEvent


def lab_list(*, user) -> QuerySet[Lab]:
    """The labs the user is a member of (the labs a new sample may go into)."""
    return Lab.objects.filter(members=user)


def sample_is_member(*, user, sample: Sample) -> bool:
    """Whether the user works on the sample: its owner or a member of its lab (staff only look after records)."""
    return sample.owner_id == user.pk or (sample.lab_id is not None
                                          and lab_list(user=user).filter(pk=sample.lab_id).exists())


def prediction_list(*, user) -> QuerySet[Prediction]:
    """The user's own predictions, newest first (staff manage everyone's in the admin)."""
    return Prediction.objects.filter(owner=user).select_related("model_version")


def prediction_filter(*, user, params) -> PredictionFilter:
    return PredictionFilter(params, queryset=prediction_list(user=user))


def prediction_get(*, user, pk: int) -> Prediction:
    """One prediction of the user's, or 404: another user's record looks exactly like a missing one."""
    return get_object_or_404(prediction_list(user=user), pk=pk)


def prediction_list_visible(*, user) -> QuerySet[Prediction]:
    """The user's own predictions and those of their labs' samples; staff see everyone's (the REST API, the cell
    images of the review grid and the admin's thumbnails)."""
    if user.is_staff:
        predictions = Prediction.objects.all()
    else:  # a subquery, not a join over the members: no row is repeated
        predictions = Prediction.objects.filter(Q(owner=user) | Q(sample__lab__in=lab_list(user=user).values("pk")))
    return predictions.select_related("model_version", "reviewed_by")


def prediction_get_visible(*, user, pk: int) -> Prediction:
    return get_object_or_404(prediction_list_visible(user=user), pk=pk)


def sample_list(*, user) -> QuerySet[Sample]:
    """The user's own samples and their labs' samples; staff see everyone's."""
    if user.is_staff:
        samples = Sample.objects.all()
    else:  # a subquery, not a join over the members: the counts below stay right
        samples = Sample.objects.filter(Q(owner=user) | Q(lab__in=lab_list(user=user).values("pk")))
    return samples.select_related("owner", "lab", "verified_by")


def sample_get(*, user, pk: int) -> Sample:
    return get_object_or_404(sample_list(user=user), pk=pk)


_HANDLED = Q(predictions__excluded=True) | ~Q(predictions__reviewed_label="")


def sample_list_with_counts(*, user) -> QuerySet[Sample]:
    """``sample_list`` with ``image_count`` (classified), ``reviewed_count`` (confirmed, corrected or excluded),
    ``flagged_count`` (need review), ``pending_count`` (of those, not handled yet) and ``queued_count`` (stored,
    waiting for a worker) per sample."""
    queued = (PendingImage.objects.filter(sample=OuterRef("pk")).order_by().values("sample")
              .annotate(count=Count("pk")).values("count"))
    return sample_list(user=user).annotate(
        queued_count=Coalesce(Subquery(queued), 0),
        image_count=Count("predictions"),
        reviewed_count=Count("predictions", filter=_HANDLED),
        flagged_count=Count("predictions", filter=Q(predictions__needs_review=True)),
        pending_count=Count("predictions", filter=Q(predictions__needs_review=True) & ~_HANDLED),
    ).order_by(*Sample._meta.ordering)  # GROUP BY queries drop Meta.ordering


def sample_get_with_counts(*, user, pk: int) -> Sample:
    return get_object_or_404(sample_list_with_counts(user=user), pk=pk)


@dataclass(frozen=True)
class ClassificationProgress:
    """How much of a sample the model has classified; while images wait, every count and export is partial."""

    classified: int
    waiting: int

    @property
    def is_partial(self) -> bool:
        return self.waiting > 0

    def __str__(self) -> str:
        return f"{self.classified} of {self.classified + self.waiting} classified"


def sample_classification(*, sample: Sample) -> ClassificationProgress:
    """From the counts of ``sample_list_with_counts`` (no query), for the API, the exports and the report."""
    return ClassificationProgress(classified=sample.image_count, waiting=sample.queued_count)


def sample_waiting_images(*, sample: Sample) -> QuerySet[PendingImage]:
    """The sample's images stored but not classified yet, oldest first."""
    return sample.pending_images.select_related("sample").order_by("id")


def pending_ids(*, sample: Sample | None = None, queued_before: datetime | None = None) -> list[int]:
    """Images still waiting for a worker, oldest first (of one sample, or all of them; those whose batch was last
    sent before ``queued_before``, or all)."""
    pending = PendingImage.objects.all() if sample is None else sample.pending_images.all()
    if queued_before is not None:
        pending = pending.filter(queued_at__lt=queued_before)
    return list(pending.order_by("id").values_list("pk", flat=True))


def sample_predictions(*, sample: Sample, needs_review: bool | None = None) -> QuerySet[Prediction]:
    predictions = sample.predictions.select_related("model_version", "reviewed_by").order_by("id")
    return predictions if needs_review is None else predictions.filter(needs_review=needs_review)


def sample_predictions_by_class(*, sample: Sample, needs_review: bool | None = None) -> list[tuple[str, list]]:
    """(class label, its cells) per predicted class in the class table's order: the review grid's groups."""
    predictions = list(sample_predictions(sample=sample, needs_review=needs_review))
    groups = [(label, [item for item in predictions if item.predicted_label == name]) for name, label in CLASS_CHOICES]
    return [(label, cells) for label, cells in groups if cells]


def sample_review_counts(sample: Sample) -> dict:
    """How many cells the sample has (``total``) and how many are ``reviewed`` (handled): ``confirmed``,
    ``corrected`` or ``excluded``."""
    reviewed = Q(excluded=False) & ~Q(reviewed_label="")
    counts = sample.predictions.aggregate(
        total=Count("pk"),
        confirmed=Count("pk", filter=reviewed & Q(reviewed_label=F("predicted_label"))),
        corrected=Count("pk", filter=reviewed & ~Q(reviewed_label=F("predicted_label"))),
        excluded=Count("pk", filter=Q(excluded=True)),
    )
    counts["reviewed"] = counts["confirmed"] + counts["corrected"] + counts["excluded"]
    return counts


def sample_unhandled_count(*, sample: Sample) -> int:
    """Cells nobody has confirmed, corrected or excluded yet."""
    return sample.predictions.filter(excluded=False, reviewed_label="").count()


def sample_events(*, sample: Sample) -> QuerySet[SampleEvent]:
    """The sample's audit trail, newest first."""
    return sample.events.select_related("actor")


def sample_prediction_get(*, sample: Sample, pk: int) -> Prediction:
    """One prediction of a sample the user may see (get the sample with ``sample_get`` first), or 404."""
    return get_object_or_404(sample_predictions(sample=sample), pk=pk)


def sample_reviewed_predictions(*, sample: Sample) -> QuerySet[Prediction]:
    """The sample's predictions a reviewer has labelled (not excluded): the ones fit to become training data."""
    return sample_predictions(sample=sample).exclude(reviewed_label="").filter(excluded=False)


def sample_model_versions(*, sample: Sample) -> QuerySet[ModelVersion]:
    """Every model version that classified a cell of the sample (usually one)."""
    return ModelVersion.objects.filter(predictions__sample=sample).distinct()


@dataclass(frozen=True)
class DifferentialRow:
    class_name: str
    label: str
    count: int
    percent: float
    reference_low: float
    reference_high: float

    @property
    def flag(self) -> str:
        """'low', 'high' or '' (inside the interval; its edges count as inside)."""
        if self.percent < self.reference_low:
            return "low"
        if self.percent > self.reference_high:
            return "high"
        return ""


def _percentages(counts: list[int]) -> list[float]:
    """Percentages to one decimal that add up to exactly 100 (largest-remainder rounding)."""
    total = sum(counts)
    if not total:
        return [0.0] * len(counts)
    tenths = [count * 1000 / total for count in counts]
    floors = [int(value) for value in tenths]
    order = sorted(range(len(counts)), key=lambda index: tenths[index] - floors[index], reverse=True)
    for index in order[: 1000 - sum(floors)]:
        floors[index] += 1
    return [value / 10 for value in floors]


def sample_differential(*, sample: Sample) -> list[DifferentialRow]:
    """Count and share of each class, by the reviewer's label where there is one, against reference intervals;
    excluded cells are not counted."""
    labels = [prediction.final_label
              for prediction in sample.predictions.filter(excluded=False).only("predicted_label", "reviewed_label")]
    counts = [labels.count(class_name) for class_name, _ in CLASS_CHOICES]
    intervals = settings.HEMATOVISION_REFERENCE_INTERVALS
    return [
        DifferentialRow(class_name=class_name, label=label, count=count, percent=percent,
                        reference_low=float(intervals[class_name][0]), reference_high=float(intervals[class_name][1]))
        for (class_name, label), count, percent in zip(CLASS_CHOICES, counts, _percentages(counts))
    ]


REPORT_NUMBER_PREFIX = "HV"


def sample_report_number(sample: Sample) -> str:
    """"HV-2026-000123": the year the sample was made (lab time) and its id; the same on every print of it."""
    return f"{REPORT_NUMBER_PREFIX}-{timezone.localtime(sample.created_at):%Y}-{sample.pk:06d}"


@dataclass(frozen=True)
class GalleryGroup:
    """Cells shown together in the report's gallery: one class (by final label), or the excluded cells."""

    label: str
    predictions: list[Prediction]


def sample_gallery(*, sample: Sample) -> list[GalleryGroup]:
    """The sample's cells by final label in the class table's order, the excluded ones last; empty groups left out."""
    predictions = list(sample_predictions(sample=sample))
    groups = [GalleryGroup(label, [item for item in predictions if not item.excluded and item.final_label == name])
              for name, label in CLASS_CHOICES]
    groups.append(GalleryGroup("Excluded (not counted)", [item for item in predictions if item.excluded]))
    return [group for group in groups if group.predictions]


@dataclass(frozen=True)
class SampleReport:
    """Everything the sample page and its PDF report state about the differential, read once."""

    sample: Sample
    lab_name: str
    number: str
    differential: list[DifferentialRow]
    review_counts: dict
    model_versions: list[ModelVersion]
    min_cells: int
    waiting: int  # images stored but not classified yet (background workers)

    @property
    def counted(self) -> int:
        """Cells in the differential (excluded ones are not)."""
        return sum(row.count for row in self.differential)

    @property
    def low_count_warning(self) -> str:
        """The page's and the PDF's warning when fewer than ``HEMATOVISION_REPORT_MIN_CELLS`` cells were counted."""
        if self.counted >= self.min_cells:
            return ""
        if not self.counted:
            return "No cell has been counted: there is no differential to report."
        return (f"Only {self.counted} cell{'s' if self.counted > 1 else ''} counted, fewer than the "
                f"{self.min_cells} this laboratory requires: each cell is {100 / self.counted:.1f}% of the count, so "
                "the percentages and their flags are imprecise.")

    @property
    def incomplete_warning(self) -> str:
        """Said while images still wait for a worker: the differential is of part of the smear only."""
        if not self.waiting:
            return ""
        return (f"Partly classified: {self.waiting} of this sample's images still waiting to be classified, "
                "not in this differential.")


def sample_report(*, sample: Sample) -> SampleReport:
    return SampleReport(
        sample=sample,
        lab_name=sample.lab.name if sample.lab_id else settings.HEMATOVISION_LAB_NAME,
        number=sample_report_number(sample),
        differential=sample_differential(sample=sample),
        review_counts=sample_review_counts(sample),
        model_versions=list(sample_model_versions(sample=sample)),
        min_cells=settings.HEMATOVISION_REPORT_MIN_CELLS,
        waiting=sample.pending_images.count(),
    )


def model_version_active() -> ModelVersion | None:
    """The loaded model's version, read afresh (``evaluate_model`` adds metrics from another process), or None."""
    try:
        _, version = model_gateway.active()
    except model_gateway.ModelUnavailable:
        return None
    return ModelVersion.objects.get(pk=version.pk)


def model_runtime() -> str:
    """Which runtime computes this process's predictions (e.g. ``openvino 2026.4.1 (f32, CPU)``), or empty."""
    try:
        return model_gateway.get_classifier().runtime
    except model_gateway.ModelUnavailable:
        return ""


def token_is_expired(*, token) -> bool:
    """Whether an API token is older than ``HEMATOVISION_TOKEN_TTL_HOURS`` (0: tokens do not expire)."""
    hours = settings.HEMATOVISION_TOKEN_TTL_HOURS
    return bool(hours) and token.created < timezone.now() - timedelta(hours=hours)
