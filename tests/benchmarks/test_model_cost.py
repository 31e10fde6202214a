"""The network's and the service call's cost per batch-1 call, measured beside a load run: the arithmetic on a
fake classifier whose calls advance a fake clock (no timed assert), and one measurement of a real tiny model."""

import numpy as np
import pytest

from benchmarks import model_cost
from benchmarks.model_cost import ModelCost, decoded_images, mean_cost, measure
from ml.artifact import read_metadata
from ml.inference import CellClassifier


class FakeClock:
    """``time.process_time`` and ``time.perf_counter`` that move only when the fake classifier works."""

    def __init__(self):
        self.cpu = self.wall = 0.0

    def process_time(self):
        return self.cpu

    def perf_counter(self):
        return self.wall


class FakeClassifier:
    """A forward pass of 4 ms CPU (2 ms wall) and a service call of 7 ms CPU (5 ms wall), recording its inputs."""

    def __init__(self, clock, spec):
        self.clock, self.spec = clock, spec
        self.forwarded, self.classified = [], []

    def forward(self, images):
        self.forwarded.append(images.shape)
        self.clock.cpu += 0.004
        self.clock.wall += 0.002

    def classify_arrays(self, rgb_images):
        self.classified.append(len(rgb_images))
        self.clock.cpu += 0.007
        self.clock.wall += 0.005


@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock()
    monkeypatch.setattr(model_cost, "time", fake)
    return fake


def test_each_call_is_batch_one_and_the_cost_is_per_call_after_one_unmeasured(clock, tiny_model_path):
    spec = read_metadata(tiny_model_path).preprocessing
    classifier = FakeClassifier(clock, spec)
    images = [np.full((240, 320, 3), 200, np.uint8), np.full((120, 160, 3), 90, np.uint8)]
    cost = measure(classifier, images, calls=5)
    assert cost == ModelCost(
        forward_cpu_ms=pytest.approx(4), service_cpu_ms=pytest.approx(7), service_wall_ms=pytest.approx(5)
    )
    assert classifier.forwarded == [(1, spec.input_size, spec.input_size, 3)] * 6  # the model's input, batch 1
    assert classifier.classified == [1] * 6


@pytest.mark.parametrize("calls, images", [(0, 1), (3, 0)])
def test_a_measurement_needs_calls_and_images(calls, images):
    with pytest.raises(ValueError, match="at least one image and one call"):
        measure(None, [np.zeros((8, 8, 3), np.uint8)] * images, calls)


def test_a_runs_cost_is_the_mean_of_the_measurements_around_it():
    cost = mean_cost(ModelCost(4, 8, 5), ModelCost(6, 9, 7))
    assert (cost.forward_cpu_ms, cost.service_cpu_ms, cost.service_wall_ms) == (5, 8.5, 6)


def test_a_real_model_costs_cpu_and_the_service_call_contains_the_forward(tiny_model_path, dataset_dir):
    jpegs = [path.read_bytes() for path in sorted((dataset_dir / "images" / "TEST").glob("*/*.jpeg"))[:3]]
    cost = measure(CellClassifier.from_path(tiny_model_path), decoded_images(jpegs), calls=20)
    assert cost.forward_cpu_ms > 0 and cost.service_wall_ms > 0
    assert cost.service_cpu_ms > cost.forward_cpu_ms
