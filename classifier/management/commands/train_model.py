"""``manage.py train_model``: parse arguments, train with ``ml.training``, register the ModelVersion."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from classifier import services
from classifier.management.options import add_dataset_argument, require_dataset, require_migrated_database
from ml.data import DatasetError
from ml.model import BaseWeightsError
from ml.training import TrainingConfig, run_training

DEFAULTS = TrainingConfig()


class Command(BaseCommand):
    help = "Train the white-cell classifier on TRAIN (validation grouped by source cell) and register it."

    def add_arguments(self, parser):
        add_dataset_argument(parser)
        parser.add_argument("--output", default=str(settings.HEMATOVISION_MODEL_PATH),
                            help="where to write the .keras model and its .json metadata "
                                 "(default: HEMATOVISION_MODEL_PATH)")
        parser.add_argument("--base-weights", default=settings.HEMATOVISION_BASE_WEIGHTS,
                            help="MobileNetV2 no-top .h5 file, 'imagenet' or 'none' "
                                 "(default: HEMATOVISION_BASE_WEIGHTS)")
        parser.add_argument("--epochs", type=int, default=DEFAULTS.head_epochs,
                            help="epochs of phase 1 (head only, base frozen)")
        parser.add_argument("--fine-tune-epochs", type=int, default=DEFAULTS.fine_tune_epochs,
                            help="maximum epochs of phase 2 (fine-tuning, with early stopping)")
        parser.add_argument("--fine-tune-layers", type=int, default=DEFAULTS.fine_tune_layers,
                            help="how many top layers of the base are trained in phase 2 (155 = all of "
                                 "MobileNetV2; BatchNorm layers stay frozen)")
        parser.add_argument("--image-size", type=int, default=DEFAULTS.image_size)
        parser.add_argument("--batch-size", type=int, default=DEFAULTS.batch_size)
        parser.add_argument("--seed", type=int, default=DEFAULTS.seed)
        parser.add_argument("--val-fraction", type=float, default=DEFAULTS.val_fraction,
                            help="share of source cells held out for validation; 0 trains on every TRAIN "
                                 "photo for exactly the given epochs (the refit the shipped model uses)")
        parser.add_argument("--max-per-class", type=int, default=None,
                            help="train on a reduced subset of this many images per class (quick runs, CI)")

    def handle(self, *args, **options):
        require_dataset(options)
        require_migrated_database()
        config = TrainingConfig(
            image_size=options["image_size"], head_epochs=options["epochs"],
            fine_tune_epochs=options["fine_tune_epochs"], fine_tune_layers=options["fine_tune_layers"],
            batch_size=options["batch_size"], seed=options["seed"], val_fraction=options["val_fraction"],
            max_per_class=options["max_per_class"],
        )
        try:
            metadata = run_training(options["dataset_dir"], options["base_weights"], options["output"], config)
        except (DatasetError, BaseWeightsError, ValueError) as error:
            raise CommandError(str(error)) from error
        version = services.model_version_register(model_path=options["output"], metadata=metadata)
        self.stdout.write(self.style.SUCCESS(
            f"Saved {options['output']} ({version}); {validation_summary(metadata)}, "
            f"trained in {metadata['training']['wall_seconds']:.0f} s."))


def validation_summary(metadata: dict) -> str:
    validation = metadata["validation"]
    if validation is None:
        return f"no validation split (refit on all {metadata['training']['train_images']} TRAIN images)"
    return f"grouped validation accuracy {validation['accuracy']:.2%}, macro F1 {validation['macro_f1']:.3f}"
