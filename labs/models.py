"""Laboratories, their samples (one blood smear each), each sample's audit trail and its signed reports."""

import uuid

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
UNVERIFY_PERMISSION = "labs.unverify_sample"  # Sample.Meta.permissions; the Senior reviewers group holds it
ADAPT_MODEL_PERMISSION = "labs.adapt_model"  # LabModelChange.Meta.permissions
REPORTS_FOLDER = "reports"  # every signed report's PDF, in the default storage (apart from the uploads)


class Lab(models.Model):
    """A laboratory team: its members see and work on its samples; its reviewers review and verify them."""

    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=50, unique=True, help_text="Short name for the API, e.g. haematology-north.")
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="labs", blank=True)
    active_model = models.ForeignKey(
        "registry.ModelVersion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The lab's own model, which classifies its samples' cells; empty: the shared model.",
    )

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
    report_sha256 = models.CharField(
        max_length=64, blank=True, help_text="A verification's: the sha256 of the report PDF it signed and stored."
    )
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        db_table = "classifier_sampleevent"
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        at = formats.date_format(timezone.localtime(self.at), "DATETIME_FORMAT")
        return f"{self.sample}: {self.get_kind_display()} by {self.actor} at {at}"


class LabModelChange(models.Model):
    """One request to give a lab its own model (built from its verified cells by ``adapt_model``) or to take it
    back to the shared model: the lab's model history and its audit trail, also read for the task's progress."""

    class Kind(models.TextChoices):
        BUILD = "build", "Build the lab's model"
        REVERT = "revert", "Back to the shared model"

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting for a worker"
        RUNNING = "running", "Building"
        ACTIVATED = "activated", "Activated for the lab"
        KEPT = "kept", "Not better: the lab kept its model"
        REFUSED = "refused", "Refused: not enough verified cells"
        FAILED = "failed", "Failed"
        REVERTED = "reverted", "Back to the shared model"

    IN_PROGRESS = (Status.QUEUED, Status.RUNNING)

    lab = models.ForeignKey(Lab, on_delete=models.CASCADE, related_name="model_changes")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty: started from the command line.",
    )
    requested_at = models.DateTimeField(default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    progress = models.CharField(max_length=200, blank=True, help_text="The step a build is at, for the Model page.")
    message = models.TextField(blank=True, help_text="What happened and why, one line per evaluation set.")
    previous_model = models.ForeignKey(
        "registry.ModelVersion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The lab's model before the change; empty: the shared model.",
    )
    candidate = models.ForeignKey(
        "registry.ModelVersion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="lab_model_changes",
        help_text="The model built for the lab, activated or not.",
    )
    training_cells = models.JSONField(
        default=dict, blank=True, help_text="Cells per class trained on and held out, and the samples they came from."
    )
    evaluations = models.JSONField(
        default=dict, blank=True, help_text="The lab's current model and the candidate, side by side, per set."
    )

    class Meta:
        ordering = ["-requested_at", "-id"]
        permissions = [("adapt_model", "Can build a lab's own model and take the lab back to the shared model")]
        constraints = [
            models.UniqueConstraint(
                fields=["lab"],
                condition=models.Q(status__in=["queued", "running"]),  # IN_PROGRESS
                name="one_lab_model_build_at_a_time",
            )
        ]

    def __str__(self) -> str:
        return f"{self.lab}: {self.get_kind_display()} ({self.get_status_display()})"

    @property
    def in_progress(self) -> bool:
        return self.status in self.IN_PROGRESS


def report_upload_to(revision: "ReportRevision", filename: str) -> str:
    """A name of its own per signed PDF, by sample; never overwritten, never listed with the uploads."""
    return f"{REPORTS_FOLDER}/{revision.sample_id}/revision-{revision.number}-{uuid.uuid4().hex}.pdf"


class ReportRevision(models.Model):
    """One signed revision of a sample's report: each verification makes the next one, its PDF stored as it was
    signed (sha256 also in that verification's audit-trail entry), so it can be given out again byte for byte;
    un-verifying withdraws it, with who, when and why.

    Revisions signed before reports were stored (rebuilt from the audit trail by migration) have no PDF."""

    sample = models.ForeignKey(Sample, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField(help_text="1 for the first sign-off; 2 and on are amended reports.")
    pdf = models.FileField(upload_to=report_upload_to, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    verified_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    verified_at = models.DateTimeField()
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawal_reason = models.CharField(max_length=REASON_MAX_LENGTH, blank=True)

    class Meta:
        ordering = ["sample", "number"]
        constraints = [models.UniqueConstraint(fields=["sample", "number"], name="unique_report_revision")]

    def __str__(self) -> str:
        return f"{self.sample}: report revision {self.number}"

    @property
    def is_withdrawn(self) -> bool:
        return self.withdrawn_at is not None
