"""Predictions (a classified cell image) and the images waiting for a worker to classify them."""

import uuid
from pathlib import PurePath

from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.models import cascade_unless_verified
from ml import CLASS_NAMES  # the one class table: a constant, so not worth a trip through the model gateway
from ml.quality import UNLIKE_TRAINING_IMAGES

CLASS_CHOICES = [(name, name.capitalize()) for name in CLASS_NAMES]
REVIEW_PERMISSION = "classifier.review_prediction"  # Prediction.Meta.permissions; the Reviewers group holds it
REASON_MAX_LENGTH = 200  # a reviewer's reason: for excluding a cell, or for un-verifying a sample


class ReviewReason(models.TextChoices):
    """Why a prediction needs review, each code with its sentence for the user. The image checks' codes are the
    plain strings ``ml.quality`` returns; ``services.review_reasons_for`` adds ``low_confidence``."""

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


# The checks that say the image is probably not a white cell the model knows: then no class is headlined.
NOT_RECOGNISED_REASONS = frozenset({ReviewReason.BLANK, ReviewReason.NO_NUCLEUS, ReviewReason.UNLIKE_TRAINING_IMAGES})

UPLOAD_FOLDER = "predictions"  # every stored image and derived file, in the default storage


def upload_to(instance, filename: str) -> str:
    """A generated name: the client's file name never becomes a path (only its extension is kept)."""
    suffix = PurePath(filename).suffix.lower()[:6]
    unique = uuid.uuid4().hex
    return f"{UPLOAD_FOLDER}/{unique[:2]}/{unique}{suffix}"


class WaitingImage(models.Model):
    """A sample's upload stored and waiting for a worker: nothing is lost if one dies before classifying it.

    The worker turns it into a ``Prediction`` (which keeps the same stored file) and deletes it in one transaction.
    """

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    sample = models.ForeignKey("labs.Sample", on_delete=models.CASCADE, related_name="waiting_images")
    image = models.FileField(upload_to=upload_to)
    original_filename = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)
    queued_at = models.DateTimeField(
        default=timezone.now, db_index=True, help_text="When its batch was last sent to the workers."
    )

    class Meta:
        db_table = "classifier_pendingimage"  # its name before "waiting" became the one word for the state
        ordering = ["id"]

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
    original_filename = models.CharField(max_length=255)
    predicted_label = models.CharField(max_length=20, choices=CLASS_CHOICES, db_index=True)
    confidence = models.FloatField()
    probabilities = models.JSONField(help_text="Probability of every class, by class name.")
    nucleus_found = models.BooleanField(default=True)
    needs_review = models.BooleanField(default=False, db_index=True)
    review_reasons = models.JSONField(
        default=list, blank=True, help_text="Why the prediction needs review: low_confidence, no_nucleus, …"
    )
    reviewed_label = models.CharField(max_length=20, choices=CLASS_CHOICES, blank=True)
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
    model_version = models.ForeignKey("registry.ModelVersion", on_delete=models.PROTECT, related_name="predictions")
    inference_ms = models.FloatField(help_text="Model time for this image, in milliseconds.")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    IN_A_VERIFIED_SAMPLE = models.Q(sample__verified_at__isnull=False)

    class Meta:
        db_table = "classifier_prediction"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["owner", "-created_at"])]
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
    def recognised(self) -> bool:
        """Whether a class may be headlined: no image check says this is not a white cell the model knows."""
        return NOT_RECOGNISED_REASONS.isdisjoint(self.review_reasons)

    @property
    def review_reason_texts(self) -> list[str]:
        """The review reasons as sentences (an unknown code is shown as it is)."""
        sentences = dict(ReviewReason.choices)
        return [sentences.get(code, code) for code in self.review_reasons]

    def sorted_probabilities(self) -> list[tuple[str, float]]:
        """(class label, probability) pairs, most likely first, for display."""
        labels = dict(CLASS_CHOICES)
        pairs = [(labels.get(name, name), value) for name, value in self.probabilities.items()]
        return sorted(pairs, key=lambda pair: pair[1], reverse=True)
