"""``manage.py cross_validate``: grouped k-fold estimate of a training recipe on the training images (no model kept)."""

from django.core.management.base import BaseCommand, CommandError

from ml.cross_validation import cross_validate, format_cross_validation
from ml.data import DatasetError
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
        "Cross-validate the training recipe on every source's training images, folds grouped by recovered "
        "source photo: a steadier figure than one validation split, for choosing a recipe without looking at "
        "any evaluation set."
    )

    def add_arguments(self, parser):
        add_sources_argument(parser)
        add_training_arguments(parser)
        parser.add_argument("--folds", type=int, default=5)
        add_json_argument(parser, "results")

    def handle(self, *args, **options):
        sources = sources_option(options)
        try:
            result = cross_validate(sources, options["base_weights"], training_config(options), options["folds"])
        except (DatasetError, BaseWeightsError, ValueError) as error:
            raise CommandError(str(error)) from error
        write_json_option(options, result)
        self.stdout.write(format_cross_validation(result))
