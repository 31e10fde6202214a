"""``manage.py leave_one_lab_out``: train on every laboratory but one, read the one left out; for each lab."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from ml.data import DatasetError
from ml.leave_one_lab_out import leave_one_lab_out
from ml.model import BaseWeightsError
from registry.management.options import (
    add_json_argument,
    add_sources_argument,
    add_training_arguments,
    sources_option,
    training_config,
    write_json_option,
)


class Command(BaseCommand):
    help = (
        "Leave-one-laboratory-out: for each source, train the recipe on the other sources only and read the "
        "left-out one, on its training images (for choosing a recipe) and its evaluation set (for the table)."
    )

    def add_arguments(self, parser):
        add_sources_argument(parser)
        add_training_arguments(parser)
        parser.add_argument(
            "--selection-per-class",
            type=int,
            default=300,
            help="the left-out lab's training images read per class (0: all)",
        )
        add_json_argument(parser, "readings and every image's prediction")

    def handle(self, *args, **options):
        sources = sources_option(options)
        try:
            result = leave_one_lab_out(
                sources,
                options["base_weights"],
                training_config(options),
                options["selection_per_class"] or None,
                settings.HEMATOVISION_CONFIDENCE_THRESHOLD,
            )
        except (DatasetError, BaseWeightsError, ValueError) as error:
            raise CommandError(str(error)) from error
        write_json_option(options, result)
        self.stdout.write(self.style.SUCCESS(f"Leave-one-lab-out done for {', '.join(result['left_out'])}."))
