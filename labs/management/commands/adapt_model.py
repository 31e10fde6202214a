"""``manage.py adapt_model --lab SLUG``: build a lab's own model from its verified cells, or ``--revert`` it."""

import time

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from labs.models import Lab, LabModelChange
from labs.services.lab_models import lab_model_build, lab_model_request, lab_model_revert
from registry.adaptation import AdaptationConfig

DEFAULTS = AdaptationConfig()


class Command(BaseCommand):
    help = (
        "Fine-tune the shared model on a lab's verified cells, compare it with the lab's current model on the lab's "
        "held-out cells and every evaluation set, and activate it for that lab only if it is better there and at "
        "most 1 point worse on the shared sets. --revert takes the lab back to the shared model."
    )

    def add_arguments(self, parser):
        parser.add_argument("--lab", required=True, help="the lab's slug")
        parser.add_argument("--revert", action="store_true", help="go back to the shared model")
        parser.add_argument(
            "--source",
            dest="sources",
            action="append",
            metavar="NAME=PATH",
            help="a shared source replayed in training and evaluated on, repeatable "
            "(default: HEMATOVISION_TRAINING_SOURCES)",
        )
        parser.add_argument(
            "--evaluate-on",
            action="append",
            metavar="NAME=PATH",
            help="evaluate on this source's evaluation set instead of the --source ones, repeatable",
        )
        parser.add_argument("--epochs", type=int, default=DEFAULTS.epochs, help="0 keeps the shared model's weights")
        parser.add_argument("--learning-rate", type=float, default=DEFAULTS.learning_rate)
        parser.add_argument(
            "--fine-tune-layers",
            type=int,
            default=DEFAULTS.fine_tune_layers,
            help="top base layers trained (155 = all of MobileNetV2; 0 = the head only)",
        )
        parser.add_argument("--replay-per-class", type=int, default=DEFAULTS.replay_per_class)

    def handle(self, *args, **options):
        try:
            lab = Lab.objects.select_related("active_model").get(slug=options["lab"])
        except Lab.DoesNotExist as error:
            raise CommandError(f"No lab with the slug {options['lab']!r}.") from error
        try:
            if options["revert"]:
                lab_model_revert(lab=lab, user=None)
                self.stdout.write(self.style.SUCCESS(f"{lab} went back to the shared model."))
                return
            change = lab_model_request(lab=lab, user=None, send=False)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        started = time.perf_counter()
        config = AdaptationConfig(
            epochs=options["epochs"],
            learning_rate=options["learning_rate"],
            fine_tune_layers=options["fine_tune_layers"],
            replay_per_class=options["replay_per_class"],
        )
        change = lab_model_build(
            change=change,
            config=config,
            replay_sources=options["sources"],
            evaluation_sources=options["evaluate_on"] or options["sources"],
            progress=self.stdout.write,
        )
        self.stdout.write(change.message)
        seconds = time.perf_counter() - started
        if change.status in (LabModelChange.Status.REFUSED, LabModelChange.Status.FAILED):
            raise CommandError(f"{change.get_status_display()} after {seconds:.0f} s.")
        self.stdout.write(self.style.SUCCESS(f"{change.get_status_display()} in {seconds:.0f} s."))
