"""Everything that reads: querysets already limited to what the asking user may see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from django.utils import timezone

from classifier import model_gateway
from classifier.filters import PredictionFilter
from classifier.models import CLASS_CHOICES, ModelVersion, PendingImage, Prediction, Sample


def prediction_list(*, user) -> QuerySet[Prediction]:
    """The user's own predictions, newest first (staff manage everyone's in the admin)."""
    return Prediction.objects.filter(owner=user).select_related("model_version")


def prediction_filter(*, user, params) -> PredictionFilter:
    return PredictionFilter(params, queryset=prediction_list(user=user))


def prediction_get(*, user, pk: int) -> Prediction:
    """One prediction of the user's, or 404: another user's record looks exactly like a missing one."""
    return get_object_or_404(prediction_list(user=user), pk=pk)


def prediction_list_visible(*, user) -> QuerySet[Prediction]:
    """The user's own predictions; staff see everyone's (the REST API and the admin's image links)."""
    predictions = Prediction.objects.all() if user.is_staff else Prediction.objects.filter(owner=user)
    return predictions.select_related("model_version", "reviewed_by")


def prediction_get_visible(*, user, pk: int) -> Prediction:
    return get_object_or_404(prediction_list_visible(user=user), pk=pk)


def sample_list(*, user) -> QuerySet[Sample]:
    """The user's own samples; staff see everyone's."""
    samples = Sample.objects.all() if user.is_staff else Sample.objects.filter(owner=user)
    return samples.select_related("owner", "verified_by")


def sample_get(*, user, pk: int) -> Sample:
    return get_object_or_404(sample_list(user=user), pk=pk)


def sample_list_with_counts(*, user) -> QuerySet[Sample]:
    """``sample_list`` with ``image_count`` (classified), ``flagged_count`` (need review), ``pending_count`` (of
    those, not reviewed yet) and ``queued_count`` (stored, waiting for a worker) per sample."""
    queued = (PendingImage.objects.filter(sample=OuterRef("pk")).order_by().values("sample")
              .annotate(count=Count("pk")).values("count"))
    return sample_list(user=user).annotate(
        queued_count=Coalesce(Subquery(queued), 0),
        image_count=Count("predictions"),
        flagged_count=Count("predictions", filter=Q(predictions__needs_review=True)),
        pending_count=Count("predictions", filter=Q(predictions__needs_review=True,
                                                    predictions__reviewed_label="")),
    ).order_by(*Sample._meta.ordering)  # GROUP BY queries drop Meta.ordering


def sample_get_with_counts(*, user, pk: int) -> Sample:
    return get_object_or_404(sample_list_with_counts(user=user), pk=pk)


def pending_ids(*, sample: Sample | None = None) -> list[int]:
    """Images still waiting for a worker, oldest first (of one sample, or all of them)."""
    pending = PendingImage.objects.all() if sample is None else sample.pending_images.all()
    return list(pending.order_by("id").values_list("pk", flat=True))


def sample_predictions(*, sample: Sample, needs_review: bool | None = None) -> QuerySet[Prediction]:
    predictions = sample.predictions.select_related("model_version", "reviewed_by").order_by("id")
    return predictions if needs_review is None else predictions.filter(needs_review=needs_review)


def sample_prediction_get(*, sample: Sample, pk: int) -> Prediction:
    """One prediction of a sample the user may see (get the sample with ``sample_get`` first), or 404."""
    return get_object_or_404(sample_predictions(sample=sample), pk=pk)


def sample_reviewed_predictions(*, sample: Sample) -> QuerySet[Prediction]:
    """The sample's predictions a reviewer has labelled: the ones fit to become training data."""
    return sample_predictions(sample=sample).exclude(reviewed_label="")


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
    """Count and share of each class, by the reviewer's label where there is one, against reference intervals."""
    labels = [prediction.final_label for prediction in sample.predictions.only("predicted_label", "reviewed_label")]
    counts = [labels.count(class_name) for class_name, _ in CLASS_CHOICES]
    intervals = settings.HEMATOVISION_REFERENCE_INTERVALS
    return [
        DifferentialRow(class_name=class_name, label=label, count=count, percent=percent,
                        reference_low=float(intervals[class_name][0]), reference_high=float(intervals[class_name][1]))
        for (class_name, label), count, percent in zip(CLASS_CHOICES, counts, _percentages(counts))
    ]


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
