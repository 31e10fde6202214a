"""Keras, the OpenVINO export and its int8 quantisation side by side, in one run: same predictions on every
evaluation set, and how fast.

Behind ``manage.py compare_runtimes`` (``make bench-runtime``). The machine is shared and its load changes from
minute to minute, so every speed is measured in rounds that take turns between the runtimes, and the ratios
that the targets (docs/model-card.md, "Runtime") are about come from the same rounds.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

from ml.agreement import agreement, model_inputs
from ml.artifact import ArtifactError, load_artifact
from ml.data import DatasetError, LabelledImage
from ml.inference import CellClassifier, ViewAveragedForward
from ml.preprocessing import decode_image
from ml.runtime import IRUnavailable, OpenVINOForward, read_ir
from ml.sources import Source, evaluation_images

SPEED_IMAGES = 256  # images of the first evaluation set that the batched and end-to-end speeds run on
TARGETS = {
    "accuracy_difference_points": 0.2,
    "same_class_share": 0.995,
    "batch1_speedup": 2.0,
    "batched_speedup": 1.5,
    "service_over_naive": 1 / 6,
    "end_to_end_share": 0.8,  # issue 23; 0.9 before, which the 2-core arithmetic rules out (docs/benchmark.md)
}
# int8 against fp32 OpenVINO (issue 23): the same answers, and faster.
INT8_TARGETS = {
    "accuracy_difference_points": 0.3,
    "same_class_share": 0.995,
    "same_novelty_flag_share": 0.99,
    "batch1_speedup": 1.3,
    "batched_speedup": 1.6,
}


def compare_runtimes(
    model_path: str | Path, sources: list[Source], calls: int = 50, rounds: int = 3, batch_size: int = 32
) -> dict:
    """Agreement on every source's evaluation set, then speeds; a JSON-ready dict (``format_comparison``).

    The int8 export, when the model records one, is compared with fp32 OpenVINO on the same sets and in the same
    speed rounds."""
    model, distribution, metadata = load_artifact(model_path)
    try:
        ir = read_ir(model_path, metadata.openvino)
    except IRUnavailable as problem:
        raise ArtifactError(f"Nothing to compare Keras with: {problem}.") from problem
    size = metadata.preprocessing.input_size
    keras_forward = ViewAveragedForward(model, metadata.tta, size, batch_size)
    served = CellClassifier(model, distribution, metadata, OpenVINOForward(*ir, size))
    int8 = None
    if metadata.openvino_int8:
        int8 = OpenVINOForward(*read_ir(model_path, metadata.openvino_int8, "int8"), size, "int8")
    load_before = os.getloadavg()[0]
    sets, speed_samples = {}, None
    for source in sources:
        evaluation_set = evaluation_images(source)
        if evaluation_set:
            name, samples = evaluation_set
            inputs, labels = model_inputs(served.spec, samples, batch_size), np.array([s.label for s in samples])
            sets[name] = agreement({"keras": keras_forward, "openvino": served.forward}, distribution, inputs, labels)
            if int8:
                sets[name]["int8"] = agreement({"fp32": served.forward, "int8": int8}, distribution, inputs, labels)
            speed_samples = speed_samples or samples[:SPEED_IMAGES]
    if not sets:
        raise DatasetError("None of the sources has an evaluation set (a TEST split or class folders).")
    return {
        "model_name": metadata.name,
        "model_sha256": metadata.sha256,
        "tta": list(metadata.tta),
        "keras": keras_forward.description,
        "openvino": served.runtime,
        "int8": int8.description if int8 else None,
        "cpu_count": os.cpu_count(),
        "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "sets": sets,
        "speed": speeds(model, keras_forward, served, speed_samples, calls, rounds, batch_size, int8),
        "targets": TARGETS,
        "int8_targets": INT8_TARGETS,
    }


def _median_ms(function, arguments: list, calls: int) -> list[float]:
    """Milliseconds of ``calls`` calls, cycling through ``arguments``."""
    timings = []
    for index in range(calls):
        started = time.perf_counter()
        function(arguments[index % len(arguments)])
        timings.append(1000 * (time.perf_counter() - started))
    return timings


def _images_per_second(function, count: int) -> float:
    started = time.perf_counter()
    function()
    return count / (time.perf_counter() - started)


def speeds(
    model,
    keras_forward: ViewAveragedForward,
    served: CellClassifier,
    samples: list[LabelledImage],
    calls: int,
    rounds: int,
    batch_size: int,
    int8: OpenVINOForward | None = None,
) -> dict:
    """Batch-1 latency and batched throughput of both runtimes (and of int8, when given); the served classifier's
    batch-1 call against a naive ``model.predict``; its end-to-end throughput from JPEG bytes against its raw
    forward pass (and the same share with the int8 network)."""
    inputs = model_inputs(served.spec, samples, batch_size)
    singles = [inputs[index : index + 1] for index in range(len(inputs))]
    jpegs = [Path(sample.path).read_bytes() for sample in samples]
    decoded = [[decode_image(data)] for data in jpegs]
    classifiers = {"": served}
    if int8:
        classifiers["int8_"] = CellClassifier(served.model, served.distribution, served.metadata, int8)

    def end_to_end(classifier):
        for start in range(0, len(jpegs), batch_size):
            classifier.classify_arrays([decode_image(data) for data in jpegs[start : start + batch_size]])

    def raw(classifier):
        for start in range(0, len(inputs), batch_size):
            classifier.forward(inputs[start : start + batch_size])

    for warm_up in (keras_forward, *(classifier.forward for classifier in classifiers.values())):
        warm_up(inputs[:batch_size])
    model.predict(inputs[:1], verbose=0)
    timings = {name: [] for name in ("keras_batch1_ms", "openvino_batch1_ms", "naive_predict_ms")}
    rates = {name: [] for name in ("keras_batched", "openvino_batched")}
    for prefix in classifiers:
        timings[f"{prefix}service_batch1_ms"] = []
        rates[f"{prefix}end_to_end"], rates[f"{prefix}raw"] = [], []
    if int8:
        timings["int8_batch1_ms"], rates["int8_batched"] = [], []
    for _ in range(rounds):
        timings["keras_batch1_ms"] += _median_ms(keras_forward, singles, calls)
        timings["openvino_batch1_ms"] += _median_ms(served.forward, singles, calls)
        timings["naive_predict_ms"] += _median_ms(lambda image: model.predict(image, verbose=0), singles, calls)
        rates["keras_batched"].append(_images_per_second(lambda: keras_forward(inputs), len(inputs)))
        rates["openvino_batched"].append(_images_per_second(lambda: served.forward(inputs), len(inputs)))
        if int8:
            timings["int8_batch1_ms"] += _median_ms(int8, singles, calls)
            rates["int8_batched"].append(_images_per_second(lambda: int8(inputs), len(inputs)))
        for prefix, classifier in classifiers.items():
            timings[f"{prefix}service_batch1_ms"] += _median_ms(classifier.classify_arrays, decoded, calls)
            rates[f"{prefix}end_to_end"].append(_images_per_second(lambda c=classifier: end_to_end(c), len(inputs)))
            rates[f"{prefix}raw"].append(_images_per_second(lambda c=classifier: raw(c), len(inputs)))
    result = {name: round(float(np.median(values)), 2) for name, values in timings.items()}
    result.update({f"{name}_images_per_second": round(float(np.median(values)), 1) for name, values in rates.items()})
    ratio = {  # per round, then the median: a round's runtimes shared the same load
        "batch1_speedup": _round_ratios(timings["keras_batch1_ms"], timings["openvino_batch1_ms"], calls),
        "batched_speedup": _rate_ratios(rates["openvino_batched"], rates["keras_batched"]),
        "service_over_naive": _round_ratios(timings["service_batch1_ms"], timings["naive_predict_ms"], calls),
    }
    for prefix in classifiers:
        ratio[f"{prefix}end_to_end_share"] = _rate_ratios(rates[f"{prefix}end_to_end"], rates[f"{prefix}raw"])
    if int8:
        ratio["int8_batch1_speedup"] = _round_ratios(timings["openvino_batch1_ms"], timings["int8_batch1_ms"], calls)
        ratio["int8_batched_speedup"] = _rate_ratios(rates["int8_batched"], rates["openvino_batched"])
    return {
        **result,
        **{name: round(value, 4) for name, value in ratio.items()},
        "calls": calls,
        "rounds": rounds,
        "images": len(inputs),
        "batch_size": batch_size,
    }


def _rate_ratios(numerators: list[float], denominators: list[float]) -> float:
    """The median over rounds of one rate over another taken in the same round."""
    return float(np.median(np.array(numerators) / np.array(denominators)))


def _round_ratios(numerators: list[float], denominators: list[float], calls: int) -> float:
    """The median over rounds of (median of ``numerators``) / (median of ``denominators``) in that round."""
    rounds = len(numerators) // calls
    return float(
        np.median(
            [
                np.median(numerators[r * calls : (r + 1) * calls])
                / np.median(denominators[r * calls : (r + 1) * calls])
                for r in range(rounds)
            ]
        )
    )


def _verdict(met: bool) -> str:
    return "met" if met else "NOT MET"


def format_comparison(result: dict) -> str:
    """The report ``compare_runtimes`` prints: every figure beside its target."""
    lines = [
        f"Model {result['model_name']} ({result['model_sha256'][:12]}), {len(result['tta'])} views "
        f"({', '.join(result['tta'])}): {result['keras']} against {result['openvino']}"
        + (f" and {result['int8']}" if result["int8"] else " (no int8 export)"),
        f"machine: {result['cpu_count']} CPUs, load average {result['load_average'][0]} at the start, "
        f"{result['load_average'][1]} after the agreement runs",
        "",
    ]
    for name, figures in result["sets"].items():
        lines += [f"{name}: {figures['n_images']} images", *_set_lines(figures, result["targets"])]
        if "int8" in figures:
            lines += _int8_set_lines(figures["int8"], result["int8_targets"])
        lines.append("")
    lines += _speed_lines(result["speed"], result["targets"], len(result["tta"]))
    if result["int8"]:
        lines += _int8_speed_lines(result["speed"], result["int8_targets"])
    return "\n".join(lines)


def _set_lines(figures: dict, targets: dict) -> list[str]:
    difference_ok = abs(figures["accuracy_difference_points"]) <= targets["accuracy_difference_points"]
    return [
        f"  accuracy Keras {figures['keras_accuracy']:.2%}, OpenVINO {figures['openvino_accuracy']:.2%}: "
        f"difference {figures['accuracy_difference_points']:+.2f} points (target within "
        f"{targets['accuracy_difference_points']}: {_verdict(difference_ok)})",
        f"  same class {figures['same_class_share']:.2%} (target >= {targets['same_class_share']:.1%}: "
        f"{_verdict(figures['same_class_share'] >= targets['same_class_share'])}), same novelty flag "
        f"{figures['same_novelty_flag_share']:.2%}",
        f"  largest difference: probability {figures['max_probability_difference']:.1e}, pooled feature "
        f"{figures['max_feature_difference']:.1e}",
    ]


def _int8_set_lines(figures: dict, targets: dict) -> list[str]:
    difference_ok = abs(figures["accuracy_difference_points"]) <= targets["accuracy_difference_points"]
    same_class, same_flag = figures["same_class_share"], figures["same_novelty_flag_share"]
    return [
        f"  int8: accuracy {figures['int8_accuracy']:.2%} against fp32 OpenVINO {figures['fp32_accuracy']:.2%}: "
        f"difference {figures['accuracy_difference_points']:+.2f} points (target within "
        f"{targets['accuracy_difference_points']}: {_verdict(difference_ok)})",
        f"  int8: same class {same_class:.2%} (target >= {targets['same_class_share']:.1%}: "
        f"{_verdict(same_class >= targets['same_class_share'])}), same novelty flag {same_flag:.2%} (target >= "
        f"{targets['same_novelty_flag_share']:.0%}: {_verdict(same_flag >= targets['same_novelty_flag_share'])}); "
        f"largest probability difference {figures['max_probability_difference']:.2f}",
    ]


def _speed_lines(speed: dict, targets: dict, views: int) -> list[str]:
    return [
        f"speed: {speed['rounds']} rounds taking turns, {speed['calls']} batch-1 calls per runtime per round, "
        f"{speed['images']} images for throughput in batches of {speed['batch_size']}; medians",
        f"  batch 1 ({views} views): Keras {speed['keras_batch1_ms']:.1f} ms, OpenVINO "
        f"{speed['openvino_batch1_ms']:.1f} ms: {speed['batch1_speedup']:.2f}x (target >= "
        f"{targets['batch1_speedup']}x: {_verdict(speed['batch1_speedup'] >= targets['batch1_speedup'])})",
        f"  batched: Keras {speed['keras_batched_images_per_second']:.0f} images/s, OpenVINO "
        f"{speed['openvino_batched_images_per_second']:.0f} images/s: {speed['batched_speedup']:.2f}x (target >= "
        f"{targets['batched_speedup']}x: {_verdict(speed['batched_speedup'] >= targets['batched_speedup'])})",
        f"  service batch-1 call (crop, OpenVINO, novelty check) {speed['service_batch1_ms']:.1f} ms against naive "
        f"model.predict of one crop {speed['naive_predict_ms']:.1f} ms: 1/{1 / speed['service_over_naive']:.1f} "
        f"(target <= 1/{1 / targets['service_over_naive']:.0f}: "
        f"{_verdict(speed['service_over_naive'] <= targets['service_over_naive'])})",
        _end_to_end_line(speed, "", "OpenVINO", targets),
    ]


def _int8_speed_lines(speed: dict, targets: dict) -> list[str]:
    batch1, batched = speed["int8_batch1_speedup"], speed["int8_batched_speedup"]
    return [
        f"  int8 batch 1: {speed['int8_batch1_ms']:.1f} ms against fp32 OpenVINO {speed['openvino_batch1_ms']:.1f} "
        f"ms: {batch1:.2f}x (target >= {targets['batch1_speedup']}x: {_verdict(batch1 >= targets['batch1_speedup'])})",
        f"  int8 batched: {speed['int8_batched_images_per_second']:.0f} images/s against fp32 OpenVINO "
        f"{speed['openvino_batched_images_per_second']:.0f} images/s: {batched:.2f}x (target >= "
        f"{targets['batched_speedup']}x: {_verdict(batched >= targets['batched_speedup'])})",
        f"  int8 service batch-1 call {speed['int8_service_batch1_ms']:.1f} ms",
        _end_to_end_line(speed, "int8_", "int8", TARGETS),
    ]


def _end_to_end_line(speed: dict, prefix: str, network: str, targets: dict) -> str:
    share = speed[f"{prefix}end_to_end_share"]
    return (
        f"  end to end from JPEG bytes {speed[f'{prefix}end_to_end_images_per_second']:.0f} images/s against the raw "
        f"{network} forward pass {speed[f'{prefix}raw_images_per_second']:.0f} images/s: {share:.0%} "
        f"(target >= {targets['end_to_end_share']:.0%}: {_verdict(share >= targets['end_to_end_share'])})"
    )
