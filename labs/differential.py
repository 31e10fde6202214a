"""The differential and the sample report, read once for the sample page, its PDF and the API: which cells are
counted (the reviewer's label where there is one; excluded cells are not), their shares against the reference
intervals, and the warnings a report carries."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from classifier.models import CLASS_CHOICES, Prediction
from labs.models import Sample
from labs.selectors import sample_predictions, sample_review_counts
from registry.models import ModelVersion

REPORT_NUMBER_PREFIX = "HV"


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
    labels = [
        prediction.final_label
        for prediction in sample.predictions.filter(excluded=False).only("predicted_label", "reviewed_label")
    ]
    counts = [labels.count(class_name) for class_name, _ in CLASS_CHOICES]
    intervals = settings.HEMATOVISION_REFERENCE_INTERVALS
    return [
        DifferentialRow(
            class_name=class_name,
            label=label,
            count=count,
            percent=percent,
            reference_low=float(intervals[class_name][0]),
            reference_high=float(intervals[class_name][1]),
        )
        for (class_name, label), count, percent in zip(CLASS_CHOICES, counts, _percentages(counts), strict=True)
    ]


def sample_report_number(sample: Sample) -> str:
    """ "HV-2026-000123": the year the sample was made (lab time) and its id; the same on every print of it."""
    return f"{REPORT_NUMBER_PREFIX}-{timezone.localtime(sample.created_at):%Y}-{sample.pk:06d}"


def sample_model_versions(*, sample: Sample) -> QuerySet[ModelVersion]:
    """Every model version that classified a cell of the sample (usually one)."""
    return ModelVersion.objects.filter(predictions__sample=sample).distinct()


@dataclass(frozen=True)
class GalleryGroup:
    """Cells shown together in the report's gallery: one class (by final label), or the excluded cells."""

    label: str
    predictions: list[Prediction]


def sample_gallery(*, sample: Sample) -> list[GalleryGroup]:
    """The sample's cells by final label in the class table's order, the excluded ones last; empty groups left out."""
    predictions = list(sample_predictions(sample=sample))
    groups = [
        GalleryGroup(label, [item for item in predictions if not item.excluded and item.final_label == name])
        for name, label in CLASS_CHOICES
    ]
    groups.append(GalleryGroup("Excluded (not counted)", [item for item in predictions if item.excluded]))
    return [group for group in groups if group.predictions]


@dataclass(frozen=True)
class SampleReport:
    """Everything the sample page, its PDF report and the API state about the differential, read once."""

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
        """Cells in the differential (excluded ones are not): the one total the page, the PDF and the API show."""
        return sum(row.count for row in self.differential)

    @property
    def low_count_warning(self) -> str:
        """The page's and the PDF's warning when fewer than ``HEMATOVISION_REPORT_MIN_CELLS`` cells were counted."""
        if self.counted >= self.min_cells:
            return ""
        if not self.counted:
            return "No cell has been counted: there is no differential to report."
        return (
            f"Only {self.counted} cell{'s' if self.counted > 1 else ''} counted, fewer than the "
            f"{self.min_cells} this laboratory requires: each cell is {100 / self.counted:.1f}% of the count, so "
            "the percentages and their flags are imprecise."
        )

    @property
    def incomplete_warning(self) -> str:
        """Said while images still wait for a worker: the differential is of part of the smear only."""
        if not self.waiting:
            return ""
        return (
            f"Partly classified: {self.waiting} of this sample's images still waiting to be classified, "
            "not in this differential."
        )


def sample_report(*, sample: Sample) -> SampleReport:
    return SampleReport(
        sample=sample,
        lab_name=sample.lab.name if sample.lab_id else settings.HEMATOVISION_LAB_NAME,
        number=sample_report_number(sample),
        differential=sample_differential(sample=sample),
        review_counts=sample_review_counts(sample),
        model_versions=list(sample_model_versions(sample=sample)),
        min_cells=settings.HEMATOVISION_REPORT_MIN_CELLS,
        waiting=sample.waiting_images.count(),
    )
