"""``manage.py export_runtime``: export an existing artifact's forward pass to OpenVINO beside it, in fp32, or
quantised to int8 from that export and recorded only if it agrees with fp32 (``ml.quantisation``)."""

from django.core.management.base import BaseCommand, CommandError

from ml.artifact import ArtifactError, read_metadata
from ml.data import DatasetError
from ml.inference import export_artifact
from ml.quantisation import Int8Refused, calibration_set, export_int8, nncf_installed
from ml.runtime import openvino_installed
from registry.management.options import add_model_argument, add_sources_argument, sources_option


class Command(BaseCommand):
    help = (
        "Export the model's forward pass (test-time views included) to OpenVINO IR beside it: fp32, checked against "
        "Keras (`train_model` does this itself), or int8, quantised from the fp32 export by NNCF on training "
        "images and recorded only if it agrees with fp32 on other training images."
    )

    def add_arguments(self, parser):
        add_model_argument(parser)
        parser.add_argument("--precision", choices=("fp32", "int8"), default="fp32")
        add_sources_argument(parser)

    def handle(self, *args, **options):
        if not openvino_installed():
            raise CommandError("openvino is not installed: `pip install -r requirements.txt`.")
        try:
            if options["precision"] == "int8":
                self._export_int8(options)
            else:
                self._export_fp32(options)
        except Int8Refused as refusal:
            self.stdout.write(format_agreement(refusal.figures))
            raise CommandError(str(refusal)) from refusal
        except (ArtifactError, DatasetError) as error:
            raise CommandError(str(error)) from error

    def _export_fp32(self, options):
        metadata = export_artifact(options["model"])
        self.stdout.write(
            self.style.SUCCESS(
                f"Exported {metadata.name} to OpenVINO {metadata.openvino['openvino_version']} beside "
                f"{options['model']}; largest probability difference from Keras "
                f"{metadata.openvino['max_probability_difference']:.1e}."
            )
        )

    def _export_int8(self, options):
        if not nncf_installed():
            raise CommandError("nncf is not installed: `pip install -r requirements.txt`.")
        spec = read_metadata(options["model"]).preprocessing
        metadata = export_int8(options["model"], calibration_set(sources_option(options), spec))
        record = metadata.openvino_int8
        self.stdout.write(format_agreement(record["agreement"]))
        self.stdout.write(
            self.style.SUCCESS(
                f"Quantised {metadata.name} to int8 (NNCF {record['nncf_version']}, "
                f"{record['calibration']['calibration_images']} calibration images, {record['quantise_seconds']:.0f} s) "
                f"beside {options['model']}; it agrees with fp32 and is recorded."
            )
        )


def format_agreement(figures: dict) -> str:
    return (
        f"int8 against fp32 on {figures['n_images']} training images the calibration did not use: same class "
        f"{figures['same_class_share']:.2%}, same novelty flag {figures['same_novelty_flag_share']:.2%}, accuracy "
        f"{figures['int8_accuracy']:.2%} against {figures['fp32_accuracy']:.2%}"
    )
