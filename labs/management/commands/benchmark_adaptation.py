"""``manage.py benchmark_adaptation``: a stand-in lab with N verified cells per class of a source, then
``adapt_model`` for it, timed (``make bench-adaptation``, on a throwaway database)."""

import time

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from benchmarks.adaptation import standin_cells, standin_lab_make, standin_source
from labs.models import Lab


class Command(BaseCommand):
    help = (
        "Make a stand-in lab from N cells per class of a source (uploaded, reviewed and verified through the app), "
        "then build its own model with adapt_model and print the evaluations and the time."
    )

    def add_arguments(self, parser):
        parser.add_argument("--lab-source", required=True, metavar="NAME=PATH", help="the stand-in lab's cells")
        parser.add_argument("--cells-per-class", type=int, default=10)
        parser.add_argument("adapt_model_arguments", nargs="*", help="passed on to adapt_model (after --)")

    def handle(self, *args, **options):
        try:
            source = standin_source(options["lab_source"])
        except ValueError as error:
            raise CommandError(str(error)) from error
        slug = f"{source.name}-{options['cells_per_class']}-per-class"
        if Lab.objects.filter(slug=slug).exists():
            raise CommandError(f"The lab {slug} exists already: run on a fresh database.")
        started = time.perf_counter()
        lab = standin_lab_make(slug, standin_cells(source, options["cells_per_class"]))
        self.stdout.write(
            f"Stand-in lab {slug}: cells uploaded, reviewed and verified in {time.perf_counter() - started:.0f} s"
        )
        call_command("adapt_model", "--lab", lab.slug, *options["adapt_model_arguments"], stdout=self.stdout)
