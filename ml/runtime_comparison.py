"""Keras and the OpenVINO export side by side, in one run: same predictions on every evaluation set, and how fast.

Behind ``manage.py compare_runtimes`` (``make bench-runtime``). The machine is shared and its load changes from
minute to minute, so every speed is measured in rounds that take turns between the runtimes, and the ratios
that the targets (docs/model-card.md, "Runtime") are about come from the same rounds.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

from ml.artifact import ArtifactError, load_artifact
from ml.data import DatasetError, LabelledImage
from ml.inference import CellClassifier, ViewAveragedForward
from ml.preprocessing import decode_image
from ml.runtime import IRUnavailable, OpenVINOForward, read_ir
from ml.sources import Source, evaluation_images
from ml.training import make_dataset

SPEED_IMAGES = 256  # images of the first evaluation set that the batched and end-to-end speeds run on
TARGETS = {
    "accuracy_difference_points": 0.2,
    "same_class_share": 0.995,
    "batch1_speedup": 2.0,
    "batched_speedup": 1.5,
    "service_over_naive": 1 / 6,
    "end_to_end_share": 0.9,
}


def compare_runtimes(
    model_path: str | Path, sources: list[Source], calls: int = 50, rounds: int = 3, batch_size: int = 32
) -> dict:
    """Agreement on every source's evaluation set, then speeds; a JSON-ready dict (``format_comparison``)."""
    model, distribution, metadata = load_artifact(model_path)
    try:
        ir = read_ir(model_path, metadata.openvino)
    except IRUnavailable as problem:
        raise ArtifactError(f"Nothing to compare Keras with: {problem}.") from problem
    size = metadata.preprocessing.input_size
    keras_forward = ViewAveragedForward(model, metadata.tta, size, batch_size)
    served = CellClassifier(model, distribution, metadata, OpenVINOForward(*ir, size))
    load_before = os.getloadavg()[0]
    sets, speed_samples = {}, None
    for source in sources:
        evaluation_set = evaluation_images(source)
        if evaluation_set:
            name, samples = evaluation_set
            sets[name] = agreement(keras_forward, served, samples, batch_size)
            speed_samples = speed_samples or samples[:SPEED_IMAGES]
    if not sets:
        raise DatasetError("None of the sources has an evaluation set (a TEST split or class folders).")
    return {
        "model_name": metadata.name,
        "model_sha256": metadata.sha256,
        "tta": list(metadata.tta),
        "keras": keras_forward.description,
        "openvino": served.runtime,
        "cpu_count": os.cpu_count(),
        "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "sets": sets,
        "speed": speeds(model, keras_forward, served, speed_samples, calls, rounds, batch_size),
        "targets": TARGETS,
    }


def model_inputs(classifier: CellClassifier, samples: list[LabelledImage], batch_size: int) -> np.ndarray:
    """The crops the model sees, decoded once so both runtimes get the same arrays."""
    dataset = make_dataset(samples, classifier.spec, batch_size, training=False, cache=False)
    return np.concatenate([images.numpy() for images, _ in dataset])


def agreement(
    keras_forward: ViewAveragedForward, served: CellClassifier, samples: list[LabelledImage], batch_size: int
) -> dict:
    """Accuracy of each runtime, and how often and how far their outputs differ, on one evaluation set."""
    inputs = model_inputs(served, samples, batch_size)
    labels = np.array([sample.label for sample in samples])
    keras_probabilities, keras_features = keras_forward(inputs)
    probabilities, features = served.forward(inputs)
    threshold = served.distribution.threshold
    keras_accuracy = float((keras_probabilities.argmax(axis=1) == labels).mean())
    accuracy = float((probabilities.argmax(axis=1) == labels).mean())
    return {
        "n_images": len(samples),
        "keras_accuracy": keras_accuracy,
        "openvino_accuracy": accuracy,
        "accuracy_difference_points": round(100 * (accuracy - keras_accuracy), 4),
        "same_class_share": float((keras_probabilities.argmax(axis=1) == probabilities.argmax(axis=1)).mean()),
        "max_probability_difference": float(np.abs(keras_probabilities - probabilities).max()),
        "max_feature_difference": float(np.abs(keras_features - features).max()),
        "same_novelty_flag_share": float(
            (
                (served.distribution.distances(keras_features) > threshold)
                == (served.distribution.distances(features) > threshold)
            ).mean()
        ),
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
) -> dict:
    """Batch-1 latency and batched throughput of both runtimes; the served classifier's batch-1 call against a
    naive ``model.predict``; its end-to-end throughput from JPEG bytes against its raw forward pass."""
    inputs = model_inputs(served, samples, batch_size)
    singles = [inputs[index : index + 1] for index in range(len(inputs))]
    jpegs = [Path(sample.path).read_bytes() for sample in samples]
    decoded = [[decode_image(data)] for data in jpegs]

    def end_to_end():
        for start in range(0, len(jpegs), batch_size):
            served.classify_arrays([decode_image(data) for data in jpegs[start : start + batch_size]])

    def raw():
        for start in range(0, len(inputs), batch_size):
            served.forward(inputs[start : start + batch_size])

    for warm_up in (keras_forward, served.forward):
        warm_up(inputs[:batch_size])
    model.predict(inputs[:1], verbose=0)
    timings = {name: [] for name in ("keras_batch1_ms", "openvino_batch1_ms", "service_batch1_ms", "naive_predict_ms")}
    rates = {name: [] for name in ("keras_batched", "openvino_batched", "end_to_end", "raw")}
    for _ in range(rounds):
        timings["keras_batch1_ms"] += _median_ms(keras_forward, singles, calls)
        timings["openvino_batch1_ms"] += _median_ms(served.forward, singles, calls)
        timings["service_batch1_ms"] += _median_ms(served.classify_arrays, decoded, calls)
        timings["naive_predict_ms"] += _median_ms(lambda image: model.predict(image, verbose=0), singles, calls)
        rates["keras_batched"].append(_images_per_second(lambda: keras_forward(inputs), len(inputs)))
        rates["openvino_batched"].append(_images_per_second(lambda: served.forward(inputs), len(inputs)))
        rates["end_to_end"].append(_images_per_second(end_to_end, len(inputs)))
        rates["raw"].append(_images_per_second(raw, len(inputs)))
    result = {name: round(float(np.median(values)), 2) for name, values in timings.items()}
    result.update({f"{name}_images_per_second": round(float(np.median(values)), 1) for name, values in rates.items()})
    ratio = {  # per round, then the median: a round's runtimes shared the same load
        "batch1_speedup": _round_ratios(timings["keras_batch1_ms"], timings["openvino_batch1_ms"], calls),
        "batched_speedup": float(np.median(np.array(rates["openvino_batched"]) / rates["keras_batched"])),
        "service_over_naive": _round_ratios(timings["service_batch1_ms"], timings["naive_predict_ms"], calls),
        "end_to_end_share": float(np.median(np.array(rates["end_to_end"]) / rates["raw"])),
    }
    return {
        **result,
        **{name: round(value, 4) for name, value in ratio.items()},
        "calls": calls,
        "rounds": rounds,
        "images": len(inputs),
        "batch_size": batch_size,
    }


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


def format_comparison(result: dict) -> str:
    """The report ``compare_runtimes`` prints: every figure beside its target."""
    targets, speed = result["targets"], result["speed"]

    def verdict(met: bool) -> str:
        return "met" if met else "NOT MET"

    lines = [
        f"Model {result['model_name']} ({result['model_sha256'][:12]}), {len(result['tta'])} views "
        f"({', '.join(result['tta'])}): {result['keras']} against {result['openvino']}",
        f"machine: {result['cpu_count']} CPUs, load average {result['load_average'][0]} at the start, "
        f"{result['load_average'][1]} after the agreement runs",
        "",
    ]
    for name, figures in result["sets"].items():
        difference_ok = abs(figures["accuracy_difference_points"]) <= targets["accuracy_difference_points"]
        lines += [
            f"{name}: {figures['n_images']} images",
            f"  accuracy Keras {figures['keras_accuracy']:.2%}, OpenVINO {figures['openvino_accuracy']:.2%}: "
            f"difference {figures['accuracy_difference_points']:+.2f} points (target within "
            f"{targets['accuracy_difference_points']}: {verdict(difference_ok)})",
            f"  same class {figures['same_class_share']:.2%} (target >= {targets['same_class_share']:.1%}: "
            f"{verdict(figures['same_class_share'] >= targets['same_class_share'])}), same novelty flag "
            f"{figures['same_novelty_flag_share']:.2%}",
            f"  largest difference: probability {figures['max_probability_difference']:.1e}, pooled feature "
            f"{figures['max_feature_difference']:.1e}",
            "",
        ]
    lines += [
        f"speed: {speed['rounds']} rounds taking turns, {speed['calls']} batch-1 calls per runtime per round, "
        f"{speed['images']} images for throughput in batches of {speed['batch_size']}; medians",
        f"  batch 1 ({len(result['tta'])} views): Keras {speed['keras_batch1_ms']:.1f} ms, OpenVINO "
        f"{speed['openvino_batch1_ms']:.1f} ms: {speed['batch1_speedup']:.2f}x (target >= "
        f"{targets['batch1_speedup']}x: {verdict(speed['batch1_speedup'] >= targets['batch1_speedup'])})",
        f"  batched: Keras {speed['keras_batched_images_per_second']:.0f} images/s, OpenVINO "
        f"{speed['openvino_batched_images_per_second']:.0f} images/s: {speed['batched_speedup']:.2f}x (target >= "
        f"{targets['batched_speedup']}x: {verdict(speed['batched_speedup'] >= targets['batched_speedup'])})",
        f"  service batch-1 call (crop, OpenVINO, novelty check) {speed['service_batch1_ms']:.1f} ms against naive "
        f"model.predict of one crop {speed['naive_predict_ms']:.1f} ms: 1/{1 / speed['service_over_naive']:.1f} "
        f"(target <= 1/{1 / targets['service_over_naive']:.0f}: "
        f"{verdict(speed['service_over_naive'] <= targets['service_over_naive'])})",
        f"  end to end from JPEG bytes {speed['end_to_end_images_per_second']:.0f} images/s against the raw "
        f"OpenVINO forward pass {speed['raw_images_per_second']:.0f} images/s: {speed['end_to_end_share']:.0%} "
        f"(target >= {targets['end_to_end_share']:.0%}: "
        f"{verdict(speed['end_to_end_share'] >= targets['end_to_end_share'])})",
    ]
    return "\n".join(lines)
