"""The OpenVINO runtime: the serving forward pass exported to OpenVINO IR, and run from it on the CPU.

The export is the traced ``ViewAveragedForward`` function itself (uint8 images in, test-time views, the network,
the mean over views, probabilities and pooled features out), in fp32, so OpenVINO computes what Keras computes,
only faster (``manage.py compare_runtimes`` measures both). The IR sits beside the artifact
(``<name>.openvino.xml`` and ``.bin``); the metadata records its checksums, and an IR that does not match them is
never served. OpenVINO is optional: without it, or without an IR, the Keras path serves. Its int8 quantisation
(``ml.quantisation``) is read and run by the same code.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import queue
import tempfile
from pathlib import Path

import numpy as np

from ml.artifact import ArtifactError, openvino_paths

RUNTIMES = ("auto", "openvino", "keras")
# Which OpenVINO export serves: fp32, int8 (one that passed its agreement check, or none) or auto (int8 when the
# model has one, else fp32).
RUNTIME_PRECISIONS = ("fp32", "int8", "auto")
# The inference hint: fp32, never the bf16 that OpenVINO picks by default on CPUs that have it (outputs 3e-2 apart
# instead of 1e-6). An int8 IR's quantised layers stay int8 under it; only the rest runs in fp32.
PRECISION = "f32"
# Largest probability difference from Keras, on the export's probe images, for an IR to be written at all.
EXPORT_TOLERANCE = 1e-4
# Batches larger than this are split into chunks of this size, run in parallel on the CPU's streams.
CHUNK = 16


def openvino_installed() -> bool:
    return importlib.util.find_spec("openvino") is not None


def export_ir(traced_function, model_path: str | Path) -> dict:
    """Convert the traced forward pass to IR beside ``model_path``; the checksums to record in the metadata.

    The metadata, written after the files, is what makes them count.
    """
    import openvino as ov  # noqa: PLC0415 - optional dependency, imported only when used

    converted = ov.convert_model(traced_function)
    for output, name in zip(converted.outputs, ("probabilities", "features"), strict=True):
        output.get_tensor().set_names({name})
    return {**write_ir(*serialised(converted), model_path, "fp32"), "precision": PRECISION}


def serialised(model) -> tuple[bytes, bytes]:
    """The IR of an OpenVINO model, graph and weights, as bytes (as ``OpenVINOForward`` and ``write_ir`` take it)."""
    import openvino as ov  # noqa: PLC0415 - optional dependency, imported only when used

    with tempfile.TemporaryDirectory(prefix="hematovision-openvino-") as folder:
        ov.save_model(model, Path(folder) / "model.xml", compress_to_fp16=False)
        return (Path(folder) / "model.xml").read_bytes(), (Path(folder) / "model.bin").read_bytes()


def write_ir(xml: bytes, weights: bytes, model_path: str | Path, precision: str) -> dict:
    """Write the IR of ``precision`` beside ``model_path`` (each file atomically, the weights first); its checksums
    and OpenVINO's version, to record in the metadata, which is what makes them count."""
    import openvino as ov  # noqa: PLC0415 - optional dependency, imported only when used

    xml_path, bin_path = openvino_paths(model_path, precision)
    for data, path in ((weights, bin_path), (xml, xml_path)):
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    return {
        "xml_sha256": hashlib.sha256(xml).hexdigest(),
        "bin_sha256": hashlib.sha256(weights).hexdigest(),
        "openvino_version": _release(ov.__version__),
    }


def _release(version: str) -> str:
    """``2026.4.1`` of ``2026.4.1-22982-e213a147257-releases/2026/4``."""
    return version.split("-")[0]


class IRUnavailable(ArtifactError):
    """The IR beside a model cannot serve; the message says why."""


MISSING_EXPORT = {
    "fp32": "the model has no OpenVINO export (`python manage.py export_runtime`)",
    "int8": "the model has no int8 export that passed its agreement check "
    "(`python manage.py export_runtime --precision int8`)",
}


def read_ir(model_path: str | Path, record: dict, precision: str = "fp32") -> tuple[bytes, bytes]:
    """The graph and weights of the IR of ``precision`` beside ``model_path``, read into memory and checked against
    ``record`` (the metadata's entry); ``IRUnavailable`` says why they cannot serve."""
    if not openvino_installed():
        raise IRUnavailable("openvino is not installed")
    if not record:
        raise IRUnavailable(MISSING_EXPORT[precision])
    files = []
    for path, key in zip(openvino_paths(model_path, precision), ("xml_sha256", "bin_sha256"), strict=True):
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

    def __init__(self, xml: bytes, weights: bytes, input_size: int, precision: str = "fp32"):
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
        self.precision = precision
        label = PRECISION if precision == "fp32" else precision
        self.description = f"openvino {_release(ov.__version__)} ({label}, CPU)"
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
