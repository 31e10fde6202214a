"""Laboratories, their samples (one blood smear each) and each sample's audit trail."""

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.utils import formats, timezone

from accounts.models import cascade_unless_verified
from classifier.models import REASON_MAX_LENGTH

NOTES_MAX_LENGTH = 4000  # a few paragraphs; the PDF report renders them in well under a second
NO_PERSONAL_DATA = "no patient names or other personal data"
IDENTIFIER_HELP = f"Laboratory sample number ({NO_PERSONAL_DATA})."
NOTES_HELP = f"Optional; {NO_PERSONAL_DATA}."
UNVERIFY_PERMISSION = "labs.unverify_sample"  # Sample.Meta.permissions; staff grant it to a few people


class Lab(models.Model):
    """A laboratory team: its members see and work on its samples; its reviewers review and verify them."""

    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=50, unique=True, help_text="Short name for the API, e.g. haematology-north.")
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="labs", blank=True)

    class Meta:
        db_table = "classifier_lab"  # from before the app split, as every table here: no row moved
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Sample(models.Model):
    """One blood smear: its cell images make up the differential count. Holds no personal data.

    Without a lab (samples from before labs existed, or made by someone in none) only its owner and staff see it.
    Once verified it is frozen: nothing in it changes until someone with the un-verify permission opens it again.
    """

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=cascade_unless_verified, related_name="samples")
    lab = models.ForeignKey(Lab, on_delete=models.PROTECT, null=True, blank=True, related_name="samples")
    identifier = models.CharField(max_length=64, help_text=IDENTIFIER_HELP)
    notes = models.TextField(
        blank=True,
        max_length=NOTES_MAX_LENGTH,  # max_length shapes forms; the validator
        validators=[MaxLengthValidator(NOTES_MAX_LENGTH)],  # enforces it on full_clean
        help_text=NOTES_HELP,
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    IN_A_VERIFIED_SAMPLE = models.Q(verified_at__isnull=False)

    class Meta:
        db_table = "classifier_sample"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "identifier"], name="unique_sample_per_owner"),
            models.UniqueConstraint(
                fields=["lab", "identifier"], name="unique_sample_per_lab", condition=models.Q(lab__isnull=False)
            ),
        ]
        permissions = [("unverify_sample", "Can un-verify a verified sample, giving a reason")]

    def __str__(self) -> str:
        return self.identifier

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None


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
    prediction = models.ForeignKey(
        "classifier.Prediction", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    cell = models.CharField(max_length=255, blank=True, help_text="The cell's file name, kept if it is deleted.")
    from_label = models.CharField(
        max_length=20, blank=True, help_text="The cell's label before: its class, or 'excluded'."
    )
    to_label = models.CharField(max_length=20, blank=True)
    reason = models.CharField(max_length=REASON_MAX_LENGTH, blank=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        db_table = "classifier_sampleevent"
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        at = formats.date_format(timezone.localtime(self.at), "DATETIME_FORMAT")
        return f"{self.sample}: {self.get_kind_display()} by {self.actor} at {at}"
