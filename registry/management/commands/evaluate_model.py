"""``manage.py evaluate_model``: evaluate an artifact on every source's evaluation set, print, save, store."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from ml.artifact import ArtifactError
from ml.data import DatasetError
from ml.evaluation import evaluate, format_report, save_confusion_png
from registry import services
from registry.management.options import (
    add_json_argument,
    add_model_argument,
    add_sources_argument,
    require_migrated_database,
    sources_option,
    write_json_option,
)


class Command(BaseCommand):
    help = (
        "Evaluate the trained model on every source's evaluation set (Kaggle TEST, the PBC held-out fifth) "
        "and record the metrics on its ModelVersion."
    )

    def add_arguments(self, parser):
        add_sources_argument(parser)
        add_model_argument(parser)
        add_json_argument(parser, "metrics of every evaluation set")
        parser.add_argument("--plots", help="folder for the confusion-matrix PNGs")

    def handle(self, *args, **options):
        sources = sources_option(options)
        require_migrated_database()
        try:
            results = evaluate(options["model"], sources, settings.HEMATOVISION_CONFIDENCE_THRESHOLD)
        except (ArtifactError, DatasetError) as error:
            raise CommandError(str(error)) from error
        if not results:
            raise CommandError("None of the sources has an evaluation set (a TEST split or class folders).")
        for name, metrics in results.items():
            if options["plots"]:
                file_name = f"confusion_{name.replace(' ', '_')}.png"
                metrics["confusion_matrix_png"] = str(save_confusion_png(metrics, Path(options["plots"]) / file_name))
            services.model_version_record_evaluation(model_path=options["model"], metrics=metrics)
            self.stdout.write(format_report(metrics) + "\n")
        write_json_option(options, results)
