"""``manage.py calibrate_review_threshold``: choose HEMATOVISION_CONFIDENCE_THRESHOLD on validation data.

The validation split is rebuilt from the seed and fraction stored in the model's metadata, so these are
TRAIN images of source cells the model never trained on; TEST is never read.
"""

from django.core.management.base import BaseCommand, CommandError

from classifier.management.options import add_dataset_argument, add_model_argument, require_dataset
from ml import CLASS_NAMES
from ml.artifact import ArtifactError
from ml.data import DatasetError, Sample, subsample_cells
from ml.evaluation import predict_split
from ml.inference import CellClassifier
from ml.quality import ThresholdChoice, choose_review_threshold
from ml.training import TrainingConfig, load_training_samples


def validation_samples(metadata: dict, dataset_dir: str, max_per_class: int | None) -> list[Sample]:
    """The model's own grouped validation split of TRAIN, optionally reduced for a quick run."""
    training = metadata.get("training") or {}
    if "seed" not in training or "val_fraction" not in training:
        raise CommandError("The model's metadata does not record its training seed and val_fraction, so its "
                           "validation split cannot be rebuilt; retrain it with `manage.py train_model`.")
    if not training["val_fraction"]:
        raise CommandError("The model was trained on every TRAIN photo (val_fraction 0), so no held-out photos are "
                           "left to calibrate on; calibrate a model of the same recipe trained with a validation "
                           "split (train_model --val-fraction 0.2).")
    config = TrainingConfig(seed=training["seed"], val_fraction=training["val_fraction"],
                            max_per_class=training.get("max_per_class"))
    _, validation = load_training_samples(dataset_dir, config)
    return subsample_cells(validation, max_per_class, config.seed) if max_per_class else validation


def review_threshold_calibrate(model_path: str, dataset_dir: str, target_accuracy: float,
                               max_per_class: int | None) -> ThresholdChoice:
    classifier = CellClassifier.from_path(model_path)
    if classifier.class_names != list(CLASS_NAMES):
        raise CommandError(f"The model's classes {classifier.class_names} differ from {list(CLASS_NAMES)}.")
    samples = validation_samples(classifier.metadata, dataset_dir, max_per_class)
    probabilities, _ = predict_split(classifier, samples, batch_size=64)
    return choose_review_threshold(probabilities, [sample.label for sample in samples], target_accuracy)


def _percent(value: float | None) -> str:
    return "n/a (no images)" if value is None else f"{value:.2%}"


class Command(BaseCommand):
    help = ("Choose the confidence threshold below which predictions need review, on the model's grouped "
            "validation split of TRAIN (never TEST).")

    def add_arguments(self, parser):
        add_model_argument(parser)
        add_dataset_argument(parser)
        parser.add_argument("--target-accuracy", type=float, default=0.99,
                            help="accuracy the trusted (not flagged) predictions must reach (default 0.99)")
        parser.add_argument("--max-per-class", type=int, default=None,
                            help="use at most this many validation images per class (quick runs)")

    def handle(self, *args, **options):
        require_dataset(options)
        if not 0 < options["target_accuracy"] <= 1:
            raise CommandError("--target-accuracy must be above 0 and at most 1, e.g. 0.99.")
        try:
            choice = review_threshold_calibrate(options["model"], options["dataset_dir"],
                                                options["target_accuracy"], options["max_per_class"])
        except (ArtifactError, DatasetError) as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"Validation images (grouped split of TRAIN): {choice.images}\n"
            f"Review threshold for {choice.target_accuracy:.1%} accuracy: {choice.threshold:.4f}\n"
            f"Flagged for review: {choice.flagged_share:.2%} of validation images\n"
            f"Accuracy at or above the threshold: {_percent(choice.accuracy_above)}\n"
            f"Accuracy below the threshold: {_percent(choice.accuracy_below)}\n")
        self.stdout.write(self.style.SUCCESS(f"Set HEMATOVISION_CONFIDENCE_THRESHOLD={choice.threshold:.4f}"))
