"""Users and their laboratories, samples and their audit trail, predictions, images waiting to be classified, and
the model versions that made them."""

import uuid
from pathlib import PurePath

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.validators import MaxLengthValidator
from django.db import models
from django.utils import timezone

from ml import CLASS_NAMES  # the one class table: a constant, so not worth a trip through the model gateway

NOTES_MAX_LENGTH = 4000  # a few paragraphs; the PDF report renders them in well under a second
CLASS_CHOICES = [(name, name.capitalize()) for name in CLASS_NAMES]
REVIEW_PERMISSION = "classifier.review_prediction"  # Prediction.Meta.permissions; the Reviewers group holds it
UNVERIFY_PERMISSION = "classifier.unverify_sample"  # Sample.Meta.permissions; staff grant it to a few people
EXCLUSION_REASON_MAX_LENGTH = 200

# Why a prediction needs review, in words for the user; the codes come from services.review_reasons_for.
REVIEW_REASON_TEXT = {
    "low_confidence": "The model is not confident: its top probability is below the review threshold.",
    "no_nucleus": "No purple-stained white-cell nucleus was found in the image.",
    "unlike_training_images": "The image is unlike every image the model was trained on: a cell from an "
                              "instrument, stain or magnification it has not seen, or not a white-cell image at "
                              "all. Its class means nothing until a person has looked.",
    "blank": "The image is blank or almost uniform.",
}
# The checks that say the image is probably not a white cell the model knows: then no class is headlined.
NOT_RECOGNISED_REASONS = frozenset({"blank", "no_nucleus", "unlike_training_images"})


def upload_to(instance, filename: str) -> str:
    """A generated name: the client's file name never becomes a path (only its extension is kept)."""
    suffix = PurePath(filename).suffix.lower()[:6]
    unique = uuid.uuid4().hex
    return f"predictions/{unique[:2]}/{unique}{suffix}"


class User(AbstractUser):
    """Django's user, as our own model from the first migration, so lab membership can be added later."""


class ModelVersion(models.Model):
    name = models.CharField(max_length=100)
    file_path = models.CharField(max_length=500)
    sha256 = models.CharField(max_length=64, unique=True)
    base_network = models.CharField(max_length=100)
    input_size = models.PositiveIntegerField()
    class_names = models.JSONField(default=list)
    metrics = models.JSONField(default=dict, blank=True, help_text="Validation and evaluation results.")
    trained_at = models.DateTimeField(null=True, blank=True)
    registered_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-registered_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.sha256[:10]})"


class Lab(models.Model):
    """A laboratory team: its members see and work on its samples; its reviewers review and verify them."""

    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=50, unique=True, help_text="Short name for the API, e.g. haematology-north.")
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="labs", blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


def cascade_unless_verified(collector, field, sub_objs, using):
    """``on_delete`` for an owner: their records go with the account, except any in a verified sample, which the
    laboratory must keep (deactivate the account instead). The admin lists those as protected; code gets
    ``ProtectedError`` and nothing is deleted."""
    kept = sub_objs.filter(field.model.IN_A_VERIFIED_SAMPLE)
    if kept.exists():
        raise models.ProtectedError("Records of a verified sample stay.", set(kept))  # Django words the error
    models.CASCADE(collector, field, sub_objs, using)


class Sample(models.Model):
    """One blood smear: its cell images make up the differential count. Holds no personal data.

    Without a lab (samples from before labs existed, or made by someone in none) only its owner and staff see it.
    """

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=cascade_unless_verified, related_name="samples")
    lab = models.ForeignKey(Lab, on_delete=models.PROTECT, null=True, blank=True, related_name="samples")
    identifier = models.CharField(max_length=64, help_text="Laboratory sample number; never a patient name.")
    notes = models.TextField(blank=True, max_length=NOTES_MAX_LENGTH,  # max_length shapes forms; the validator
                             validators=[MaxLengthValidator(NOTES_MAX_LENGTH)],  # enforces it on full_clean
                             help_text="Optional; no patient names or other personal data.")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    verified_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["owner", "identifier"], name="unique_sample_per_owner"),
                       models.UniqueConstraint(fields=["lab", "identifier"], name="unique_sample_per_lab",
                                               condition=models.Q(lab__isnull=False))]
        permissions = [("unverify_sample", "Can un-verify a verified sample, giving a reason")]

    IN_A_VERIFIED_SAMPLE = models.Q(verified_at__isnull=False)

    def __str__(self) -> str:
        return self.identifier

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None


class PendingImage(models.Model):
    """A sample's upload stored and waiting for a worker: nothing is lost if one dies before classifying it.

    The worker turns it into a ``Prediction`` (which keeps the same stored file) and deletes it in one transaction.
    """

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    sample = models.ForeignKey(Sample, on_delete=models.CASCADE, related_name="pending_images")
    image = models.FileField(upload_to=upload_to)
    original_filename = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)
    queued_at = models.DateTimeField(default=timezone.now, db_index=True,
                                     help_text="When its batch was last sent to the workers.")

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.original_filename} (waiting)"


class Prediction(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=cascade_unless_verified,
                              related_name="predictions")
    sample = models.ForeignKey(Sample, on_delete=models.CASCADE, null=True, blank=True, related_name="predictions")
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
    review_reasons = models.JSONField(default=list, blank=True,
                                      help_text="Why the prediction needs review: low_confidence, no_nucleus, …")
    reviewed_label = models.CharField(max_length=20, choices=CLASS_CHOICES, blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    excluded = models.BooleanField(default=False, help_text="A reviewer took the cell out of the differential "
                                                            "(none of the four classes: a blast, a smudge cell, …).")
    exclusion_reason = models.CharField(max_length=EXCLUSION_REASON_MAX_LENGTH, blank=True)
    gradcam = models.ImageField(upload_to=upload_to, blank=True, help_text="Cached Grad-CAM overlay.")
    cell_crop = models.ImageField(upload_to=upload_to, blank=True,
                                  help_text="Cached JPEG crop around the located cell, for review and the report.")
    model_version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="predictions")
    inference_ms = models.FloatField(help_text="Model time for this image, in milliseconds.")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["owner", "-created_at"])]
        permissions = [("review_prediction", "Can confirm or correct predictions and verify samples")]

    IN_A_VERIFIED_SAMPLE = models.Q(sample__verified_at__isnull=False)

    def __str__(self) -> str:
        return f"{self.original_filename}: {self.predicted_label} ({self.confidence:.0%})"

    @property
    def is_handled(self) -> bool:
        """Confirmed, corrected or excluded by a reviewer: what verification requires of every cell."""
        return self.excluded or bool(self.reviewed_label)

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
        return [REVIEW_REASON_TEXT.get(code, code) for code in self.review_reasons]

    def sorted_probabilities(self) -> list[tuple[str, float]]:
        """(class label, probability) pairs, most likely first, for display."""
        labels = dict(CLASS_CHOICES)
        pairs = [(labels.get(name, name), value) for name, value in self.probabilities.items()]
        return sorted(pairs, key=lambda pair: pair[1], reverse=True)


class SampleEvent(models.Model):
    """One entry of a sample's audit trail, written by the services and never changed: a review, correction,
    exclusion, verification or un-verification, who did it, when and why."""

    class Kind(models.TextChoices):
        CONFIRMED = "confirmed", "Confirmed"
        CORRECTED = "corrected", "Corrected"
        EXCLUDED = "excluded", "Excluded"
        VERIFIED = "verified", "Verified"
        UNVERIFIED = "unverified", "Un-verified"

    sample = models.ForeignKey(Sample, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    prediction = models.ForeignKey(Prediction, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    cell = models.CharField(max_length=255, blank=True, help_text="The cell's file name, kept if it is deleted.")
    from_label = models.CharField(max_length=20, blank=True, help_text="The cell's label before: its class, "
                                                                       "or 'excluded'.")
    to_label = models.CharField(max_length=20, blank=True)
    reason = models.CharField(max_length=EXCLUSION_REASON_MAX_LENGTH, blank=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.sample}: {self.get_kind_display()} by {self.actor} at {self.at:%Y-%m-%d %H:%M}"
