"""``manage.py evaluate_full_size``: full-size originals of the TEST cells against their 320x240 copies, stored on
the ModelVersion for the Model page."""

from django.core.management.base import BaseCommand, CommandError

from ml.artifact import ArtifactError
from ml.data import DatasetError
from ml.full_size import compare_full_size, format_full_size_report, list_original_pairs
from ml.inference import CellClassifier
from registry import services
from registry.management.options import (
    add_dataset_argument,
    add_json_argument,
    add_model_argument,
    require_dataset,
    require_migrated_database,
    write_json_option,
)


class Command(BaseCommand):
    help = (
        "Classify the 71 TEST_SIMPLE photos and their 640x480 originals as uploads are classified, and "
        "report accuracy on each size and how often they agree (a check only: nothing is trained or chosen)."
    )

    def add_arguments(self, parser):
        add_dataset_argument(parser)
        add_model_argument(parser)
        add_json_argument(parser, "comparison")

    def handle(self, *args, **options):
        require_dataset(options)
        require_migrated_database()
        try:
            pairs = list_original_pairs(options["dataset_dir"])
            result = compare_full_size(CellClassifier.from_path(options["model"]), pairs)
        except (ArtifactError, DatasetError) as error:
            raise CommandError(str(error)) from error
        write_json_option(options, result)
        services.model_version_record_full_size_check(model_path=options["model"], result=result)
        self.stdout.write(format_full_size_report(result))
