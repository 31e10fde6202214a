"""Two networks averaged into one model: its output, its artifact, its Grad-CAM, and its training."""

import keras
import numpy as np
import pytest

from ml import CLASS_NAMES
from ml.artifact import load_artifact
from ml.data import list_split
from ml.explain import gradcam_heatmap
from ml.model import build_ensemble, build_model, ensemble_members
from ml.preprocessing import PreprocessingSpec, preprocess
from ml.training import TrainingConfig, train
from tests.factories import save_tiny_artifact, smear_rgb

INPUT_SIZE = 96


def tiny_network(seed: int, name: str) -> keras.Model:
    """Random weights; the head's bias too (Keras starts it at zero), so two seeds give different outputs."""
    keras.utils.set_random_seed(seed)
    network = build_model(num_classes=len(CLASS_NAMES), input_size=INPUT_SIZE, base_weights=None, alpha=0.35, name=name)
    head = network.get_layer("probabilities")
    kernel, bias = head.get_weights()
    head.set_weights([kernel, np.random.default_rng(seed).normal(size=bias.shape).astype(bias.dtype)])
    return network


@pytest.fixture(scope="module")
def images():
    spec = PreprocessingSpec(input_size=INPUT_SIZE)
    return np.stack([preprocess(smear_rgb(seed=seed), spec) for seed in range(3)]).astype(np.float32)


def test_ensemble_outputs_the_mean_of_its_members(images):
    first, second = tiny_network(1, "member_1"), tiny_network(2, "member_2")
    ensemble = build_ensemble([first, second])
    expected = (first(images, training=False).numpy() + second(images, training=False).numpy()) / 2
    assert not np.allclose(first(images, training=False), second(images, training=False))
    np.testing.assert_allclose(ensemble(images, training=False).numpy(), expected, rtol=1e-5, atol=1e-6)
    assert ensemble_members(ensemble) == [first, second]


def test_a_single_network_is_its_own_ensemble():
    network = tiny_network(1, "hematovision_mobilenetv2")
    assert build_ensemble([network]) is network and ensemble_members(network) == [network]


def test_ensemble_is_saved_and_loaded_as_one_artifact(tmp_path, images):
    ensemble = build_ensemble([tiny_network(1, "member_1"), tiny_network(2, "member_2")])
    save_tiny_artifact(ensemble, tmp_path / "ensemble.keras")
    loaded, _, _ = load_artifact(tmp_path / "ensemble.keras")
    assert len(ensemble_members(loaded)) == 2
    np.testing.assert_allclose(
        loaded(images, training=False).numpy(), ensemble(images, training=False).numpy(), rtol=1e-5, atol=1e-6
    )


def test_gradcam_of_two_identical_members_is_the_networks_own(images):
    network = tiny_network(3, "member_1")
    twin = tiny_network(3, "member_2")
    twin.set_weights(network.get_weights())
    ensemble = build_ensemble([network, twin])
    image = images[0].astype(np.uint8)
    for class_index in range(len(CLASS_NAMES)):
        np.testing.assert_allclose(
            gradcam_heatmap(ensemble, image, class_index), gradcam_heatmap(network, image, class_index), atol=1e-5
        )


def test_training_two_members_uses_two_seeds(tiny_dataset):
    samples = list_split(tiny_dataset, "TRAIN")
    config = TrainingConfig(image_size=32, head_epochs=1, fine_tune_epochs=0, batch_size=16, members=2)
    model, _, metadata = train(samples, [], None, config)
    first, second = ensemble_members(model)
    assert [phase["seed"] for phase in metadata.training["member_phases"]] == [1, 2]
    assert metadata.training["members"] == 2 and metadata.base_network == "MobileNetV2 alpha=1.0, 2 averaged"
    assert not np.allclose(
        first.get_layer("probabilities").get_weights()[0], second.get_layer("probabilities").get_weights()[0]
    )
