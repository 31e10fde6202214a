"""The model versions that made predictions: one row per trained artifact, keyed by its sha256."""

from django.db import models


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
        db_table = "classifier_modelversion"  # from before the app split: no row moved
        ordering = ["-registered_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.sha256[:10]})"
