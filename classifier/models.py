"""Predictions (a classified cell image) and the images waiting for a worker to classify them."""

import uuid
from pathlib import PurePath

from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.models import cascade_unless_verified
from ml import CLASS_NAMES, OTHER_KINDS  # the class tables: constants, not worth a trip through the model gateway
from ml.quality import UNLIKE_TRAINING_IMAGES

# What every label a cell can carry is called on the pages, the PDF and the API schema: the four classes the
# differential counts, then the other kinds (cells that are none of the four), listed apart and never counted.
LABEL_NAMES = {
    "EOSINOPHIL": "Eosinophil",
    "LYMPHOCYTE": "Lymphocyte",
    "MONOCYTE": "Monocyte",
    "NEUTROPHIL": "Neutrophil",
    "BASOPHIL": "Basophil",
    "IMMATURE_GRANULOCYTE": "Immature granulocyte",
    "ERYTHROBLAST": "Nucleated red cell",
    "PLATELET": "Platelet",
}
CLASS_CHOICES = [(name, LABEL_NAMES[name]) for name in CLASS_NAMES]
OTHER_KIND_CHOICES = [(name, LABEL_NAMES[name]) for name in OTHER_KINDS]
LABEL_CHOICES = CLASS_CHOICES + OTHER_KIND_CHOICES
REVIEW_PERMISSION = "classifier.review_prediction"  # Prediction.Meta.permissions; the Reviewers group holds it
REASON_MAX_LENGTH = 200  # a reviewer's reason: for excluding a cell, or for un-verifying a sample


class ReviewReason(models.TextChoices):
    """Why a prediction needs review, each code with its sentence for the user. The image checks' codes are the
    plain strings ``ml.quality`` returns; ``services.review_reasons_for`` adds ``low_confidence`` and
    ``other_kind``."""

    LOW_CONFIDENCE = "low_confidence", "The model is not confident: its top probability is below the review threshold."
    NO_NUCLEUS = "no_nucleus", "No purple-stained white-cell nucleus was found in the image."
    UNLIKE_TRAINING_IMAGES = (
        UNLIKE_TRAINING_IMAGES,
        (
            "The image is unlike every image the model was trained on: a cell from an instrument, stain or "
            "magnification it has not seen, or not a white-cell image at all. Its class means nothing until a person "
            "has looked."
        ),
    )
    BLANK = "blank", "The image is blank or almost uniform."
    OTHER_KIND = (
        "other_kind",
        (
            "The model reads this cell as none of the four classes (a basophil, immature granulocyte, nucleated red "
            "cell or platelet): it is not counted unless a reviewer sets one of the four."
        ),
    )


# The checks that say the image is probably not a white cell the model knows: then no class is headlined.
NOT_RECOGNISED_REASONS = frozenset({ReviewReason.BLANK, ReviewReason.NO_NUCLEUS, ReviewReason.UNLIKE_TRAINING_IMAGES})

UPLOAD_FOLDER = "predictions"  # every stored image and derived file, in the default storage


class Counting(models.TextChoices):
    """Where a cell stands in its sample's count: ``Prediction.counting`` is the one rule every output uses."""

    COUNTED = "counted"
    OTHER = "other"  # another kind: listed by kind, "Other cells, not counted"
    NOT_RECOGNISED = "not_recognised"  # the image checks object and no reviewer labelled it
    EXCLUDED = "excluded"


def upload_to(instance, filename: str) -> str:
    """A generated name: the client's file name never becomes a path (only its extension is kept)."""
    suffix = PurePath(filename).suffix.lower()[:6]
    unique = uuid.uuid4().hex
    return f"{UPLOAD_FOLDER}/{unique[:2]}/{unique}{suffix}"


def _inside_share(low: float, high: float) -> tuple[float, float]:
    """Where the frame's [0, 1] lies along one side [low, high] of a crop: (start, length) in percent of the side."""
    start, end = max(low, 0.0), min(high, 1.0)
    side = high - low
    return round((start - low) / side * 100, 2), round(max(end - start, 0.0) / side * 100, 2)


class SampleUpload(models.Model):
    """One upload of a sample's images as its sender declared it: how many files it sends, how many arrived.

    Kept per upload, not as one count on the sample: the page's uploader sends a selection in requests of 16
    files, several people may add images to one lab sample at once, and a batch sent again after an interruption
    is an upload of its own; one count on the sample could tell none of these apart. The sample shows its latest
    upload (``labs.selectors.sample_upload_progress``): "upload interrupted: 50 of 100 received" once fewer
    arrived than declared and no request of it is running, until a later upload completes, which is what sending
    the batch again does (the files already there are answered "already in this sample" and stored once).
    """

    sample = models.ForeignKey("labs.Sample", on_delete=models.CASCADE, related_name="uploads")
    sender = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    expected_count = models.PositiveIntegerField(help_text="Files the upload said it sends (a ZIP counts as one).")
    received_count = models.PositiveIntegerField(
        default=0, help_text="Files of it that arrived: stored, already in the sample, or refused with a reason."
    )
    started_at = models.DateTimeField(auto_now_add=True)
    receiving_until = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Set while a request of the upload runs: the moment past which it can only have been killed.",
    )

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.sample}: {self.received_count} of {self.expected_count} received"


class WaitingImage(models.Model):
    """A sample's upload stored and waiting for a worker: nothing is lost if one dies before classifying it.

    The worker turns it into a ``Prediction`` (which keeps the same stored file) and deletes it in one transaction.
    """

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    sample = models.ForeignKey("labs.Sample", on_delete=models.CASCADE, related_name="waiting_images")
    image = models.FileField(upload_to=upload_to)
    image_sha256 = models.CharField(max_length=64, blank=True, help_text="Of the uploaded bytes.")
    original_filename = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)
    queued_at = models.DateTimeField(
        default=timezone.now, db_index=True, help_text="When its batch was last sent to the workers."
    )

    class Meta:
        db_table = "classifier_pendingimage"  # its name before "waiting" became the one word for the state
        ordering = ["id"]
        indexes = [models.Index(fields=["sample", "image_sha256"])]

    def __str__(self) -> str:
        return f"{self.original_filename} (waiting)"


class Prediction(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=cascade_unless_verified, related_name="predictions")
    sample = models.ForeignKey(
        "labs.Sample", on_delete=models.CASCADE, null=True, blank=True, related_name="predictions"
    )
    image = models.ImageField(upload_to=upload_to, width_field="image_width", height_field="image_height")
    preview = models.ImageField(upload_to=upload_to, help_text="JPEG copy for browsers, at most 640 px.")
    image_width = models.PositiveIntegerField(default=0)
    image_height = models.PositiveIntegerField(default=0)
    image_sha256 = models.CharField(
        max_length=64, blank=True, help_text="Of the uploaded bytes: a file sent again to its sample is stored once."
    )
    original_filename = models.CharField(max_length=255)
    predicted_label = models.CharField(max_length=20, choices=LABEL_CHOICES, db_index=True)
    confidence = models.FloatField()
    probabilities = models.JSONField(help_text="Probability of every class, by class name.")
    nucleus_found = models.BooleanField(default=True)
    needs_review = models.BooleanField(default=False, db_index=True)
    review_reasons = models.JSONField(
        default=list, blank=True, help_text="Why the prediction needs review: low_confidence, no_nucleus, …"
    )
    reviewed_label = models.CharField(max_length=20, choices=LABEL_CHOICES, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    excluded = models.BooleanField(
        default=False,
        help_text="A reviewer took the cell out of the differential "
        "(none of the four classes: a blast, a smudge cell, …).",
    )
    exclusion_reason = models.CharField(max_length=REASON_MAX_LENGTH, blank=True)
    gradcam = models.ImageField(upload_to=upload_to, blank=True, help_text="Cached Grad-CAM overlay.")
    cell_crop = models.ImageField(
        upload_to=upload_to,
        blank=True,
        help_text="JPEG crop around the located cell, made when the cell is classified.",
    )
    cell_box = models.JSONField(
        default=list,
        blank=True,
        help_text="The cell crop's square as fractions of the image: [left, top, right, bottom], below 0 or above 1 "
        "where it reaches past the frame (padded); empty for cells classified before it was stored.",
    )
    model_version = models.ForeignKey("registry.ModelVersion", on_delete=models.PROTECT, related_name="predictions")
    inference_ms = models.FloatField(help_text="Model time for this image, in milliseconds.")
    runtime = models.CharField(
        max_length=100,
        blank=True,
        help_text="What computed the probabilities, e.g. 'openvino 2026.4.1 (int8, CPU)'; empty for predictions "
        "made before it was recorded.",
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    IN_A_VERIFIED_SAMPLE = models.Q(sample__verified_at__isnull=False)

    class Meta:
        db_table = "classifier_prediction"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["owner", "-created_at"]), models.Index(fields=["sample", "image_sha256"])]
        permissions = [("review_prediction", "Can confirm or correct predictions and verify samples")]

    def __str__(self) -> str:
        return f"{self.original_filename}: {self.predicted_label} ({self.confidence:.0%})"

    @staticmethod
    def handled(through: str = "") -> models.Q:
        """Confirmed, corrected or excluded by a reviewer: what verification requires of every cell. The one
        definition, as a filter (``through`` "predictions__" filters samples by their cells); ``review_state``
        says it of one cell."""
        return models.Q(**{f"{through}excluded": True}) | ~models.Q(**{f"{through}reviewed_label": ""})

    @property
    def review_state(self) -> str:
        """'confirmed', 'corrected', 'excluded', or '' while no reviewer has handled the cell."""
        if self.excluded:
            return "excluded"
        if not self.reviewed_label:
            return ""
        return "confirmed" if self.reviewed_label == self.predicted_label else "corrected"

    @property
    def final_label(self) -> str:
        """The reviewer's label where there is one, else the model's."""
        return self.reviewed_label or self.predicted_label

    @property
    def final_label_display(self) -> str:
        return LABEL_NAMES.get(self.final_label, self.final_label)

    @property
    def other_kind(self) -> bool:
        """Whether the final label is none of the four classes (a basophil, a platelet, …)."""
        return self.final_label in OTHER_KINDS

    @property
    def recognised(self) -> bool:
        """Whether a class may be headlined: no image check says this is not a white cell the model knows."""
        return NOT_RECOGNISED_REASONS.isdisjoint(self.review_reasons)

    @property
    def counting(self) -> str:
        """The counting rule (a ``Counting`` value): a cell counts in the four-class differential only if it is not
        excluded, its final label is one of the four, and it is recognised or a reviewer set its label; an image
        the checks object to is "not recognised" whatever the model answered, until a reviewer labels it."""
        if self.excluded:
            return Counting.EXCLUDED
        if not self.reviewed_label and not self.recognised:
            return Counting.NOT_RECOGNISED
        return Counting.OTHER if self.other_kind else Counting.COUNTED

    @property
    def counted(self) -> bool:
        return self.counting == Counting.COUNTED

    @property
    def reported_label(self) -> str:
        """The label the reports give the cell: its final label when it is counted or another kind, else empty."""
        return self.final_label if self.counting in (Counting.COUNTED, Counting.OTHER) else ""

    @property
    def crop_image_area(self) -> tuple[float, float, float, float] | None:
        """Where the image lies inside a padded cell crop, as (x, y, width, height) percentages of the crop, so the
        grid can draw the padding apart from the cell; None when the crop is all image (or its square is unknown)."""
        if len(self.cell_box) != 4:
            return None
        left, top, right, bottom = self.cell_box
        if left >= 0 and top >= 0 and right <= 1 and bottom <= 1:
            return None
        x, width = _inside_share(left, right)
        y, height = _inside_share(top, bottom)
        return x, y, width, height

    @property
    def cell_box_in_image(self) -> tuple[float, float, float, float] | None:
        """The cell crop's square on the whole field, as (x, y, width, height) percentages of the image, clipped to
        it: the box the full-size view draws around the cell that was classified; None when it is unknown."""
        if len(self.cell_box) != 4:
            return None
        left, top, right, bottom = (round(min(max(value, 0.0), 1.0) * 100, 2) for value in self.cell_box)
        return left, top, round(right - left, 2), round(bottom - top, 2)

    @property
    def review_reason_texts(self) -> list[str]:
        """The review reasons as sentences (an unknown code is shown as it is)."""
        sentences = dict(ReviewReason.choices)
        return [sentences.get(code, code) for code in self.review_reasons]

    def sorted_probabilities(self) -> list[tuple[str, float]]:
        """(class label, probability) pairs, most likely first, for display."""
        pairs = [(LABEL_NAMES.get(name, name), value) for name, value in self.probabilities.items()]
        return sorted(pairs, key=lambda pair: pair[1], reverse=True)
