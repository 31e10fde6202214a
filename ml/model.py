"""The MobileNetV2 transfer-learning model: ImageNet base from configuration, a 4-class head."""

from __future__ import annotations

import os
from pathlib import Path

import keras

BASE_LAYER_NAME = "mobilenetv2_base"


class BaseWeightsError(Exception):
    """The configured ImageNet weights cannot be found."""


def resolve_base_weights(setting: str | None) -> str | None:
    """``imagenet`` (Keras's own download and cache), a path to a no-top ``.h5`` file, or ``none``."""
    if setting is None or setting.lower() == "none":
        return None
    if setting == "imagenet":
        return "imagenet"
    path = Path(setting).expanduser()
    if not path.is_file():
        raise BaseWeightsError(
            f"Base weights file {path} does not exist. Set HEMATOVISION_BASE_WEIGHTS to a "
            "MobileNetV2 no-top .h5 file, or to 'imagenet' where Keras can download it."
        )
    return os.fspath(path)


def alpha_from_weights(weights: str | None, default: float = 1.0) -> float:
    """Keras names its files ``..._<alpha>_<size>_no_top.h5``; read alpha from the name when we can."""
    if weights and weights != "imagenet":
        parts = Path(weights).stem.split("_")
        for index, part in enumerate(parts[:-1]):
            if part in {"0.35", "0.5", "0.75", "1.0", "1.3", "1.4"} and parts[index + 1].isdigit():
                return float(part)
    return default


def build_model(
    *,
    num_classes: int,
    input_size: int,
    base_weights: str | None,
    alpha: float = 1.0,
    dropout: float = 0.2,
    name: str = "hematovision_mobilenetv2",
) -> keras.Model:
    """uint8-range RGB in, class probabilities out; MobileNetV2 scaling lives inside the model."""
    inputs = keras.Input(shape=(input_size, input_size, 3), name="image")
    scaled = keras.layers.Rescaling(1 / 127.5, offset=-1.0, name="mobilenet_scaling")(inputs)
    base = keras.applications.MobileNetV2(
        input_shape=(input_size, input_size, 3), include_top=False, weights=base_weights, alpha=alpha, pooling="avg"
    )
    base.name = BASE_LAYER_NAME
    features = base(scaled)
    features = keras.layers.Dropout(dropout, name="head_dropout")(features)
    outputs = keras.layers.Dense(num_classes, activation="softmax", name="probabilities")(features)
    return keras.Model(inputs, outputs, name=name)


def build_ensemble(members: list[keras.Model]) -> keras.Model:
    """One model that averages its members' probabilities, so it is saved, loaded and served as one artifact."""
    if len(members) == 1:
        return members[0]
    inputs = keras.Input(shape=members[0].input_shape[1:], name="image")
    outputs = keras.layers.Average(name="mean_probabilities")([member(inputs) for member in members])
    return keras.Model(inputs, outputs, name="hematovision_ensemble")


def probabilities_and_features(model: keras.Model) -> keras.Model:
    """The same network(s) with a second output: the pooled base features the novelty check reads.

    Members' probabilities are averaged and their features concatenated; dropout is left out (it is the
    identity at inference).
    """
    networks = [_with_features(member) for member in ensemble_members(model)]
    if len(networks) == 1:
        return networks[0]
    inputs = keras.Input(shape=networks[0].input_shape[1:], name="image")
    outputs = [network(inputs) for network in networks]
    return keras.Model(
        inputs,
        [
            keras.layers.Average()([pair[0] for pair in outputs]),
            keras.layers.Concatenate()([pair[1] for pair in outputs]),
        ],
    )


def _with_features(network: keras.Model) -> keras.Model:
    inputs = keras.Input(shape=network.input_shape[1:], name="image")
    pooled = network.get_layer(BASE_LAYER_NAME)(network.get_layer("mobilenet_scaling")(inputs))
    return keras.Model(
        inputs, [network.get_layer("probabilities")(pooled), pooled], name=f"{network.name}_with_features"
    )


def ensemble_members(model: keras.Model) -> list[keras.Model]:
    """The networks inside ``build_ensemble``'s model; a single network is its own only member."""
    if any(layer.name == BASE_LAYER_NAME for layer in model.layers):
        return [model]
    return [layer for layer in model.layers if isinstance(layer, keras.Model)]


def set_trainable_top(model: keras.Model, trainable_layers: int) -> None:
    """Freeze the base, then unfreeze its top ``trainable_layers`` layers (BatchNorm stays frozen)."""
    base = model.get_layer(BASE_LAYER_NAME)
    base.trainable = trainable_layers > 0
    for index, layer in enumerate(base.layers):
        in_top = index >= len(base.layers) - trainable_layers
        layer.trainable = in_top and not isinstance(layer, keras.layers.BatchNormalization)
