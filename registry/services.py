"""Model versions: registered the first time an artifact is seen (by ``train_model`` or the gateway when it loads
one), then enriched with the evaluations the model commands record."""

from __future__ import annotations

from datetime import datetime

from ml.artifact import ArtifactMetadata, read_metadata
from registry.models import ModelVersion


def model_version_register(*, model_path, metadata: ArtifactMetadata) -> ModelVersion:
    """The artifact's version, created the first time its sha256 is seen and left as it is after."""
    version, _ = ModelVersion.objects.get_or_create(
        sha256=metadata.sha256,
        defaults={
            "name": metadata.name,
            "file_path": str(model_path),
            "base_network": metadata.base_network,
            "input_size": metadata.preprocessing.input_size,
            "class_names": list(metadata.class_names),
            "trained_at": datetime.fromisoformat(metadata.trained_at),
            "metrics": _training_record(metadata),
        },
    )
    return version


def _training_record(metadata: ArtifactMetadata) -> dict:
    """What the Model page says about training: validation figures, the sources, the novelty check, and the
    evaluation figures ``train_model`` measured."""
    record = {"validation": metadata.validation} if metadata.validation else {}
    training = metadata.training
    record["training"] = {
        "train_images": training["train_images"],
        "val_images": training["val_images"],
        "train_images_per_source": training["train_images_per_source"],
        "sources": training["sources"],
    }
    record["novelty"] = metadata.novelty
    if metadata.evaluation:
        record["evaluation"] = metadata.evaluation
    return record


def model_version_record_evaluation(*, model_path, metrics: dict) -> ModelVersion:
    """Store an evaluation (keyed by evaluation set) on the version whose sha256 the metrics name."""
    split = metrics["split"]
    return _model_version_add_metrics(
        model_path, lambda version: {"evaluation": {**version.metrics.get("evaluation", {}), split: metrics}}
    )


def model_version_record_full_size_check(*, model_path, result: dict) -> ModelVersion:
    """Store ``evaluate_full_size``'s comparison, which the Model page shows beside the TEST figures."""
    return _model_version_add_metrics(model_path, lambda version: {"full_size": result})


def _model_version_add_metrics(model_path, entries_for) -> ModelVersion:
    """Register the artifact's version if needed, then merge ``entries_for(version)`` into its metrics."""
    version = model_version_register(model_path=model_path, metadata=read_metadata(model_path))
    version.metrics = {**version.metrics, **entries_for(version)}
    version.save(update_fields=["metrics"])
    return version
