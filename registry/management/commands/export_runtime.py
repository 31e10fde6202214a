"""``manage.py export_runtime``: export an existing artifact's forward pass to OpenVINO beside it."""

from django.core.management.base import BaseCommand, CommandError

from ml.artifact import ArtifactError
from ml.inference import export_artifact
from ml.runtime import openvino_installed
from registry.management.options import add_model_argument


class Command(BaseCommand):
    help = (
        "Export the model's forward pass (test-time views included, fp32) to OpenVINO IR beside it, check it "
        "against Keras and record its checksums in the metadata; `train_model` does this itself."
    )

    def add_arguments(self, parser):
        add_model_argument(parser)

    def handle(self, *args, **options):
        if not openvino_installed():
            raise CommandError("openvino is not installed: `pip install -r requirements.txt`.")
        try:
            metadata = export_artifact(options["model"])
        except ArtifactError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            self.style.SUCCESS(
                f"Exported {metadata.name} to OpenVINO {metadata.openvino['openvino_version']} beside {options['model']}; "
                f"largest probability difference from Keras {metadata.openvino['max_probability_difference']:.1e}."
            )
        )
