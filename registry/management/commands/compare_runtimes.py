"""``manage.py compare_runtimes``: Keras against the OpenVINO export of one artifact, agreement and speed, one run."""

from django.core.management.base import BaseCommand, CommandError

from ml.artifact import ArtifactError
from ml.data import DatasetError
from ml.runtime_comparison import compare_runtimes, format_comparison
from registry.management.options import (
    add_json_argument,
    add_model_argument,
    add_sources_argument,
    sources_option,
    write_json_option,
)


class Command(BaseCommand):
    help = (
        "Run the model on Keras and on its OpenVINO export over every source's evaluation set (Kaggle TEST, "
        "the PBC held-out fifth): accuracy of each, agreement, batch-1 and batched speed, service and end-to-end "
        "speed, each beside its target."
    )

    def add_arguments(self, parser):
        add_sources_argument(parser)
        add_model_argument(parser)
        add_json_argument(parser, "figures")
        parser.add_argument("--calls", type=int, default=50, help="batch-1 calls per runtime per round")
        parser.add_argument("--rounds", type=int, default=3, help="rounds taking turns between the runtimes")

    def handle(self, *args, **options):
        sources = sources_option(options)
        if options["calls"] < 1 or options["rounds"] < 1:
            raise CommandError("--calls and --rounds must be at least 1.")
        try:
            result = compare_runtimes(options["model"], sources, calls=options["calls"], rounds=options["rounds"])
        except (ArtifactError, DatasetError) as error:
            raise CommandError(str(error)) from error
        self.stdout.write(format_comparison(result) + "\n")
        write_json_option(options, result)
