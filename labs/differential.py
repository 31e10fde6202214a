"""The differential and the sample report, read once for the sample page, its PDF and the API: which cells are
counted (``Prediction.counting``, the one rule), their shares of the four classes against the reference intervals,
the cells listed apart (other kinds, not recognised, excluded), and the warnings a report carries."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import ClassVar

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from classifier.models import CLASS_CHOICES, OTHER_KIND_CHOICES, Counting, Prediction
from labs.models import ReportRevision, Sample
from labs.selectors import sample_predictions, sample_review_counts, sample_revisions
from registry.models import ModelVersion

REPORT_NUMBER_PREFIX = "HV"
COUNTING_NOTE = (
    "Counts use the reviewer's label wherever a cell was reviewed, and only the four classes are counted: other "
    "cells (basophils, immature granulocytes, nucleated red cells, platelets), images not recognised as a white cell "
    "(until a reviewer labels them) and excluded cells are listed apart, and the percentages are of the four."
)


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


@dataclass(frozen=True)
class OtherCellsRow:
    """A kind of cell that is none of the four and its number: listed apart, never in the percentages."""

    class_name: str
    label: str
    count: int


@dataclass(frozen=True)
class SampleCount:
    """The sample's cells by where the counting rule puts them: each counted class, each other kind, and the
    images not recognised (nor reviewed); the excluded cells are ``sample_review_counts``'s."""

    counted: dict[str, int]
    other: dict[str, int]
    not_recognised: int


def sample_count(*, sample: Sample) -> SampleCount:
    """Every cell of the sample sorted by ``Prediction.counting``, by its final label where it has a place."""
    cells = sample.predictions.only("predicted_label", "reviewed_label", "excluded", "review_reasons")
    tally = Counter((cell.counting, cell.reported_label) for cell in cells)
    return SampleCount(
        counted={name: tally[Counting.COUNTED, name] for name, _ in CLASS_CHOICES},
        other={name: tally[Counting.OTHER, name] for name, _ in OTHER_KIND_CHOICES},
        not_recognised=tally[Counting.NOT_RECOGNISED, ""],
    )


def differential_rows(counted: dict[str, int]) -> list[DifferentialRow]:
    """Each class's count and share of the four (``SampleCount.counted``) against its reference interval."""
    counts = [counted[class_name] for class_name, _ in CLASS_CHOICES]
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


def sample_differential(*, sample: Sample) -> list[DifferentialRow]:
    return differential_rows(sample_count(sample=sample).counted)


def sample_report_number(sample: Sample, revision: int | None = None) -> str:
    """ "HV-2026-000123": the year the sample was made (lab time) and its id, the same on every print of it; a
    signed report adds its revision, "HV-2026-000123/2"."""
    number = f"{REPORT_NUMBER_PREFIX}-{timezone.localtime(sample.created_at):%Y}-{sample.pk:06d}"
    return f"{number}/{revision}" if revision else number


def sample_model_versions(*, sample: Sample) -> QuerySet[ModelVersion]:
    """Every model version that classified a cell of the sample (usually one)."""
    return ModelVersion.objects.filter(predictions__sample=sample).distinct()


@dataclass(frozen=True)
class GalleryGroup:
    """Cells shown together in the report's gallery: a counted class, another kind, the images not recognised, or
    the excluded cells."""

    label: str
    predictions: list[Prediction]


# The gallery's groups in order, by (``Prediction.counting``, ``Prediction.reported_label``).
GALLERY_GROUPS = [
    *[((Counting.COUNTED, name), label) for name, label in CLASS_CHOICES],
    *[((Counting.OTHER, name), f"{label} (other cell, not counted)") for name, label in OTHER_KIND_CHOICES],
    ((Counting.NOT_RECOGNISED, ""), "Not recognised (not counted)"),
    ((Counting.EXCLUDED, ""), "Excluded (not counted)"),
]


def sample_gallery(*, sample: Sample) -> list[GalleryGroup]:
    """The sample's cells as the count places them: the four classes, the other kinds, the images not recognised,
    the excluded cells; empty groups left out."""
    groups: dict[tuple[str, str], list[Prediction]] = {key: [] for key, _ in GALLERY_GROUPS}
    for prediction in sample_predictions(sample=sample):
        groups[prediction.counting, prediction.reported_label].append(prediction)
    return [GalleryGroup(label, groups[key]) for key, label in GALLERY_GROUPS if groups[key]]


@dataclass(frozen=True)
class SampleReport:
    """Everything the sample page, its PDF report and the API state about the differential, read once."""

    sample: Sample
    lab_name: str
    number: str
    differential: list[DifferentialRow]
    other_cells: list[OtherCellsRow]  # every other kind, with its number (0 included)
    not_recognised: int  # images the checks object to that no reviewer has labelled
    review_counts: dict
    model_versions: list[ModelVersion]
    min_cells: int
    waiting: int  # images stored but not classified yet (background workers)
    revision: int | None  # the signed revision a verified sample's report is; None: preliminary
    withdrawn: list[ReportRevision]  # the earlier signed revisions, each withdrawn, the first first
    counting_note: ClassVar[str] = COUNTING_NOTE

    @property
    def is_amended(self) -> bool:
        """A signed report that replaces an earlier, withdrawn one."""
        return bool(self.revision and self.withdrawn)

    @property
    def counted(self) -> int:
        """Cells in the differential (``Prediction.counting``): the one total the page, the PDF and the API show."""
        return sum(row.count for row in self.differential)

    @property
    def other_cells_found(self) -> list[OtherCellsRow]:
        """The other kinds the sample holds, for the lists of the page and the PDF."""
        return [row for row in self.other_cells if row.count]

    @property
    def not_counted(self) -> str:
        """ "1 other cell, 2 not recognised, 1 excluded": the cells outside the count, or empty when every cell
        counts."""
        other = sum(row.count for row in self.other_cells)
        excluded = self.review_counts["excluded"]
        parts = [
            f"{other} other cell{'s' if other > 1 else ''}" if other else "",
            f"{self.not_recognised} not recognised" if self.not_recognised else "",
            f"{excluded} excluded" if excluded else "",
        ]
        return ", ".join(part for part in parts if part)

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
    """The report of the sample as it stands (``sample`` as given: the sign-off renders it verified before saving).

    Every signed revision but the one in force is withdrawn, so a verified sample's report is the revision after
    the withdrawn ones."""
    count = sample_count(sample=sample)
    withdrawn = [revision for revision in sample_revisions(sample=sample) if revision.is_withdrawn]
    revision = len(withdrawn) + 1 if sample.is_verified else None
    return SampleReport(
        sample=sample,
        lab_name=sample.lab.name if sample.lab_id else settings.HEMATOVISION_LAB_NAME,
        number=sample_report_number(sample, revision),
        differential=differential_rows(count.counted),
        other_cells=[OtherCellsRow(name, label, count.other[name]) for name, label in OTHER_KIND_CHOICES],
        not_recognised=count.not_recognised,
        review_counts=sample_review_counts(sample),
        model_versions=list(sample_model_versions(sample=sample)),
        min_cells=settings.HEMATOVISION_REPORT_MIN_CELLS,
        waiting=sample.waiting_images.count(),
        revision=revision,
        withdrawn=withdrawn,
    )
