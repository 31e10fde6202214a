"""What the served network and the batch-1 service call cost in CPU, measured beside a load run so that a
single-image request's web CPU can be split into the network and everything else from one run (issue 23, item 4).

The benchmark process loads the model the server serves (the same artifact, the same runtime setting) and times
``time.process_time()`` over batch-1 calls on the images the clients send: the process's CPU, every thread of
it, as ``Summary.web_cpu_s`` counts gunicorn's. The server's own figures cannot be split this way from outside;
measured before and after each run, the two sides bracket the run's load on the shared machine.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ml.preprocessing import decode_image, locate_cell, preprocess


@dataclass(frozen=True)
class ModelCost:
    """Per batch-1 call: the forward pass's CPU, and the whole service call's (locate, crop, checks, forward,
    novelty distance) CPU and wall time, in milliseconds."""

    forward_cpu_ms: float
    service_cpu_ms: float
    service_wall_ms: float


def mean_cost(before: ModelCost, after: ModelCost) -> ModelCost:
    """The cost over a run: the mean of the measurements taken just before and just after it."""
    return ModelCost(
        forward_cpu_ms=(before.forward_cpu_ms + after.forward_cpu_ms) / 2,
        service_cpu_ms=(before.service_cpu_ms + after.service_cpu_ms) / 2,
        service_wall_ms=(before.service_wall_ms + after.service_wall_ms) / 2,
    )


def decoded_images(jpegs: list[bytes]) -> list[np.ndarray]:
    """The clients' images as the server decodes them (small TEST images: no shrinking on decode)."""
    return [decode_image(data) for data in jpegs]


def _per_call_ms(function, arguments: list, calls: int) -> tuple[float, float]:
    """CPU and wall milliseconds per call over ``calls`` calls cycling through ``arguments``, after one unmeasured
    call (a latency infer request is made on first use)."""
    function(arguments[0])
    cpu, wall = time.process_time(), time.perf_counter()
    for index in range(calls):
        function(arguments[index % len(arguments)])
    return 1000 * (time.process_time() - cpu) / calls, 1000 * (time.perf_counter() - wall) / calls


def measure(classifier, images: list[np.ndarray], calls: int) -> ModelCost:
    """Batch-1 ``forward`` on the model inputs of ``images`` and batch-1 ``classify_arrays`` on the images."""
    if calls < 1 or not images:
        raise ValueError("Measuring the model needs at least one image and one call.")
    inputs = [preprocess(rgb, classifier.spec, locate_cell(rgb))[np.newaxis] for rgb in images]
    forward_cpu_ms, _ = _per_call_ms(classifier.forward, inputs, calls)
    service_cpu_ms, service_wall_ms = _per_call_ms(lambda rgb: classifier.classify_arrays([rgb]), images, calls)
    return ModelCost(forward_cpu_ms, service_cpu_ms, service_wall_ms)
