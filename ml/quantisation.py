"""int8 post-training quantisation of the OpenVINO export (NNCF), recorded only once it is proven to agree with fp32.

Behind ``manage.py export_runtime --precision int8``. The fp32 IR is calibrated on crops of training images (never
an evaluation set), the int8 IR it gives is run beside the fp32 one on other training images, and only when they
agree (``AGREEMENT_GATE``: the same class, the same novelty flag, the same accuracy) is it written beside the model
and recorded in the metadata (``openvino_int8``). A quantisation that disagrees is refused, and nothing is written:
``HEMATOVISION_RUNTIME_PRECISION=int8`` then refuses to serve the model, and ``auto`` serves fp32.

How far int8 is from fp32 on the evaluation sets, and how much faster it is, ``manage.py compare_runtimes``
measures (the figures are in docs/model-card.md, "Runtime").
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import importlib.util
import random
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ml.agreement import agreement, model_inputs
from ml.artifact import ArtifactError, ArtifactMetadata, novelty_path, read_checked, read_metadata, write_metadata
from ml.data import grouped_split
from ml.novelty import TrainingDistribution
from ml.preprocessing import PreprocessingSpec
from ml.runtime import IRUnavailable, OpenVINOForward, read_ir, serialised, write_ir
from ml.sources import Source, training_images

CALIBRATION_PER_SOURCE = 1000  # crops of each source's training images that set the int8 ranges (300: less agreement)
CHECK_PER_SOURCE = 1000  # crops of each source's other training photos that the agreement check runs on
# The training images are split by photo, as validation splits are: the check never sees a calibration photo.
CHECK_FRACTION, SPLIT_SEED = 0.2, 0
# What int8 must reach against fp32 on the check images to be recorded (the targets for the evaluation
# sets, which compare_runtimes measures; the check itself never reads an evaluation set).
AGREEMENT_GATE = {"same_class_share": 0.995, "same_novelty_flag_share": 0.99, "accuracy_difference_points": 0.3}
# NNCF's options: the performance preset (symmetric weights and activations) with full bias correction. The
# prototype's other options each failed a gate (docs/experiments.md, "int8: the prototype").
QUANTISE_OPTIONS = {"preset": "performance", "fast_bias_correction": False}


@dataclass(frozen=True)
class CalibrationSet:
    """The crops the quantisation is calibrated on, and the labelled crops its agreement is checked on."""

    calibration: np.ndarray  # uint8, (n, size, size, 3)
    check: np.ndarray
    check_labels: np.ndarray
    summary: dict  # how they were drawn, for the metadata


class Int8Refused(ArtifactError):
    """The int8 quantisation disagrees with fp32 past the gate; ``figures`` says by how much."""

    def __init__(self, message: str, figures: dict):
        super().__init__(message)
        self.figures = figures


def nncf_installed() -> bool:
    return importlib.util.find_spec("nncf") is not None


def calibration_set(
    sources: list[Source],
    spec: PreprocessingSpec,
    per_source: int = CALIBRATION_PER_SOURCE,
    check_per_source: int = CHECK_PER_SOURCE,
) -> CalibrationSet:
    """Calibration crops from one side of each source's training photos, check crops from the other side."""
    calibration, check = [], []
    for source in sources:
        kept, held_back = grouped_split(training_images(source), CHECK_FRACTION, SPLIT_SEED)
        random.Random(SPLIT_SEED).shuffle(kept)
        random.Random(SPLIT_SEED + 1).shuffle(held_back)
        calibration += kept[:per_source]
        check += held_back[:check_per_source]
    if not calibration or not check:
        raise ArtifactError("The training sources give no images to calibrate the int8 quantisation on.")
    summary = {
        "sources": [source.name for source in sources],
        "calibration_images": len(calibration),
        "check_images": len(check),
        "split": {"check_fraction": CHECK_FRACTION, "seed": SPLIT_SEED, "grouped_by": "photo"},
    }
    return CalibrationSet(
        model_inputs(spec, calibration),
        model_inputs(spec, check),
        np.array([sample.label for sample in check]),
        summary,
    )


def quantise(xml: bytes, weights: bytes, calibration: np.ndarray):
    """The int8 OpenVINO model NNCF makes of the fp32 IR, calibrated on ``calibration`` (uint8 crops)."""
    import nncf  # noqa: PLC0415 - optional dependency, imported only when used
    import openvino as ov  # noqa: PLC0415

    model = ov.Core().read_model(model=xml, weights=ov.Tensor(np.frombuffer(weights, np.uint8)))
    return nncf.quantize(
        model,
        nncf.Dataset([calibration[index : index + 1] for index in range(len(calibration))]),
        preset=nncf.QuantizationPreset(QUANTISE_OPTIONS["preset"]),
        subset_size=len(calibration),
        fast_bias_correction=QUANTISE_OPTIONS["fast_bias_correction"],
    )


def gate_failures(figures: dict, gate: dict) -> list[str]:
    """What the agreement figures miss of the gate, one sentence each; empty when int8 may be recorded."""
    failures = [
        f"{name.replace('_', ' ')} {figures[name]:.2%} < {gate[name]:.1%}"
        for name in ("same_class_share", "same_novelty_flag_share")
        if figures[name] < gate[name]
    ]
    if abs(figures["accuracy_difference_points"]) > gate["accuracy_difference_points"]:
        failures.append(
            f"accuracy {figures['accuracy_difference_points']:+.2f} points from fp32 "
            f"(more than {gate['accuracy_difference_points']})"
        )
    return failures


def export_int8(model_path: str | Path, crops: CalibrationSet, gate: dict | None = None) -> ArtifactMetadata:
    """Quantise the artifact's fp32 export to int8 on ``crops``, check it against fp32, and only if it passes
    ``gate`` (by default ``AGREEMENT_GATE``) write it beside the model and record it in the metadata;
    ``Int8Refused``, and nothing written, if it does not."""
    gate = gate or AGREEMENT_GATE
    metadata = read_metadata(model_path)
    try:
        fp32 = read_ir(model_path, metadata.openvino)
    except IRUnavailable as problem:
        raise ArtifactError(f"Nothing to quantise: {problem}.") from problem
    distribution = TrainingDistribution.from_bytes(
        read_checked(novelty_path(model_path), metadata.novelty_sha256, "novelty check")
    )
    size = metadata.preprocessing.input_size
    started = time.perf_counter()
    quantised = quantise(*fp32, crops.calibration)
    quantise_seconds = time.perf_counter() - started
    int8 = serialised(quantised)
    forwards = {"fp32": OpenVINOForward(*fp32, size), "int8": OpenVINOForward(*int8, size, "int8")}
    figures = agreement(forwards, distribution, crops.check, crops.check_labels)
    if failures := gate_failures(figures, gate):
        raise Int8Refused(
            f"The int8 quantisation disagrees with fp32 on {figures['n_images']} training images: "
            f"{'; '.join(failures)}. It was not recorded, and is not served.",
            figures,
        )
    record = write_ir(*int8, model_path, "int8")
    return write_metadata(
        model_path,
        dataclasses.replace(
            metadata,
            openvino_int8={
                **record,
                "precision": "int8",
                "nncf_version": importlib.metadata.version("nncf"),
                "quantised_from_xml_sha256": metadata.openvino["xml_sha256"],
                "options": QUANTISE_OPTIONS,
                "calibration": crops.summary,
                "agreement": figures,
                "gate": gate,
                "quantise_seconds": round(quantise_seconds, 1),
            },
        ),
    )
