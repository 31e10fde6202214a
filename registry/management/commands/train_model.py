"""``manage.py train_model``: parse arguments, train with ``ml.training``, register the ModelVersion."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from ml.artifact import ArtifactMetadata
from ml.data import DatasetError
from ml.evaluation import evaluate_into_metadata, format_report
from ml.model import BaseWeightsError
from ml.training import run_training
from registry import services
from registry.management.options import (
    TRAINING_DEFAULTS,
    add_sources_argument,
    add_training_arguments,
    require_migrated_database,
    sources_option,
    training_config,
)


class Command(BaseCommand):
    help = (
        "Train the white-cell classifier on every labelled source (never on an evaluation set) and register "
        "it. With no flags it builds the shipped model."
    )

    def add_arguments(self, parser):
        add_sources_argument(parser)
        parser.add_argument(
            "--output",
            default=str(settings.HEMATOVISION_MODEL_PATH),
            help="where to write the .keras model and its .json metadata (default: HEMATOVISION_MODEL_PATH)",
        )
        add_training_arguments(parser)
        parser.add_argument(
            "--no-evaluation",
            dest="evaluation",
            action="store_false",
            help="skip evaluating the new model on every source's evaluation set (quick runs); by default the "
            "figures are stored with the model, so the Model page shows them",
        )
        parser.add_argument(
            "--val-fraction",
            type=float,
            default=TRAINING_DEFAULTS.val_fraction,
            help="share of source photos held out for validation, with early stopping; 0 (the "
            "shipped refit) trains on every training image for exactly the given epochs",
        )

    def handle(self, *args, **options):
        sources = sources_option(options)
        require_migrated_database()
        config = training_config(options, val_fraction=options["val_fraction"])
        try:
            metadata = run_training(sources, options["base_weights"], options["output"], config)
            if options["evaluation"]:
                metadata, results = evaluate_into_metadata(
                    options["output"], sources, settings.HEMATOVISION_CONFIDENCE_THRESHOLD
                )
                for figures in results.values():
                    self.stdout.write(format_report(figures) + "\n")
        except (DatasetError, BaseWeightsError, ValueError) as error:
            raise CommandError(str(error)) from error
        version = services.model_version_register(model_path=options["output"], metadata=metadata)
        self.stdout.write(
            self.style.SUCCESS(
                f"Saved {options['output']} ({version}); {validation_summary(metadata)}, "
                f"trained in {metadata.training['wall_seconds']:.0f} s."
            )
        )


def validation_summary(metadata: ArtifactMetadata) -> str:
    validation = metadata.validation
    if validation is None:
        return f"no validation split (refit on all {metadata.training['train_images']} training images)"
    per_source = ", ".join(f"{name} {figures['accuracy']:.2%}" for name, figures in validation["per_source"].items())
    return (
        f"grouped validation accuracy {validation['accuracy']:.2%} ({per_source}), "
        f"macro F1 {validation['macro_f1']:.3f}"
    )
