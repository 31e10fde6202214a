"""The OpenVINO runtime: the serving forward pass exported to OpenVINO IR, and run from it on the CPU.

The export is the traced ``ViewAveragedForward`` function itself (uint8 images in, test-time views, the network,
the mean over views, probabilities and pooled features out), in fp32, so OpenVINO computes what Keras computes,
only faster (``manage.py compare_runtimes`` measures both). The IR sits beside the artifact
(``<name>.openvino.xml`` and ``.bin``); the metadata records its checksums, and an IR that does not match them is
never served. OpenVINO is optional: without it, or without an IR, the Keras path serves.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import queue
import shutil
import tempfile
from pathlib import Path

import numpy as np

from ml.artifact import ArtifactError, openvino_paths, sha256_of

RUNTIMES = ("auto", "openvino", "keras")
# fp32, never the bf16 that OpenVINO picks by default on CPUs that have it (outputs 3e-2 apart instead of 1e-6).
PRECISION = "f32"
# Largest probability difference from Keras, on the export's probe images, for an IR to be written at all.
EXPORT_TOLERANCE = 1e-4
# Batches larger than this are split into chunks of this size, run in parallel on the CPU's streams.
CHUNK = 16


def openvino_installed() -> bool:
    return importlib.util.find_spec("openvino") is not None


def export_ir(traced_function, model_path: str | Path) -> dict:
    """Convert the traced forward pass to IR beside ``model_path``; the checksums to record in the metadata.

    Both files are written to a temporary folder and moved into place; the metadata, written after them,
    is what makes them count.
    """
    import openvino as ov  # noqa: PLC0415 - optional dependency, imported only when used

    xml_path, bin_path = openvino_paths(model_path)
    converted = ov.convert_model(traced_function)
    for output, name in zip(converted.outputs, ("probabilities", "features"), strict=True):
        output.get_tensor().set_names({name})
    folder = Path(tempfile.mkdtemp(prefix=".openvino-", dir=xml_path.parent))
    try:
        ov.save_model(converted, folder / "model.xml", compress_to_fp16=False)
        os.replace(folder / "model.bin", bin_path)
        os.replace(folder / "model.xml", xml_path)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return {
        "xml_sha256": sha256_of(xml_path),
        "bin_sha256": sha256_of(bin_path),
        "openvino_version": _release(ov.__version__),
        "precision": PRECISION,
    }


def _release(version: str) -> str:
    """``2026.4.1`` of ``2026.4.1-22982-e213a147257-releases/2026/4``."""
    return version.split("-")[0]


class IRUnavailable(ArtifactError):
    """The IR beside a model cannot serve; the message says why."""


def read_ir(model_path: str | Path, record: dict) -> tuple[bytes, bytes]:
    """The IR's graph and weights beside ``model_path``, read into memory and checked against ``record`` (the
    metadata's entry); ``IRUnavailable`` says why they cannot serve."""
    if not openvino_installed():
        raise IRUnavailable("openvino is not installed")
    if not record:
        raise IRUnavailable("the model has no OpenVINO export (`python manage.py export_runtime`)")
    files = []
    for path, key in zip(openvino_paths(model_path), ("xml_sha256", "bin_sha256"), strict=True):
        try:
            data = path.read_bytes()
        except OSError:
            raise IRUnavailable(f"the OpenVINO file {path.name} is missing") from None
        if hashlib.sha256(data).hexdigest() != record[key]:
            raise IRUnavailable(f"the OpenVINO file {path.name} does not match the model's metadata (sha256)")
        files.append(data)
    return files[0], files[1]


class OpenVINOForward:
    """Drop-in for ``ViewAveragedForward`` that runs the exported IR: ``(probabilities, features)`` of uint8 images.

    The IR comes as bytes (``read_ir``), not as a path: OpenVINO would map the weights file, and a file changed
    under a mapping (an installation, a copy over it) kills the process with SIGBUS mid-request. From memory,
    the weights are the ones that were checked, whatever happens to the files.

    Two compilations of one IR: a latency one (all cores on one request) for small batches, and a throughput
    one (one stream per core) that larger batches are spread over in chunks. No two calls share an infer
    request (small batches take one from a pool of idle ones, large ones make their own), so threads may call
    it at once.
    """

    def __init__(self, xml: bytes, weights: bytes, input_size: int):
        import openvino as ov  # noqa: PLC0415 - optional dependency, imported only when used

        core = ov.Core()
        self._weights = np.frombuffer(weights, np.uint8)  # kept: the compiled model may share this memory
        model = core.read_model(model=xml, weights=ov.Tensor(self._weights))
        self._latency = core.compile_model(
            model, "CPU", {"PERFORMANCE_HINT": "LATENCY", "INFERENCE_PRECISION_HINT": PRECISION}
        )
        self._throughput = core.compile_model(
            model, "CPU", {"PERFORMANCE_HINT": "THROUGHPUT", "INFERENCE_PRECISION_HINT": PRECISION}
        )
        self._requests = self._throughput.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS")
        self._idle = queue.SimpleQueue()  # latency requests between calls: making one costs about 1 ms
        self._async_queue = ov.AsyncInferQueue
        self.description = f"openvino {_release(ov.__version__)} ({PRECISION}, CPU)"
        self(np.zeros((1, input_size, input_size, 3), np.uint8))  # compile the kernels now, not on a request

    def __call__(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        images = np.ascontiguousarray(images, dtype=np.uint8)
        if len(images) <= CHUNK:
            try:
                request = self._idle.get_nowait()
            except queue.Empty:
                request = self._latency.create_infer_request()
            try:
                outputs = request.infer(images)
                return np.array(outputs[0]), np.array(outputs[1])
            finally:
                self._idle.put(request)
        starts = range(0, len(images), CHUNK)
        probabilities, features = [None] * len(starts), [None] * len(starts)

        def keep(request, index):
            probabilities[index] = request.get_output_tensor(0).data.copy()
            features[index] = request.get_output_tensor(1).data.copy()

        parallel = self._async_queue(self._throughput, self._requests)
        parallel.set_callback(keep)
        for index, start in enumerate(starts):
            parallel.start_async(images[start : start + CHUNK], index)
        parallel.wait_all()
        return np.concatenate(probabilities), np.concatenate(features)


def check_export(forward, reference, input_size: int, seed: int = 0) -> dict:
    """The largest differences between two forwards on probe images (uniform noise and flat grey, small and
    large batches); an ``ArtifactError`` past ``EXPORT_TOLERANCE``, so an export that computes something else is
    never recorded."""
    rng = np.random.default_rng(seed)
    probes = np.concatenate(
        [
            rng.integers(0, 256, (CHUNK + 3, input_size, input_size, 3), dtype=np.uint8),
            np.full((1, input_size, input_size, 3), 128, np.uint8),
        ]
    )
    differences = {"max_probability_difference": 0.0, "max_feature_difference": 0.0}
    for batch in (probes[:1], probes):
        (probabilities, features), (expected, expected_features) = forward(batch), reference(batch)
        differences["max_probability_difference"] = max(
            differences["max_probability_difference"], float(np.abs(probabilities - expected).max())
        )
        differences["max_feature_difference"] = max(
            differences["max_feature_difference"], float(np.abs(features - expected_features).max())
        )
    if differences["max_probability_difference"] > EXPORT_TOLERANCE:
        raise ArtifactError(
            f"The OpenVINO export differs from the Keras model by "
            f"{differences['max_probability_difference']:.2g} in probability (tolerance "
            f"{EXPORT_TOLERANCE:g}); it was not recorded."
        )
    return differences
