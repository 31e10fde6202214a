"""Samples and predictions made straight in the database, with chosen labels (no model call needed)."""

from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.utils import timezone

from classifier import services
from classifier.apps import REVIEWERS_GROUP
from classifier.models import CLASS_CHOICES, ModelVersion, Prediction
from tests.factories import image_bytes

CLASS_NAMES = [name for name, _ in CLASS_CHOICES]
SHA256 = "0123456789abcdef" * 4


def reviewer_make(django_user_model, username: str = "rita"):
    """A member of the Reviewers group (the product's way of granting the review permission)."""
    reviewer = django_user_model.objects.create_user(username=username, password=f"s3cret-pass-{username}")
    reviewer.groups.add(Group.objects.get(name=REVIEWERS_GROUP))
    return reviewer


def sample_make(owner, identifier: str = "S-001", notes: str = ""):
    return services.sample_create(owner=owner, identifier=identifier, notes=notes)


def model_version_make() -> ModelVersion:
    version, _ = ModelVersion.objects.get_or_create(sha256=SHA256, defaults={
        "name": "factory-model", "file_path": "/models/factory.keras", "base_network": "MobileNetV2",
        "input_size": 96, "class_names": CLASS_NAMES})
    return version


def prediction_make(sample, label: str = "NEUTROPHIL", *, reviewed_label: str = "", reviewer=None,
                    needs_review: bool = False, filename: str = "cell.jpeg", owner=None) -> Prediction:
    """One stored prediction of ``sample`` (or of ``owner`` alone when ``sample`` is None)."""
    probabilities = {name: (0.7 if name == label else 0.1) for name in CLASS_NAMES}
    prediction = Prediction(
        owner=owner or sample.owner, sample=sample, predicted_label=label, confidence=0.7,
        probabilities=probabilities, needs_review=needs_review,
        review_reasons=["low_confidence"] if needs_review else [], original_filename=filename,
        model_version=model_version_make(), inference_ms=1.0, reviewed_label=reviewed_label,
        reviewed_by=reviewer if reviewed_label else None, reviewed_at=timezone.now() if reviewed_label else None,
    )
    data = image_bytes("JPEG")
    prediction.image.save(filename, ContentFile(data), save=False)
    prediction.preview.save("preview.jpg", ContentFile(data), save=False)
    prediction.image_width, prediction.image_height = 320, 240  # the size of factories.smear_rgb
    prediction.save()
    return prediction


def predictions_make(sample, counts: dict[str, int]) -> list[Prediction]:
    """``counts`` predictions of each class, e.g. ``{"NEUTROPHIL": 6, "LYMPHOCYTE": 4}``."""
    return [prediction_make(sample, label, filename=f"{label.lower()}-{index}.jpeg")
            for label, count in counts.items() for index in range(count)]
