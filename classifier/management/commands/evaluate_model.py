"""``manage.py evaluate_model``: evaluate an artifact on a split, print, save JSON/PNG, store on ModelVersion."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from classifier import services
from classifier.management.options import (add_dataset_argument, add_json_argument, add_model_argument,
                                           require_dataset, require_migrated_database, write_json_option)
from ml.artifact import ArtifactError
from ml.data import DatasetError
from ml.evaluation import evaluate, format_report, save_confusion_png


class Command(BaseCommand):
    help = "Evaluate the trained model on a dataset split (default TEST) and record the metrics."

    def add_arguments(self, parser):
        add_dataset_argument(parser)
        parser.add_argument("--split", default="TEST", help="TEST (default), TEST_SIMPLE or TRAIN")
        add_model_argument(parser)
        add_json_argument(parser, "metrics")
        parser.add_argument("--plots", help="folder for the confusion-matrix PNG")

    def handle(self, *args, **options):
        require_dataset(options)
        require_migrated_database()
        try:
            metrics = evaluate(options["model"], options["dataset_dir"], options["split"])
        except (ArtifactError, DatasetError) as error:
            raise CommandError(str(error)) from error
        if options["plots"]:
            png = save_confusion_png(metrics, Path(options["plots"]) / f"confusion_{options['split']}.png")
            metrics["confusion_matrix_png"] = str(png)
        write_json_option(options, metrics)
        services.model_version_record_evaluation(model_path=options["model"], metrics=metrics)
        self.stdout.write(format_report(metrics))
