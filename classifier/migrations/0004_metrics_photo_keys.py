"""Stored evaluation metrics name recovered source photos ``photo_*``, not ``cell_*`` (a photo is not a cell)."""

from django.db import migrations

RENAMED = {"cells_correct": "photos_correct", "cells_total": "photos_total", "per_cell": "per_photo",
           "wrong_cells": "wrong_photos", "cell_grouping": "photo_grouping"}


def renamed(metrics: dict) -> dict:
    """``metrics`` with every old key renamed, in each evaluation and in the validation record."""
    def rename(record: dict) -> dict:
        record = {RENAMED.get(key, key): value for key, value in record.items()}
        for key in ("per_photo", "wrong_photos"):
            record[key] = [{("photo" if name == "cell" else name): value for name, value in row.items()}
                           for row in record.get(key, [])] if key in record else None
        return {key: value for key, value in record.items() if value is not None}

    metrics = dict(metrics)
    if isinstance(metrics.get("evaluation"), dict):
        metrics["evaluation"] = {name: rename(record) for name, record in metrics["evaluation"].items()}
    if isinstance(metrics.get("validation"), dict):
        metrics["validation"] = rename(metrics["validation"])
    return metrics


def forwards(apps, schema_editor):
    ModelVersion = apps.get_model("classifier", "ModelVersion")
    for version in ModelVersion.objects.all():
        new = renamed(version.metrics or {})
        if new != version.metrics:
            version.metrics = new
            version.save(update_fields=["metrics"])


class Migration(migrations.Migration):
    dependencies = [("classifier", "0003_pendingimage")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
