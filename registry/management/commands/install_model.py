"""``manage.py install_model SOURCE.keras``: put a trained artifact in place of the served one while the server
runs, atomically and checked (``ml.artifact.install_artifact``); the server loads it on its next request."""

from django.core.management.base import BaseCommand, CommandError

from ml.artifact import ArtifactError, install_artifact
from registry import services
from registry.management.options import add_model_argument, require_migrated_database


class Command(BaseCommand):
    help = (
        "Install a trained artifact (its .keras, .novelty.npz and .json, and its OpenVINO export when it has one) "
        "in place of the served model: copied beside it, checked against its metadata's checksums, then renamed "
        "into place, the metadata last. A running server keeps serving the old model until the new one is whole."
    )

    def add_arguments(self, parser):
        parser.add_argument("source", help="the .keras file of the artifact to install (its other files beside it)")
        add_model_argument(parser)

    def handle(self, *args, source: str, **options):
        require_migrated_database()
        try:
            metadata = install_artifact(source, options["model"])
        except ArtifactError as error:
            raise CommandError(f"Nothing was installed: {error}") from error
        services.model_version_register(model_path=options["model"], metadata=metadata)
        runtime = f"OpenVINO {metadata.openvino['openvino_version']} and Keras" if metadata.openvino else "Keras"
        self.stdout.write(
            self.style.SUCCESS(
                f"Installed {metadata.name} (sha256 {metadata.sha256[:12]}…, {runtime}) at {options['model']}; "
                "running servers load it on their next request."
            )
        )
